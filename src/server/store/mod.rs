//! The store: user accounts, their sessions and refresh tokens, and their items, in a SQL
//! database.
//!
//! Callers see only [`Store`] and its methods, never SQL or a pool, so a PostgreSQL backend can
//! slot in behind the same API. Queries are checked at run time (no `DATABASE_URL` at build time);
//! the migrations are embedded in the binary and applied by [`Store::open`].

mod failures;
mod items;
mod sessions;
mod users;

use std::str::FromStr;
use std::time::Duration;

use anyhow::{Context, anyhow};
use sqlx::sqlite::{
    SqliteConnectOptions, SqliteJournalMode, SqlitePool, SqlitePoolOptions, SqliteSynchronous,
};

pub use items::ItemRow;
pub use sessions::{RefreshTokenRow, SessionOrigin, SessionRow};
pub use users::{NewUser, UserRow};

use crate::server::auth::signing_key::create_private_dir;
use crate::server::config::{DatabaseLocation, StoreSettings};

/// How long a writer waits for another writer's lock before giving up.
const BUSY_TIMEOUT: Duration = Duration::from_secs(5);
/// How long a request waits for a free connection.
const ACQUIRE_TIMEOUT: Duration = Duration::from_secs(5);

/// What can go wrong in the store, in terms a caller can act on.
#[derive(Debug, thiserror::Error)]
pub enum StoreError {
    #[error("there is no user called {0}")]
    UnknownUser(String),
    #[error("a user called {0} already exists")]
    DuplicateUsername(String),
    #[error(transparent)]
    Unexpected(#[from] anyhow::Error),
}

/// Handle to the database; cheap to clone (it is a connection pool).
#[derive(Clone, Debug)]
pub struct Store {
    pool: SqlitePool,
}

impl Store {
    /// Opens (creating when missing) the database the settings point at and applies the
    /// migrations it lacks.
    ///
    /// # Errors
    /// The data directory cannot be created, the URL is not one this build serves, or the
    /// database cannot be opened or migrated; the message says which and where.
    pub async fn open(settings: &StoreSettings) -> anyhow::Result<Self> {
        let (options, described) = match &settings.database {
            DatabaseLocation::SqliteFile(path) => {
                if let Some(dir) = path.parent().filter(|dir| !dir.as_os_str().is_empty()) {
                    create_private_dir(dir)?;
                }
                (
                    SqliteConnectOptions::new().filename(path),
                    path.display().to_string(),
                )
            }
            DatabaseLocation::Url(url) if url.starts_with("sqlite:") => {
                let options = SqliteConnectOptions::from_str(url).map_err(|_| {
                    anyhow!("--database-url is not a valid SQLite URL; write it as sqlite:PATH")
                })?;
                (options, "the SQLite database of --database-url".to_owned())
            }
            DatabaseLocation::Url(url)
                if url.starts_with("postgres://") || url.starts_with("postgresql://") =>
            {
                return Err(anyhow!(
                    "this build of Gatehouse stores data in SQLite only; drop --database-url to use the \
                     SQLite file in the data directory"
                ));
            }
            DatabaseLocation::Url(_) => {
                return Err(anyhow!(
                    "--database-url must start with sqlite: (e.g. sqlite:/var/lib/gatehouse/gatehouse.db)"
                ));
            }
        };
        let options = options
            .create_if_missing(true)
            .journal_mode(SqliteJournalMode::Wal)
            .synchronous(SqliteSynchronous::Normal)
            .foreign_keys(true)
            .busy_timeout(BUSY_TIMEOUT);
        let pool = SqlitePoolOptions::new()
            .max_connections(8)
            .acquire_timeout(ACQUIRE_TIMEOUT)
            .connect_with(options)
            .await
            .map_err(|error| explain_open_failure(&error, &described))?;
        sqlx::migrate!("src/server/store/migrations/sqlite")
            .run(&pool)
            .await
            .map_err(|error| match error {
                sqlx::migrate::MigrateError::Execute(error) => explain_open_failure(&error, &described),
                other => anyhow::Error::new(other).context(format!("Failed to migrate {described}")),
            })?;
        Ok(Self { pool })
    }

    /// Answers whether the database responds (for `/healthz`).
    ///
    /// # Errors
    /// The database did not answer a trivial query.
    pub async fn ping(&self) -> anyhow::Result<()> {
        sqlx::query("SELECT 1")
            .execute(&self.pool)
            .await
            .context("Failed to reach the database")?;
        Ok(())
    }

    /// Closes every connection, waiting for running queries to finish.
    pub async fn close(&self) {
        self.pool.close().await;
    }
}

/// Turns SQLite's error codes into advice; anything else keeps its cause chain.
fn explain_open_failure(error: &sqlx::Error, described: &str) -> anyhow::Error {
    let code = error
        .as_database_error()
        .and_then(|db| db.code())
        .and_then(|code| code.parse::<i32>().ok());
    // Primary result codes are the low byte of SQLite's extended codes.
    match code.map(|code| code & 0xff) {
        Some(11 | 26) => anyhow!(
            "{described} is not a usable SQLite database (corrupt, or another kind of file); \
             restore it from a backup or move it away"
        ),
        Some(8) => anyhow!("{described} is read-only; Gatehouse needs to write to it and to its directory"),
        Some(14) => anyhow!("cannot open {described}; check that its directory exists and is writable"),
        _ => anyhow!("Failed to open {described}: {error}"),
    }
}

/// `true` when `error` is a violation of a UNIQUE constraint (matched by code, not by message).
fn is_unique_violation(error: &sqlx::Error) -> bool {
    error
        .as_database_error()
        .is_some_and(|db| db.is_unique_violation())
}
