//! Access tokens: JWTs in the RFC 9068 profile, signed with HS256 and the site's key.
//!
//! The keys and the validation rules are built once at start-up; checking a token costs one
//! HMAC and no key derivation, and a token seen before costs a hash lookup: the signature and
//! the fixed claims of a token cannot change, so a token that passed them once is remembered
//! (bounded, [`VERIFIED_TOKENS`]). Its times are judged again on every use, and whether its
//! session is still alive is not decided here at all (`auth::sessions`).
//!
//! `jsonwebtoken` is built without a cryptography backend of its own (those compile RSA, ECDSA
//! and EdDSA, which this site never uses): [`hs256`] gives it HMAC-SHA256 from the `hmac` and
//! `sha2` crates, and refuses every other algorithm.

use std::collections::HashSet;
use std::sync::Arc;
use std::time::Duration;

use anyhow::Context;
use jsonwebtoken::{Algorithm, DecodingKey, EncodingKey, Header, Validation};
use quick_cache::UnitWeighter;
use quick_cache::sync::DefaultLifecycle;
use serde::{Deserialize, Serialize};
use time::OffsetDateTime;

use crate::server::auth::signing_key::SigningKey;
use crate::server::clock::Clock;
use crate::server::random::random_hex;

/// The `typ` header of an access token (RFC 9068 §2.1): keeps other JWTs from passing as one.
const TOKEN_TYPE: &str = "at+jwt";
/// Clock skew tolerated on `exp` and `nbf`: a few seconds, not the library's default minute.
const LEEWAY_SECONDS: i64 = 5;
/// How many verified tokens are remembered (a few hundred bytes each). Only a token whose
/// signature checked out is kept, so forged tokens cannot push real ones out.
const VERIFIED_TOKENS: usize = 10_000;

/// Verified tokens' claims by the token's text, shared rather than copied on every use. Hashed
/// with foldhash instead of SipHash: the key is a few hundred bytes and hashing it is on every
/// API request. Lookups use whatever a client sends, but only tokens this site signed are ever
/// inserted, so nobody can fill the table with keys chosen to collide.
type VerifiedTokens =
    quick_cache::sync::Cache<Box<str>, Arc<AccessClaims>, UnitWeighter, foldhash::fast::RandomState>;

/// The claims of an access token.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct AccessClaims {
    pub iss: String,
    pub aud: String,
    /// The user's id.
    pub sub: String,
    pub iat: i64,
    pub nbf: i64,
    pub exp: i64,
    /// Unique per token.
    pub jti: String,
    /// The session the token belongs to; revoking it ends the token.
    pub sid: String,
    /// The user's token version when the token was issued; raising it ends every token.
    pub tv: i64,
    /// Space-separated scopes granted.
    pub scope: String,
}

/// Why a token was refused. Deliberately coarse: callers only need to know it is not valid.
#[derive(Debug, thiserror::Error)]
#[error("invalid access token: {0}")]
pub struct InvalidToken(String);

/// Issues and checks access tokens for one site.
pub struct AccessTokens {
    encoding: EncodingKey,
    decoding: DecodingKey,
    validation: Validation,
    issuer: String,
    ttl: Duration,
    clock: Clock,
    /// Tokens whose signature, `typ`, issuer and audience were checked, by their exact text.
    verified: VerifiedTokens,
}

impl std::fmt::Debug for AccessTokens {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("AccessTokens")
            .field("issuer", &self.issuer)
            .field("ttl", &self.ttl)
            .finish_non_exhaustive()
    }
}

/// A freshly signed token and when it expires.
pub struct IssuedToken {
    pub token: String,
    pub expires_at: OffsetDateTime,
}

