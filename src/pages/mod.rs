//! One routed component per file; [`lazy`] wraps the ones the browser loads on demand.

pub mod admin_audit;
pub mod admin_user;
pub mod admin_users;
pub mod dashboard;
pub mod forgot_password;
pub mod lazy;
pub mod login;
pub mod not_found;
pub mod password;
pub mod profile;
pub mod reset_password;
pub mod second_step;
pub mod setup;
pub mod signup;
pub mod verify_email;
