//! The one error type that crosses the wire: everything a browser ever learns about a failure.
//!
//! Server code logs the full cause with the request id and answers with one of these variants;
//! nothing here carries SQL, paths or crate names.

use leptos::server_fn::codec::JsonEncoding;
use leptos::server_fn::error::{FromServerFnError, ServerFnErrorErr};
use serde::{Deserialize, Serialize};

use crate::domain::{FullName, Password, Username};

/// A failure as the person using the site sees it.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize, thiserror::Error)]
pub enum AppError {
    /// Unknown user, wrong password and disabled account alike: no way to tell them apart.
    #[error("Incorrect username or password.")]
    InvalidCredentials,
    #[error("Please sign in to continue.")]
    SignInRequired,
    /// The session was good but its account has been disabled: said the same way whether the
    /// person arrives by a page load or by a link inside the running app.
    #[error(
        "Your account has been disabled, so you were signed out. Contact your administrator if you think this is a mistake."
    )]
    AccountDisabled,
    /// Signed in, but this session may not do that.
    #[error("You do not have permission to do that.")]
    NotPermitted,
    /// Signed in with a temporary password, which must be replaced before anything else.
    #[error("Choose a new password first: yours was set by an administrator.")]
    PasswordChangeRequired,
    /// Signed in, but not as an administrator.
    #[error("You need administrator rights to do that.")]
    AdminRequired,
    #[error("The current password is not correct.")]
    WrongCurrentPassword,
    /// A form field broke a rule; the problem says which and how to fix it.
    #[error("{0}")]
    Invalid(Problem),
    /// Brute-force throttling: the account or address must wait before trying again.
    #[error("Too many attempts, try again in {}.", seconds(*retry_after))]
    TooManyAttempts { retry_after: u64 },
    #[error(
        "Something went wrong on our side. Please try again{}.",
        reference(request_id)
    )]
    Internal { request_id: String },
    /// The database cannot be reached (down, restarting): worth trying again shortly.
    #[error(
        "Gatehouse cannot reach its database right now. Please try again in a moment{}.",
        reference(request_id)
    )]
    Unavailable { request_id: String },
    /// Too many sign-ins at once: the password checks are queued full.
    #[error("Gatehouse is very busy right now. Please try again in a moment.")]
    Busy,
    /// The request itself failed: the network, or a malformed call.
    #[error("The request could not be completed. Check your connection and try again.")]
    Request,
}

impl FromServerFnError for AppError {
    type Encoder = JsonEncoding;

    fn from_server_fn_error(_: ServerFnErrorErr) -> Self {
        Self::Request
    }
}

