//! Integration tests: the real application on port 0 with throw-away data, and the real
//! `gatehouse` binary for the command line. `make test` runs them on SQLite and again on
//! PostgreSQL (see `helpers::TestData`).

mod admin;
mod admin_api;
mod attacks;
mod audit;
mod cli;
mod database;
mod health;
mod helpers;
mod instances;
mod mail;
mod metrics;
mod oauth;
mod pages;
mod passkeys;
mod security;
mod sessions;
mod setup;
mod sign_in;
mod startup;
mod two_step;
