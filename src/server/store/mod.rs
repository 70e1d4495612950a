//! The store: user accounts, their sessions and refresh tokens, their items and failed sign-ins,
//! in SQLite (embedded, the default) or PostgreSQL (when several instances serve one site), with
//! live sessions kept in memory by [`session_cache`] so that most requests read nothing.
//!
//! Callers see only [`Store`] and its methods, never SQL or a pool. Every query is written once,
//! in the SQL both databases share (`$1` parameters, `RETURNING`, `ON CONFLICT`), and
//! [`on_pool!`] runs it on whichever pool the store holds, so the two backends cannot drift
//! apart; only the migrations are written per dialect. Queries are checked at run time (no
//! `DATABASE_URL` at build time); the migrations are embedded in the binary.

/// Runs `$body` with `$pool` bound to the store's pool, whichever database it is: the body is
/// compiled once per backend, so row types and bound values are checked against both.
macro_rules! on_pool {
    ($store:expr, $pool:ident => $body:expr) => {
        match &$store.pool {
            $crate::server::store::Pool::Sqlite($pool) => $body,
            $crate::server::store::Pool::Postgres($pool) => $body,
        }
    };
}

mod attempts;
mod audit;
pub mod copy;
mod email_links;
mod items;
mod passkeys;
pub mod scratch;
mod second_factor;
mod session_cache;
mod sessions;
mod setup;
mod user_search;
mod users;

use std::str::FromStr;
use std::sync::Arc;
use std::time::Duration;

use anyhow::{Context, anyhow};
use sqlx::migrate::Migrator;
use sqlx::postgres::{PgConnectOptions, PgPool, PgPoolOptions};
use sqlx::sqlite::{
    SqliteConnectOptions, SqliteJournalMode, SqlitePool, SqlitePoolOptions, SqliteSynchronous,
};

pub use attempts::AttemptHistory;
pub use audit::{AuditPage, AuditQuery, AuditRow, NewAuditEvent};
pub use email_links::{EmailLinkRow, LinkError, LinkPurpose, MailRequestCounts, NewEmailLink};
pub use items::ItemRow;
pub use passkeys::{CeremonyRow, PasskeyRow};
pub use second_factor::{SecondStepRow, TotpRow};
pub use sessions::{ClientKind, RefreshTokenRow, SessionOrigin, SessionRow};
pub use setup::SetupError;
pub use user_search::{UserFilter, UserOrder, UserPage, UserQuery};
pub use users::{NewUser, UserRow};

use crate::server::clock::Clock;
use crate::server::config::{DatabaseLocation, StoreSettings};
use crate::server::files::{create_private_dir, create_private_file, make_private};
use session_cache::{ChangeCounter, Others, SessionCache};

/// How long a SQLite writer waits for another writer's lock before giving up.
const BUSY_TIMEOUT: Duration = Duration::from_secs(5);
/// How long a request waits for a free (or new) connection before the store counts as down.
const ACQUIRE_TIMEOUT: Duration = Duration::from_secs(5);
/// PostgreSQL cancels a statement running longer than this, well inside the request timeout.
const STATEMENT_TIMEOUT: &str = "10s";
/// SQLite serializes writers anyway; a few connections serve concurrent readers.
const SQLITE_CONNECTIONS: u32 = 8;

static SQLITE_MIGRATIONS: Migrator = sqlx::migrate!("src/server/store/migrations/sqlite");
static POSTGRES_MIGRATIONS: Migrator = sqlx::migrate!("src/server/store/migrations/postgres");

