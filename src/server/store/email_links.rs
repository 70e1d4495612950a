//! Mailed links (password resets, address checks, sign-ups) and the mail requests the throttle
//! counts. A link is kept only as its token's hash; following it spends it in the same
//! transaction as what it does, so a link works once even when followed twice at the same time.

use anyhow::Context;
use time::OffsetDateTime;

use super::users::USER_COLUMNS;
use super::{Pool, Store, StoreError, UserRow, is_unique_violation};
use crate::server::auth::password::PasswordHash;

/// What a mailed link is for.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum LinkPurpose {
    /// Choose a new password.
    Reset,
    /// Prove an address of an existing account (a new one, or the first).
    Verify,
    /// Prove the address of a sign-up, which creates the account.
    Signup,
}

impl LinkPurpose {
    fn as_str(self) -> &'static str {
        match self {
            Self::Reset => "reset",
            Self::Verify => "verify",
            Self::Signup => "signup",
        }
    }
}

/// A link to mail.
pub struct NewEmailLink<'a> {
    pub token_hash: &'a str,
    pub purpose: LinkPurpose,
    /// The account it acts on (none for a sign-up).
    pub user_id: Option<i64>,
    /// Where it is sent: the address it proves, for [`LinkPurpose::Verify`] and [`LinkPurpose::Signup`].
    pub email: &'a str,
    /// The account's name (a sign-up's chosen name), shown by the page the link opens.
    pub username: &'a str,
    /// A sign-up's password hash.
    pub signup_password: Option<&'a PasswordHash>,
    pub expires_at: OffsetDateTime,
}

/// Why a link does nothing.
#[derive(Debug, thiserror::Error)]
pub enum LinkError {
    #[error("the link is not one of ours, or it was removed")]
    Unknown,
    #[error("the link was already used")]
    Used,
    #[error("a newer link was sent since")]
    Replaced,
    #[error("the link has expired")]
    Expired,
    /// The account cannot use it (disabled), or a sign-up's name was taken meanwhile.
    #[error("the link's account cannot use it")]
    Refused,
    #[error(transparent)]
    Store(#[from] StoreError),
}

/// A live link as stored.
#[derive(Debug, Clone, sqlx::FromRow)]
pub struct EmailLinkRow {
    pub user_id: Option<i64>,
    pub email: String,
    pub username: String,
    state: String,
    expires_at: OffsetDateTime,
    purpose: String,
}

impl EmailLinkRow {
    /// What the link is for.
    pub fn purpose(&self) -> Option<LinkPurpose> {
        [LinkPurpose::Reset, LinkPurpose::Verify, LinkPurpose::Signup]
            .into_iter()
            .find(|purpose| purpose.as_str() == self.purpose)
    }
}

impl EmailLinkRow {
    /// Whether it can be used at `now` for `purpose`; the reason when not.
    fn check(&self, purpose: LinkPurpose, now: OffsetDateTime) -> Result<(), LinkError> {
        if self.purpose != purpose.as_str() {
            return Err(LinkError::Unknown);
        }
        match self.state.as_str() {
            "used" => Err(LinkError::Used),
            "replaced" => Err(LinkError::Replaced),
            _ if self.expires_at <= now => Err(LinkError::Expired),
            _ => Ok(()),
        }
    }
}

const LINK_COLUMNS: &str = "user_id, email, username, state, expires_at, purpose";

/// Spends the live link with `$token_hash` for `$purpose` inside `$transaction` and yields it;
/// when it cannot be spent, drops the transaction and returns why from the calling method.
/// (A macro, not a function: the transaction's type differs per backend inside `on_pool!`.)
macro_rules! spend_or_return {
    ($store:expr, $transaction:ident, $token_hash:expr, $purpose:expr, $now:expr) => {{
        let spent = sqlx::query_as::<_, EmailLinkRow>(SPEND_LINK)
            .bind($token_hash)
            .bind($purpose.as_str())
            .bind($now)
            .fetch_optional(&mut *$transaction)
            .await
            .context("Failed to spend a mailed link")
            .map_err(StoreError::from)?;
        match spent {
            Some(link) => link,
            None => {
                drop($transaction);
                return Err($store.why_not_spendable($token_hash, $purpose).await);
            }
        }
    }};
}

/// Spends a live link (`$1` its hash, `$2` its purpose, `$3` now). The `UPDATE` takes the row's
/// lock (or SQLite's one write lock), so of two uses at the same moment one finds it spent.
const SPEND_LINK: &str = "UPDATE email_links SET state = 'used' \
     WHERE token_hash = $1 AND purpose = $2 AND state = 'live' AND expires_at > $3 \
     RETURNING user_id, email, username, state, expires_at, purpose";

/// Mail requests counted by the throttle, over its window.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq)]
pub struct MailRequestCounts {
    pub from_address: i64,
    pub for_account: i64,
    pub to_recipient: i64,
}

impl Store {
    /// Keeps a link's hash; earlier live links of the same purpose for the same account (or,
    /// for a sign-up, the same address) are replaced: only the newest works.
    ///
    /// # Errors
    /// Database failures.
    pub async fn add_email_link(&self, link: &NewEmailLink<'_>) -> Result<(), StoreError> {
        let now = self.clock.now();
        let (replace, key): (&str, Option<String>) = match link.user_id {
            Some(id) => (
                "UPDATE email_links SET state = 'replaced' WHERE state = 'live' AND purpose = $1 AND user_id = $2",
                Some(id.to_string()),
            ),
            None => (
                "UPDATE email_links SET state = 'replaced' WHERE state = 'live' AND purpose = $1 AND user_id IS NULL \
                 AND lower(email) = lower($2)",
                Some(link.email.to_owned()),
            ),
        };
        on_pool!(self, pool => {
            let mut transaction = pool.begin().await.context("Failed to begin a transaction")?;
            let replaced = sqlx::query(replace).bind(link.purpose.as_str());
            let replaced = match link.user_id {
                Some(id) => replaced.bind(id),
                None => replaced.bind(key),
            };
            replaced
                .execute(&mut *transaction)
                .await
                .context("Failed to replace older links")?;
            sqlx::query(
                "INSERT INTO email_links (token_hash, purpose, user_id, email, username, password_hash, created_at, expires_at) \
                 VALUES ($1, $2, $3, $4, $5, $6, $7, $8)",
            )
            .bind(link.token_hash)
            .bind(link.purpose.as_str())
            .bind(link.user_id)
            .bind(link.email)
            .bind(link.username)
            .bind(link.signup_password.map(PasswordHash::as_str))
            .bind(now)
            .bind(link.expires_at)
            .execute(&mut *transaction)
            .await
            .context("Failed to store a mailed link")?;
            transaction.commit().await.context("Failed to commit a mailed link")?;
        });
        Ok(())
    }

