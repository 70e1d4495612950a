//! One routed component per file, rendered by the server only; their islands (`#[island]`) are
//! what the browser runs.

pub mod admin_audit;
pub mod admin_user;
pub mod admin_users;
pub mod dashboard;
pub mod forgot_password;
pub mod login;
pub mod not_found;
pub mod password;
pub mod profile;
pub mod reset_password;
pub mod second_step;
pub mod setup;
pub mod signup;
pub mod verify_email;
