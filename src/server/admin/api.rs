//! `/api/admin/users...`: user administration for scripts, behind a Bearer token with the
//! `admin` scope of an account that is an administrator now (the flag is read afresh on every
//! request, like the pages'). The same rules as the admin pages (see [`super`]), the same audit
//! events, with the script's address and request id.

use axum::Json;
use axum::body::Bytes;
use axum::extract::{Path, RawQuery, State};
use axum::http::{Extensions, HeaderMap, StatusCode};
use axum::response::{IntoResponse, Response};
use secrecy::SecretString;
use serde::{Deserialize, Serialize};
use utoipa::{IntoParams, ToResponse, ToSchema};

use crate::api::UserAction;
use crate::error::Problem;
use crate::server::admin::{self, AdminError, NewAccount};
use crate::server::audit::{Acting, Actor};
use crate::server::auth::current_user::SignedInUser;
use crate::server::auth::scopes;
use crate::server::client::session_origin;
use crate::server::errors::{Outage, request_id_of};
use crate::server::oauth::bearer::{
    ApiError, Bearer, BearerError, MalformedCredentials, Unauthorized, Unavailable,
};
use crate::server::state::AppState;
use crate::server::store::{UserQuery, UserRow};

/// Most users one page of the list holds.
const MAX_LIMIT: u32 = 200;

/// An account as the admin API shows it: no hash, no token version.
#[derive(Serialize, ToSchema)]
pub struct AdminUser {
    pub username: String,
    pub full_name: Option<String>,
    pub email: Option<String>,
    pub disabled: bool,
    pub admin: bool,
    /// Holds a temporary password, to be replaced at the next sign-in.
    pub must_change_password: bool,
    /// RFC 3339.
    pub created_at: String,
}

/// One page of users.
#[derive(Serialize, ToSchema)]
pub struct AdminUserPage {
    pub users: Vec<AdminUser>,
    /// Pass as `after` for the next page; absent on the last.
    pub next: Option<String>,
}

/// The list's query.
#[derive(Deserialize, IntoParams, Default)]
#[into_params(parameter_in = Query)]
pub struct ListQuery {
    /// Matched, ignoring case, in the username, full name or email.
    pub search: Option<String>,
    /// `active`, `disabled` or `admins`; everyone when absent.
    pub status: Option<String>,
    /// `newest`; by username when absent.
    pub sort: Option<String>,
    /// The previous page's `next`.
    pub after: Option<String>,
    /// Users a page, 1 to 200 (default 50).
    pub limit: Option<u32>,
}

// The constraints below are what `crate::domain` checks, written out as literals because
// utoipa takes no constants; `admin_api::the_admin_api_is_in_the_openapi_document` compares them
// with the domain's constants. Client generators and fuzzers read them from the document.

/// A new account.
#[derive(Deserialize, ToSchema)]
pub struct NewUserRequest {
    /// Letters, digits, `.`, `_` and `-`, starting with a letter or digit.
    #[schema(min_length = 3, max_length = 32, pattern = "^[A-Za-z0-9][A-Za-z0-9._-]*$")]
    pub username: String,
    /// Blank is none.
    #[schema(max_length = 100)]
    pub full_name: Option<String>,
    /// Blank is none.
    #[schema(max_length = 254)]
    pub email: Option<String>,
    /// The same policy as everywhere: 8 to 1024 characters, not a common password.
    #[schema(min_length = 8, max_length = 1024)]
    pub password: String,
    #[serde(default)]
    pub admin: bool,
}

/// Changes to an account; absent fields stay as they are, `null` clears a name or email.
#[derive(Deserialize, ToSchema, Default)]
pub struct UserChanges {
    #[serde(default, deserialize_with = "present")]
    pub full_name: Option<Option<String>>,
    #[serde(default, deserialize_with = "present")]
    pub email: Option<Option<String>>,
    pub disabled: Option<bool>,
    pub admin: Option<bool>,
}

