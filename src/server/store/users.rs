//! User accounts: create, look up, list, change password, disable and enable, edit, grant and
//! revoke admin rights, delete. No change may leave the site without an active administrator
//! once it has one (see [`Store::change_guarding_admins`]).

use anyhow::Context;
use time::OffsetDateTime;

use super::{Pool, Store, StoreError, is_unique_violation};
use crate::domain::{Email, FullName, Username};
use crate::server::auth::password::PasswordHash;

/// A user as stored, password hash included: server side only, never serialized.
#[derive(Clone, sqlx::FromRow)]
pub struct UserRow {
    pub id: i64,
    pub username: String,
    pub full_name: Option<String>,
    pub email: Option<String>,
    password_hash: String,
    pub disabled: bool,
    pub admin: bool,
    /// Raised whenever every session of the user must end (new password, disabled).
    pub token_version: i64,
    pub created_at: OffsetDateTime,
    pub updated_at: OffsetDateTime,
    /// The password was set by an administrator: the person must choose their own before
    /// reaching any other page.
    pub must_change_password: bool,
    /// The address was proved by following a link mailed to it.
    pub email_verified: bool,
}

impl UserRow {
    pub fn password_hash(&self) -> PasswordHash {
        PasswordHash::from_stored(self.password_hash.clone())
    }

    /// A user that exists only in memory, for unit tests elsewhere in the crate.
    #[cfg(test)]
    pub(crate) fn for_tests(admin: bool) -> Self {
        Self {
            id: 1,
            username: "tester".into(),
            full_name: None,
            email: None,
            password_hash: String::new(),
            disabled: false,
            admin,
            token_version: 0,
            created_at: OffsetDateTime::UNIX_EPOCH,
            updated_at: OffsetDateTime::UNIX_EPOCH,
            must_change_password: false,
            email_verified: false,
        }
    }
}

impl std::fmt::Debug for UserRow {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("UserRow")
            .field("id", &self.id)
            .field("username", &self.username)
            .field("disabled", &self.disabled)
            .field("admin", &self.admin)
            .field("token_version", &self.token_version)
            .field("must_change_password", &self.must_change_password)
            .finish_non_exhaustive()
    }
}

/// What it takes to create a user.
#[derive(Debug)]
pub struct NewUser {
    pub username: Username,
    pub full_name: Option<FullName>,
    pub email: Option<Email>,
    pub password_hash: PasswordHash,
    pub admin: bool,
    pub disabled: bool,
}

/// A change that could leave the site without an active administrator.
#[derive(Debug, Clone, Copy)]
enum GuardedChange {
    Disabled(bool),
    Admin(bool),
    Delete,
}

/// Counts the active administrators.
const ACTIVE_ADMINS: &str = "SELECT count(*) FROM users WHERE admin AND NOT disabled";

pub(super) const USER_COLUMNS: &str = "id, username, full_name, email, password_hash, disabled, admin, token_version, created_at, updated_at, must_change_password, email_verified";

impl Store {
    /// Creates a user.
    ///
    /// # Errors
    /// [`StoreError::DuplicateUsername`] when the name is taken, in any letter case.
    #[tracing::instrument(skip_all, fields(username = %new.username))]
    pub async fn create_user(&self, new: &NewUser) -> Result<UserRow, StoreError> {
        let now = self.clock.now();
        on_pool!(self, pool => {
            sqlx::query_as::<_, UserRow>(&format!(
                "INSERT INTO users (username, full_name, email, password_hash, disabled, admin, created_at, updated_at) \
                 VALUES ($1, $2, $3, $4, $5, $6, $7, $8) RETURNING {USER_COLUMNS}"
            ))
            .bind(new.username.as_str())
            .bind(new.full_name.as_ref().map(FullName::as_str))
            .bind(new.email.as_ref().map(Email::as_str))
            .bind(new.password_hash.as_str())
            .bind(new.disabled)
            .bind(new.admin)
            .bind(now)
            .bind(now)
            .fetch_one(pool)
            .await
        })
        .map_err(|error| {
            if is_unique_violation(&error) {
                StoreError::DuplicateUsername(new.username.to_string())
            } else {
                anyhow::Error::new(error).context("Failed to insert a user").into()
            }
        })
    }

