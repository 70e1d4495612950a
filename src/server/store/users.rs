//! User accounts: create, look up, list, change password, disable and enable.

use anyhow::Context;
use time::OffsetDateTime;

use super::{Store, StoreError, is_unique_violation};
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

pub(super) const USER_COLUMNS: &str =
    "id, username, full_name, email, password_hash, disabled, admin, token_version, created_at, updated_at";

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
    /// made with the old password.
    ///
    /// # Errors
    /// [`StoreError::UnknownUser`] when nobody has that name.
    #[tracing::instrument(skip_all, fields(username = %username))]
    pub async fn set_password_hash(
        &self,
        username: &Username,
        hash: &PasswordHash,
    ) -> Result<(), StoreError> {
        let user_id = on_pool!(self, pool => {
            sqlx::query_scalar::<_, i64>(
                "UPDATE users SET password_hash = $1, token_version = token_version + 1, updated_at = $2 \
                 WHERE lower(username) = lower($3) RETURNING id",
            )
            .bind(hash.as_str())
            .bind(self.clock.now())
            .bind(username.as_str())
            .fetch_optional(pool)
            .await
        })
        .context("Failed to update a password")?;
        let Some(user_id) = user_id else {
            return Err(StoreError::UnknownUser(username.to_string()));
        };
        self.sessions.changed(user_id);
        Ok(())
    }

    /// Disables or enables a user. Disabling raises the token version, so the user's sessions end
    /// at their next request. Returns whether anything changed.
    ///
    /// # Errors
    /// [`StoreError::UnknownUser`] when nobody has that name.
    #[tracing::instrument(skip_all, fields(username = %username, disabled))]
    pub async fn set_disabled(&self, username: &Username, disabled: bool) -> Result<bool, StoreError> {
        let user = self
            .find_user(username)
            .await?
            .ok_or_else(|| StoreError::UnknownUser(username.to_string()))?;
        if user.disabled == disabled {
            return Ok(false);
        }
        on_pool!(self, pool => {
            sqlx::query(
                "UPDATE users SET disabled = $1, token_version = token_version + $2, updated_at = $3 WHERE id = $4",
            )
            .bind(disabled)
            .bind(i64::from(disabled))
            .bind(self.clock.now())
            .bind(user.id)
            .execute(pool)
            .await
                .map(|done| done.rows_affected())
        })
        .context("Failed to change whether a user is disabled")?;
        self.sessions.changed(user.id);
        Ok(true)
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
        store.set_password_hash(&name, &hash).await.unwrap();
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
            store.set_password_hash(&name, &hash).await,
            Err(StoreError::UnknownUser(_))
        ));
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