/// A rule a form broke. A fixed set on purpose: after a plain form post the error travels back
/// in the page's URL (`?__err=...`), where anyone can write one, so a page can only ever show
/// words this site wrote.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize, thiserror::Error)]
pub enum Problem {
    #[error("The new password and its confirmation differ.")]
    ConfirmationDiffers,
    #[error("The new password must differ from the current one.")]
    PasswordUnchanged,
    #[error("The password must be at least {} characters long.", Password::MIN_CHARS)]
    PasswordTooShort,
    #[error("The password must be at most {} characters long.", Password::MAX_CHARS)]
    PasswordTooLong,
    #[error("The password is one of the most commonly used passwords; choose another.")]
    PasswordTooCommon,
    #[error("That session has already ended.")]
    SessionEnded,
    #[error(
        "A username is {} to {} characters: letters a-z, digits, '.', '_' and '-', starting with a letter or a digit.",
        Username::MIN_LEN,
        Username::MAX_LEN
    )]
    UsernameRules,
    #[error(
        "A full name is at most {} characters, without line breaks.",
        FullName::MAX_CHARS
    )]
    FullNameRules,
    #[error("An e-mail address looks like name@example.com, without spaces.")]
    EmailRules,
    #[error("That username is taken; choose another.")]
    UsernameTaken,
    #[error("There is no such user; they may have been deleted.")]
    UnknownUser,
    #[error(
        "That would leave the site without an active administrator: make someone else an administrator first."
    )]
    LastAdmin,
    #[error("To delete the account, type its username in the confirmation field.")]
    DeletionNotConfirmed,
    #[error("A date looks like 2026-12-31 (year, month, day).")]
    DateFormat,
    #[error(
        "This setup link has expired or was used already. Restart Gatehouse for a new one: it is printed in the log."
    )]
    SetupLinkInvalid,
    #[error("Type your username or your e-mail address.")]
    IdentifierRequired,
    #[error("This link was already used. If you still need it, ask for a new one.")]
    LinkUsed,
    #[error("A newer link was sent since this one: use the one in the latest mail.")]
    LinkReplaced,
    #[error("This link has expired. Ask for a new one.")]
    LinkExpired,
    #[error("This link is not valid. Check that you opened all of it, or ask for a new one.")]
    LinkInvalid,
    #[error("Sign-up is not open on this site. Ask its administrator for an account.")]
    SignupClosed,
    #[error("Type your e-mail address: the link that finishes signing up is sent there.")]
    EmailRequired,
    #[error("That is already your e-mail address.")]
    EmailUnchanged,
    #[error("Your account has no e-mail address yet: add one first.")]
    NoEmail,
    #[error("Your e-mail address is already confirmed.")]
    EmailAlreadyVerified,
    #[error(
        "Too much mail was asked for in the last hour (for this account, to this address or from your network). Try again in an hour."
    )]
    MailThrottled,
    #[error(
        "That code is not right, or it was used already. Type the 6-digit code your authenticator app shows now, or one of your recovery codes."
    )]
    CodeWrong,
    #[error(
        "Your sign-in took too long or was already finished. Sign in again with your username and password."
    )]
    SecondStepExpired,
    #[error("Two-step sign-in is already on.")]
    TwoStepAlreadyOn,
    #[error("Two-step sign-in is off.")]
    TwoStepOff,
    #[error("Start again: press \"Turn on two-step sign-in\" and scan the new QR code.")]
    TwoStepNotBegun,
    #[error(
        "Passkeys need the site to be opened by its name, not an IP address: ask its administrator (locally, start it with --public-url http://localhost:PORT)."
    )]
    PasskeysUnavailable,
    #[error("A passkey's name is 1 to 60 characters on one line, e.g. \"laptop\".")]
    PasskeyNameRules,
    #[error("That took too long, or was finished already. Try again.")]
    PasskeyCeremonyExpired,
    #[error(
        "This passkey was not accepted. Try again, or use another passkey or your username and password."
    )]
    PasskeyRefused,
    #[error("That passkey is already added to an account here.")]
    PasskeyAlreadyAdded,
    #[error("There is no such passkey; it may have been removed already.")]
    UnknownPasskey,
    #[error(
        "For your safety, removing a passkey needs a recent sign-in: sign out, sign in again, then remove it."
    )]
    RecentSignInNeeded,
}

/// " (reference <id>)" for a request id as this site makes them (a UUID), else nothing: a
/// reference read back from a URL cannot carry a message of someone else's.
fn reference(request_id: &str) -> String {
    let uuid_shaped = request_id.len() == 36
        && request_id.chars().enumerate().all(|(at, c)| {
            if matches!(at, 8 | 13 | 18 | 23) {
                c == '-'
            } else {
                c.is_ascii_hexdigit()
            }
        });
    if uuid_shaped {
        format!(" (reference {request_id})")
    } else {
        String::new()
    }
}

/// "1 second", "30 seconds".
fn seconds(count: u64) -> String {
    if count == 1 {
        "1 second".to_owned()
    } else {
        format!("{count} seconds")
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn only_a_request_id_this_site_made_is_shown_as_a_reference() {
        let real = AppError::Internal {
            request_id: "0b8c5d1e-7f3a-4c2b-9d6e-1a2b3c4d5e6f".into(),
        };
        assert!(
            real.to_string()
                .ends_with("(reference 0b8c5d1e-7f3a-4c2b-9d6e-1a2b3c4d5e6f).")
        );
        let planted = AppError::Unavailable {
            request_id: "call +1 555 0100 to restore your account".into(),
        };
        assert_eq!(
            planted.to_string(),
            "Gatehouse cannot reach its database right now. Please try again in a moment."
        );
    }

    #[test]
    fn an_error_planted_in_a_url_can_only_say_what_the_site_says() {
        let planted: Result<AppError, _> =
            serde_json::from_str(r#"{"Invalid":"Your account is locked: call +1 555 0100"}"#);
        assert!(planted.is_err(), "free text is not an error this site sends");
        let known: AppError = serde_json::from_str(r#"{"Invalid":"SessionEnded"}"#).unwrap();
        assert_eq!(known.to_string(), "That session has already ended.");
    }
}
