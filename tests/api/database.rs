//! The database as operators meet it: `gatehouse migrate`, `gatehouse db copy` between SQLite
//! and PostgreSQL, and an instance riding out a database outage.

use std::net::SocketAddr;
use std::sync::Arc;
use std::sync::atomic::{AtomicBool, Ordering};
use std::time::Duration;

use gatehouse::server::config::{DatabaseLocation, Settings, StoreSettings};
use gatehouse::server::store::scratch::ScratchDatabase;
use gatehouse::server::store::{PasskeyRow, Store};
use secrecy::SecretString;
use serde_json::Value;
use tokio::net::{TcpListener, TcpStream};
use tokio::task::JoinSet;

use crate::helpers::{
    PASSWORD, TestData, gatehouse_in, spawn_app, spawn_app_with, stderr, stdout, user_without_password,
};

/// How many migrations this build has (one file each).
fn sqlite_migrations() -> usize {
    std::fs::read_dir("src/server/store/migrations/sqlite")
        .unwrap()
        .count()
}

#[tokio::test]
async fn migrate_applies_what_is_missing_and_then_nothing() {
    let data = TestData::new().await;
    let first = data.gatehouse(&["migrate"], "");
    assert_eq!(first.status.code(), Some(0), "{}", stderr(&first));
    assert!(
        stdout(&first).starts_with(&format!("Applied {} migrations to ", sqlite_migrations())),
        "{}",
        stdout(&first)
    );
    let again = data.gatehouse(&["migrate"], "");
    assert!(
        stdout(&again).ends_with("is up to date; nothing to apply.\n"),
        "{}",
        stdout(&again)
    );
}

async fn open_sqlite(file: &std::path::Path) -> Store {
    Store::open(&StoreSettings::for_database(DatabaseLocation::SqliteFile(
        file.to_owned(),
    )))
    .await
    .unwrap()
}

/// Runs `gatehouse db copy` (from any directory: it needs no data directory).
fn db_copy(from: &str, to: &str, extra: &[&str]) -> std::process::Output {
    let scratch_dir = tempfile::tempdir().unwrap();
    let mut args = vec!["db", "copy", "--from", from, "--to", to];
    args.extend_from_slice(extra);
    gatehouse_in(scratch_dir.path(), None, &args, "")
}

#[tokio::test]
async fn db_copy_round_trip_sqlite_to_postgresql_to_sqlite_keeps_every_row_and_password() {
    // The source is SQLite whatever the suite runs on; the middle is PostgreSQL when the suite
    // runs on it (else a second SQLite file); the end is SQLite again.
    let source_dir = tempfile::tempdir().unwrap();
    let app = spawn_app_with(
        Settings::new("127.0.0.1:0".parse().unwrap(), source_dir.path()),
        TestData::new().await,
    )
    .await;
    let johndoe = app.add_user("johndoe").await;
    app.add_user("alice").await;
    app.state
        .store
        .add_item(johndoe.id, "Portal gun", Some("From the tutorial"))
        .await
        .unwrap();
    app.state
        .store
        .add_passkey(
            johndoe.id,
            "Y3JlZGVudGlhbA",
            "7d4c5ac5-3f0e-4a55-9d4e-2f1b8f0c1a6e",
            "laptop",
            r#"{"cred":{}}"#,
        )
        .await
        .unwrap();
    app.sign_in("johndoe", PASSWORD, None).await;
    app.password_grant("alice").await;
    let source = app.state.store.clone();
    let expected_counts = source.row_counts().await.unwrap();
    assert_eq!((expected_counts.users, expected_counts.sessions), (2, 2));
    source.close().await;

    let middle = ScratchDatabase::create_if_requested().await;
    let middle_url = middle.as_ref().map_or_else(
        || format!("sqlite:{}", source_dir.path().join("middle.db").display()),
        ScratchDatabase::url,
    );
    let end_file = source_dir.path().join("end.db");
    let source_file = source_dir.path().join("gatehouse.db");

    let there = db_copy(source_file.to_str().unwrap(), &middle_url, &[]);
    assert_eq!(there.status.code(), Some(0), "{}", stderr(&there));
    assert_eq!(
        stdout(&there),
        "Copied 2 users, 2 sessions, 2 refresh tokens, 1 items, 2 audit events, 0 second factors, 1 passkeys.\n"
    );
    let back = db_copy(&middle_url, end_file.to_str().unwrap(), &[]);
    assert_eq!(back.status.code(), Some(0), "{}", stderr(&back));

    let original = open_sqlite(&source_file).await;
    let copy = open_sqlite(&end_file).await;
    assert_eq!(copy.row_counts().await.unwrap(), expected_counts);
    let (before, after) = (
        original.list_users().await.unwrap(),
        copy.list_users().await.unwrap(),
    );
    assert_eq!(
        format!("{before:?}"),
        format!("{after:?}"),
        "ids, names, flags, versions"
    );
    for (old, new) in before.iter().zip(&after) {
        assert_eq!(old.password_hash(), new.password_hash());
        // PostgreSQL keeps times to the microsecond; SQLite keeps what it was given.
        let micros = |at: time::OffsetDateTime| at.unix_timestamp_nanos() / 1_000;
        assert_eq!(micros(old.created_at), micros(new.created_at));
        assert_eq!(old.email, new.email);
        assert!(
            app.state
                .passwords
                .verify(&SecretString::from(PASSWORD), Some(&new.password_hash()))
                .await
                .unwrap(),
            "the password of {} still verifies",
            new.username
        );
    }
    assert_eq!(
        copy.items_of(johndoe.id).await.unwrap(),
        original.items_of(johndoe.id).await.unwrap()
    );
    let passkeys = |rows: Vec<PasskeyRow>| {
        rows.into_iter()
            .map(|row| {
                (
                    row.id,
                    row.credential_id,
                    row.user_handle,
                    row.name,
                    row.credential,
                )
            })
            .collect::<Vec<_>>()
    };
    assert_eq!(
        passkeys(copy.passkeys_of(johndoe.id).await.unwrap()),
        passkeys(original.passkeys_of(johndoe.id).await.unwrap())
    );
    let session_ids = |store: Store| async move {
        let users = store.list_users().await.unwrap();
        let mut ids = Vec::new();
        for user in users {
            let now = time::OffsetDateTime::now_utc();
            ids.extend(
                store
                    .sessions_of(user.id, now)
                    .await
                    .unwrap()
                    .into_iter()
                    .map(|s| s.id),
            );
        }
        ids
    };
    assert_eq!(
        session_ids(copy.clone()).await,
        session_ids(original.clone()).await
    );

    // New rows in the copy do not collide with the copied ids.
    let item = copy.add_item(johndoe.id, "New", None).await.unwrap();
    assert!(item.id > 1);
}