/// A field that is present, as `Some(value or null)`: absent fields are `None` by default.
fn present<'de, D: serde::Deserializer<'de>>(deserializer: D) -> Result<Option<Option<String>>, D::Error> {
    Option::<String>::deserialize(deserializer).map(Some)
}

/// A temporary password.
#[derive(Deserialize, ToSchema)]
pub struct TemporaryPassword {
    /// The same policy as everywhere: 8 to 1024 characters, not a common password.
    #[schema(min_length = 8, max_length = 1024)]
    pub password: String,
}

/// How many sessions ended.
#[derive(Serialize, ToSchema)]
pub struct Ended {
    pub ended: u64,
}

// The admin API's own shared error answers, described once in the OpenAPI document like the
// bearer's (see `bearer.rs`); `AdminApiError` below renders them. Their doc comments are the
// descriptions the document shows.

/// The token lacks the scope admin, or its account is no longer an administrator.
#[derive(ToResponse)]
pub struct NotAnAdministrator(pub ApiError);

/// No such user.
#[derive(ToResponse)]
pub struct NoSuchUser(pub ApiError);

/// Why an admin API request failed, rendered as [`ApiError`] JSON.
pub enum AdminApiError {
    Bearer(BearerError),
    Admin(AdminError, String),
    /// The request's query or body is not what the operation takes.
    Malformed(String),
}

impl From<BearerError> for AdminApiError {
    fn from(error: BearerError) -> Self {
        Self::Bearer(error)
    }
}

impl IntoResponse for AdminApiError {
    fn into_response(self) -> Response {
        let (status, error, description) = match self {
            Self::Bearer(error) => return error.into_response(),
            Self::Malformed(why) => (StatusCode::BAD_REQUEST, "invalid_request", why),
            Self::Admin(AdminError::Refused(problem), _) => {
                let status = match problem {
                    Problem::UnknownUser => StatusCode::NOT_FOUND,
                    Problem::UsernameTaken | Problem::LastAdmin => StatusCode::CONFLICT,
                    _ => StatusCode::BAD_REQUEST,
                };
                let code = match status {
                    StatusCode::NOT_FOUND => "not_found",
                    StatusCode::CONFLICT => "conflict",
                    _ => "invalid_request",
                };
                (status, code, problem.to_string())
            }
            Self::Admin(AdminError::Failed(error), request_id) => {
                tracing::error!(
                    request_id,
                    error = format!("{error:#}"),
                    "admin API request failed"
                );
                match Outage::of(&error) {
                    Some(_) => (
                        StatusCode::SERVICE_UNAVAILABLE,
                        "temporarily_unavailable",
                        "The service cannot do that right now; try again in a moment.".to_owned(),
                    ),
                    None => (
                        StatusCode::INTERNAL_SERVER_ERROR,
                        "server_error",
                        format!("Something went wrong on our side (reference {request_id})."),
                    ),
                }
            }
        };
        (
            status,
            Json(ApiError {
                error: Some(error),
                error_description: description,
            }),
        )
            .into_response()
    }
}

/// The administrator a request comes from, and what its audit events say of the request.
fn administrator(
    bearer: &Bearer,
    headers: &HeaderMap,
    extensions: &Extensions,
) -> Result<Acting, BearerError> {
    let signed_in: &SignedInUser = bearer.require(scopes::ADMIN)?;
    // The scope was granted while they were an administrator; the flag says whether they still are.
    if !signed_in.user.admin {
        return Err(BearerError::InsufficientScope(scopes::ADMIN));
    }
    Ok(Acting {
        actor: Actor::user(&signed_in.user),
        origin: session_origin(headers, extensions, false),
        request_id: Some(request_id_of(headers)),
    })
}

fn shown(user: &UserRow) -> AdminUser {
    AdminUser {
        username: user.username.clone(),
        full_name: user.full_name.clone(),
        email: user.email.clone(),
        disabled: user.disabled,
        admin: user.admin,
        must_change_password: user.must_change_password,
        created_at: user
            .created_at
            .format(&time::format_description::well_known::Rfc3339)
            .unwrap_or_default(),
    }
}