    /// The link with this hash if it can be used now for one of `purposes`.
    ///
    /// # Errors
    /// Why it cannot, or database failures.
    pub async fn live_email_link(
        &self,
        token_hash: &str,
        purposes: &[LinkPurpose],
    ) -> Result<EmailLinkRow, LinkError> {
        let row = on_pool!(self, pool => {
            sqlx::query_as::<_, EmailLinkRow>(&format!("SELECT {LINK_COLUMNS} FROM email_links WHERE token_hash = $1"))
                .bind(token_hash)
                .fetch_optional(pool)
                .await
        })
        .context("Failed to read a mailed link")
        .map_err(StoreError::from)?
        .ok_or(LinkError::Unknown)?;
        let purpose = row
            .purpose()
            .filter(|purpose| purposes.contains(purpose))
            .ok_or(LinkError::Unknown)?;
        row.check(purpose, self.clock.now())?;
        Ok(row)
    }

    /// The active accounts a forgotten-password request names: the one with that username, or
    /// those with that address (a few at most).
    ///
    /// # Errors
    /// Database failures.
    pub async fn users_for_recovery(&self, identifier: &str) -> Result<Vec<UserRow>, StoreError> {
        let users = on_pool!(self, pool => {
            sqlx::query_as::<_, UserRow>(&format!(
                "SELECT {USER_COLUMNS} FROM users \
                 WHERE NOT disabled AND (lower(username) = lower($1) OR lower(email) = lower($1)) \
                 ORDER BY id LIMIT 5"
            ))
            .bind(identifier)
            .fetch_all(pool)
            .await
        })
        .context("Failed to look up accounts by name or address")?;
        Ok(users)
    }

    /// Whether any account has this address.
    ///
    /// # Errors
    /// Database failures.
    pub async fn email_in_use(&self, email: &str) -> Result<bool, StoreError> {
        let used = on_pool!(self, pool => {
            sqlx::query_scalar::<_, bool>("SELECT EXISTS (SELECT 1 FROM users WHERE lower(email) = lower($1))")
                .bind(email)
                .fetch_one(pool)
                .await
        })
        .context("Failed to look up an address")?;
        Ok(used)
    }

