//! Credentials and callers: passwords, the signing key, access tokens and their cookie, and the
//! one place that decides who is calling.

pub mod cookies;
pub mod current_user;
pub mod jwt;
pub mod next_path;
pub mod password;
pub mod session;
pub mod signing_key;
