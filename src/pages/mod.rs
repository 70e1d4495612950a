//! One routed component per file.

pub mod dashboard;
pub mod login;
pub mod not_found;
pub mod profile;
