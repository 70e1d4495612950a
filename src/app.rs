//! The HTML shell, the root `<App/>` component and its router. Who may see each route is in
//! [`crate::routes`]; a test fails when the two disagree.
//!
//! The server renders `shell()` for every page; the browser bundle hydrates `<App/>` inside it.

use leptos::prelude::*;
use leptos_meta::{Link, MetaTags, Title, provide_meta_context};
use leptos_router::{
    Lazy, SsrMode,
    components::{Redirect, Route, Router, Routes},
    path,
};

use crate::components::layout::Layout;
use crate::pages::{dashboard::DashboardPage, lazy, login::LoginPage, not_found::NotFound};

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
                <HydrationScripts options/>
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
                    // The server answers `/` with a redirect before rendering; this route covers
                    // in-app navigation, and the dashboard sends visitors on to the login page.
                    <Route path=path!("") view=|| view! { <Redirect path="/dashboard"/> }/>
                    // Async: the server sends each page whole, once its data is in, so the pages
                    // read complete without JavaScript (streamed fragments need a script).
                    // `Lazy`: the browser loads that page's code when it is first shown.
                    <Route path=path!("login") view=LoginPage ssr=SsrMode::Async/>
                    <Route path=path!("login/code") view={Lazy::<lazy::SecondStep>::new()} ssr=SsrMode::Async/>
                    <Route path=path!("dashboard") view=DashboardPage ssr=SsrMode::Async/>
                    <Route path=path!("profile") view={Lazy::<lazy::Profile>::new()} ssr=SsrMode::Async/>
                    <Route path=path!("setup") view={Lazy::<lazy::Setup>::new()} ssr=SsrMode::Async/>
                    <Route path=path!("forgot-password") view={Lazy::<lazy::ForgotPassword>::new()} ssr=SsrMode::Async/>
                    <Route path=path!("reset-password") view={Lazy::<lazy::ResetPassword>::new()} ssr=SsrMode::Async/>
                    <Route path=path!("verify-email") view={Lazy::<lazy::VerifyEmail>::new()} ssr=SsrMode::Async/>
                    <Route path=path!("signup") view={Lazy::<lazy::Signup>::new()} ssr=SsrMode::Async/>
                    <Route path=path!("password") view={Lazy::<lazy::Password>::new()} ssr=SsrMode::Async/>
                    <Route path=path!("admin/users") view={Lazy::<lazy::AdminUsers>::new()} ssr=SsrMode::Async/>
                    <Route path=path!("admin/users/:username") view={Lazy::<lazy::AdminUser>::new()} ssr=SsrMode::Async/>
                    <Route path=path!("admin/audit") view={Lazy::<lazy::AdminAudit>::new()} ssr=SsrMode::Async/>
                </Routes>
            </Layout>
        </Router>
    }
}
