//! Credentials and callers: passwords, the signing key, access and refresh tokens and their
//! cookies, scopes, sessions, and the one place that decides who is calling.
//!
//! - `credentials` checks a password (every path that takes one), throttled by `throttle`,
//!   with `device` cookies keeping the owner's browser apart from strangers.
//! - `sessions` issues every session and decides whether one is alive.
//! - `current_user` decides who is calling, once per request; `access` what they may use.
//! - `actions` holds the bodies of the account server functions (sign in, sign out, change
//!   password, sessions list): the Leptos edge of the rules above.

pub mod access;
pub mod actions;
pub mod cookies;
pub mod credentials;
pub mod current_user;
pub mod device;
pub mod jwt;
pub mod next_path;
pub mod password;
pub mod refresh;
pub mod scopes;
pub mod sessions;
pub mod signing_key;
pub mod throttle;