/// A JSON body of type `T`, or a 400 that says what is wrong.
fn body<T: for<'de> Deserialize<'de>>(bytes: &[u8]) -> Result<T, AdminApiError> {
    serde_json::from_slice(bytes)
        .map_err(|error| AdminApiError::Malformed(format!("The JSON body does not fit: {error}.")))
}

/// The users, a page at a time (scope `admin`).
#[utoipa::path(
    get,
    path = "/api/admin/users",
    tag = "admin",
    params(ListQuery),
    security(("oauth2" = ["admin"])),
    responses(
        (status = 200, description = "One page of users", body = AdminUserPage),
        (status = 400, description = "A malformed query or Authorization header", body = ApiError),
        (status = 401, response = Unauthorized),
        (status = 403, response = NotAnAdministrator),
        (status = 503, response = Unavailable),
    )
)]
pub async fn list(
    State(state): State<AppState>,
    bearer: Bearer,
    headers: HeaderMap,
    extensions: Extensions,
    RawQuery(query): RawQuery,
) -> Result<Json<AdminUserPage>, AdminApiError> {
    let acting = administrator(&bearer, &headers, &extensions)?;
    let query: ListQuery = serde_urlencoded::from_str(query.as_deref().unwrap_or_default())
        .map_err(|error| AdminApiError::Malformed(format!("The query does not fit: {error}.")))?;
    let limit = query.limit.unwrap_or(50);
    if !(1..=MAX_LIMIT).contains(&limit) {
        return Err(AdminApiError::Malformed(format!(
            "limit must be 1 to {MAX_LIMIT}."
        )));
    }
    let page = state
        .store
        .search_users(&UserQuery {
            search: query.search.unwrap_or_default(),
            filter: admin::parse_filter(query.status.as_deref()),
            order: admin::parse_order(query.sort.as_deref()),
            after: query.after.filter(|after| !after.is_empty()),
            limit,
        })
        .await
        .map_err(|error| AdminApiError::Admin(error.into(), acting.request_id.clone().unwrap_or_default()))?;
    Ok(Json(AdminUserPage {
        users: page.users.iter().map(shown).collect(),
        next: page.next,
    }))
}

/// Turns a rule's refusal or a failure into the response, with the request's id.
fn refused(acting: &Acting) -> impl Fn(AdminError) -> AdminApiError + '_ {
    move |error| AdminApiError::Admin(error, acting.request_id.clone().unwrap_or_default())
}

/// Creates an account (scope `admin`).
#[utoipa::path(
    post,
    path = "/api/admin/users",
    tag = "admin",
    request_body = NewUserRequest,
    security(("oauth2" = ["admin"])),
    responses(
        (status = 201, description = "Created", body = AdminUser),
        (status = 400, description = "A field breaks its rule, the password the policy, or the Authorization header is malformed", body = ApiError),
        (status = 401, response = Unauthorized),
        (status = 403, response = NotAnAdministrator),
        (status = 409, description = "The username is taken", body = ApiError),
        (status = 503, response = Unavailable),
    )
)]
pub async fn create(
    State(state): State<AppState>,
    bearer: Bearer,
    headers: HeaderMap,
    extensions: Extensions,
    bytes: Bytes,
) -> Result<(StatusCode, Json<AdminUser>), AdminApiError> {
    let acting = administrator(&bearer, &headers, &extensions)?;
    let new: NewUserRequest = body(&bytes)?;
    let user = admin::create_user(
        &state,
        &acting,
        NewAccount {
            username: new.username,
            full_name: new.full_name,
            email: new.email,
            password: SecretString::from(new.password),
            admin: new.admin,
        },
    )
    .await
    .map_err(refused(&acting))?;
    Ok((StatusCode::CREATED, Json(shown(&user))))
}