impl AccessTokens {
    /// `issuer` is the site's public origin; it is also the audience, since this site is the
    /// resource server its tokens are for. `exp` and `nbf` are judged by `clock`.
    pub fn new(key: &SigningKey, issuer: &str, ttl: Duration, clock: Clock) -> Self {
        hs256::install();
        // Only HS256 is accepted: a token naming `none`, HS384 or any other algorithm is refused
        // before its signature is even looked at.
        let mut validation = Validation::new(Algorithm::HS256);
        // The times are checked below against the application's clock, not the system's.
        validation.validate_exp = false;
        validation.validate_nbf = false;
        validation.set_issuer(&[issuer]);
        validation.set_audience(&[issuer]);
        validation.required_spec_claims = ["exp", "nbf", "iat", "iss", "aud", "sub"]
            .into_iter()
            .map(String::from)
            .collect::<HashSet<_>>();
        Self {
            // Refused only when empty; a signing key is at least `signing_key::MIN_LEN` bytes.
            encoding: EncodingKey::from_secret(key.expose()).expect("the signing key is not empty"),
            decoding: DecodingKey::from_secret(key.expose()).expect("the signing key is not empty"),
            validation,
            issuer: issuer.to_owned(),
            ttl,
            clock,
            verified: VerifiedTokens::with(
                VERIFIED_TOKENS,
                VERIFIED_TOKENS as u64,
                UnitWeighter,
                foldhash::fast::RandomState::default(),
                DefaultLifecycle::default(),
            ),
        }
    }

    /// How long a token lives.
    pub fn ttl(&self) -> Duration {
        self.ttl
    }

    /// Signs a token for `user_id` in session `session_id`, valid from now for the configured
    /// lifetime.
    ///
    /// # Errors
    /// The OS random source or the signer failed.
    pub fn issue(
        &self,
        user_id: i64,
        session_id: &str,
        token_version: i64,
        scope: &str,
    ) -> anyhow::Result<IssuedToken> {
        let now = self.clock.now();
        let expires_at = now + self.ttl;
        let claims = AccessClaims {
            iss: self.issuer.clone(),
            aud: self.issuer.clone(),
            sub: user_id.to_string(),
            iat: now.unix_timestamp(),
            nbf: now.unix_timestamp(),
            exp: expires_at.unix_timestamp(),
            jti: random_hex(16)?,
            sid: session_id.to_owned(),
            tv: token_version,
            scope: scope.to_owned(),
        };
        let mut header = Header::new(Algorithm::HS256);
        header.typ = Some(TOKEN_TYPE.to_owned());
        let token =
            jsonwebtoken::encode(&header, &claims, &self.encoding).context("Failed to sign a token")?;
        Ok(IssuedToken { token, expires_at })
    }

    /// Checks the signature (HS256 only), `exp` and `nbf` (with a few seconds of leeway), `iss`,
    /// `aud` and the `typ` header, and returns the claims.
    ///
    /// # Errors
    /// [`InvalidToken`] for any failure.
    pub fn validate(&self, token: &str) -> Result<Arc<AccessClaims>, InvalidToken> {
        let claims = match self.verified.get(token) {
            Some(claims) => claims,
            None => {
                let claims = Arc::new(self.verify_signed(token)?);
                self.verified.insert(token.into(), Arc::clone(&claims));
                claims
            }
        };
        let now = self.clock.now().unix_timestamp();
        if claims.exp.saturating_add(LEEWAY_SECONDS) < now {
            return Err(InvalidToken("expired".into()));
        }
        if claims.nbf.saturating_sub(LEEWAY_SECONDS) > now {
            return Err(InvalidToken("not valid yet".into()));
        }
        Ok(claims)
    }

    /// What never changes for a given token: the signature, the header and the fixed claims.
    fn verify_signed(&self, token: &str) -> Result<AccessClaims, InvalidToken> {
        let data = jsonwebtoken::decode::<AccessClaims>(token, &self.decoding, &self.validation)
            .map_err(|error| InvalidToken(error.to_string()))?;
        if data.header.typ.as_deref() != Some(TOKEN_TYPE) {
            return Err(InvalidToken(format!(
                "typ is {:?}, not {TOKEN_TYPE}",
                data.header.typ
            )));
        }
        Ok(data.claims)
    }
}

