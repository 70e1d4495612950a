//! The `gatehouse` binary: `user` commands, exit codes and start-up refusals.

use gatehouse::domain::Username;
use gatehouse::server::auth::password::Passwords;
use gatehouse::server::config::StoreSettings;
use gatehouse::server::store::Store;
use secrecy::SecretString;

use crate::helpers::{gatehouse, stderr, stdout};

const GOOD_PASSWORD: &str = "correct horse battery staple";

fn list_json(dir: &std::path::Path) -> serde_json::Value {
    let output = gatehouse(dir, &["user", "list", "--json"], "");
    assert!(output.status.success(), "{}", stderr(&output));
    serde_json::from_str(&stdout(&output)).unwrap()
}

#[test]
fn user_add_creates_a_user_that_list_json_shows_without_secrets() {
    let dir = tempfile::tempdir().unwrap();
    let output = gatehouse(
        dir.path(),
        &[
            "user",
            "add",
            "johndoe",
            "--full-name",
            "John Doe",
            "--email",
            "johndoe@example.com",
            "--admin",
        ],
        &format!("{GOOD_PASSWORD}\n"),
    );
    assert_eq!(output.status.code(), Some(0), "{}", stderr(&output));
    assert_eq!(stdout(&output), "Created user johndoe.\n");

    let users = list_json(dir.path());
    assert_eq!(users.as_array().unwrap().len(), 1);
    let user = &users[0];
    assert_eq!(user["username"], "johndoe");
    assert_eq!(user["full_name"], "John Doe");
    assert_eq!(user["email"], "johndoe@example.com");
    assert_eq!(user["disabled"], false);
    assert_eq!(user["admin"], true);
    assert!(user.get("password_hash").is_none());
    assert!(!stdout(&gatehouse(dir.path(), &["user", "list", "--json"], "")).contains("argon2"));
}

#[tokio::test]
async fn the_password_given_to_user_add_verifies_exactly_as_typed() {
    let dir = tempfile::tempdir().unwrap();
    let typed = "  spaces count too  ";
    let output = gatehouse(dir.path(), &["user", "add", "bob"], &format!("{typed}\n"));
    assert!(output.status.success(), "{}", stderr(&output));

    let store = Store::open(&StoreSettings::in_data_dir(dir.path()))
        .await
        .unwrap();
    let user = store
        .find_user(&Username::parse("bob").unwrap())
        .await
        .unwrap()
        .unwrap();
    let passwords = Passwords::new();
    assert!(
        passwords
            .verify(&SecretString::from(typed), Some(&user.password_hash()))
            .await
            .unwrap()
    );
    assert!(
        !passwords
            .verify(&SecretString::from(typed.trim()), Some(&user.password_hash()))
            .await
            .unwrap()
    );
}

#[test]
fn adding_a_taken_username_in_any_case_fails_with_exit_1() {
    let dir = tempfile::tempdir().unwrap();
    assert!(
        gatehouse(dir.path(), &["user", "add", "johndoe"], GOOD_PASSWORD)
            .status
            .success()
    );
    let output = gatehouse(dir.path(), &["user", "add", "JohnDoe"], GOOD_PASSWORD);
    assert_eq!(output.status.code(), Some(1));
    assert_eq!(
        stderr(&output),
        "gatehouse: a user called JohnDoe already exists\n"
    );
    assert_eq!(list_json(dir.path()).as_array().unwrap().len(), 1);
}

#[test]
fn a_weak_password_fails_with_exit_1_says_why_and_creates_nobody() {
    let dir = tempfile::tempdir().unwrap();
    for (password, reason) in [
        ("short", "at least 8 characters"),
        ("password1", "most commonly used"),
        ("", "at least 8 characters"),
    ] {
        let output = gatehouse(dir.path(), &["user", "add", "johndoe"], &format!("{password}\n"));
        assert_eq!(output.status.code(), Some(1), "{password:?}");
        let message = stderr(&output);
        assert!(
            message.starts_with("gatehouse: weak password: ") && message.contains(reason),
            "{message}"
        );
        assert_eq!(message.lines().count(), 1, "one line: {message}");
    }
    assert_eq!(list_json(dir.path()), serde_json::json!([]));
}

