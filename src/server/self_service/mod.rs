//! Self-service by mail: what a person does for their own account through a link mailed to
//! them. `reset` (a forgotten password), `verify` (proving an address, also the one a sign-up
//! gave) and `signup` (opt-in, `--allow-signup`).
//!
//! Shared rules, here once:
//! - a link carries 256 random bits and is stored only as their SHA-256; it works once, for
//!   `--email-link-ttl` (30 minutes by default), and a newer link of the same kind replaces it;
//! - every request that could send mail is counted, and refused past [`PER_ADDRESS`] an hour
//!   from one client address, [`PER_ACCOUNT`] for one account or [`PER_RECIPIENT`] to one
//!   mailbox, so nobody can mail-bomb a person through the site;
//! - answers that could tell whether an account exists (forgot password, sign-up) are given
//!   before any of that work starts: the work runs in a background task, so the answer and its
//!   time are the same either way.

pub mod reset;
pub mod signup;
pub mod verify;

use lettre::message::Mailbox;

use crate::api::LinkState;
use crate::error::{AppError, Problem};
use crate::server::auth::password::PasswordHash;
use crate::server::auth::refresh;
use crate::server::client::describe_user_agent;
use crate::server::mail::messages::{Circumstances, Template, compose};
use crate::server::random::random_hex;
use crate::server::state::AppState;
use crate::server::store::{LinkError, LinkPurpose, NewEmailLink, SessionOrigin, StoreError};

/// Mail-sending requests one client address may make in an hour (any account, any kind).
pub const PER_ADDRESS: i64 = 20;
/// Mail-sending requests for one account in an hour.
pub const PER_ACCOUNT: i64 = 3;
/// Mail-sending requests to one mailbox in an hour (sign-ups to an address, say).
pub const PER_RECIPIENT: i64 = 3;
/// The throttle's window.
const WINDOW: time::Duration = time::Duration::HOUR;

/// A new link's token (for the mail) and its hash (for the store).
pub struct NewToken {
    pub token: String,
    pub hash: String,
}

impl NewToken {
    /// 256 random bits, as hex.
    ///
    /// # Errors
    /// The OS random source failed.
    pub fn generate() -> anyhow::Result<Self> {
        let token = random_hex(32)?;
        Ok(Self {
            hash: refresh::hash(&token),
            token,
        })
    }
}

/// Counts a request that could send mail, and says whether it may: `false` past any of the
/// hourly limits. A refused request is still counted: hammering does not reopen the window.
///
/// # Errors
/// Database failures.
pub async fn may_send(
    state: &AppState,
    origin: &SessionOrigin,
    user_id: Option<i64>,
    recipient: Option<&str>,
) -> Result<bool, StoreError> {
    let counts = state
        .store
        .count_mail_request(
            origin.ip_address.as_deref(),
            user_id,
            recipient,
            state.clock.now() - WINDOW,
        )
        .await?;
    let allowed = (origin.ip_address.is_none() || counts.from_address <= PER_ADDRESS)
        && (user_id.is_none() || counts.for_account <= PER_ACCOUNT)
        && (recipient.is_none() || counts.to_recipient <= PER_RECIPIENT);
    if !allowed {
        tracing::warn!(
            address = origin.ip_address,
            user_id,
            from_address = counts.from_address,
            for_account = counts.for_account,
            to_recipient = counts.to_recipient,
            "mail request refused by the throttle"
        );
    }
    Ok(allowed)
}

/// Stores a new link of `purpose` (replacing the account's or address's older ones) and mails
/// it to `to` with `template`.
///
/// # Errors
/// The random source or the store failed.
pub async fn send_link(
    state: &AppState,
    origin: &SessionOrigin,
    purpose: LinkPurpose,
    link: LinkTarget<'_>,
    template: Template,
) -> anyhow::Result<()> {
    let Some(mailbox) = mailbox(link.email) else {
        return Ok(());
    };
    let token = NewToken::generate()?;
    let ttl = state.settings.mail.link_ttl;
    state
        .store
        .add_email_link(&NewEmailLink {
            token_hash: &token.hash,
            purpose,
            user_id: link.user_id,
            email: link.email,
            username: link.username,
            signup_password: link.signup_password,
            expires_at: state.clock.now() + ttl,
        })
        .await?;
    let path = match purpose {
        LinkPurpose::Reset => "/reset-password",
        LinkPurpose::Verify | LinkPurpose::Signup => "/verify-email",
    };
    let circumstances = circumstances(state, origin);
    let url = circumstances.link(&format!("{path}?token={}", token.token));
    let minutes = (ttl.as_secs() / 60).max(1).to_string();
    state.mailer.send(compose(
        template,
        mailbox,
        &circumstances,
        &[("username", link.username), ("link", &url), ("minutes", &minutes)],
    ));
    Ok(())
}

