//! `GET /openapi.json`: the OpenAPI 3.1 description of the API, generated from the handlers.

use axum::Json;
use utoipa::openapi::security::{Flow, OAuth2, Password, Scopes, SecurityScheme};
use utoipa::{Modify, OpenApi};

use crate::server::oauth::{api, bearer, token};

#[derive(OpenApi)]
#[openapi(
    info(
        title = "Gatehouse API",
        description = "The OAuth2 password flow for first-party programs: get tokens at POST /token, \
                       then call the API with Authorization: Bearer."
    ),
    paths(token::token, api::me, api::my_items),
    components(schemas(token::TokenRequest, token::TokenResponse, token::OAuthError, api::Me, api::Item, bearer::ApiError)),
    modifiers(&PasswordFlow),
    tags((name = "oauth2", description = "Tokens (RFC 6749)"), (name = "users", description = "The caller's own data (RFC 6750)"))
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

/// The document, built once per request (it is small).
pub async fn openapi_json() -> Json<utoipa::openapi::OpenApi> {
    Json(ApiDoc::openapi())
}