    /// Finds a user by name, without regard to letter case.
    ///
    /// # Errors
    /// Only database failures; an unknown name is `Ok(None)`.
    pub async fn find_user(&self, username: &Username) -> Result<Option<UserRow>, StoreError> {
        let user = on_pool!(self, pool => {
            sqlx::query_as::<_, UserRow>(&format!(
                "SELECT {USER_COLUMNS} FROM users WHERE lower(username) = lower($1)"
            ))
            .bind(username.as_str())
            .fetch_optional(pool)
            .await
        })
        .context("Failed to look up a user")?;
        Ok(user)
    }

    /// Finds a user by id.
    ///
    /// # Errors
    /// Only database failures; an unknown id is `Ok(None)`.
    pub async fn user_by_id(&self, id: i64) -> Result<Option<UserRow>, StoreError> {
        let user = on_pool!(self, pool => {
            sqlx::query_as::<_, UserRow>(&format!("SELECT {USER_COLUMNS} FROM users WHERE id = $1"))
                .bind(id)
                .fetch_optional(pool)
                .await
        })
        .context("Failed to look up a user")?;
        Ok(user)
    }

    /// Every user, in alphabetical order of their names.
    ///
    /// # Errors
    /// Database failures.
    pub async fn list_users(&self) -> Result<Vec<UserRow>, StoreError> {
        let users = on_pool!(self, pool => {
            sqlx::query_as::<_, UserRow>(&format!(
                "SELECT {USER_COLUMNS} FROM users ORDER BY lower(username)"
            ))
            .fetch_all(pool)
            .await
        })
        .context("Failed to list users")?;
        Ok(users)
    }

    /// Replaces a user's password hash and raises their token version, which ends every session
    /// made with the old password. A `temporary` password (chosen by an administrator) must be
    /// replaced by the person at their next sign-in.
    ///
    /// # Errors
    /// [`StoreError::UnknownUser`] when nobody has that name.
    #[tracing::instrument(skip_all, fields(username = %username, temporary))]
    pub async fn set_password_hash(
        &self,
        username: &Username,
        hash: &PasswordHash,
        temporary: bool,
    ) -> Result<UserRow, StoreError> {
        let user = on_pool!(self, pool => {
            sqlx::query_as::<_, UserRow>(&format!(
                "UPDATE users SET password_hash = $1, token_version = token_version + 1, updated_at = $2, \
                 must_change_password = $3 WHERE lower(username) = lower($4) RETURNING {USER_COLUMNS}"
            ))
            .bind(hash.as_str())
            .bind(self.clock.now())
            .bind(temporary)
            .bind(username.as_str())
            .fetch_optional(pool)
            .await
        })
        .context("Failed to update a password")?
        .ok_or_else(|| StoreError::UnknownUser(username.to_string()))?;
        self.sessions.changed(user.id);
        Ok(user)
    }

    /// Disables or enables a user. Disabling raises the token version, so the user's sessions end
    /// at their next request. Returns whether anything changed.
    ///
    /// # Errors
    /// [`StoreError::UnknownUser`] when nobody has that name, [`StoreError::LastAdmin`] when
    /// disabling them would leave no active administrator.
    #[tracing::instrument(skip_all, fields(username = %username, disabled))]
    pub async fn set_disabled(&self, username: &Username, disabled: bool) -> Result<bool, StoreError> {
        let user = self.existing_user(username).await?;
        if user.disabled == disabled {
            return Ok(false);
        }
        self.change_guarding_admins(&user, GuardedChange::Disabled(disabled))
            .await?;
        Ok(true)
    }

    /// Grants or revokes a user's admin rights; the change counts from their next request.
    /// Returns whether anything changed.
    ///
    /// # Errors
    /// [`StoreError::UnknownUser`], or [`StoreError::LastAdmin`] when revoking would leave no
    /// active administrator.
    #[tracing::instrument(skip_all, fields(username = %username, admin))]
    pub async fn set_admin(&self, username: &Username, admin: bool) -> Result<bool, StoreError> {
        let user = self.existing_user(username).await?;
        if user.admin == admin {
            return Ok(false);
        }
        self.change_guarding_admins(&user, GuardedChange::Admin(admin))
            .await?;
        Ok(true)
    }