/// What can go wrong in the store, in terms a caller can act on.
#[derive(Debug, thiserror::Error)]
pub enum StoreError {
    #[error("there is no user called {0}")]
    UnknownUser(String),
    #[error("a user called {0} already exists")]
    DuplicateUsername(String),
    #[error("{0} is the last active administrator; make someone else an administrator first")]
    LastAdmin(String),
    #[error(transparent)]
    Unexpected(#[from] anyhow::Error),
}

/// `true` when a failure came from a database that could not be reached (down, restarting, out
/// of connections): worth a 503 and a retry, unlike a failed query.
pub fn is_unavailable(error: &anyhow::Error) -> bool {
    error
        .chain()
        .filter_map(|cause| cause.downcast_ref::<sqlx::Error>())
        .any(is_connection_failure)
}

/// Connection trouble rather than a problem with a query: the pool gave up waiting, the socket
/// broke, or PostgreSQL is shutting down, starting or out of connections.
fn is_connection_failure(error: &sqlx::Error) -> bool {
    match error {
        sqlx::Error::PoolTimedOut | sqlx::Error::PoolClosed | sqlx::Error::Io(_) | sqlx::Error::Tls(_) => {
            true
        }
        sqlx::Error::Protocol(_) | sqlx::Error::WorkerCrashed => true,
        sqlx::Error::Database(error) => error.code().is_some_and(|code| {
            // Class 08: connection exceptions; 57P01-57P03: shutdown and start-up; 53300: too
            // many connections.
            code.starts_with("08") || matches!(code.as_ref(), "57P01" | "57P02" | "57P03" | "53300")
        }),
        _ => false,
    }
}

/// The connection pool of one of the two databases.
#[derive(Clone, Debug)]
pub(crate) enum Pool {
    Sqlite(SqlitePool),
    Postgres(PgPool),
}

/// Handle to the database; cheap to clone (it is a connection pool).
#[derive(Clone, Debug)]
pub struct Store {
    pool: Pool,
    /// Where the data is, in words fit for an error message (never a URL's password).
    described: Arc<str>,
    /// What "now" is for the times the store writes (sessions started, revoked, spent).
    clock: Clock,
    /// Live sessions with their users, so that most requests need no read.
    sessions: Arc<SessionCache>,
    /// Hears of other instances' changes (PostgreSQL with a session cache); stops with the
    /// last handle to the store.
    listener: Option<Arc<session_cache::Listener>>,
}

impl Store {
    /// Opens (creating a missing SQLite file) the database the settings point at and applies
    /// the migrations it lacks.
    ///
    /// # Errors
    /// As [`Store::connect`] and [`Store::migrate`].
    pub async fn open(settings: &StoreSettings) -> anyhow::Result<Self> {
        let store = Self::connect(settings).await?;
        store.migrate().await?;
        Ok(store)
    }

    /// Connects to the database the settings point at, without migrating it.
    ///
    /// # Errors
    /// The data directory cannot be created, the URL is not one this build serves, or the
    /// database cannot be opened; the message says which and where, never the URL's password.
    pub async fn connect(settings: &StoreSettings) -> anyhow::Result<Self> {
        let sqlite = match &settings.database {
            DatabaseLocation::SqliteFile(path) => {
                if let Some(dir) = path.parent().filter(|dir| !dir.as_os_str().is_empty()) {
                    create_private_dir(dir)?;
                }
                // The database and its -wal and -shm files hold password hashes: owner only.
                create_private_file(path)?;
                for suffix in ["", "-wal", "-shm"] {
                    let mut file = path.clone().into_os_string();
                    file.push(suffix);
                    make_private(std::path::Path::new(&file), 0o600)?;
                }
                SqliteConnectOptions::new().filename(path)
            }
            DatabaseLocation::Url(url) if url.starts_with("sqlite:") => SqliteConnectOptions::from_str(url)
                .map_err(|_| {
                anyhow!("the database URL is not a valid SQLite URL; write it as sqlite:PATH")
            })?,
            DatabaseLocation::Url(url)
                if url.starts_with("postgres://") || url.starts_with("postgresql://") =>
            {
                return Self::connect_postgres(url, settings).await;
            }
            DatabaseLocation::Url(_) => {
                return Err(anyhow!(
                    "the database URL must start with sqlite: or postgres:// \
                     (e.g. sqlite:/var/lib/gatehouse/gatehouse.db or postgres://gatehouse@db.example.com/gatehouse)"
                ));
            }
        };
        let described = settings.database.describe();
        let mut cache_capacity = settings.session_cache;
        let others = if sqlite.get_filename() == std::path::Path::new(":memory:") {
            Others::Nobody
        } else {
            match ChangeCounter::open(sqlite.get_filename()) {
                Ok(counter) => Others::SameFile(counter),
                Err(error) => {
                    // Without the counter, changes made by other processes would go unseen:
                    // no cache then, every lookup reads the database.
                    tracing::warn!(
                        error = format!("{error:#}"),
                        "cannot keep sessions in memory; reading each from the database"
                    );
                    cache_capacity = 0;
                    Others::Nobody
                }
            }
        };
        let options = sqlite
            .create_if_missing(true)
            .journal_mode(SqliteJournalMode::Wal)
            .synchronous(SqliteSynchronous::Normal)
            .foreign_keys(true)
            .busy_timeout(BUSY_TIMEOUT);
        let pool = SqlitePoolOptions::new()
            .max_connections(SQLITE_CONNECTIONS)
            .acquire_timeout(ACQUIRE_TIMEOUT)
            .connect_with(options)
            .await
            .map_err(|error| explain_open_failure(&error, &described))?;
        Ok(Self {
            pool: Pool::Sqlite(pool),
            described: described.into(),
            clock: Clock::system(),
            sessions: Arc::new(SessionCache::new(cache_capacity, others)),
            listener: None,
        })
    }

