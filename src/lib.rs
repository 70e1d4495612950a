//! Gatehouse: sign-in and protected pages, the OAuth2 password flow done right.
//!
//! One crate, two builds. With the `ssr` feature it is the server (axum, the user store, the
//! `gatehouse` binary); with `hydrate` it is the WebAssembly bundle that brings the islands of the
//! server-rendered pages (their forms and live sections, `#[island]`) to life in the browser.
//!
//! # Layout
//!
//! - [`app`]: the HTML shell and the `<App/>` component with its router (both sides).
//! - `hydration` (`hydrate` only): the browser bundle's entry point.
//! - [`routes`]: the route table: every page with who may see it (both sides).
//! - [`pages`]: one routed component per file, rendered by the server only.
//! - [`components`]: views reused by several pages (the page layout with its header).
//! - [`api`]: the server functions and the wire types they exchange (both sides).
//! - [`domain`]: validated newtypes shared by both sides (`Username`, `Password`, ...).
//! - [`error`]: the one error type that crosses the wire.
//! - `server` (`ssr` only): settings, start-up, the user store, passwords, tokens, the one place
//!   that decides who is calling, and the `gatehouse user ...` commands. Nothing below it
//!   reaches the browser bundle.

pub mod api;
pub mod app;
pub mod components;
pub mod domain;
pub mod error;
pub mod pages;
pub mod routes;

#[cfg(feature = "ssr")]
pub mod server;

/// The browser bundle's entry point (`hydrate`, called by its loader).
#[cfg(feature = "hydrate")]
mod hydration;
