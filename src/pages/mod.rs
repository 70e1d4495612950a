//! One routed component per file.

pub mod home;
pub mod not_found;
