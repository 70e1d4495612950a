//! Views and state reused by several pages.

pub mod change_password;
pub mod email_address;
pub mod forbidden;
pub mod layout;
pub mod link_page;
pub mod passkeys;
pub mod session;
pub mod two_step;
pub mod webauthn;
pub mod with_user;
