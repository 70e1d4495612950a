//! Views reused by several pages.

pub mod layout;