    /// Deletes a user with their sessions and items.
    ///
    /// # Errors
    /// [`StoreError::UnknownUser`], or [`StoreError::LastAdmin`] for the last active
    /// administrator.
    #[tracing::instrument(skip_all, fields(username = %username))]
    pub async fn delete_user(&self, username: &Username) -> Result<UserRow, StoreError> {
        let user = self.existing_user(username).await?;
        self.change_guarding_admins(&user, GuardedChange::Delete).await?;
        Ok(user)
    }

    /// Replaces a user's full name and email. A changed address is no longer verified: the
    /// administrator typed it, nobody proved it.
    ///
    /// # Errors
    /// [`StoreError::UnknownUser`] when nobody has that name.
    #[tracing::instrument(skip_all, fields(username = %username))]
    pub async fn update_user_details(
        &self,
        username: &Username,
        full_name: Option<&FullName>,
        email: Option<&Email>,
    ) -> Result<UserRow, StoreError> {
        let user = on_pool!(self, pool => {
            sqlx::query_as::<_, UserRow>(&format!(
                "UPDATE users SET full_name = $1, email = $2, updated_at = $3, \
                 email_verified = email_verified AND COALESCE(lower(email) = lower($2), false) \
                 WHERE lower(username) = lower($4) RETURNING {USER_COLUMNS}"
            ))
            .bind(full_name.map(FullName::as_str))
            .bind(email.map(Email::as_str))
            .bind(self.clock.now())
            .bind(username.as_str())
            .fetch_optional(pool)
            .await
        })
        .context("Failed to update a user's details")?
        .ok_or_else(|| StoreError::UnknownUser(username.to_string()))?;
        self.sessions.changed(user.id);
        Ok(user)
    }

    /// The user called `username`.
    ///
    /// # Errors
    /// [`StoreError::UnknownUser`] when nobody is.
    pub async fn existing_user(&self, username: &Username) -> Result<UserRow, StoreError> {
        self.find_user(username)
            .await?
            .ok_or_else(|| StoreError::UnknownUser(username.to_string()))
    }

    /// How many active administrators there are.
    ///
    /// # Errors
    /// Database failures.
    pub async fn count_active_admins(&self) -> Result<i64, StoreError> {
        let count = on_pool!(self, pool => {
            sqlx::query_scalar::<_, i64>(ACTIVE_ADMINS).fetch_one(pool).await
        })
        .context("Failed to count the administrators")?;
        Ok(count)
    }

