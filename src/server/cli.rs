//! `gatehouse user ...`: account administration from a shell, through the same store and password
//! code as the server, recorded in the audit log as the `cli`; and `gatehouse audit list`.

use std::io::{BufRead, IsTerminal, Write};

use anyhow::{Context, bail};
use secrecy::SecretString;
use serde::Serialize;
use time::format_description::well_known::Rfc3339;

use crate::api::AuditAction;
use crate::domain::Username;
use crate::server::audit::{Acting, record};
use crate::server::auth::password::{self, Passwords};
use crate::server::config::{AuditArgs, AuditCommand, StoreSettings, UserAction, UserArgs};
use crate::server::store::{AuditQuery, NewUser, Store, StoreError, UserRow};
use crate::server::two_step::actions as two_step;

/// Runs one `user` command and prints its outcome on stdout.
///
/// # Errors
/// Unknown or duplicate user, a password the policy refuses, an unreachable store: each with a
/// message fit for one line on stderr.
pub async fn run(args: UserArgs) -> anyhow::Result<()> {
    let store = Store::open(&StoreSettings::from_args(args.store)).await?;
    let outcome = run_action(&store, args.action).await;
    store.close().await;
    outcome
}

async fn run_action(store: &Store, action: UserAction) -> anyhow::Result<()> {
    let passwords = Passwords::new();
    match action {
        UserAction::Add {
            username,
            full_name,
            email,
            admin,
            disabled,
        } => {
            // Refuse a taken name before asking for a password; the unique index still decides
            // if another process creates the same name meanwhile.
            if store.find_user(&username).await?.is_some() {
                return Err(StoreError::DuplicateUsername(username.to_string()).into());
            }
            let password = read_new_password(&username)?;
            let password_hash = passwords.hash(&password).await?;
            let new = NewUser {
                username,
                full_name,
                email,
                password_hash,
                admin,
                disabled,
            };
            let user = store.create_user(&new).await?;
            let cli = Acting::cli();
            record(store, cli.event(AuditAction::UserCreated).about(&user)).await;
            if user.admin {
                record(store, cli.event(AuditAction::AdminGranted).about(&user)).await;
            }
            if user.disabled {
                record(store, cli.event(AuditAction::UserDisabled).about(&user)).await;
            }
            println!(
                "Created user {}{}.",
                user.username,
                if user.disabled { " (disabled)" } else { "" }
            );
        }
        UserAction::Passwd { username, temporary } => {
            // Refuse an unknown name before asking for a password.
            find_existing(store, &username).await?;
            let password = read_new_password(&username)?;
            let hash = passwords.hash(&password).await?;
            let user = store.set_password_hash(&username, &hash, temporary).await?;
            record(
                store,
                Acting::cli().event(AuditAction::PasswordReset).about(&user),
            )
            .await;
            println!(
                "Changed the password of {}; their sessions have ended.{}",
                user.username,
                if temporary {
                    " They must choose a new one when they next sign in."
                } else {
                    ""
                }
            );
        }
        UserAction::Disable { username } => {
            let user = find_existing(store, &username).await?;
            if store.set_disabled(&username, true).await? {
                record(store, Acting::cli().event(AuditAction::UserDisabled).about(&user)).await;
                println!("Disabled {}; their sessions have ended.", user.username);
            } else {
                println!("{} was already disabled.", user.username);
            }
        }
        UserAction::Enable { username } => {
            let user = find_existing(store, &username).await?;
            if store.set_disabled(&username, false).await? {
                record(store, Acting::cli().event(AuditAction::UserEnabled).about(&user)).await;
                println!("Enabled {}.", user.username);
            } else {
                println!("{} was already enabled.", user.username);
            }
        }
        UserAction::ResetMfa { username } => {
            let user = find_existing(store, &username).await?;
            if two_step::reset(store, user.id).await? {
                record(store, Acting::cli().event(AuditAction::TwoStepReset).about(&user)).await;
                println!(
                    "Removed the two-step sign-in and passkeys of {}; their sessions have ended. They sign in with their password alone now.",
                    user.username
                );
            } else {
                record(store, Acting::cli().event(AuditAction::SessionEnded).about(&user)).await;
                println!(
                    "{} had no two-step sign-in or passkey; their sessions have ended all the same.",
                    user.username
                );
            }
        }
        UserAction::List { json } => {
            let users = store.list_users().await?;
            let listed: Vec<ListedUser> = users.iter().map(ListedUser::from).collect();
            if json {
                println!(
                    "{}",
                    serde_json::to_string_pretty(&listed).context("Failed to write JSON")?
                );
            } else {
                print_users(&listed);
            }
        }
    }
    Ok(())
}