#[tokio::test]
async fn db_copy_refuses_a_non_empty_target_unless_told_to_overwrite() {
    let dir = tempfile::tempdir().unwrap();
    let (from, to) = (dir.path().join("from.db"), dir.path().join("to.db"));
    open_sqlite(&from).await.close().await;
    let target = open_sqlite(&to).await;
    target.create_user(&user_without_password("kept")).await.unwrap();

    let refused = db_copy(from.to_str().unwrap(), to.to_str().unwrap(), &[]);
    assert_eq!(refused.status.code(), Some(1));
    assert!(
        stderr(&refused).contains("the target already holds 1 users"),
        "{}",
        stderr(&refused)
    );
    assert!(stderr(&refused).contains("--overwrite"), "{}", stderr(&refused));
    assert_eq!(target.row_counts().await.unwrap().users, 1, "left as it was");

    let replaced = db_copy(from.to_str().unwrap(), to.to_str().unwrap(), &["--overwrite"]);
    assert_eq!(replaced.status.code(), Some(0), "{}", stderr(&replaced));
    assert_eq!(
        target.row_counts().await.unwrap().users,
        0,
        "replaced by the empty source"
    );
}

#[tokio::test]
async fn db_copy_refuses_a_missing_source_and_the_same_database_twice() {
    let dir = tempfile::tempdir().unwrap();
    let missing = dir.path().join("missing.db");
    let output = db_copy(missing.to_str().unwrap(), "sqlite:/tmp/whatever.db", &[]);
    assert_eq!(output.status.code(), Some(1));
    assert!(
        stderr(&output).contains("there is no SQLite database at"),
        "{}",
        stderr(&output)
    );
    assert!(!missing.exists(), "nothing was created");

    let output = db_copy("postgres://x@db/site", "postgres://x@db/site", &[]);
    assert_eq!(output.status.code(), Some(1));
    assert!(
        stderr(&output).contains("the same database"),
        "{}",
        stderr(&output)
    );
}

/// A TCP relay between the application and PostgreSQL that can be cut: an outage of the
/// database as the application sees it, without disturbing the other tests.
struct Link {
    addr: SocketAddr,
    up: Arc<AtomicBool>,
    relays: Arc<std::sync::Mutex<JoinSet<()>>>,
}

impl Link {
    async fn to(target: SocketAddr) -> Self {
        let listener = TcpListener::bind("127.0.0.1:0").await.unwrap();
        let link = Self {
            addr: listener.local_addr().unwrap(),
            up: Arc::new(AtomicBool::new(true)),
            relays: Arc::default(),
        };
        let (up, relays) = (link.up.clone(), link.relays.clone());
        tokio::spawn(async move {
            while let Ok((mut client, _)) = listener.accept().await {
                if !up.load(Ordering::SeqCst) {
                    continue; // Dropped: the connection is closed at once.
                }
                relays.lock().unwrap().spawn(async move {
                    if let Ok(mut server) = TcpStream::connect(target).await {
                        let _ = tokio::io::copy_bidirectional(&mut client, &mut server).await;
                    }
                });
            }
        });
        link
    }

