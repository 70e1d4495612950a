//! Passkeys as stored: an account's WebAuthn credentials, and the ceremonies (adding one,
//! signing in with one) that a browser has begun and not yet finished.
//!
//! A ceremony is taken by the one `DELETE ... RETURNING` that finds it unexpired: its challenge
//! is answered at most once, on whichever instance the answer reaches.

use anyhow::Context;
use time::OffsetDateTime;

use super::{Store, StoreError};

/// The columns of [`PasskeyRow`], in its order.
pub(super) const PASSKEY_COLUMNS: &str =
    "id, user_id, credential_id, user_handle, name, credential, created_at, last_used_at";

/// One passkey of an account.
#[derive(Debug, Clone, sqlx::FromRow)]
pub struct PasskeyRow {
    pub id: i64,
    pub user_id: i64,
    /// base64url (unpadded) of the credential id.
    pub credential_id: String,
    /// The account's WebAuthn user handle (a UUID), the same for all its passkeys.
    pub user_handle: String,
    /// Chosen by its owner: "laptop".
    pub name: String,
    /// webauthn-rs's `Passkey` as JSON: the public key, sign counter and backup flags.
    pub credential: String,
    pub created_at: OffsetDateTime,
    pub last_used_at: Option<OffsetDateTime>,
}

/// A ceremony under way.
#[derive(Debug, Clone, sqlx::FromRow)]
pub struct CeremonyRow {
    /// `register` or `sign_in`.
    pub kind: String,
    /// Who is adding a passkey; `None` for a sign-in.
    pub user_id: Option<i64>,
    /// The library's state for the ceremony, as JSON (holds the challenge).
    pub state: String,
    pub expires_at: OffsetDateTime,
}

impl Store {
    /// The account's passkeys, oldest first.
    ///
    /// # Errors
    /// Database failures.
    pub async fn passkeys_of(&self, user_id: i64) -> Result<Vec<PasskeyRow>, StoreError> {
        let rows = on_pool!(self, pool => {
            sqlx::query_as::<_, PasskeyRow>(&format!(
                "SELECT {PASSKEY_COLUMNS} FROM passkeys WHERE user_id = $1 ORDER BY created_at, id"
            ))
            .bind(user_id)
            .fetch_all(pool)
            .await
        })
        .context("Failed to read passkeys")?;
        Ok(rows)
    }

    /// The passkey with this credential id, whoever's it is.
    ///
    /// # Errors
    /// Database failures.
    pub async fn passkey_by_credential_id(
        &self,
        credential_id: &str,
    ) -> Result<Option<PasskeyRow>, StoreError> {
        let row = on_pool!(self, pool => {
            sqlx::query_as::<_, PasskeyRow>(&format!(
                "SELECT {PASSKEY_COLUMNS} FROM passkeys WHERE credential_id = $1"
            ))
            .bind(credential_id)
            .fetch_optional(pool)
            .await
        })
        .context("Failed to read a passkey")?;
        Ok(row)
    }

    /// Keeps a new passkey. Returns `false`, keeping nothing, when its credential id is
    /// registered already (to this account or another).
    ///
    /// # Errors
    /// Database failures.
    pub async fn add_passkey(
        &self,
        user_id: i64,
        credential_id: &str,
        user_handle: &str,
        name: &str,
        credential: &str,
    ) -> Result<bool, StoreError> {
        let added = on_pool!(self, pool => {
            sqlx::query(
                "INSERT INTO passkeys (user_id, credential_id, user_handle, name, credential, created_at) \
                 VALUES ($1, $2, $3, $4, $5, $6) ON CONFLICT (credential_id) DO NOTHING",
            )
            .bind(user_id)
            .bind(credential_id)
            .bind(user_handle)
            .bind(name)
            .bind(credential)
            .bind(self.clock.now())
            .execute(pool)
            .await
            .map(|done| done.rows_affected())
        })
        .context("Failed to store a passkey")?;
        Ok(added == 1)
    }

    /// Records a sign-in with the passkey `id`, with its credential as it now is (a higher sign
    /// counter, changed backup flags) when that changed.
    ///
    /// # Errors
    /// Database failures.
    pub async fn record_passkey_use(&self, id: i64, credential: Option<&str>) -> Result<(), StoreError> {
        on_pool!(self, pool => {
            sqlx::query(
                "UPDATE passkeys SET last_used_at = $1, credential = coalesce($2, credential) WHERE id = $3",
            )
            .bind(self.clock.now())
            .bind(credential)
            .bind(id)
            .execute(pool)
            .await
            .map(|_| ())
        })
        .context("Failed to record a passkey's use")?;
        Ok(())
    }

