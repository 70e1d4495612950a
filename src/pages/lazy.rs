//! The pages most visits never open, split out of the browser bundle: the browser fetches a
//! page's code (a WebAssembly chunk beside the bundle, under `/pkg/<version>/`) when that page
//! is first shown, so the bundle every visit loads holds the sign-in page, the dashboard and
//! what all pages share. The server renders these pages like any other.
//!
//! `cargo leptos build --split` (the Makefile's build) cuts the chunks where `#[lazy_route]`
//! marks them; without `--split` the bundle does not link.

use leptos::prelude::*;
use leptos_router::{LazyRoute, lazy_route};

use crate::pages::{
    admin_audit::AdminAuditPage, admin_user::AdminUserPage, admin_users::AdminUsersPage,
    forgot_password::ForgotPasswordPage, password::PasswordPage, profile::ProfilePage,
    reset_password::ResetPasswordPage, second_step::SecondStepPage, setup::SetupPage, signup::SignupPage,
    verify_email::VerifyEmailPage,
};

/// `lazy_page!(Route, Page)`: `Route` shows the component `Page`, loaded on demand.
macro_rules! lazy_page {
    ($route:ident, $page:ident) => {
        #[doc = concat!("The route of [`", stringify!($page), "`], its code loaded on demand.")]
        pub struct $route;

        #[lazy_route]
        impl LazyRoute for $route {
            fn data() -> Self {
                Self
            }

            fn view(_this: Self) -> AnyView {
                $page().into_any()
            }
        }
    };
}

lazy_page!(SecondStep, SecondStepPage);
lazy_page!(Profile, ProfilePage);
lazy_page!(Setup, SetupPage);
lazy_page!(ForgotPassword, ForgotPasswordPage);
lazy_page!(ResetPassword, ResetPasswordPage);
lazy_page!(VerifyEmail, VerifyEmailPage);
lazy_page!(Signup, SignupPage);
lazy_page!(Password, PasswordPage);
lazy_page!(AdminUsers, AdminUsersPage);
lazy_page!(AdminUser, AdminUserPage);
lazy_page!(AdminAudit, AdminAuditPage);