/// One account (scope `admin`).
#[utoipa::path(
    get,
    path = "/api/admin/users/{username}",
    tag = "admin",
    params(("username" = String, Path, description = "Any letter case")),
    security(("oauth2" = ["admin"])),
    responses(
        (status = 200, description = "The account", body = AdminUser),
        (status = 400, response = MalformedCredentials),
        (status = 401, response = Unauthorized),
        (status = 403, response = NotAnAdministrator),
        (status = 404, response = NoSuchUser),
        (status = 503, response = Unavailable),
    )
)]
pub async fn get_user(
    State(state): State<AppState>,
    bearer: Bearer,
    headers: HeaderMap,
    extensions: Extensions,
    Path(username): Path<String>,
) -> Result<Json<AdminUser>, AdminApiError> {
    let acting = administrator(&bearer, &headers, &extensions)?;
    let user = admin::find_user(&state, &username)
        .await
        .map_err(refused(&acting))?;
    Ok(Json(shown(&user)))
}

/// Changes an account (scope `admin`): full name and email, disabled, admin. Each change is
/// made in turn, in that order; the answer is the account afterwards.
#[utoipa::path(
    patch,
    path = "/api/admin/users/{username}",
    tag = "admin",
    params(("username" = String, Path, description = "Any letter case")),
    request_body = UserChanges,
    security(("oauth2" = ["admin"])),
    responses(
        (status = 200, description = "The account after the changes", body = AdminUser),
        (status = 400, description = "A field breaks its rule, or the Authorization header is malformed", body = ApiError),
        (status = 401, response = Unauthorized),
        (status = 403, response = NotAnAdministrator),
        (status = 404, response = NoSuchUser),
        (status = 409, description = "The change would leave the site without an active administrator", body = ApiError),
        (status = 503, response = Unavailable),
    )
)]
pub async fn change(
    State(state): State<AppState>,
    bearer: Bearer,
    headers: HeaderMap,
    extensions: Extensions,
    Path(username): Path<String>,
    bytes: Bytes,
) -> Result<Json<AdminUser>, AdminApiError> {
    let acting = administrator(&bearer, &headers, &extensions)?;
    let changes: UserChanges = body(&bytes)?;
    let current = admin::find_user(&state, &username)
        .await
        .map_err(refused(&acting))?;
    if changes.full_name.is_some() || changes.email.is_some() {
        let full_name = changes.full_name.unwrap_or(current.full_name.clone());
        let email = changes.email.unwrap_or(current.email.clone());
        admin::edit_user(&state, &acting, &username, full_name.as_deref(), email.as_deref())
            .await
            .map_err(refused(&acting))?;
    }
    let actions = [
        changes.disabled.map(|disabled| {
            if disabled {
                UserAction::Disable
            } else {
                UserAction::Enable
            }
        }),
        changes.admin.map(|admin| {
            if admin {
                UserAction::GrantAdmin
            } else {
                UserAction::RevokeAdmin
            }
        }),
    ];
    for action in actions.into_iter().flatten() {
        admin::act_on_user(&state, &acting, &username, action, None)
            .await
            .map_err(refused(&acting))?;
    }
    let user = admin::find_user(&state, &username)
        .await
        .map_err(refused(&acting))?;
    Ok(Json(shown(&user)))
}

/// Deletes an account with its sessions and items; the audit trail stays (scope `admin`).
#[utoipa::path(
    delete,
    path = "/api/admin/users/{username}",
    tag = "admin",
    params(("username" = String, Path, description = "Any letter case")),
    security(("oauth2" = ["admin"])),
    responses(
        (status = 204, description = "Deleted"),
        (status = 400, response = MalformedCredentials),
        (status = 401, response = Unauthorized),
        (status = 403, response = NotAnAdministrator),
        (status = 404, response = NoSuchUser),
        (status = 409, description = "The last active administrator", body = ApiError),
        (status = 503, response = Unavailable),
    )
)]
pub async fn delete(
    State(state): State<AppState>,
    bearer: Bearer,
    headers: HeaderMap,
    extensions: Extensions,
    Path(username): Path<String>,
) -> Result<StatusCode, AdminApiError> {
    let acting = administrator(&bearer, &headers, &extensions)?;
    // A script states what it deletes in the path: that is its confirmation.
    admin::act_on_user(&state, &acting, &username, UserAction::Delete, Some(&username))
        .await
        .map_err(refused(&acting))?;
    Ok(StatusCode::NO_CONTENT)
}

