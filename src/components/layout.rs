//! The frame of every page: a header with the site name, the navigation the route table
//! offers the signed-in user, and the account menu; then the page.

use leptos::prelude::*;
use leptos_router::components::A;

use crate::api::Logout;
use crate::components::session::Session;
use crate::routes::navigation;

/// Wraps a page in the site header and the main landmark, and provides the [`Session`].
#[component]
pub fn Layout(children: Children) -> impl IntoView {
    let session = Session::provide();
    // A plain form post: the server ends the session and answers with the sign-in page.
    let logout = ServerAction::<Logout>::new();
    view! {
        <header class="site-header">
            <A href="/" attr:class="brand">"Gatehouse"</A>
            <nav class="account" aria-label="Account">
                <Suspense fallback=|| ()>
                    {move || Suspend::new(async move {
                        match session.user.await {
                            Ok(Some(user)) => view! {
                                {navigation(Some(&user))
                                    .map(|(path, name)| view! { <A href=path>{name}</A> })
                                    .collect_view()}
                                <A href="/profile" attr:class="who">{user.display_name().to_owned()}</A>
                                <ActionForm action=logout attr:class="sign-out">
                                    <button type="submit" class="button secondary small">"Sign out"</button>
                                </ActionForm>
                            }.into_any(),
                            _ => view! { <A href="/login">"Sign in"</A> }.into_any(),
                        }
                    })}
                </Suspense>
            </nav>
        </header>
        <main class="page">{children()}</main>
    }
}