    async fn connect_postgres(url: &str, settings: &StoreSettings) -> anyhow::Result<Self> {
        let options = PgConnectOptions::from_str(url).map_err(|_| {
            anyhow!(
                "the database URL is not a valid PostgreSQL URL; write it as postgres://USER@HOST/DATABASE"
            )
        })?;
        let described = format!(
            "PostgreSQL database {} on {}:{}",
            options.get_database().unwrap_or("(default)"),
            options.get_host(),
            options.get_port()
        );
        let options = options
            .application_name("gatehouse")
            .options([("statement_timeout", STATEMENT_TIMEOUT)]);
        let listener_options = options.clone();
        let pool = PgPoolOptions::new()
            .max_connections(settings.pool_size)
            .acquire_timeout(ACQUIRE_TIMEOUT)
            .connect_with(options)
            .await
            .map_err(|error| anyhow!("cannot reach the {described}: {}", describe_sqlx_error(&error)))?;
        let sessions = Arc::new(SessionCache::new(
            settings.session_cache,
            Others::Postgres {
                listening: std::sync::atomic::AtomicBool::new(false),
            },
        ));
        // Without a cache there is nothing to keep fresh; the triggers notify either way.
        let listener = if settings.session_cache > 0 {
            Some(Arc::new(session_cache::Listener::start(
                listener_options,
                sessions.clone(),
            )?))
        } else {
            None
        };
        Ok(Self {
            pool: Pool::Postgres(pool),
            described: described.into(),
            clock: Clock::system(),
            sessions,
            listener,
        })
    }

    /// Applies the migrations the database lacks; returns how many it applied. Several
    /// instances starting together are safe: PostgreSQL migrations run under a lock.
    ///
    /// # Errors
    /// A migration failed, or the database has migrations this build does not know (it was
    /// migrated by a newer Gatehouse).
    pub async fn migrate(&self) -> anyhow::Result<usize> {
        let pending = self.pending_migrations().await;
        on_pool!(self, pool => self.migrator().run(pool).await).map_err(|error| match error {
            sqlx::migrate::MigrateError::VersionMissing(version) => anyhow!(
                "the database was migrated by a newer Gatehouse (migration {version} is unknown to this one); \
                 run the newer version"
            ),
            sqlx::migrate::MigrateError::Execute(error) => match &self.pool {
                Pool::Sqlite(_) => explain_open_failure(&error, &self.described),
                Pool::Postgres(_) => anyhow!(
                    "Failed to migrate {}: {}",
                    self.described,
                    describe_sqlx_error(&error)
                ),
            },
            other => anyhow::Error::new(other).context("Failed to migrate the database"),
        })?;
        Ok(pending)
    }

