//! Everything that runs only on the server: settings, start-up, the user store, passwords,
//! signing keys and the `gatehouse user|migrate|db ...` commands.
//!
//! Gated once, here, by the `ssr` feature: nothing below this module reaches the browser bundle.

pub mod admin;
pub mod audit;
pub mod auth;
pub mod bundle;
pub mod cli;
pub mod client;
pub mod clock;
pub mod config;
pub mod database_cli;
pub mod demo;
pub mod edge;
pub mod errors;
pub mod files;
pub mod health;
pub mod mail;
pub mod metrics;
pub mod oauth;
pub mod page_cache;
pub mod passkeys;
pub mod random;
pub mod security;
pub mod self_service;
pub mod setup;
pub mod startup;
pub mod state;
pub mod store;
pub mod telemetry;
pub mod two_step;

use std::process::ExitCode;

use clap::Parser;

use config::{Cli, Command};

/// Runs the `gatehouse` binary: `serve` (the default), or a `user`, `migrate` or `db` command.
///
/// Exit codes: 0 success, 1 failure (one line on stderr saying why), 2 usage error (from clap).
pub fn run_cli() -> ExitCode {
    let cli = Cli::parse();
    let command = cli.command.unwrap_or(Command::Serve(cli.serve));
    match &command {
        Command::Serve(args) => telemetry::init(true, args.log_format),
        _ => telemetry::init(false, config::LogFormat::Text),
    }

    let runtime = match tokio::runtime::Runtime::new() {
        Ok(runtime) => runtime,
        Err(error) => return fail(&anyhow::Error::new(error).context("Failed to start the async runtime")),
    };
    let outcome = runtime.block_on(async move {
        match command {
            Command::Serve(args) => {
                let settings = config::Settings::from_args(args);
                let app = startup::Application::build(settings).await?;
                app.run_until_stopped().await
            }
            Command::User(args) => cli::run(args).await,
            Command::Audit(args) => cli::audit(args).await,
            Command::Migrate(args) => database_cli::migrate(args).await,
            Command::Db(args) => database_cli::run(args).await,
        }
    });
    match outcome {
        Ok(()) => ExitCode::SUCCESS,
        Err(error) => fail(&error),
    }
}

/// Prints the whole cause chain on one line: operators read it in a terminal or a unit log.
fn fail(error: &anyhow::Error) -> ExitCode {
    eprintln!("gatehouse: {error:#}");
    ExitCode::FAILURE
}
