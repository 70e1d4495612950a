//! Throw-away PostgreSQL databases, one per test, so that the whole test suite runs on both
//! backends: `make test` runs it once on SQLite and once with `GATEHOUSE_TEST_POSTGRES` set.
//!
//! It lives in the library, not under `tests/`, because the unit tests and the integration
//! tests both use it.

use std::str::FromStr;

use anyhow::Context;
use sqlx::postgres::PgConnectOptions;
use sqlx::{ConnectOptions, Connection, Executor};

use crate::server::random::random_hex;

/// The environment variable naming the PostgreSQL server tests run on, as a URL without a
/// database (e.g. `postgres://root@127.0.0.1:5432`). Unset: tests use SQLite.
pub const TEST_POSTGRES_ENV: &str = "GATEHOUSE_TEST_POSTGRES";

/// A database of its own on the test server, dropped (connections and all) when this is
/// dropped.
pub struct ScratchDatabase {
    server: String,
    name: String,
}

impl ScratchDatabase {
    /// A new, empty database when [`TEST_POSTGRES_ENV`] is set; `None` when it is not.
    ///
    /// # Panics
    /// The server named cannot be reached or refuses to create a database: the tests asked
    /// for PostgreSQL and cannot run without it.
    pub async fn create_if_requested() -> Option<Self> {
        let server = std::env::var(TEST_POSTGRES_ENV).ok()?;
        let name = format!(
            "gatehouse_test_{}",
            random_hex(8).expect("the OS gives random bytes")
        );
        let database = Self {
            server: server.trim_end_matches('/').to_owned(),
            name,
        };
        administer(&database.server, &format!("CREATE DATABASE {}", database.name))
            .await
            .unwrap_or_else(|error| panic!("{TEST_POSTGRES_ENV}={server}: {error:#}"));
        Some(database)
    }

    /// The URL to give `--database-url`.
    pub fn url(&self) -> String {
        format!("{}/{}", self.server, self.name)
    }

    /// Ends every connection to this database, as a database restart or a failover does.
    ///
    /// # Errors
    /// The server cannot be reached.
    pub async fn terminate_connections(&self) -> anyhow::Result<()> {
        administer(
            &self.server,
            &format!(
                "SELECT pg_terminate_backend(pid) FROM pg_stat_activity \
                 WHERE datname = '{}' AND pid <> pg_backend_pid()",
                self.name
            ),
        )
        .await
    }

    /// Ends the connections that LISTEN for other instances' changes, as a network fault or an
    /// administrator's `pg_terminate_backend` would.
    ///
    /// # Errors
    /// The server cannot be reached.
    pub async fn terminate_listeners(&self) -> anyhow::Result<()> {
        administer(
            &self.server,
            &format!(
                "SELECT pg_terminate_backend(pid) FROM pg_stat_activity \
                 WHERE datname = '{}' AND query LIKE 'LISTEN%' AND pid <> pg_backend_pid()",
                self.name
            ),
        )
        .await
    }
}

/// Runs one statement on the `postgres` database of `server`.
async fn administer(server: &str, statement: &str) -> anyhow::Result<()> {
    let options = PgConnectOptions::from_str(&format!("{server}/postgres"))
        .context("not a PostgreSQL URL")?
        .disable_statement_logging();
    let mut connection = options.connect().await.context("cannot connect")?;
    connection
        .execute(statement)
        .await
        .context("the statement failed")?;
    connection.close().await.ok();
    Ok(())
}

impl Drop for ScratchDatabase {
    fn drop(&mut self) {
        let statement = format!("DROP DATABASE IF EXISTS {} WITH (FORCE)", self.name);
        let server = self.server.clone();
        // Drop runs inside the test's runtime, which cannot be blocked on: a thread of its own
        // with a runtime of its own does the work. A failure only leaves a database behind.
        let dropped = std::thread::spawn(move || {
            let runtime = tokio::runtime::Builder::new_current_thread()
                .enable_all()
                .build()?;
            runtime.block_on(administer(&server, &statement))
        })
        .join();
        if let Ok(Err(error)) = dropped {
            eprintln!("could not drop the test database {}: {error:#}", self.name);
        }
    }
}