    /// The migrations of this store's SQL dialect.
    fn migrator(&self) -> &'static Migrator {
        match self.pool {
            Pool::Sqlite(_) => &SQLITE_MIGRATIONS,
            Pool::Postgres(_) => &POSTGRES_MIGRATIONS,
        }
    }

    /// How many of this build's migrations the database has not had yet.
    async fn pending_migrations(&self) -> usize {
        // No bookkeeping table yet means nothing was applied.
        let applied: Vec<i64> = on_pool!(self, pool => {
            sqlx::query_scalar("SELECT version FROM _sqlx_migrations WHERE success")
                .fetch_all(pool)
                .await
        })
        .unwrap_or_default();
        self.migrator()
            .iter()
            .filter(|migration| !applied.contains(&migration.version))
            .count()
    }

    /// The same store, reading time from `clock` (the application's) instead of the system.
    #[must_use]
    pub fn with_clock(mut self, clock: Clock) -> Self {
        self.clock = clock;
        self
    }

    /// Which database this is, in words: "/var/lib/gatehouse/gatehouse.db" (SQLite) or
    /// "PostgreSQL database gatehouse on db.example.com:5432".
    pub fn describe(&self) -> &str {
        &self.described
    }

    /// Answers whether the database responds (for `/healthz`).
    ///
    /// # Errors
    /// The database did not answer a trivial query.
    pub async fn ping(&self) -> anyhow::Result<()> {
        on_pool!(self, pool => sqlx::query("SELECT 1").execute(pool).await.map(|done| done.rows_affected()))
            .context("Failed to reach the database")?;
        Ok(())
    }

    /// Whether this store hears of changes made by other instances, so that its session cache
    /// may be used (always on SQLite; on PostgreSQL while its LISTEN connection is up).
    pub fn hears_other_instances(&self) -> bool {
        self.sessions.listening()
    }

    /// How many notifications of changes made elsewhere this store has taken into account
    /// (PostgreSQL; always 0 on SQLite, where a change is seen at the next lookup).
    pub fn changes_heard(&self) -> u64 {
        self.sessions.heard()
    }

    /// The session cache's hit and miss counters, for the metrics.
    pub fn session_cache_counters(
        &self,
    ) -> (
        prometheus_client::metrics::counter::Counter,
        prometheus_client::metrics::counter::Counter,
    ) {
        self.sessions.counters()
    }

    /// How many sessions the cache holds, fresh or stale.
    pub fn cached_sessions(&self) -> usize {
        self.sessions.len()
    }

    /// Closes every connection, waiting for running queries to finish.
    pub async fn close(&self) {
        if let Some(listener) = &self.listener {
            listener.stop();
        }
        on_pool!(self, pool => pool.close().await);
    }
}

/// A database error in words, without the parts that could carry a password.
fn describe_sqlx_error(error: &sqlx::Error) -> String {
    match error {
        sqlx::Error::Database(error) => error.message().to_owned(),
        sqlx::Error::Io(error) => error.to_string(),
        sqlx::Error::PoolTimedOut => "no connection within 5 seconds".to_owned(),
        other => other.to_string(),
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

/// A store for a unit test: SQLite in a temporary directory, or a scratch PostgreSQL database
/// when the tests run on PostgreSQL. Keep the second value alive as long as the store.
#[cfg(test)]
pub(crate) async fn open_for_test() -> (Store, (tempfile::TempDir, Option<scratch::ScratchDatabase>)) {
    let dir = tempfile::tempdir().unwrap();
    let database = scratch::ScratchDatabase::create_if_requested().await;
    let mut settings = StoreSettings::in_data_dir(dir.path());
    if let Some(database) = &database {
        settings.database = DatabaseLocation::Url(database.url());
    }
    (Store::open(&settings).await.unwrap(), (dir, database))
}
