//! `spawn_app()`: the real application, built like `main` builds it, on a free port and a fresh
//! data directory; and `gatehouse()`: the real binary, pointed at a data directory.

use std::io::Write;
use std::net::SocketAddr;
use std::path::Path;
use std::process::{Command, Output, Stdio};

use gatehouse::server::config::Settings;
use gatehouse::server::startup::Application;
use gatehouse::server::state::AppState;
use tempfile::TempDir;

pub struct TestApp {
    pub address: String,
    pub client: reqwest::Client,
    pub state: AppState,
    /// Kept so the directory lives as long as the app.
    pub data_dir: TempDir,
}

impl TestApp {
    pub async fn get(&self, path: &str) -> reqwest::Response {
        self.client
            .get(format!("{}{path}", self.address))
            .send()
            .await
            .expect("request failed")
    }
}

/// Builds and starts the application in a fresh temporary data directory.
pub async fn spawn_app() -> TestApp {
    let data_dir = tempfile::tempdir().unwrap();
    spawn_app_in(data_dir).await
}

/// Builds and starts the application on a given data directory (to test reopening one).
pub async fn spawn_app_in(data_dir: TempDir) -> TestApp {
    let settings = Settings::new(SocketAddr::from(([127, 0, 0, 1], 0)), data_dir.path());
    let app = Application::build(settings)
        .await
        .expect("the application builds");
    let address = format!("http://{}", app.addr());
    let state = app.state().clone();
    tokio::spawn(app.run_until_stopped());
    // Keeps cookies and never follows redirects: tests look at each answer themselves.
    let client = reqwest::Client::builder()
        .cookie_store(true)
        .redirect(reqwest::redirect::Policy::none())
        .build()
        .unwrap();
    TestApp {
        address,
        client,
        state,
        data_dir,
    }
}

/// Runs the real `gatehouse` binary on `data_dir`, with `stdin` as its standard input.
pub fn gatehouse(data_dir: &Path, args: &[&str], stdin: &str) -> Output {
    let mut child = Command::new(env!("CARGO_BIN_EXE_gatehouse"))
        .args(args)
        .arg("--data-dir")
        .arg(data_dir)
        .env_remove("RUST_LOG")
        .stdin(Stdio::piped())
        .stdout(Stdio::piped())
        .stderr(Stdio::piped())
        .spawn()
        .expect("the gatehouse binary runs");
    // A command may exit before reading its input (a refused duplicate, say): ignore the broken pipe.
    let _ = child.stdin.take().unwrap().write_all(stdin.as_bytes());
    child.wait_with_output().unwrap()
}

pub fn stdout(output: &Output) -> String {
    String::from_utf8_lossy(&output.stdout).into_owned()
}

pub fn stderr(output: &Output) -> String {
    String::from_utf8_lossy(&output.stderr).into_owned()
}