async fn find_existing(store: &Store, username: &Username) -> anyhow::Result<UserRow> {
    store
        .find_user(username)
        .await?
        .ok_or_else(|| StoreError::UnknownUser(username.to_string()).into())
}

/// Reads a new password: with a prompt, no echo and a confirmation on a terminal, else as exactly
/// one line of standard input (only the line break is removed). Then applies the policy.
fn read_new_password(username: &Username) -> anyhow::Result<SecretString> {
    let password = if std::io::stdin().is_terminal() {
        let first = rpassword::prompt_password(format!("New password for {username}: "))
            .context("Failed to read the password from the terminal")?;
        let again = rpassword::prompt_password("Repeat it: ")
            .context("Failed to read the password from the terminal")?;
        if first != again {
            bail!("the two passwords differ; nothing was changed");
        }
        SecretString::from(first)
    } else {
        read_password_line(&mut std::io::stdin().lock())?
    };
    password::check_policy(&password).map_err(|weak| anyhow::anyhow!("weak password: {weak}"))?;
    Ok(password)
}

fn read_password_line(input: &mut impl BufRead) -> anyhow::Result<SecretString> {
    let mut line = String::new();
    let read = input
        .read_line(&mut line)
        .context("Failed to read the password from standard input")?;
    if read == 0 {
        bail!(
            "no password on standard input; pipe it in as one line, e.g. `printf '%s\\n' \"$PASSWORD\" | gatehouse user ...`"
        );
    }
    let password = line
        .strip_suffix('\n')
        .map(|rest| rest.strip_suffix('\r').unwrap_or(rest))
        .unwrap_or(&line);
    Ok(SecretString::from(password.to_owned()))
}

/// One row of `user list`: everything but the password hash.
#[derive(Serialize)]
struct ListedUser {
    username: String,
    full_name: Option<String>,
    email: Option<String>,
    disabled: bool,
    admin: bool,
    created_at: String,
}

impl From<&UserRow> for ListedUser {
    fn from(user: &UserRow) -> Self {
        Self {
            username: user.username.clone(),
            full_name: user.full_name.clone(),
            email: user.email.clone(),
            disabled: user.disabled,
            admin: user.admin,
            // Formatting a UTC time as RFC 3339 cannot fail for years 0..=9999.
            created_at: user.created_at.format(&Rfc3339).unwrap_or_default(),
        }
    }
}

fn print_users(users: &[ListedUser]) {
    if users.is_empty() {
        println!("No users yet. Add one with `gatehouse user add USERNAME`.");
        return;
    }
    let rows: Vec<[String; 6]> = users
        .iter()
        .map(|user| {
            [
                user.username.clone(),
                user.full_name.clone().unwrap_or_default(),
                user.email.clone().unwrap_or_default(),
                (if user.disabled { "disabled" } else { "active" }).to_owned(),
                (if user.admin { "admin" } else { "user" }).to_owned(),
                user.created_at.clone(),
            ]
        })
        .collect();
    print_table(
        ["USERNAME", "FULL NAME", "EMAIL", "STATUS", "ROLE", "CREATED"],
        &rows,
    );
}

