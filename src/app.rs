//! The HTML shell, the root `<App/>` component and its router. Who may see each route is in
//! [`crate::routes`]; a test fails when the two disagree.
//!
//! The server renders `shell()` and `<App/>` for every page; the browser never renders a page.
//! It brings the page's islands to life (`#[island]` components: the forms and the sections that
//! change in place), each from the props the server wrote beside it. Every link is a page load.

use leptos::prelude::*;
use leptos_meta::{Link, MetaTags, Title, provide_meta_context};
use leptos_router::{
    SsrMode,
    components::{Redirect, Route, Router, Routes},
    path,
};

use crate::components::layout::Layout;
use crate::pages::{
    admin_audit::AdminAuditPage, admin_user::AdminUserPage, admin_users::AdminUsersPage, dashboard::DashboardPage,
    forgot_password::ForgotPasswordPage, login::LoginPage, not_found::NotFound, password::PasswordPage,
    profile::ProfilePage, reset_password::ResetPasswordPage, second_step::SecondStepPage, setup::SetupPage,
    signup::SignupPage, verify_email::VerifyEmailPage,
};

/// The whole HTML document the server sends: head, hydration scripts and the app.
pub fn shell(options: LeptosOptions) -> impl IntoView {
    // The page's content security policy needs this response's script nonce.
    #[cfg(feature = "ssr")]
    crate::server::security::set_page_policy();
    view! {
        <!DOCTYPE html>
        <html lang="en">
            <head>
                <meta charset="utf-8"/>
                <meta name="viewport" content="width=device-width, initial-scale=1"/>
                <AutoReload options=options.clone()/>
                // Named by the bundle's version (server/bundle.rs), so browsers may keep it.
                <link rel="stylesheet" href=format!("/{}/{}.css", options.site_pkg_dir, options.output_name)/>
                // Islands mode: the script runs the islands of this page (`hydration.rs`).
                <HydrationScripts options islands=true/>
                <MetaTags/>
            </head>
            <body>
                <App/>
            </body>
        </html>
    }
}

/// The application: the page layout around the routed pages.
#[component]
pub fn App() -> impl IntoView {
    provide_meta_context();

    view! {
        <Link rel="icon" type_="image/svg+xml" href="/favicon.svg"/>
        <Title formatter=|page: String| format!("{page} · Gatehouse")/>
        <Router>
            <Layout>
                <Routes fallback=NotFound>
                    // The server answers `/` with a redirect before rendering; this route is the
                    // fallback should it ever render.
                    <Route path=path!("") view=|| view! { <Redirect path="/dashboard"/> }/>
                    // Async: the server sends each page whole, once its data is in, so the pages
                    // read complete without JavaScript (streamed fragments need a script).
                    <Route path=path!("login") view=LoginPage ssr=SsrMode::Async/>
                    <Route path=path!("login/code") view=SecondStepPage ssr=SsrMode::Async/>
                    <Route path=path!("dashboard") view=DashboardPage ssr=SsrMode::Async/>
                    <Route path=path!("profile") view=ProfilePage ssr=SsrMode::Async/>
                    <Route path=path!("setup") view=SetupPage ssr=SsrMode::Async/>
                    <Route path=path!("forgot-password") view=ForgotPasswordPage ssr=SsrMode::Async/>
                    <Route path=path!("reset-password") view=ResetPasswordPage ssr=SsrMode::Async/>
                    <Route path=path!("verify-email") view=VerifyEmailPage ssr=SsrMode::Async/>
                    <Route path=path!("signup") view=SignupPage ssr=SsrMode::Async/>
                    <Route path=path!("password") view=PasswordPage ssr=SsrMode::Async/>
                    <Route path=path!("admin/users") view=AdminUsersPage ssr=SsrMode::Async/>
                    <Route path=path!("admin/users/:username") view=AdminUserPage ssr=SsrMode::Async/>
                    <Route path=path!("admin/audit") view=AdminAuditPage ssr=SsrMode::Async/>
                </Routes>
            </Layout>
        </Router>
    }
}
