//! Integration tests: the real application on port 0 with throw-away data, and the real
//! `gatehouse` binary for the command line. `make test` runs them on SQLite and again on
//! PostgreSQL (see `helpers::TestData`).

mod attacks;
mod cli;
mod database;
mod health;
mod helpers;
mod instances;
mod metrics;
mod oauth;
mod pages;
mod security;
mod sessions;
mod sign_in;
mod startup;