/// `jsonwebtoken`'s cryptography for this process: HS256 alone.
mod hs256 {
    use hmac::{Hmac, KeyInit, Mac};
    use jsonwebtoken::crypto::{CryptoProvider, JwtSigner, JwtVerifier, KeyUtils};
    use jsonwebtoken::errors::{ErrorKind, Result};
    use jsonwebtoken::signature::{self, Signer, Verifier};
    use jsonwebtoken::{Algorithm, AlgorithmFamily, DecodingKey, EncodingKey};
    use sha2::Sha256;

    /// An HMAC-SHA256 keyed once, cloned for each token.
    struct Hs256(Hmac<Sha256>);

    impl Hs256 {
        fn new(algorithm: Algorithm, family: AlgorithmFamily, key: Result<&[u8]>) -> Result<Self> {
            if algorithm != Algorithm::HS256 || family != AlgorithmFamily::Hmac {
                return Err(ErrorKind::InvalidAlgorithm.into());
            }
            let mac = Hmac::<Sha256>::new_from_slice(key?).map_err(|_| ErrorKind::InvalidKeyFormat)?;
            Ok(Self(mac))
        }
    }

    impl Signer<Vec<u8>> for Hs256 {
        fn try_sign(&self, message: &[u8]) -> std::result::Result<Vec<u8>, signature::Error> {
            let mut mac = self.0.clone();
            mac.update(message);
            Ok(mac.finalize().into_bytes().to_vec())
        }
    }

    impl Verifier<Vec<u8>> for Hs256 {
        /// Compares in constant time (`verify_slice`).
        fn verify(&self, message: &[u8], tag: &Vec<u8>) -> std::result::Result<(), signature::Error> {
            let mut mac = self.0.clone();
            mac.update(message);
            mac.verify_slice(tag).map_err(signature::Error::from_source)
        }
    }

    impl JwtSigner for Hs256 {
        fn algorithm(&self) -> Algorithm {
            Algorithm::HS256
        }
    }

    impl JwtVerifier for Hs256 {
        fn algorithm(&self) -> Algorithm {
            Algorithm::HS256
        }
    }

    fn signer(algorithm: &Algorithm, key: &EncodingKey) -> Result<Box<dyn JwtSigner>> {
        Ok(Box::new(Hs256::new(
            *algorithm,
            key.family(),
            Ok(key.as_bytes()),
        )?))
    }

    fn verifier(algorithm: &Algorithm, key: &DecodingKey) -> Result<Box<dyn JwtVerifier>> {
        Ok(Box::new(Hs256::new(
            *algorithm,
            key.family(),
            key.try_get_as_bytes(),
        )?))
    }

    static PROVIDER: CryptoProvider = CryptoProvider {
        signer_factory: signer,
        verifier_factory: verifier,
        // No JWKs here: only used to publish or read public keys, which HS256 has none of.
        key_utils: KeyUtils::new_unimplemented(),
    };

    /// Makes [`PROVIDER`] the process's; idempotent.
    ///
    /// # Panics
    /// When another provider was installed first: tokens would be signed by code this module
    /// does not vouch for.
    pub fn install() {
        // Refused when one is installed already: ours (fine), or another (checked next).
        let _ = PROVIDER.install_default();
        assert!(
            CryptoProvider::try_get_default().is_some_and(|installed| std::ptr::eq(installed, &PROVIDER)),
            "another jsonwebtoken CryptoProvider was installed before Gatehouse's HS256"
        );
    }
}

#[cfg(test)]
mod tests {
    use base64::Engine;

    use super::*;

    const ISSUER: &str = "http://127.0.0.1:3000";

    fn tokens() -> AccessTokens {
        AccessTokens::new(
            &SigningKey::for_tests(),
            ISSUER,
            Duration::from_secs(900),
            Clock::system(),
        )
    }