#[test]
fn no_password_on_standard_input_fails_with_exit_1() {
    let dir = tempfile::tempdir().unwrap();
    let output = gatehouse(dir.path(), &["user", "add", "johndoe"], "");
    assert_eq!(output.status.code(), Some(1));
    assert!(
        stderr(&output).contains("no password on standard input"),
        "{}",
        stderr(&output)
    );
}

#[test]
fn disable_and_enable_flip_the_account_and_say_when_nothing_changed() {
    let dir = tempfile::tempdir().unwrap();
    assert!(
        gatehouse(dir.path(), &["user", "add", "johndoe"], GOOD_PASSWORD)
            .status
            .success()
    );

    let output = gatehouse(dir.path(), &["user", "disable", "johndoe"], "");
    assert_eq!(output.status.code(), Some(0));
    assert_eq!(stdout(&output), "Disabled johndoe; their sessions have ended.\n");
    assert_eq!(list_json(dir.path())[0]["disabled"], true);
    assert_eq!(
        stdout(&gatehouse(dir.path(), &["user", "disable", "johndoe"], "")),
        "johndoe was already disabled.\n"
    );

    let output = gatehouse(dir.path(), &["user", "enable", "JOHNDOE"], "");
    assert_eq!(output.status.code(), Some(0));
    assert_eq!(stdout(&output), "Enabled johndoe.\n");
    assert_eq!(list_json(dir.path())[0]["disabled"], false);
}

#[test]
fn user_add_disabled_creates_an_account_that_cannot_sign_in_yet() {
    let dir = tempfile::tempdir().unwrap();
    let output = gatehouse(dir.path(), &["user", "add", "alice", "--disabled"], GOOD_PASSWORD);
    assert_eq!(stdout(&output), "Created user alice (disabled).\n");
    assert_eq!(list_json(dir.path())[0]["disabled"], true);
}

#[tokio::test]
async fn passwd_replaces_the_password_and_ends_sessions() {
    let dir = tempfile::tempdir().unwrap();
    assert!(
        gatehouse(dir.path(), &["user", "add", "johndoe"], GOOD_PASSWORD)
            .status
            .success()
    );
    let output = gatehouse(
        dir.path(),
        &["user", "passwd", "johndoe"],
        "a brand new passphrase\n",
    );
    assert_eq!(output.status.code(), Some(0), "{}", stderr(&output));

    let store = Store::open(&StoreSettings::in_data_dir(dir.path()))
        .await
        .unwrap();
    let user = store
        .find_user(&Username::parse("johndoe").unwrap())
        .await
        .unwrap()
        .unwrap();
    let passwords = Passwords::new();
    assert!(
        passwords
            .verify(
                &SecretString::from("a brand new passphrase"),
                Some(&user.password_hash())
            )
            .await
            .unwrap()
    );
    assert!(
        !passwords
            .verify(&SecretString::from(GOOD_PASSWORD), Some(&user.password_hash()))
            .await
            .unwrap()
    );
    assert_eq!(user.token_version, 1);
}

#[test]
fn commands_on_an_unknown_user_fail_with_exit_1() {
    let dir = tempfile::tempdir().unwrap();
    for command in ["passwd", "disable", "enable"] {
        let output = gatehouse(dir.path(), &["user", command, "nobody"], GOOD_PASSWORD);
        assert_eq!(output.status.code(), Some(1), "{command}");
        assert_eq!(
            stderr(&output),
            "gatehouse: there is no user called nobody\n",
            "{command}"
        );
    }
}