    /// Makes `change` to `user` in a transaction that refuses to leave the site without an
    /// active administrator when it had one.
    ///
    /// The active administrators are locked first, so two administrators demoting each other at
    /// the same moment cannot both succeed: the second waits for the first and then counts.
    async fn change_guarding_admins(&self, user: &UserRow, change: GuardedChange) -> Result<(), StoreError> {
        let now = self.clock.now();
        let lock = match &self.pool {
            // A write statement takes SQLite's one write lock, even when it changes no row.
            Pool::Sqlite(_) => "UPDATE users SET admin = admin WHERE 0 = 1",
            Pool::Postgres(_) => "SELECT 1 FROM users WHERE admin AND NOT disabled FOR UPDATE",
        };
        let left_without_admin = on_pool!(self, pool => {
            let mut transaction = pool.begin().await.context("Failed to begin a transaction")?;
            sqlx::query(lock)
                .execute(&mut *transaction)
                .await
                .context("Failed to lock the administrators")?;
            let before = sqlx::query_scalar::<_, i64>(ACTIVE_ADMINS)
                .fetch_one(&mut *transaction)
                .await
                .context("Failed to count the administrators")?;
            let query = match change {
                GuardedChange::Disabled(disabled) => sqlx::query(
                    "UPDATE users SET disabled = $1, token_version = token_version + $2, updated_at = $3 \
                     WHERE id = $4",
                )
                .bind(disabled)
                .bind(i64::from(disabled))
                .bind(now),
                GuardedChange::Admin(admin) => {
                    sqlx::query("UPDATE users SET admin = $1, updated_at = $2 WHERE id = $3")
                        .bind(admin)
                        .bind(now)
                }
                GuardedChange::Delete => sqlx::query("DELETE FROM users WHERE id = $1"),
            };
            query
                .bind(user.id)
                .execute(&mut *transaction)
                .await
                .context("Failed to change a user")?;
            let after = sqlx::query_scalar::<_, i64>(ACTIVE_ADMINS)
                .fetch_one(&mut *transaction)
                .await
                .context("Failed to count the administrators")?;
            if before > 0 && after == 0 {
                true
            } else {
                transaction.commit().await.context("Failed to commit a change to a user")?;
                false
            }
        });
        if left_without_admin {
            return Err(StoreError::LastAdmin(user.username.clone()));
        }
        self.sessions.changed(user.id);
        Ok(())
    }
    /// Replaces a password hash by a stronger one of the same password, unless the password
    /// changed meanwhile (then the newer hash stays). Sessions are untouched: the password is
    /// the same.
    ///
    /// # Errors
    /// Database failures.
    pub async fn rehash_password(
        &self,
        user_id: i64,
        old: &PasswordHash,
        new: &PasswordHash,
    ) -> Result<(), StoreError> {
        on_pool!(self, pool => {
            sqlx::query("UPDATE users SET password_hash = $1 WHERE id = $2 AND password_hash = $3")
                .bind(new.as_str())
                .bind(user_id)
                .bind(old.as_str())
                .execute(pool)
                .await
                .map(|done| done.rows_affected())
        })
        .context("Failed to store a rehashed password")?;
        self.sessions.changed(user_id);
        Ok(())
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::server::store::open_for_test;

    fn new_user(name: &str) -> NewUser {
        NewUser {
            username: Username::parse(name).unwrap(),
            full_name: Some(FullName::parse("Test Person").unwrap()),
            email: None,
            password_hash: PasswordHash::from_stored("$argon2id$placeholder".into()),
            admin: false,
            disabled: false,
        }
    }

    #[tokio::test]
    async fn a_created_user_is_found_in_any_letter_case() {
        let (store, _scratch) = open_for_test().await;
        let created = store.create_user(&new_user("JohnDoe")).await.unwrap();
        assert_eq!(created.username, "JohnDoe");
        assert_eq!(created.token_version, 0);
        let found = store
            .find_user(&Username::parse("johndoe").unwrap())
            .await
            .unwrap()
            .unwrap();
        assert_eq!(found.id, created.id);
        assert_eq!(found.full_name.as_deref(), Some("Test Person"));
    }

    #[tokio::test]
    async fn usernames_differing_only_in_case_are_duplicates() {
        let (store, _scratch) = open_for_test().await;
        store.create_user(&new_user("johndoe")).await.unwrap();
        let error = store.create_user(&new_user("JOHNDOE")).await.unwrap_err();
        assert!(
            matches!(error, StoreError::DuplicateUsername(ref name) if name == "JOHNDOE"),
            "{error:?}"
        );
        assert_eq!(store.list_users().await.unwrap().len(), 1);
    }

    #[tokio::test]
    async fn a_new_password_raises_the_token_version() {
        let (store, _scratch) = open_for_test().await;
        store.create_user(&new_user("johndoe")).await.unwrap();
        let name = Username::parse("johndoe").unwrap();
        let hash = PasswordHash::from_stored("$argon2id$other".into());
        store.set_password_hash(&name, &hash, false).await.unwrap();
        let user = store.find_user(&name).await.unwrap().unwrap();
        assert_eq!(user.password_hash(), hash);
        assert_eq!(user.token_version, 1);
    }

    #[tokio::test]
    async fn disabling_ends_sessions_and_enabling_does_not() {
        let (store, _scratch) = open_for_test().await;
        store.create_user(&new_user("johndoe")).await.unwrap();
        let name = Username::parse("johndoe").unwrap();
        assert!(store.set_disabled(&name, true).await.unwrap());
        assert!(
            !store.set_disabled(&name, true).await.unwrap(),
            "already disabled"
        );
        assert!(store.set_disabled(&name, false).await.unwrap());
        let user = store.find_user(&name).await.unwrap().unwrap();
        assert!(!user.disabled);
        assert_eq!(user.token_version, 1);
    }

    #[tokio::test]
    async fn changes_to_an_unknown_user_say_so() {
        let (store, _scratch) = open_for_test().await;
        let name = Username::parse("nobody").unwrap();
        assert!(matches!(
            store.set_disabled(&name, true).await,
            Err(StoreError::UnknownUser(_))
        ));
        let hash = PasswordHash::from_stored("$argon2id$x".into());
        assert!(matches!(
            store.set_password_hash(&name, &hash, false).await,
            Err(StoreError::UnknownUser(_))
        ));
    }

    #[tokio::test]
    async fn the_last_active_admin_cannot_be_disabled_demoted_or_deleted() {
        let (store, _scratch) = open_for_test().await;
        store
            .create_user(&NewUser {
                admin: true,
                ..new_user("root")
            })
            .await
            .unwrap();
        store.create_user(&new_user("plain")).await.unwrap();
        let root = Username::parse("root").unwrap();
        let last_admin =
            |error: StoreError| matches!(error, StoreError::LastAdmin(ref name) if name == "root");
        assert!(last_admin(store.set_disabled(&root, true).await.unwrap_err()));
        assert!(last_admin(store.set_admin(&root, false).await.unwrap_err()));
        assert!(last_admin(store.delete_user(&root).await.unwrap_err()));
        let still = store.existing_user(&root).await.unwrap();
        assert!(still.admin && !still.disabled, "nothing changed");

        // With a second administrator, the first may go.
        let plain = Username::parse("plain").unwrap();
        assert!(store.set_admin(&plain, true).await.unwrap());
        assert!(store.set_disabled(&root, true).await.unwrap());
        assert!(
            matches!(store.set_admin(&plain, false).await, Err(StoreError::LastAdmin(ref name)) if name == "plain")
        );
        assert_eq!(store.count_active_admins().await.unwrap(), 1);
    }

    #[tokio::test]
    async fn a_store_without_admins_may_still_change_its_users() {
        let (store, _scratch) = open_for_test().await;
        store.create_user(&new_user("plain")).await.unwrap();
        let plain = Username::parse("plain").unwrap();
        assert!(store.set_disabled(&plain, true).await.unwrap());
        store.delete_user(&plain).await.unwrap();
        assert!(store.find_user(&plain).await.unwrap().is_none());
    }

    #[tokio::test]
    async fn a_temporary_password_must_be_changed_and_a_chosen_one_clears_that() {
        let (store, _scratch) = open_for_test().await;
        let user = store.create_user(&new_user("johndoe")).await.unwrap();
        let name = Username::parse("johndoe").unwrap();
        let hash = PasswordHash::from_stored("$argon2id$temporary".into());
        assert!(
            store
                .set_password_hash(&name, &hash, true)
                .await
                .unwrap()
                .must_change_password
        );
        let chosen = PasswordHash::from_stored("$argon2id$chosen".into());
        store
            .change_password_ending_sessions(user.id, &chosen)
            .await
            .unwrap();
        assert!(!store.existing_user(&name).await.unwrap().must_change_password);
    }

    #[tokio::test]
    async fn details_can_be_edited_and_cleared() {
        let (store, _scratch) = open_for_test().await;
        store.create_user(&new_user("johndoe")).await.unwrap();
        let name = Username::parse("johndoe").unwrap();
        let email = Email::parse("john@example.com").unwrap();
        let edited = store
            .update_user_details(&name, None, Some(&email))
            .await
            .unwrap();
        assert_eq!(edited.full_name, None);
        assert_eq!(edited.email.as_deref(), Some("john@example.com"));
    }

    #[tokio::test]
    async fn users_are_listed_alphabetically_ignoring_case() {
        let (store, _scratch) = open_for_test().await;
        for name in ["carol", "Bob", "alice"] {
            store.create_user(&new_user(name)).await.unwrap();
        }
        let names: Vec<_> = store
            .list_users()
            .await
            .unwrap()
            .into_iter()
            .map(|user| user.username)
            .collect();
        assert_eq!(names, ["alice", "Bob", "carol"]);
    }
}
