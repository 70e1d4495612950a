//! The `gatehouse` binary: `user` commands, exit codes and start-up refusals.

use gatehouse::domain::Username;
use gatehouse::server::auth::password::Passwords;
use gatehouse::server::store::Store;
use secrecy::SecretString;

use crate::helpers::{TestData, gatehouse_in, stderr, stdout};

const GOOD_PASSWORD: &str = "correct horse battery staple";

fn list_json(data: &TestData) -> serde_json::Value {
    let output = data.gatehouse(&["user", "list", "--json"], "");
    assert!(output.status.success(), "{}", stderr(&output));
    serde_json::from_str(&stdout(&output)).unwrap()
}

#[tokio::test]
async fn user_add_creates_a_user_that_list_json_shows_without_secrets() {
    let data = TestData::new().await;
    let output = data.gatehouse(
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

    let users = list_json(&data);
    assert_eq!(users.as_array().unwrap().len(), 1);
    let user = &users[0];
    assert_eq!(user["username"], "johndoe");
    assert_eq!(user["full_name"], "John Doe");
    assert_eq!(user["email"], "johndoe@example.com");
    assert_eq!(user["disabled"], false);
    assert_eq!(user["admin"], true);
    assert!(user.get("password_hash").is_none());
    assert!(!stdout(&data.gatehouse(&["user", "list", "--json"], "")).contains("argon2"));
}

#[tokio::test]
async fn the_password_given_to_user_add_verifies_exactly_as_typed() {
    let data = TestData::new().await;
    let typed = "  spaces count too  ";
    let output = data.gatehouse(&["user", "add", "bob"], &format!("{typed}\n"));
    assert!(output.status.success(), "{}", stderr(&output));

    let store = Store::open(&data.store_settings()).await.unwrap();
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

#[tokio::test]
async fn adding_a_taken_username_in_any_case_fails_with_exit_1() {
    let data = TestData::new().await;
    assert!(
        data.gatehouse(&["user", "add", "johndoe"], GOOD_PASSWORD)
            .status
            .success()
    );
    let output = data.gatehouse(&["user", "add", "JohnDoe"], GOOD_PASSWORD);
    assert_eq!(output.status.code(), Some(1));
    assert_eq!(
        stderr(&output),
        "gatehouse: a user called JohnDoe already exists\n"
    );
    assert_eq!(list_json(&data).as_array().unwrap().len(), 1);
}

#[tokio::test]
async fn a_weak_password_fails_with_exit_1_says_why_and_creates_nobody() {
    let data = TestData::new().await;
    for (password, reason) in [
        ("short", "at least 8 characters"),
        ("password1", "most commonly used"),
        ("", "at least 8 characters"),
    ] {
        let output = data.gatehouse(&["user", "add", "johndoe"], &format!("{password}\n"));
        assert_eq!(output.status.code(), Some(1), "{password:?}");
        let message = stderr(&output);
        assert!(
            message.starts_with("gatehouse: weak password: ") && message.contains(reason),
            "{message}"
        );
        assert_eq!(message.lines().count(), 1, "one line: {message}");
    }
    assert_eq!(list_json(&data), serde_json::json!([]));
}

#[tokio::test]
async fn no_password_on_standard_input_fails_with_exit_1() {
    let data = TestData::new().await;
    let output = data.gatehouse(&["user", "add", "johndoe"], "");
    assert_eq!(output.status.code(), Some(1));
    assert!(
        stderr(&output).contains("no password on standard input"),
        "{}",
        stderr(&output)
    );
}

#[tokio::test]
async fn disable_and_enable_flip_the_account_and_say_when_nothing_changed() {
    let data = TestData::new().await;
    assert!(
        data.gatehouse(&["user", "add", "johndoe"], GOOD_PASSWORD)
            .status
            .success()
    );

    let output = data.gatehouse(&["user", "disable", "johndoe"], "");
    assert_eq!(output.status.code(), Some(0));
    assert_eq!(stdout(&output), "Disabled johndoe; their sessions have ended.\n");
    assert_eq!(list_json(&data)[0]["disabled"], true);
    assert_eq!(
        stdout(&data.gatehouse(&["user", "disable", "johndoe"], "")),
        "johndoe was already disabled.\n"
    );

    let output = data.gatehouse(&["user", "enable", "JOHNDOE"], "");
    assert_eq!(output.status.code(), Some(0));
    assert_eq!(stdout(&output), "Enabled johndoe.\n");
    assert_eq!(list_json(&data)[0]["disabled"], false);
}

#[tokio::test]
async fn user_add_disabled_creates_an_account_that_cannot_sign_in_yet() {
    let data = TestData::new().await;
    let output = data.gatehouse(&["user", "add", "alice", "--disabled"], GOOD_PASSWORD);
    assert_eq!(stdout(&output), "Created user alice (disabled).\n");
    assert_eq!(list_json(&data)[0]["disabled"], true);
}

#[tokio::test]
async fn passwd_replaces_the_password_and_ends_sessions() {
    let data = TestData::new().await;
    assert!(
        data.gatehouse(&["user", "add", "johndoe"], GOOD_PASSWORD)
            .status
            .success()
    );
    let output = data.gatehouse(&["user", "passwd", "johndoe"], "a brand new passphrase\n");
    assert_eq!(output.status.code(), Some(0), "{}", stderr(&output));

    let store = Store::open(&data.store_settings()).await.unwrap();
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

#[tokio::test]
async fn commands_on_an_unknown_user_fail_with_exit_1() {
    let data = TestData::new().await;
    for command in ["passwd", "disable", "enable"] {
        let output = data.gatehouse(&["user", command, "nobody"], GOOD_PASSWORD);
        assert_eq!(output.status.code(), Some(1), "{command}");
        assert_eq!(
            stderr(&output),
            "gatehouse: there is no user called nobody\n",
            "{command}"
        );
    }
}

#[tokio::test]
async fn a_malformed_argument_is_a_usage_error_with_exit_2() {
    let data = TestData::new().await;
    for args in [
        &["user", "add", "john doe"][..],
        &["user", "add", "john", "--email", "nope"],
        &["user", "frobnicate"],
        &["--access-ttl", "15"],
    ] {
        let output = data.gatehouse(args, GOOD_PASSWORD);
        assert_eq!(output.status.code(), Some(2), "{args:?}: {}", stderr(&output));
    }
    assert_eq!(list_json(&data), serde_json::json!([]));
}

#[tokio::test]
async fn help_explains_every_serve_flag_and_its_environment_twin() {
    let data = TestData::new().await;
    let output = data.gatehouse(&["serve", "--help"], "");
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

#[tokio::test]
async fn serve_refuses_a_key_file_that_is_too_short() {
    let data = TestData::new().await;
    let key = data.path().join("short.key");
    std::fs::write(&key, "0123456789").unwrap();
    let output = data.gatehouse(
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
    assert!(!data.path().join("gatehouse.db").exists(), "nothing was created");
}

#[tokio::test]
async fn serve_refuses_an_address_in_use() {
    let data = TestData::new().await;
    let taken = std::net::TcpListener::bind("127.0.0.1:0").unwrap();
    let addr = taken.local_addr().unwrap().to_string();
    let output = data.gatehouse(&["serve", "--addr", &addr], "");
    assert_eq!(output.status.code(), Some(1));
    assert!(
        stderr(&output).contains(&format!("{addr} is already in use")),
        "{}",
        stderr(&output)
    );
    assert!(!data.path().join("signing.key").exists(), "nothing was created");
}

#[tokio::test]
async fn serve_refuses_a_data_directory_that_cannot_be_created() {
    let data = TestData::new().await;
    let file = data.path().join("a-file");
    std::fs::write(&file, "").unwrap();
    let output = gatehouse_in(&file.join("data"), None, &["serve", "--addr", "127.0.0.1:0"], "");
    assert_eq!(output.status.code(), Some(1));
    assert!(
        stderr(&output).contains("Failed to create the data directory"),
        "{}",
        stderr(&output)
    );
}

#[tokio::test]
async fn demo_mode_refuses_an_address_beyond_this_machine() {
    let data = TestData::new().await;
    let output = data.gatehouse(&["serve", "--demo", "--addr", "0.0.0.0:0"], "");
    assert_eq!(output.status.code(), Some(1));
    assert!(
        stderr(&output).contains("only on a loopback address"),
        "{}",
        stderr(&output)
    );
    assert!(
        std::fs::read_dir(data.path()).unwrap().next().is_none(),
        "nothing was created"
    );
}

#[tokio::test]
async fn an_unreachable_postgres_database_is_named_without_its_password() {
    let data = TestData::new().await;
    let output = data.gatehouse(
        &[
            "user",
            "list",
            "--database-url",
            "postgres://me:s3cret-pw@127.0.0.1:1/site",
        ],
        "",
    );
    assert_eq!(output.status.code(), Some(1));
    let message = stderr(&output);
    assert!(
        message.contains("cannot reach the PostgreSQL database site on 127.0.0.1:1"),
        "{message}"
    );
    assert!(
        !message.contains("s3cret-pw"),
        "the URL's password is never printed"
    );
}

#[tokio::test]
async fn an_unknown_database_url_is_refused_with_examples() {
    let data = TestData::new().await;
    let output = data.gatehouse(&["user", "list", "--database-url", "mysql://me:pw@db/site"], "");
    assert_eq!(output.status.code(), Some(1));
    let message = stderr(&output);
    assert!(
        message.contains("must start with sqlite: or postgres://"),
        "{message}"
    );
    assert!(!message.contains("pw@"), "{message}");
}
