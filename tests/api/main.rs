//! Integration tests: the real application on port 0 with a throw-away data directory, and the
//! real `gatehouse` binary for the command line.

mod cli;
mod health;
mod helpers;
mod oauth;
mod pages;
mod security;
mod sessions;
mod sign_in;
mod startup;
