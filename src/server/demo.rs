//! `--demo`: the two users of the FastAPI tutorial, for trying Gatehouse out on one machine.

use std::net::SocketAddr;

use anyhow::bail;
use secrecy::SecretString;

use crate::domain::{Email, FullName, Username};
use crate::server::auth::password::Passwords;
use crate::server::store::{NewUser, Store, StoreError};

/// The tutorial's password. It is on the list of common passwords: that is the point of a demo
/// account, and why demo mode refuses to listen beyond this machine.
const DEMO_PASSWORD: &str = "password1";

/// The items each demo user starts with, as in the tutorial.
const DEMO_ITEMS: [(&str, &str); 2] = [("Foo", "There comes my hero"), ("Bar", "The bartenders")];

/// Stops demo mode from starting where others could reach it.
///
/// # Errors
/// `addr` is not a loopback address.
pub fn check_address(addr: SocketAddr) -> anyhow::Result<()> {
    if !addr.ip().is_loopback() {
        bail!(
            "--demo creates accounts with a published password, so it serves only on a loopback \
             address such as 127.0.0.1:3000, not {addr}"
        );
    }
    Ok(())
}

/// Creates `johndoe` (active) and `alice` (disabled) when they are missing; existing accounts of
/// those names are left as they are.
///
/// # Errors
/// The store or the password hasher failed.
pub async fn seed_users(store: &Store, passwords: &Passwords) -> anyhow::Result<()> {
    let demo_users = [
        ("johndoe", "John Doe", "johndoe@example.com", false),
        ("alice", "Alice Wonderson", "alice@example.com", true),
    ];
    let password_hash = passwords.hash(&SecretString::from(DEMO_PASSWORD)).await?;
    for (username, full_name, email, disabled) in demo_users {
        // Cannot fail: the literals above satisfy the rules of their types.
        let new = NewUser {
            username: Username::parse(username).expect("valid demo username"),
            full_name: Some(FullName::parse(full_name).expect("valid demo name")),
            email: Some(Email::parse(email).expect("valid demo e-mail")),
            password_hash: password_hash.clone(),
            admin: false,
            disabled,
        };
        match store.create_user(&new).await {
            Ok(user) => {
                for (title, description) in DEMO_ITEMS {
                    store.add_item(user.id, title, Some(description)).await?;
                }
                tracing::warn!(
                    username,
                    disabled,
                    "DEMO MODE: created a demo user with the password \"{DEMO_PASSWORD}\""
                );
            }
            Err(StoreError::DuplicateUsername(_)) => {}
            Err(error) => return Err(error.into()),
        }
    }
    tracing::warn!("DEMO MODE is on: never use --demo for a site that holds real accounts");
    Ok(())
}
