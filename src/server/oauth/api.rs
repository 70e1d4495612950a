//! The JSON API behind bearer tokens: the caller's own account and items.

use axum::Json;
use axum::extract::State;
use axum::http::StatusCode;
use axum::response::{IntoResponse, Response};
use serde::Serialize;
use utoipa::ToSchema;

use crate::server::auth::scopes;
use crate::server::oauth::bearer::{
    ApiError, Bearer, BearerError, MalformedCredentials, Unauthorized, Unavailable,
};
use crate::server::state::AppState;

/// `GET /api/users/me`.
#[derive(Serialize, ToSchema)]
pub struct Me {
    pub username: String,
    pub full_name: Option<String>,
    pub email: Option<String>,
    /// Always false: a disabled user's tokens are refused.
    pub disabled: bool,
    /// The scopes of the token used.
    pub scopes: Vec<String>,
}

/// One of the caller's items.
#[derive(Serialize, ToSchema)]
pub struct Item {
    pub id: i64,
    pub title: String,
    pub description: Option<String>,
}

/// The caller's own account (scope `me`).
#[utoipa::path(
    get,
    path = "/api/users/me",
    tag = "users",
    security(("oauth2" = ["me"])),
    responses(
        (status = 200, description = "The caller's account", body = Me),
        (status = 400, response = MalformedCredentials),
        (status = 401, response = Unauthorized),
        (status = 403, description = "The token lacks the scope me", body = ApiError),
        (status = 503, response = Unavailable),
    )
)]
pub async fn me(bearer: Bearer) -> Result<Json<Me>, BearerError> {
    let signed_in = bearer.require(scopes::ME)?;
    let user = &signed_in.user;
    Ok(Json(Me {
        username: user.username.clone(),
        full_name: user.full_name.clone(),
        email: user.email.clone(),
        disabled: user.disabled,
        scopes: signed_in
            .scope
            .split(' ')
            .filter(|scope| !scope.is_empty())
            .map(str::to_owned)
            .collect(),
    }))
}

/// The caller's items (scope `items`).
#[utoipa::path(
    get,
    path = "/api/users/me/items",
    tag = "users",
    security(("oauth2" = ["items"])),
    responses(
        (status = 200, description = "The caller's items", body = [Item]),
        (status = 400, response = MalformedCredentials),
        (status = 401, response = Unauthorized),
        (status = 403, description = "The token lacks the scope items", body = ApiError),
        (status = 503, response = Unavailable),
    )
)]
pub async fn my_items(State(state): State<AppState>, bearer: Bearer) -> Response {
    let signed_in = match bearer.require(scopes::ITEMS) {
        Ok(signed_in) => signed_in,
        Err(error) => return error.into_response(),
    };
    match state.store.items_of(signed_in.user.id).await {
        Ok(items) => Json(
            items
                .into_iter()
                .map(|item| Item {
                    id: item.id,
                    title: item.title,
                    description: item.description,
                })
                .collect::<Vec<_>>(),
        )
        .into_response(),
        Err(error) => {
            tracing::error!(error = format!("{error:#}"), "cannot list items");
            (
                StatusCode::SERVICE_UNAVAILABLE,
                Json(ApiError {
                    error: Some("temporarily_unavailable"),
                    error_description: "The items cannot be read right now; try again in a moment.".into(),
                }),
            )
                .into_response()
        }
    }
}
