//! Who may use what: the caller of a request (from [`super::current_user`]) against the route
//! table ([`crate::routes::PAGES`] and [`crate::api::SERVER_FUNCTIONS`]), decided here once.
//!
//! Pages: [`guard`] runs before any page renders; a visitor asking for a protected page is
//! redirected to sign in, and a signed-in non-admin asking for an admin page is let through to
//! render the 403 notice (the page reads the same table). Server functions: every body that
//! needs a user takes it from [`admitted`], which applies the function's line of the table, so
//! no body decides its own access level.

use std::sync::Arc;

use axum::extract::Request;
use axum::http::{Method, StatusCode};
use axum::middleware::Next;
use axum::response::{IntoResponse, Redirect, Response};
use leptos::server_fn::ServerFn;

use crate::error::AppError;
use crate::routes::{Access, access_of};
use crate::server::auth::current_user::{Caller, SignedInUser, caller};
use crate::server::auth::next_path::{DEFAULT_AFTER_SIGN_IN, safe_next};
use crate::server::auth::scopes;

/// Where a person with a temporary password chooses their own.
pub const CHOOSE_PASSWORD: &str = "/password";

/// Whether `caller` may use something with `access`; the signed-in user when it needs one.
///
/// Admin rights take both the account's flag, read afresh for this request (so losing it
/// counts at the next request), and the session's `admin` scope.
///
/// # Errors
/// [`AppError::SignInRequired`] for a visitor, [`AppError::AccountDisabled`] for a disabled
/// account's session, [`AppError::NotPermitted`] for a session lacking the `me` scope,
/// [`AppError::PasswordChangeRequired`] for a temporary password (anything but replacing it),
/// [`AppError::AdminRequired`] for anyone but an administrator.
pub fn admit(caller: &Caller, access: Access) -> Result<Option<Arc<SignedInUser>>, AppError> {
    let signed_in = match (caller, access) {
        (_, Access::Public) => return Ok(None),
        (Caller::Visitor, _) => return Err(AppError::SignInRequired),
        (Caller::Disabled, _) => return Err(AppError::AccountDisabled),
        (Caller::SignedIn(signed_in), _) => signed_in,
    };
    if !scopes::includes(&signed_in.scope, scopes::ME) {
        return Err(AppError::NotPermitted);
    }
    if signed_in.user.must_change_password && access != Access::OwnPassword {
        return Err(AppError::PasswordChangeRequired);
    }
    if access == Access::Admin && !(signed_in.user.admin && scopes::includes(&signed_in.scope, scopes::ADMIN))
    {
        return Err(AppError::AdminRequired);
    }
    Ok(Some(Arc::clone(signed_in)))
}

/// The signed-in user the server function `F` runs for, when the route table admits them to
/// it: every server function that needs a user starts here, and its access level is the one
/// written in [`crate::api::SERVER_FUNCTIONS`], whether it is called over HTTP or while the
/// server renders a page.
///
/// # Errors
/// As [`admit`]; [`AppError::NotPermitted`] for a function missing from the table or public
/// in it (a public function has no user to take).
pub fn admitted<F: ServerFn>() -> Result<Arc<SignedInUser>, AppError> {
    let access = crate::api::access_of(F::PATH).ok_or(AppError::NotPermitted)?;
    admit(&caller(), access)?.ok_or(AppError::NotPermitted)
}

/// Middleware, after the caller is known: the redirects that depend on who is calling,
/// answered before any page renders.
///
/// - `/` goes to the dashboard or the login page;
/// - a protected page without a valid session goes to `/login?next=<path>` (with
///   `reason=account_disabled` when that is why);
/// - `/login` for a signed-in user goes on to `next` or the dashboard;
/// - a person with a temporary password goes to the page that replaces it.
pub async fn guard(request: Request, next: Next) -> Response {
    let caller = request
        .extensions()
        .get::<Caller>()
        .cloned()
        .unwrap_or(Caller::Visitor);
    if !matches!(*request.method(), Method::GET | Method::HEAD) {
        return next.run(request).await;
    }
    let signed_in = matches!(caller, Caller::SignedIn(_));
    let path = canonical_path(request.uri().path());
    if path == "/" {
        return see_other(if signed_in {
            DEFAULT_AFTER_SIGN_IN
        } else {
            "/login"
        });
    }
    if path == "/login" && signed_in {
        let next = query_value(&request, "next");
        return see_other(
            next.as_deref()
                .and_then(safe_next)
                .unwrap_or(DEFAULT_AFTER_SIGN_IN),
        );
    }
    match admit(&caller, access_of(&path)) {
        Err(AppError::SignInRequired | AppError::AccountDisabled) => {
            let asked_for = request
                .uri()
                .path_and_query()
                .map_or(request.uri().path(), |pq| pq.as_str());
            see_other(&login_url(asked_for, matches!(caller, Caller::Disabled)))
        }
        Err(AppError::PasswordChangeRequired) => see_other(CHOOSE_PASSWORD),
        // The page renders its own notice for these, from the same table; the status is set
        // here so that it holds whatever the page does.
        Err(_) => {
            let mut response = next.run(request).await;
            *response.status_mut() = StatusCode::FORBIDDEN;
            response
        }
        Ok(_) => next.run(request).await,
    }
}

