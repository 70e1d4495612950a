//! The signed-in user as the pages see it: one resource shared by the header and the page, read
//! once for each page the server renders (pages are never rendered in the browser).

use leptos::prelude::*;

use crate::api::{UserSummary, current_user};
use crate::error::AppError;

/// Who is signed in.
#[derive(Clone, Copy)]
pub struct Session {
    /// `Ok(None)` for a visitor.
    pub user: Resource<Result<Option<UserSummary>, AppError>>,
}

impl Session {
    /// Creates the session state and offers it to every component below (inside the router).
    pub fn provide() -> Self {
        let session = Self {
            user: Resource::new(|| (), |()| current_user()),
        };
        provide_context(session);
        session
    }
}

/// The session provided by the layout.
pub fn use_session() -> Session {
    expect_context::<Session>()
}
