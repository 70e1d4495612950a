//! E-mail addresses kept on an account.

use serde::{Deserialize, Serialize};

/// A plausible e-mail address: one `@` with text on both sides, a dot in the domain, no spaces or
/// control characters, at most 254 bytes (RFC 5321). Deliverability is not checked: Gatehouse
/// sends no mail.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(try_from = "String", into = "String")]
pub struct Email(String);

/// Why a string is not an e-mail address.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[error("an e-mail address looks like name@example.com (at most 254 characters, no spaces)")]
pub struct EmailError;

impl Email {
    pub const MAX_LEN: usize = 254;

    /// Checks `raw` against the rules above.
    ///
    /// # Errors
    /// [`EmailError`] when `raw` does not look like an address.
    pub fn parse(raw: &str) -> Result<Self, EmailError> {
        let well_formed = raw.len() <= Self::MAX_LEN
            && !raw.chars().any(|c| c.is_whitespace() || c.is_control())
            && match raw.split_once('@') {
                Some((local, domain)) => {
                    !local.is_empty()
                        && !domain.contains('@')
                        && domain.contains('.')
                        && !domain.starts_with('.')
                        && !domain.ends_with('.')
                }
                None => false,
            };
        if well_formed {
            Ok(Self(raw.to_owned()))
        } else {
            Err(EmailError)
        }
    }

    pub fn as_str(&self) -> &str {
        &self.0
    }
}

impl TryFrom<String> for Email {
    type Error = EmailError;
    fn try_from(raw: String) -> Result<Self, Self::Error> {
        Self::parse(&raw)
    }
}

impl From<Email> for String {
    fn from(email: Email) -> Self {
        email.0
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn accepts_ordinary_addresses() {
        for raw in ["johndoe@example.com", "a.b+tag@sub.example.org"] {
            assert_eq!(Email::parse(raw).unwrap().as_str(), raw);
        }
    }

    #[test]
    fn refuses_what_cannot_be_an_address() {
        let too_long = format!("{}@example.com", "a".repeat(250));
        for raw in [
            "",
            "johndoe",
            "@example.com",
            "john@",
            "john@localhost",
            "a@b@c.com",
            "john doe@x.com",
            "john@.com",
            "john@x.com.",
            too_long.as_str(),
        ] {
            assert_eq!(Email::parse(raw), Err(EmailError), "{raw:?}");
        }
    }
}