/// The login page URL that brings the person back to `asked_for` afterwards.
pub fn login_url(asked_for: &str, disabled: bool) -> String {
    let mut query = vec![("next", asked_for)];
    if disabled {
        query.push(("reason", "account_disabled"));
    }
    // Cannot fail: serializing string pairs.
    format!(
        "/login?{}",
        serde_urlencoded::to_string(query).unwrap_or_default()
    )
}

/// The plainest spelling of `path`: percent-decoded, lower case, `;parameters` dropped, empty
/// and `.` segments removed and `..` applied, no trailing slash. The guard judges this spelling,
/// so `/./dashboard`, `//dashboard`, `/%64ashboard`, `/DASHBOARD` or `/dashboard;x` cannot slip
/// past it into a render.
fn canonical_path(path: &str) -> String {
    let decoded = percent_encoding::percent_decode_str(path)
        .decode_utf8_lossy()
        .to_lowercase();
    let mut segments: Vec<&str> = Vec::new();
    for segment in decoded.split(['/', '\\']) {
        let segment = segment.split(';').next().unwrap_or_default();
        match segment {
            "" | "." => {}
            ".." => {
                segments.pop();
            }
            other => segments.push(other),
        }
    }
    format!("/{}", segments.join("/"))
}

fn query_value(request: &Request, key: &str) -> Option<String> {
    let query = request.uri().query()?;
    let pairs: Vec<(String, String)> = serde_urlencoded::from_str(query).ok()?;
    pairs
        .into_iter()
        .find(|(name, _)| name == key)
        .map(|(_, value)| value)
}

/// 303 See Other: after it, the browser always uses GET.
fn see_other(location: &str) -> Response {
    Redirect::to(location).into_response()
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::server::store::{SessionRow, UserRow};

    fn protected(path: &str) -> bool {
        access_of(&canonical_path(path)) != Access::Public
    }

    #[test]
    fn every_spelling_of_a_protected_path_is_protected() {
        for path in [
            "/./dashboard",
            "//dashboard",
            "/dashboard/",
            "/%64ashboard",
            "/%2Fdashboard",
            "/DASHBOARD",
            "/dashboard;x",
            "/login/../dashboard",
            "/.%2e/profile",
            "/Admin/Users",
            "/\\dashboard",
        ] {
            assert!(protected(path), "{path}");
        }
    }

    #[test]
    fn the_login_url_carries_the_page_asked_for() {
        assert_eq!(login_url("/dashboard", false), "/login?next=%2Fdashboard");
        assert_eq!(
            login_url("/admin/users?page=2", true),
            "/login?next=%2Fadmin%2Fusers%3Fpage%3D2&reason=account_disabled"
        );
    }

    fn signed_in(admin: bool, scope: &str) -> Caller {
        Caller::SignedIn(Arc::new(SignedInUser {
            user: UserRow::for_tests(admin),
            session: SessionRow::for_tests(),
            scope: scope.to_owned(),
        }))
    }

    #[test]
    fn admin_pages_need_the_flag_and_the_scope() {
        assert!(admit(&signed_in(true, "me items admin"), Access::Admin).is_ok());
        assert_eq!(
            admit(&signed_in(false, "me items"), Access::Admin).unwrap_err(),
            AppError::AdminRequired
        );
        // A session started while the user was an admin keeps the scope; the flag decides.
        assert_eq!(
            admit(&signed_in(false, "me items admin"), Access::Admin).unwrap_err(),
            AppError::AdminRequired
        );
        assert_eq!(
            admit(&signed_in(true, "me items"), Access::Admin).unwrap_err(),
            AppError::AdminRequired
        );
    }

    #[test]
    fn a_temporary_password_opens_only_the_password_change() {
        let Caller::SignedIn(mut signed_in) = signed_in(true, "me items admin") else {
            unreachable!()
        };
        Arc::get_mut(&mut signed_in).unwrap().user.must_change_password = true;
        let caller = Caller::SignedIn(signed_in);
        assert!(admit(&caller, Access::OwnPassword).is_ok());
        for access in [Access::SignedIn, Access::Admin] {
            assert_eq!(
                admit(&caller, access).unwrap_err(),
                AppError::PasswordChangeRequired,
                "{access:?}"
            );
        }
    }

    #[test]
    fn visitors_and_disabled_accounts_are_told_apart() {
        assert_eq!(
            admit(&Caller::Visitor, Access::SignedIn).unwrap_err(),
            AppError::SignInRequired
        );
        assert_eq!(
            admit(&Caller::Disabled, Access::Admin).unwrap_err(),
            AppError::AccountDisabled
        );
        assert!(admit(&Caller::Visitor, Access::Public).unwrap().is_none());
    }
}