    /// Sets a new password through a reset link, spending it, in one transaction; every session
    /// of the account ends (its token version rises), and the address the link went to counts
    /// as verified, since following the link proved it.
    ///
    /// # Errors
    /// Why the link does nothing ([`LinkError::Refused`] for a disabled account), or database
    /// failures.
    pub async fn reset_password_by_link(
        &self,
        token_hash: &str,
        hash: &PasswordHash,
    ) -> Result<UserRow, LinkError> {
        let now = self.clock.now();
        let user = on_pool!(self, pool => {
            let mut transaction = pool.begin().await.context("Failed to begin a transaction").map_err(StoreError::from)?;
            let link = spend_or_return!(self, transaction, token_hash, LinkPurpose::Reset, now);
            let user = sqlx::query_as::<_, UserRow>(&format!(
                "UPDATE users SET password_hash = $1, token_version = token_version + 1, updated_at = $2, \
                 must_change_password = false, email_verified = email_verified OR COALESCE(lower(email) = lower($3), false) \
                 WHERE id = $4 AND NOT disabled RETURNING {USER_COLUMNS}"
            ))
            .bind(hash.as_str())
            .bind(now)
            .bind(&link.email)
            .bind(link.user_id)
            .fetch_optional(&mut *transaction)
            .await
            .context("Failed to set a password")
            .map_err(StoreError::from)?
            .ok_or(LinkError::Refused)?;
            sqlx::query("UPDATE sessions SET revoked_at = $1 WHERE user_id = $2 AND revoked_at IS NULL")
                .bind(now)
                .bind(user.id)
                .execute(&mut *transaction)
                .await
                .context("Failed to end the account's sessions")
                .map_err(StoreError::from)?;
            transaction.commit().await.context("Failed to commit a password reset").map_err(StoreError::from)?;
            user
        });
        self.sessions.changed(user.id);
        Ok(user)
    }

    /// Makes the address a verify link went to the account's address, verified, spending the
    /// link. Returns the account and the address it had before.
    ///
    /// # Errors
    /// Why the link does nothing ([`LinkError::Refused`] for a disabled account), or database
    /// failures.
    pub async fn verify_email_by_link(
        &self,
        token_hash: &str,
    ) -> Result<(UserRow, Option<String>), LinkError> {
        let now = self.clock.now();
        let (user, before) = on_pool!(self, pool => {
            let mut transaction = pool.begin().await.context("Failed to begin a transaction").map_err(StoreError::from)?;
            let link = spend_or_return!(self, transaction, token_hash, LinkPurpose::Verify, now);
            let before: Option<Option<String>> = sqlx::query_scalar("SELECT email FROM users WHERE id = $1 AND NOT disabled")
                .bind(link.user_id)
                .fetch_optional(&mut *transaction)
                .await
                .context("Failed to read an account")
                .map_err(StoreError::from)?;
            let Some(before) = before else {
                return Err(LinkError::Refused);
            };
            let user = sqlx::query_as::<_, UserRow>(&format!(
                "UPDATE users SET email = $1, email_verified = true, updated_at = $2 WHERE id = $3 RETURNING {USER_COLUMNS}"
            ))
            .bind(&link.email)
            .bind(now)
            .bind(link.user_id)
            .fetch_one(&mut *transaction)
            .await
            .context("Failed to verify an address")
            .map_err(StoreError::from)?;
            transaction.commit().await.context("Failed to commit an address check").map_err(StoreError::from)?;
            (user, before)
        });
        self.sessions.changed(user.id);
        Ok((user, before))
    }