/// Sets a temporary password: the account's sessions end, and its owner must choose a new
/// password at the next sign-in (scope `admin`).
#[utoipa::path(
    post,
    path = "/api/admin/users/{username}/temporary-password",
    tag = "admin",
    params(("username" = String, Path, description = "Any letter case")),
    request_body = TemporaryPassword,
    security(("oauth2" = ["admin"])),
    responses(
        (status = 204, description = "Set"),
        (status = 400, description = "The password breaks the policy, or the Authorization header is malformed", body = ApiError),
        (status = 401, response = Unauthorized),
        (status = 403, response = NotAnAdministrator),
        (status = 404, response = NoSuchUser),
        (status = 503, response = Unavailable),
    )
)]
pub async fn temporary_password(
    State(state): State<AppState>,
    bearer: Bearer,
    headers: HeaderMap,
    extensions: Extensions,
    Path(username): Path<String>,
    bytes: Bytes,
) -> Result<StatusCode, AdminApiError> {
    let acting = administrator(&bearer, &headers, &extensions)?;
    let request: TemporaryPassword = body(&bytes)?;
    admin::set_temporary_password(&state, &acting, &username, &SecretString::from(request.password))
        .await
        .map_err(refused(&acting))?;
    Ok(StatusCode::NO_CONTENT)
}

/// Ends every session of an account (scope `admin`).
#[utoipa::path(
    delete,
    path = "/api/admin/users/{username}/sessions",
    tag = "admin",
    params(("username" = String, Path, description = "Any letter case")),
    security(("oauth2" = ["admin"])),
    responses(
        (status = 200, description = "How many sessions ended", body = Ended),
        (status = 400, response = MalformedCredentials),
        (status = 401, response = Unauthorized),
        (status = 403, response = NotAnAdministrator),
        (status = 404, response = NoSuchUser),
        (status = 503, response = Unavailable),
    )
)]
pub async fn end_sessions(
    State(state): State<AppState>,
    bearer: Bearer,
    headers: HeaderMap,
    extensions: Extensions,
    Path(username): Path<String>,
) -> Result<Json<Ended>, AdminApiError> {
    let acting = administrator(&bearer, &headers, &extensions)?;
    let ended = admin::end_sessions(&state, &acting, &username)
        .await
        .map_err(refused(&acting))?;
    Ok(Json(Ended { ended }))
}

/// Removes an account's two-step sign-in and passkeys, for someone who lost their phone and
/// their recovery codes (or their passkeys) and proved who they are some other way; their
/// sessions end (scope `admin`).
#[utoipa::path(
    delete,
    path = "/api/admin/users/{username}/two-step",
    tag = "admin",
    params(("username" = String, Path, description = "Any letter case")),
    security(("oauth2" = ["admin"])),
    responses(
        (status = 204, description = "Two-step sign-in is off and no passkey is left (whether or not there were any), and every session of theirs ended"),
        (status = 400, response = MalformedCredentials),
        (status = 401, response = Unauthorized),
        (status = 403, response = NotAnAdministrator),
        (status = 404, response = NoSuchUser),
        (status = 503, response = Unavailable),
    )
)]
pub async fn reset_two_step(
    State(state): State<AppState>,
    bearer: Bearer,
    headers: HeaderMap,
    extensions: Extensions,
    Path(username): Path<String>,
) -> Result<StatusCode, AdminApiError> {
    let acting = administrator(&bearer, &headers, &extensions)?;
    admin::act_on_user(&state, &acting, &username, UserAction::ResetTwoStep, None)
        .await
        .map_err(refused(&acting))?;
    Ok(StatusCode::NO_CONTENT)
}