#[test]
fn a_malformed_argument_is_a_usage_error_with_exit_2() {
    let dir = tempfile::tempdir().unwrap();
    for args in [
        &["user", "add", "john doe"][..],
        &["user", "add", "john", "--email", "nope"],
        &["user", "frobnicate"],
        &["--access-ttl", "15"],
    ] {
        let output = gatehouse(dir.path(), args, GOOD_PASSWORD);
        assert_eq!(output.status.code(), Some(2), "{args:?}: {}", stderr(&output));
    }
    assert_eq!(list_json(dir.path()), serde_json::json!([]));
}

#[test]
fn help_explains_every_serve_flag_and_its_environment_twin() {
    let dir = tempfile::tempdir().unwrap();
    let output = gatehouse(dir.path(), &["serve", "--help"], "");
    assert_eq!(output.status.code(), Some(0));
    let help = stdout(&output);
    for flag in [
        "addr",
        "public-url",
        "data-dir",
        "database-url",
        "key-file",
        "access-ttl",
        "refresh-ttl",
        "demo",
    ] {
        let twin = format!("GATEHOUSE_{}", flag.to_uppercase().replace('-', "_"));
        assert!(
            help.contains(&format!("--{flag}")) && help.contains(&twin),
            "--{flag} / {twin} in:\n{help}"
        );
    }
}

#[test]
fn serve_refuses_a_key_file_that_is_too_short() {
    let dir = tempfile::tempdir().unwrap();
    let key = dir.path().join("short.key");
    std::fs::write(&key, "0123456789").unwrap();
    let output = gatehouse(
        dir.path(),
        &[
            "serve",
            "--addr",
            "127.0.0.1:0",
            "--key-file",
            key.to_str().unwrap(),
        ],
        "",
    );
    assert_eq!(output.status.code(), Some(1));
    let message = stderr(&output);
    assert!(
        message.contains("holds 10 bytes") && message.contains("at least 32"),
        "{message}"
    );
    assert!(!dir.path().join("gatehouse.db").exists(), "nothing was created");
}

#[test]
fn serve_refuses_an_address_in_use() {
    let dir = tempfile::tempdir().unwrap();
    let taken = std::net::TcpListener::bind("127.0.0.1:0").unwrap();
    let addr = taken.local_addr().unwrap().to_string();
    let output = gatehouse(dir.path(), &["serve", "--addr", &addr], "");
    assert_eq!(output.status.code(), Some(1));
    assert!(
        stderr(&output).contains(&format!("{addr} is already in use")),
        "{}",
        stderr(&output)
    );
    assert!(!dir.path().join("signing.key").exists(), "nothing was created");
}

#[test]
fn serve_refuses_a_data_directory_that_cannot_be_created() {
    let dir = tempfile::tempdir().unwrap();
    let file = dir.path().join("a-file");
    std::fs::write(&file, "").unwrap();
    let output = gatehouse(&file.join("data"), &["serve", "--addr", "127.0.0.1:0"], "");
    assert_eq!(output.status.code(), Some(1));
    assert!(
        stderr(&output).contains("Failed to create the data directory"),
        "{}",
        stderr(&output)
    );
}

#[test]
fn demo_mode_refuses_an_address_beyond_this_machine() {
    let dir = tempfile::tempdir().unwrap();
    let output = gatehouse(dir.path(), &["serve", "--demo", "--addr", "0.0.0.0:0"], "");
    assert_eq!(output.status.code(), Some(1));
    assert!(
        stderr(&output).contains("only on a loopback address"),
        "{}",
        stderr(&output)
    );
    assert!(
        std::fs::read_dir(dir.path()).unwrap().next().is_none(),
        "nothing was created"
    );
}

#[test]
fn a_postgres_url_is_refused_with_a_way_forward() {
    let dir = tempfile::tempdir().unwrap();
    let output = gatehouse(
        dir.path(),
        &[
            "user",
            "list",
            "--database-url",
            "postgres://me:secret@localhost/db",
        ],
        "",
    );
    assert_eq!(output.status.code(), Some(1));
    let message = stderr(&output);
    assert!(message.contains("SQLite only"), "{message}");
    assert!(!message.contains("secret"), "the URL's password is never printed");
}