/// Columns as wide as their widest cell, two spaces apart.
fn print_table<const N: usize>(header: [&str; N], rows: &[[String; N]]) {
    let mut widths = header.map(|title| title.chars().count());
    for row in rows {
        for (width, cell) in widths.iter_mut().zip(row) {
            *width = (*width).max(cell.chars().count());
        }
    }
    let mut out = std::io::stdout().lock();
    let mut print_row = |cells: &mut dyn Iterator<Item = &str>| {
        let line: Vec<String> = cells
            .zip(widths)
            .map(|(cell, width)| format!("{cell:<width$}"))
            .collect();
        let _ = writeln!(out, "{}", line.join("  ").trim_end());
    };
    print_row(&mut header.iter().copied());
    for row in rows {
        print_row(&mut row.iter().map(String::as_str));
    }
}

/// Runs one `audit` command.
///
/// # Errors
/// An unreachable store, with a message fit for one line on stderr.
pub async fn audit(args: AuditArgs) -> anyhow::Result<()> {
    let store = Store::open(&StoreSettings::from_args(args.store)).await?;
    let outcome = match args.action {
        AuditCommand::List {
            user,
            since,
            limit,
            json,
        } => list_audit(&store, user, since, limit, json).await,
    };
    store.close().await;
    outcome
}

/// One row of `audit list`.
#[derive(Serialize)]
struct ListedEvent {
    at: String,
    actor: String,
    action: String,
    target: Option<String>,
    outcome: String,
    address: Option<String>,
    user_agent: Option<String>,
    request_id: Option<String>,
}

async fn list_audit(
    store: &Store,
    user: Option<String>,
    since: Option<std::time::Duration>,
    limit: u32,
    json: bool,
) -> anyhow::Result<()> {
    let page = store
        .audit_events(&AuditQuery {
            user,
            since: since.map(|since| time::OffsetDateTime::now_utc() - since),
            limit,
            ..AuditQuery::default()
        })
        .await?;
    let events: Vec<ListedEvent> = page
        .events
        .into_iter()
        .map(|event| ListedEvent {
            at: event.at.format(&Rfc3339).unwrap_or_default(),
            actor: event.actor_name.unwrap_or(event.actor_kind),
            action: event.action,
            target: event.target_name,
            outcome: event.outcome,
            address: event.ip_address,
            user_agent: event.user_agent,
            request_id: event.request_id,
        })
        .collect();
    if json {
        println!(
            "{}",
            serde_json::to_string_pretty(&events).context("Failed to write JSON")?
        );
        return Ok(());
    }
    if events.is_empty() {
        println!("No audit events match.");
        return Ok(());
    }
    let rows: Vec<[String; 6]> = events
        .into_iter()
        .map(|event| {
            [
                event.at,
                event.actor,
                event.action,
                event.target.unwrap_or_default(),
                event.outcome,
                event.address.unwrap_or_default(),
            ]
        })
        .collect();
    print_table(["TIME", "ACTOR", "ACTION", "USER", "OUTCOME", "ADDRESS"], &rows);
    if page.next.is_some() {
        println!("(more events; raise --limit or narrow with --user and --since)");
    }
    Ok(())
}

#[cfg(test)]
mod tests {
    use secrecy::ExposeSecret;

    use super::*;

    fn read(input: &str) -> String {
        read_password_line(&mut input.as_bytes())
            .unwrap()
            .expose_secret()
            .to_owned()
    }

    #[test]
    fn only_the_line_break_is_removed_from_a_piped_password() {
        assert_eq!(read("  spaced out  \n"), "  spaced out  ");
        assert_eq!(read("windows line\r\n"), "windows line");
        assert_eq!(read("no newline at all"), "no newline at all");
        assert_eq!(read("first line\nsecond line\n"), "first line");
    }

    #[test]
    fn empty_standard_input_is_an_error_that_says_how() {
        let error = read_password_line(&mut "".as_bytes()).unwrap_err().to_string();
        assert!(error.contains("no password on standard input"), "{error}");
    }
}