    /// Creates the account of a sign-up whose address the link proved, spending the link. The
    /// account starts with the address verified and no administrator rights.
    ///
    /// # Errors
    /// Why the link does nothing ([`LinkError::Refused`] when the name was taken since), or
    /// database failures.
    pub async fn complete_signup_by_link(&self, token_hash: &str) -> Result<UserRow, LinkError> {
        let now = self.clock.now();
        let user = on_pool!(self, pool => {
            let mut transaction = pool.begin().await.context("Failed to begin a transaction").map_err(StoreError::from)?;
            let link = spend_or_return!(self, transaction, token_hash, LinkPurpose::Signup, now);
            let password_hash: Option<String> =
                sqlx::query_scalar("SELECT password_hash FROM email_links WHERE token_hash = $1")
                    .bind(token_hash)
                    .fetch_one(&mut *transaction)
                    .await
                    .context("Failed to read a sign-up")
                    .map_err(StoreError::from)?;
            let created = sqlx::query_as::<_, UserRow>(&format!(
                "INSERT INTO users (username, email, email_verified, password_hash, disabled, admin, created_at, updated_at) \
                 VALUES ($1, $2, true, $3, false, false, $4, $4) RETURNING {USER_COLUMNS}"
            ))
            .bind(&link.username)
            .bind(&link.email)
            .bind(password_hash)
            .bind(now)
            .fetch_one(&mut *transaction)
            .await;
            let user = match created {
                Ok(user) => user,
                // Someone took the name between the sign-up and this link: the link stays
                // unspent (the transaction is dropped), and the page says to sign up again.
                Err(error) if is_unique_violation(&error) => return Err(LinkError::Refused),
                Err(error) => return Err(StoreError::from(anyhow::Error::new(error).context("Failed to create an account")).into()),
            };
            transaction.commit().await.context("Failed to commit a sign-up").map_err(StoreError::from)?;
            user
        });
        Ok(user)
    }

    /// Records a request that could send mail, and returns how many such requests (this one
    /// included) came from the same client address, for the same account and to the same
    /// recipient since `since`.
    ///
    /// # Errors
    /// Database failures.
    pub async fn count_mail_request(
        &self,
        ip_address: Option<&str>,
        user_id: Option<i64>,
        recipient: Option<&str>,
        since: OffsetDateTime,
    ) -> Result<MailRequestCounts, StoreError> {
        // Requests counted at the same moment must see each other: SQLite's one writer does
        // that already (the INSERT takes the write lock first); PostgreSQL takes a lock.
        let lock = match &self.pool {
            Pool::Sqlite(_) => None,
            Pool::Postgres(_) => Some("SELECT pg_advisory_xact_lock(7461526931)"),
        };
        let counts = on_pool!(self, pool => {
            let mut transaction = pool.begin().await.context("Failed to begin a transaction")?;
            if let Some(lock) = lock {
                sqlx::query(lock)
                    .execute(&mut *transaction)
                    .await
                    .context("Failed to lock the mail requests")?;
            }
            sqlx::query("INSERT INTO mail_requests (at, ip_address, user_id, recipient) VALUES ($1, $2, $3, $4)")
                .bind(self.clock.now())
                .bind(ip_address)
                .bind(user_id)
                .bind(recipient)
                .execute(&mut *transaction)
                .await
                .context("Failed to record a mail request")?;
            let (from_address, for_account, to_recipient): (i64, i64, i64) = sqlx::query_as(
                "SELECT \
                   (SELECT count(*) FROM mail_requests WHERE ip_address = $1 AND at > $4), \
                   (SELECT count(*) FROM mail_requests WHERE user_id = $2 AND at > $4), \
                   (SELECT count(*) FROM mail_requests WHERE lower(recipient) = lower($3) AND at > $4)",
            )
            .bind(ip_address)
            .bind(user_id)
            .bind(recipient)
            .bind(since)
            .fetch_one(&mut *transaction)
            .await
            .context("Failed to count mail requests")?;
            transaction.commit().await.context("Failed to commit a mail request")?;
            MailRequestCounts { from_address, for_account, to_recipient }
        });
        Ok(counts)
    }

    /// Deletes links past their end and mail requests older than `cutoff`. Returns how many
    /// links went.
    ///
    /// # Errors
    /// Database failures.
    pub async fn purge_email_links(&self, cutoff: OffsetDateTime) -> Result<u64, StoreError> {
        let deleted = on_pool!(self, pool => {
            let links = sqlx::query("DELETE FROM email_links WHERE expires_at < $1")
                .bind(cutoff)
                .execute(pool)
                .await
                .map(|done| done.rows_affected())
                .context("Failed to purge mailed links")?;
            sqlx::query("DELETE FROM mail_requests WHERE at < $1")
                .bind(cutoff)
                .execute(pool)
                .await
                .context("Failed to purge mail requests")?;
            links
        });
        Ok(deleted)
    }

    /// Why the link with this hash cannot be spent for `purpose` now.
    async fn why_not_spendable(&self, token_hash: &str, purpose: LinkPurpose) -> LinkError {
        match self.live_email_link(token_hash, &[purpose]).await {
            Err(reason) => reason,
            // Live again? It cannot be: links never come back. Say nothing more precise.
            Ok(_) => LinkError::Unknown,
        }
    }
}
