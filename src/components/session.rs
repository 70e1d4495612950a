//! The signed-in user as the pages see it: one resource shared by the header and the pages,
//! fetched again on every navigation inside the app and after signing out.
//!
//! Fetching on navigation costs one small call per page change, and it is what keeps the
//! header and the pages honest: signing in ends with a redirect that the app follows itself,
//! and a session ended elsewhere shows on the next page, not at the next reload.

use leptos::prelude::*;
use leptos_router::hooks::use_location;

use crate::api::{Logout, UserSummary, current_user};
use crate::error::AppError;

/// Who is signed in, and the sign-out action of the header.
#[derive(Clone, Copy)]
pub struct Session {
    pub logout: ServerAction<Logout>,
    /// `Ok(None)` for a visitor.
    pub user: Resource<Result<Option<UserSummary>, AppError>>,
}

impl Session {
    /// Creates the session state and offers it to every component below (inside the router).
    pub fn provide() -> Self {
        let logout = ServerAction::<Logout>::new();
        let pathname = use_location().pathname;
        let user = Resource::new(
            move || (pathname.get(), logout.version().get()),
            |_| current_user(),
        );
        let session = Self { logout, user };
        provide_context(session);
        session
    }
}

/// The session provided by the layout.
pub fn use_session() -> Session {
    expect_context::<Session>()
}