/// Who a link is for.
#[derive(Clone, Copy)]
pub struct LinkTarget<'a> {
    pub user_id: Option<i64>,
    pub username: &'a str,
    pub email: &'a str,
    /// A sign-up's password hash.
    pub signup_password: Option<&'a PasswordHash>,
}

/// Mails `template` (a notice, no link of its own) to `email`.
pub fn send_notice(
    state: &AppState,
    origin: &SessionOrigin,
    email: &str,
    template: Template,
    fields: &[(&str, &str)],
) {
    let Some(mailbox) = mailbox(email) else { return };
    let circumstances = circumstances(state, origin);
    let forgot = circumstances.link("/forgot-password");
    let login = circumstances.link("/login");
    let signup = circumstances.link("/signup");
    let mut all = vec![
        ("forgot_link", forgot.as_str()),
        ("login_link", login.as_str()),
        ("signup_link", signup.as_str()),
    ];
    all.extend_from_slice(fields);
    state
        .mailer
        .send(compose(template, mailbox, &circumstances, &all));
}

/// What the request that causes a mail says about itself, for the mail.
pub fn circumstances(state: &AppState, origin: &SessionOrigin) -> Circumstances {
    Circumstances {
        site: state.settings.mail.site_name.clone(),
        origin: state.public_url.origin().to_owned(),
        address: origin.ip_address.clone().unwrap_or_else(|| "unknown".to_owned()),
        device: describe_user_agent(origin.user_agent.as_deref()),
        at: state.clock.now(),
    }
}

/// The mailbox of `email`, or `None` (logged) when lettre cannot write to it: our address rule
/// is looser than RFC 5321's in corners nobody uses.
fn mailbox(email: &str) -> Option<Mailbox> {
    match email.parse::<lettre::Address>() {
        Ok(address) => Some(Mailbox::new(None, address)),
        Err(error) => {
            tracing::warn!(error = %error, "an address cannot be mailed; nothing sent");
            None
        }
    }
}

/// Where the link with `token` stands, for a page that takes links of `purposes`.
///
/// # Errors
/// Only when the store fails.
pub async fn link_state(
    state: &AppState,
    token: &str,
    purposes: &[LinkPurpose],
) -> Result<LinkState, AppError> {
    match state.store.live_email_link(&refresh::hash(token), purposes).await {
        Ok(link) => Ok(LinkState::Ready {
            signup: link.purpose() == Some(LinkPurpose::Signup),
            username: link.username,
            email: link.email,
        }),
        Err(error) => link_state_of(&error).ok_or_else(|| link_problem(error)),
    }
}

/// What a page shows for a link that does nothing.
fn link_state_of(error: &LinkError) -> Option<LinkState> {
    match error {
        LinkError::Unknown | LinkError::Refused => Some(LinkState::Invalid),
        LinkError::Used => Some(LinkState::Used),
        LinkError::Replaced => Some(LinkState::Replaced),
        LinkError::Expired => Some(LinkState::Expired),
        LinkError::Store(_) => None,
    }
}

/// The error a form answers with for a link that does nothing.
pub fn link_problem(error: LinkError) -> AppError {
    match error {
        LinkError::Unknown | LinkError::Refused => AppError::Invalid(Problem::LinkInvalid),
        LinkError::Used => AppError::Invalid(Problem::LinkUsed),
        LinkError::Replaced => AppError::Invalid(Problem::LinkReplaced),
        LinkError::Expired => AppError::Invalid(Problem::LinkExpired),
        LinkError::Store(error) => crate::server::errors::internal(error),
    }
}
