//! Credentials and callers: passwords, the signing key, access and refresh tokens and their
//! cookie, scopes, and the one place that decides who is calling.

pub mod cookies;
pub mod credentials;
pub mod current_user;
pub mod jwt;
pub mod next_path;
pub mod password;
pub mod refresh;
pub mod scopes;
pub mod session;
pub mod signing_key;
pub mod throttle;
