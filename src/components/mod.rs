//! Views and state reused by several pages.

pub mod change_password;
pub mod email_address;
pub mod forbidden;
pub mod island;
pub mod layout;
pub mod link_page;
pub mod passkeys;
pub mod session;
pub mod two_step;
pub mod webauthn;
pub mod with_user;

use crate::error::AppError;

/// The error an action's last answer carries, as the page says it.
pub fn failure<T>(value: Option<Result<T, AppError>>) -> Option<String> {
    value.and_then(Result::err).map(|error| error.to_string())
}
