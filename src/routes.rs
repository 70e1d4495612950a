//! The one route table: every page with who may see it and whether the navigation links to it.
//!
//! The server's guard (redirects before rendering), the pages (the 403 notice) and the header's
//! navigation all read [`PAGES`]; server functions have their twin table in
//! [`crate::api::SERVER_FUNCTIONS`]. A test walks the router and fails when a route is missing
//! here, so a new page cannot be left unguarded by forgetting this file.

use serde::{Deserialize, Serialize};

use crate::api::UserSummary;

/// Who may use a page or a server function.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Serialize, Deserialize)]
pub enum Access {
    /// Anyone, signed in or not.
    Public,
    /// A signed-in user whose account is active, even one who must still replace a temporary
    /// password: only what replacing it takes.
    OwnPassword,
    /// A signed-in user whose account is active and whose password is their own.
    SignedIn,
    /// A signed-in, active administrator.
    Admin,
}

/// One routed page.
#[derive(Debug, Clone, Copy)]
pub struct Page {
    /// As the router writes it; `:name` stands for any one segment.
    pub path: &'static str,
    pub access: Access,
    /// The header links to the page under this name, for those the page admits.
    pub nav: Option<&'static str>,
    /// The page's HTML depends on nothing but its address, the caller's
    /// [`UserSummary`] and the site's settings (it reads no stored data while rendering), so
    /// the server may keep what it rendered and answer the same request again from memory
    /// (`server/page_cache.rs`). A page that shows stored data must say `false`.
    pub cacheable: bool,
}

/// Every page of the site. A page's access covers every path below it too, so that a path no
/// route claims (`/admin/users/x/y`) is refused before it is answered as "not found".
#[rustfmt::skip]
pub const PAGES: &[Page] = &[
    Page { path: "/", access: Access::Public, nav: None, cacheable: false },
    Page { path: "/login", access: Access::Public, nav: None, cacheable: true },
    Page { path: "/login/code", access: Access::Public, nav: None, cacheable: false },
    Page { path: "/setup", access: Access::Public, nav: None, cacheable: false },
    Page { path: "/forgot-password", access: Access::Public, nav: None, cacheable: true },
    Page { path: "/reset-password", access: Access::Public, nav: None, cacheable: false },
    Page { path: "/verify-email", access: Access::Public, nav: None, cacheable: false },
    Page { path: "/signup", access: Access::Public, nav: None, cacheable: true },
    Page { path: "/dashboard", access: Access::SignedIn, nav: Some("Dashboard"), cacheable: true },
    Page { path: "/profile", access: Access::SignedIn, nav: None, cacheable: false },
    Page { path: "/password", access: Access::OwnPassword, nav: None, cacheable: false },
    Page { path: "/admin/users", access: Access::Admin, nav: Some("Users"), cacheable: false },
    Page { path: "/admin/users/:username", access: Access::Admin, nav: None, cacheable: false },
    Page { path: "/admin/audit", access: Access::Admin, nav: Some("Audit log"), cacheable: false },
];

impl Access {
    /// Whether the signed-in `user` (or a visitor, `None`) may use what has this access: what
    /// the pages and the navigation show. The server decides again for every request.
    pub fn admits(self, user: Option<&UserSummary>) -> bool {
        match self {
            Self::Public => true,
            Self::OwnPassword => user.is_some(),
            Self::SignedIn => user.is_some_and(|user| !user.must_change_password),
            Self::Admin => user.is_some_and(|user| user.admin && !user.must_change_password),
        }
    }
}

/// The pages the header links to for `user`, with their names.
pub fn navigation(user: Option<&UserSummary>) -> impl Iterator<Item = (&'static str, &'static str)> {
    PAGES
        .iter()
        .filter(move |page| page.access.admits(user))
        .filter_map(|page| page.nav.map(|name| (page.path, name)))
}

/// The page at `path` (exactly as asked) when what the server renders for it may be kept: see
/// [`Page::cacheable`].
pub fn cacheable_page(path: &str) -> Option<&'static str> {
    PAGES
        .iter()
        .find(|page| page.cacheable && page.path == path)
        .map(|page| page.path)
}

/// Who may see `path` (already in its plainest spelling, see the server's guard): the access
/// of the most specific page at or above it, [`Access::Public`] when none is.
pub fn access_of(path: &str) -> Access {
    PAGES
        .iter()
        .filter_map(|page| matched_segments(page.path, path).map(|depth| (depth, page.access)))
        .max_by_key(|(depth, _)| *depth)
        .map_or(Access::Public, |(_, access)| access)
}

/// How many segments of `pattern` match the start of `path`, when all of them do.
fn matched_segments(pattern: &str, path: &str) -> Option<usize> {
    let mut path_segments = path.split('/').filter(|segment| !segment.is_empty());
    let mut depth = 0;
    for wanted in pattern.split('/').filter(|segment| !segment.is_empty()) {
        let segment = path_segments.next()?;
        if !wanted.starts_with(':') && wanted != segment {
            return None;
        }
        depth += 1;
    }
    Some(depth)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_page_covers_everything_below_it() {
        assert_eq!(access_of("/dashboard"), Access::SignedIn);
        assert_eq!(access_of("/dashboard/anything"), Access::SignedIn);
        assert_eq!(access_of("/admin/users"), Access::Admin);
        assert_eq!(access_of("/admin/users/alice"), Access::Admin);
        assert_eq!(access_of("/admin/users/alice/more"), Access::Admin);
    }

    #[test]
    fn paths_no_page_claims_are_public() {
        for path in [
            "/",
            "/login",
            "/dashboards",
            "/administrator",
            "/healthz",
            "/admin",
        ] {
            assert_eq!(access_of(path), Access::Public, "{path}");
        }
    }

    #[test]
    fn the_most_specific_page_decides() {
        // "/" matches every path with depth 0; the deeper page wins.
        assert_eq!(access_of("/profile"), Access::SignedIn);
    }
}