    fn sign(tokens: &AccessTokens, header: &Header, claims: &serde_json::Value) -> String {
        jsonwebtoken::encode(header, claims, &tokens.encoding).unwrap()
    }

    fn at_jwt(alg: Algorithm) -> Header {
        let mut header = Header::new(alg);
        header.typ = Some(TOKEN_TYPE.into());
        header
    }

    fn claims_now() -> serde_json::Value {
        let now = OffsetDateTime::now_utc().unix_timestamp();
        serde_json::json!({
            "iss": ISSUER, "aud": ISSUER, "sub": "1", "iat": now, "nbf": now, "exp": now + 60,
            "jti": "j", "sid": "s", "tv": 0, "scope": ""
        })
    }

    #[test]
    fn an_issued_token_validates_with_its_claims() {
        let tokens = tokens();
        let issued = tokens.issue(7, "session-1", 3, "me").unwrap();
        let claims = tokens.validate(&issued.token).unwrap();
        assert_eq!(
            (claims.sub.as_str(), claims.sid.as_str(), claims.tv),
            ("7", "session-1", 3)
        );
        assert_eq!(claims.exp - claims.iat, 900);
        assert_eq!(claims.iss, ISSUER);
    }

    #[test]
    fn every_token_has_its_own_jti() {
        let tokens = tokens();
        let a = tokens
            .validate(&tokens.issue(1, "s", 0, "").unwrap().token)
            .unwrap();
        let b = tokens
            .validate(&tokens.issue(1, "s", 0, "").unwrap().token)
            .unwrap();
        assert_ne!(a.jti, b.jti);
    }

    #[test]
    fn a_token_signed_with_another_key_is_refused() {
        let issued = tokens().issue(1, "s", 0, "").unwrap();
        assert!(tokens().validate(&issued.token).is_err());
    }

    #[test]
    fn an_edited_payload_is_refused() {
        let tokens = tokens();
        let token = tokens.issue(1, "s", 0, "").unwrap().token;
        let mut parts: Vec<String> = token.split('.').map(String::from).collect();
        let forged = sign(
            &tokens,
            &at_jwt(Algorithm::HS256),
            &serde_json::json!({"sub": "2"}),
        );
        parts[1] = forged.split('.').nth(1).unwrap().to_owned();
        assert!(tokens.validate(&parts.join(".")).is_err());
    }

