//! Views and state reused by several pages.

pub mod change_password;
pub mod forbidden;
pub mod layout;
pub mod session;
pub mod with_user;
