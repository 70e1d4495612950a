//! Start-up: migrations on empty and existing databases, and bad input refused cleanly.

use gatehouse::server::config::Settings;
use gatehouse::server::startup::Application;

use crate::helpers::{TestData, spawn_app, spawn_app_again, user_without_password};

#[tokio::test]
async fn migrations_create_an_empty_store_in_a_new_data_directory() {
    let app = spawn_app().await;
    assert_eq!(
        app.data.path().join("gatehouse.db").is_file(),
        app.data.database_url().is_none(),
        "SQLite lives in the data directory (unless the test runs on PostgreSQL)"
    );
    assert!(app.data.path().join("signing.key").is_file());
    assert!(app.state.store.list_users().await.unwrap().is_empty());
}

#[tokio::test]
async fn an_existing_database_is_reopened_with_its_users_and_key() {
    let first = spawn_app().await;
    first
        .state
        .store
        .create_user(&user_without_password("johndoe"))
        .await
        .unwrap();
    let key = first.state.signing_key.expose().to_vec();

    let second = spawn_app_again(first).await;
    let users = second.state.store.list_users().await.unwrap();
    assert_eq!(users.len(), 1);
    assert_eq!(users[0].username, "johndoe");
    assert_eq!(
        second.state.signing_key.expose(),
        key.as_slice(),
        "the key is reused, not regenerated"
    );
}

#[tokio::test]
async fn a_corrupt_database_file_stops_start_up_and_is_left_as_it_was() {
    let dir = tempfile::tempdir().unwrap();
    let garbage = b"this is not a database, it is a shopping list: eggs, milk, bread".repeat(100);
    std::fs::write(dir.path().join("gatehouse.db"), &garbage).unwrap();
    let settings = Settings::new("127.0.0.1:0".parse().unwrap(), dir.path());
    let error = Application::build(settings)
        .await
        .err()
        .expect("start-up refuses")
        .to_string();
    assert!(error.contains("is not a usable SQLite database"), "{error}");
    assert_eq!(std::fs::read(dir.path().join("gatehouse.db")).unwrap(), garbage);
}

#[tokio::test]
async fn demo_mode_seeds_the_tutorial_users_once() {
    let data = TestData::new().await;
    let mut settings = data.settings();
    settings.demo = true;
    let app = Application::build(settings.clone()).await.unwrap();
    let users = app.state().store.list_users().await.unwrap();
    let summary: Vec<_> = users
        .iter()
        .map(|user| (user.username.as_str(), user.disabled))
        .collect();
    assert_eq!(summary, [("alice", true), ("johndoe", false)]);
    let johndoe = &users[1];
    let password = secrecy::SecretString::from("password1");
    assert!(
        app.state()
            .passwords
            .verify(&password, Some(&johndoe.password_hash()))
            .await
            .unwrap()
    );
    app.state().store.close().await;
    drop(app);

    // A second start keeps what is there instead of failing on the existing names.
    let again = Application::build(settings).await.unwrap();
    assert_eq!(again.state().store.list_users().await.unwrap().len(), 2);
}

#[tokio::test]
async fn files_others_could_read_are_made_private_at_start_and_new_ones_are_private() {
    use std::os::unix::fs::PermissionsExt;
    let mode = |path: &std::path::Path| std::fs::metadata(path).unwrap().permissions().mode() & 0o777;
    let loosen = |path: &std::path::Path, mode: u32| {
        std::fs::set_permissions(path, std::fs::Permissions::from_mode(mode)).unwrap();
    };
    let first = spawn_app().await;
    let dir = first.data.path().to_owned();
    let (database, key) = (dir.join("gatehouse.db"), dir.join("signing.key"));
    let sqlite = first.data.database_url().is_none();
    if sqlite {
        assert_eq!(mode(&database), 0o600, "a new database file is private");
    }
    assert_eq!(mode(&key), 0o600);

    loosen(&dir, 0o755);
    loosen(&key, 0o644);
    if sqlite {
        loosen(&database, 0o644);
    }
    let second = spawn_app_again(first).await;

    assert_eq!(mode(second.data.path()), 0o700, "the data directory");
    assert_eq!(mode(&key), 0o600, "the key file");
    if sqlite {
        assert_eq!(mode(&database), 0o600, "the database file");
    }
}