    /// The header's `alg` decides before any signature is checked. (Tokens truly signed with
    /// HS384 and HS512 under the site's key are refused in `tests/api/oauth.rs`.)
    #[test]
    fn other_algorithms_are_refused() {
        let tokens = tokens();
        let signed = sign(&tokens, &at_jwt(Algorithm::HS256), &claims_now());
        assert!(tokens.validate(&signed).is_ok());
        let (_, rest) = signed.split_once('.').unwrap();
        for alg in ["HS384", "HS512", "RS256", "ES256", "EdDSA"] {
            let header = base64_url(&format!(r#"{{"alg":"{alg}","typ":"at+jwt"}}"#));
            assert!(tokens.validate(&format!("{header}.{rest}")).is_err(), "{alg}");
        }
    }

    #[test]
    fn the_crypto_backend_signs_hs256_alone() {
        let tokens = tokens();
        for alg in [
            Algorithm::HS384,
            Algorithm::HS512,
            Algorithm::RS256,
            Algorithm::ES256,
            Algorithm::EdDSA,
        ] {
            assert!(
                jsonwebtoken::encode(&at_jwt(alg), &claims_now(), &tokens.encoding).is_err(),
                "{alg:?}"
            );
        }
    }

    #[test]
    fn alg_none_is_refused_in_any_casing() {
        let tokens = tokens();
        let payload = sign(&tokens, &at_jwt(Algorithm::HS256), &claims_now())
            .split('.')
            .nth(1)
            .unwrap()
            .to_owned();
        for alg in ["none", "None", "NONE", "nOnE"] {
            let header = base64_url(&format!(r#"{{"alg":"{alg}","typ":"at+jwt"}}"#));
            assert!(tokens.validate(&format!("{header}.{payload}.")).is_err(), "{alg}");
        }
    }

    #[test]
    fn a_token_of_another_type_is_refused() {
        let tokens = tokens();
        let token = sign(&tokens, &Header::new(Algorithm::HS256), &claims_now());
        assert!(tokens.validate(&token).unwrap_err().to_string().contains("typ"));
    }

    #[test]
    fn expiry_and_not_before_allow_only_a_few_seconds_of_skew() {
        let tokens = tokens();
        let now = OffsetDateTime::now_utc().unix_timestamp();
        let mut claims = claims_now();
        claims["exp"] = (now - 3).into();
        assert!(
            tokens
                .validate(&sign(&tokens, &at_jwt(Algorithm::HS256), &claims))
                .is_ok(),
            "within leeway"
        );
        claims["exp"] = (now - 30).into();
        assert!(
            tokens
                .validate(&sign(&tokens, &at_jwt(Algorithm::HS256), &claims))
                .is_err(),
            "expired"
        );
        let mut claims = claims_now();
        claims["nbf"] = (now + 60).into();
        assert!(
            tokens
                .validate(&sign(&tokens, &at_jwt(Algorithm::HS256), &claims))
                .is_err(),
            "not yet valid"
        );
    }

    /// The second and third checks come from the remembered tokens: still judged by the clock.
    #[test]
    fn a_token_expires_by_the_applications_clock() {
        let clock = Clock::manual();
        let tokens = AccessTokens::new(
            &SigningKey::for_tests(),
            ISSUER,
            Duration::from_secs(900),
            clock.clone(),
        );
        let token = tokens.issue(1, "s", 0, "").unwrap().token;
        clock.advance(Duration::from_secs(900 + 5));
        assert!(tokens.validate(&token).is_ok(), "within leeway");
        clock.advance(Duration::from_secs(1));
        assert!(tokens.validate(&token).is_err(), "expired");
    }

    #[test]
    fn only_tokens_that_verified_are_remembered_and_only_by_their_exact_text() {
        let tokens = tokens();
        let token = tokens.issue(1, "s", 0, "").unwrap().token;
        // One character inside the signature changed.
        let at = token.len() - 10;
        let other = if &token[at..=at] == "A" { "B" } else { "A" };
        let forged = format!("{}{other}{}", &token[..at], &token[at + 1..]);
        assert!(tokens.validate(&forged).is_err());
        assert_eq!(tokens.verified.len(), 0, "a refused token is not kept");
        assert!(tokens.validate(&token).is_ok());
        assert_eq!(tokens.verified.len(), 1);
        assert!(tokens.validate(&forged).is_err(), "a near copy of a kept token");
        assert!(tokens.validate(&token).is_ok());
    }

    #[test]
    fn missing_or_malformed_registered_claims_are_refused() {
        let tokens = tokens();
        for claim in ["exp", "nbf", "iss", "aud", "sub"] {
            let mut claims = claims_now();
            claims.as_object_mut().unwrap().remove(claim);
            assert!(
                tokens
                    .validate(&sign(&tokens, &at_jwt(Algorithm::HS256), &claims))
                    .is_err(),
                "without {claim}"
            );
        }
        let mut claims = claims_now();
        claims["exp"] = "tomorrow".into();
        assert!(
            tokens
                .validate(&sign(&tokens, &at_jwt(Algorithm::HS256), &claims))
                .is_err(),
            "string exp"
        );
        let mut claims = claims_now();
        claims["aud"] = "https://elsewhere.example".into();
        assert!(
            tokens
                .validate(&sign(&tokens, &at_jwt(Algorithm::HS256), &claims))
                .is_err(),
            "other audience"
        );
    }

    fn base64_url(text: &str) -> String {
        base64::engine::general_purpose::URL_SAFE_NO_PAD.encode(text)
    }
}
