//! Views and state reused by several pages.

pub mod layout;
pub mod session;
pub mod with_user;
