//! The OAuth2 password flow for programs: `POST /token` (RFC 6749), the Bearer-protected JSON
//! API (RFC 6750) and its OpenAPI description. Same accounts, passwords, sessions and token
//! checks as the browser side.

pub mod api;
pub mod bearer;
pub mod openapi;
pub mod token;