    /// Renames the passkey `id` of `user_id`; returns whether it is theirs.
    ///
    /// # Errors
    /// Database failures.
    pub async fn rename_passkey(&self, user_id: i64, id: i64, name: &str) -> Result<bool, StoreError> {
        let renamed = on_pool!(self, pool => {
            sqlx::query("UPDATE passkeys SET name = $1 WHERE id = $2 AND user_id = $3")
                .bind(name)
                .bind(id)
                .bind(user_id)
                .execute(pool)
                .await
                .map(|done| done.rows_affected())
        })
        .context("Failed to rename a passkey")?;
        Ok(renamed == 1)
    }

    /// Removes the passkey `id` of `user_id`; returns its name, or `None` when they have no
    /// such passkey.
    ///
    /// # Errors
    /// Database failures.
    pub async fn remove_passkey(&self, user_id: i64, id: i64) -> Result<Option<String>, StoreError> {
        let name = on_pool!(self, pool => {
            sqlx::query_scalar::<_, String>("DELETE FROM passkeys WHERE id = $1 AND user_id = $2 RETURNING name")
                .bind(id)
                .bind(user_id)
                .fetch_optional(pool)
                .await
        })
        .context("Failed to remove a passkey")?;
        Ok(name)
    }

    /// Removes every passkey of `user_id`; returns how many there were.
    ///
    /// # Errors
    /// Database failures.
    pub async fn remove_passkeys_of(&self, user_id: i64) -> Result<u64, StoreError> {
        let removed = on_pool!(self, pool => {
            sqlx::query("DELETE FROM passkeys WHERE user_id = $1")
                .bind(user_id)
                .execute(pool)
                .await
                .map(|done| done.rows_affected())
        })
        .context("Failed to remove the passkeys of a user")?;
        Ok(removed)
    }

    /// Keeps a ceremony a browser began, named by the hash of its cookie's token.
    ///
    /// # Errors
    /// Database failures.
    pub async fn add_passkey_ceremony(
        &self,
        token_hash: &str,
        ceremony: &CeremonyRow,
    ) -> Result<(), StoreError> {
        on_pool!(self, pool => {
            sqlx::query(
                "INSERT INTO passkey_ceremonies (token_hash, kind, user_id, state, expires_at) \
                 VALUES ($1, $2, $3, $4, $5)",
            )
            .bind(token_hash)
            .bind(&ceremony.kind)
            .bind(ceremony.user_id)
            .bind(&ceremony.state)
            .bind(ceremony.expires_at)
            .execute(pool)
            .await
            .map(|_| ())
        })
        .context("Failed to store a passkey ceremony")?;
        Ok(())
    }

    /// Takes (ends) the ceremony with this hash, returning it if it was there and unexpired:
    /// of two answers to one challenge, one finds it gone.
    ///
    /// # Errors
    /// Database failures.
    pub async fn take_passkey_ceremony(&self, token_hash: &str) -> Result<Option<CeremonyRow>, StoreError> {
        let row = on_pool!(self, pool => {
            sqlx::query_as::<_, CeremonyRow>(
                "DELETE FROM passkey_ceremonies WHERE token_hash = $1 \
                 RETURNING kind, user_id, state, expires_at",
            )
            .bind(token_hash)
            .fetch_optional(pool)
            .await
        })
        .context("Failed to take a passkey ceremony")?;
        let now = self.clock.now();
        Ok(row.filter(|row| row.expires_at > now))
    }

    /// Deletes ceremonies that expired before `cutoff`; returns how many.
    ///
    /// # Errors
    /// Database failures.
    pub async fn purge_passkey_ceremonies(&self, cutoff: OffsetDateTime) -> Result<u64, StoreError> {
        let purged = on_pool!(self, pool => {
            sqlx::query("DELETE FROM passkey_ceremonies WHERE expires_at < $1")
                .bind(cutoff)
                .execute(pool)
                .await
                .map(|done| done.rows_affected())
        })
        .context("Failed to purge passkey ceremonies")?;
        Ok(purged)
    }
}
