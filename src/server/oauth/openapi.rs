//! `GET /openapi.json`: the OpenAPI 3.1 description of the API, generated from the handlers.

use anyhow::Context;
use axum::body::Bytes;
use axum::http::{HeaderValue, header};
use axum::response::{IntoResponse, Response};
use utoipa::openapi::security::{Flow, OAuth2, Password, Scopes, SecurityScheme};
use utoipa::{Modify, OpenApi};

use crate::server::admin::api as admin_api;
use crate::server::oauth::{api, bearer, token};

#[derive(OpenApi)]
#[openapi(
    info(
        title = "Gatehouse API",
        description = "The OAuth2 password flow for first-party programs: get tokens at POST /token, \
                       then call the API with Authorization: Bearer."
    ),
    paths(
        token::token, api::me, api::my_items,
        admin_api::list, admin_api::create, admin_api::get_user, admin_api::change, admin_api::delete,
        admin_api::temporary_password, admin_api::end_sessions, admin_api::reset_two_step
    ),
    components(schemas(
        token::TokenRequest, token::TokenResponse, token::OAuthError, api::Me, api::Item, bearer::ApiError,
        admin_api::AdminUser, admin_api::AdminUserPage, admin_api::NewUserRequest, admin_api::UserChanges,
        admin_api::TemporaryPassword, admin_api::Ended
    ), responses(
        bearer::MalformedCredentials, bearer::Unauthorized, bearer::Unavailable,
        admin_api::NotAnAdministrator, admin_api::NoSuchUser
    )),
    modifiers(&PasswordFlow),
    tags(
        (name = "oauth2", description = "Tokens (RFC 6749)"),
        (name = "users", description = "The caller's own data (RFC 6750)"),
        (name = "admin", description = "User administration for administrators' scripts (scope admin)")
    )
)]
struct ApiDoc;

/// Declares the OAuth2 password flow and its scopes as the API's security scheme.
struct PasswordFlow;

impl Modify for PasswordFlow {
    fn modify(&self, openapi: &mut utoipa::openapi::OpenApi) {
        let scopes = Scopes::from_iter([
            ("me", "Read your own account"),
            ("items", "Read your own items"),
            ("admin", "Administer users (admins only)"),
        ]);
        let flow = Flow::Password(Password::with_refresh_url("/token", scopes, "/token"));
        openapi
            .components
            .get_or_insert_with(Default::default)
            .add_security_scheme("oauth2", SecurityScheme::OAuth2(OAuth2::new([flow])));
    }
}

/// The document, serialized once at start-up: it is the same for every request and every
/// visitor, so a request costs a copy of a reference, not a rebuild.
#[derive(Clone)]
pub struct OpenApiDocument(Bytes);

impl OpenApiDocument {
    /// # Errors
    /// The document cannot be serialized (a bug in its declaration).
    pub fn build() -> anyhow::Result<Self> {
        let json = ApiDoc::openapi()
            .to_json()
            .context("Failed to serialize the OpenAPI document")?;
        Ok(Self(Bytes::from(json)))
    }
}

impl IntoResponse for OpenApiDocument {
    fn into_response(self) -> Response {
        (
            [(header::CONTENT_TYPE, HeaderValue::from_static("application/json"))],
            self.0,
        )
            .into_response()
    }
}