    fn cut(&self) {
        self.up.store(false, Ordering::SeqCst);
        self.relays.lock().unwrap().abort_all();
    }

    fn mend(&self) {
        self.up.store(true, Ordering::SeqCst);
    }
}

#[tokio::test]
async fn a_database_outage_gives_clean_503s_and_the_instance_recovers_on_its_own() {
    let data = TestData::new().await;
    let Some(url) = data.database_url() else {
        eprintln!("skipped: a database outage needs PostgreSQL (GATEHOUSE_TEST_POSTGRES)");
        return;
    };
    let options: sqlx::postgres::PgConnectOptions = url.parse().unwrap();
    let server = tokio::net::lookup_host((options.get_host(), options.get_port()))
        .await
        .unwrap()
        .next()
        .unwrap();
    let link = Link::to(server).await;
    let relayed = format!(
        "postgres://{}@{}/{}",
        options.get_username(),
        link.addr,
        options.get_database().unwrap()
    );
    let mut settings = data.settings();
    settings.store.database = DatabaseLocation::Url(relayed);
    let app = spawn_app_with(settings, data).await;
    app.add_user("johndoe").await;
    app.sign_in("johndoe", PASSWORD, None).await;
    let tokens = app.password_grant("johndoe").await;

    link.cut();
    let health = app.get("/healthz").await;
    assert_eq!(health.status(), 503);
    let page = app.get_page("/dashboard").await;
    assert_eq!(page.status(), 503);
    assert_eq!(page.headers()["retry-after"], "5");
    let text = page.text().await.unwrap();
    assert!(text.contains("cannot reach its database"), "{text}");
    // A program: no cookies, just the form and the Bearer token.
    let program = app.other_browser();
    let token = app
        .token_request(&program)
        .form(&[
            ("grant_type", "password"),
            ("username", "johndoe"),
            ("password", PASSWORD),
        ])
        .send()
        .await
        .unwrap();
    assert_eq!(token.status(), 503);
    assert_eq!(token.headers()["retry-after"], "5");
    let body: Value = token.json().await.unwrap();
    assert_eq!(body["error"], "temporarily_unavailable");
    let description = body["error_description"].as_str().unwrap();
    assert!(
        !description.contains("sqlx") && !description.contains("127.0.0.1"),
        "{description}"
    );
    let api = program
        .get(format!("{}/api/users/me", app.address))
        .bearer_auth(tokens["access_token"].as_str().unwrap())
        .send()
        .await
        .unwrap();
    assert_eq!(api.status(), 503);
    assert_eq!(
        api.json::<Value>().await.unwrap()["error"],
        "temporarily_unavailable"
    );

    link.mend();
    let mut healthy = false;
    for _ in 0..50 {
        if app.get("/healthz").await.status() == 200 {
            healthy = true;
            break;
        }
        tokio::time::sleep(Duration::from_millis(200)).await;
    }
    assert!(healthy, "the instance recovers without a restart");
    assert_eq!(
        app.get_page("/dashboard").await.status(),
        200,
        "the session survived"
    );
    assert_eq!(
        app.state.store.list_users().await.unwrap().len(),
        1,
        "no user lost"
    );
}

#[tokio::test]
async fn connections_killed_under_a_running_instance_are_replaced_without_losing_anyone() {
    let app = spawn_app().await;
    let Some(scratch) = app.data.scratch() else {
        eprintln!("skipped: killing connections needs PostgreSQL (GATEHOUSE_TEST_POSTGRES)");
        return;
    };
    app.add_user("johndoe").await;
    app.sign_in("johndoe", PASSWORD, None).await;
    assert_eq!(app.get_page("/dashboard").await.status(), 200);

    // As a restart or failover of PostgreSQL does: every connection of the pool dies at once.
    scratch.terminate_connections().await.unwrap();

    let mut statuses = Vec::new();
    for _ in 0..10 {
        let status = app.get_page("/dashboard").await.status().as_u16();
        statuses.push(status);
        if status == 200 {
            break;
        }
        tokio::time::sleep(Duration::from_millis(200)).await;
    }
    assert_eq!(statuses.last(), Some(&200), "{statuses:?}");
    assert!(
        statuses.iter().all(|status| matches!(status, 200 | 503)),
        "{statuses:?}"
    );
    assert_eq!(app.get("/healthz").await.status(), 200);
    assert_eq!(
        app.state.store.list_users().await.unwrap().len(),
        1,
        "no user lost"
    );
}
