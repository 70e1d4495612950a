//! `spawn_app()`: the real application, built like `main` builds it, on a free port and a fresh
//! data directory; and `gatehouse()`: the real binary, pointed at a data directory.

use std::io::Write;
use std::net::SocketAddr;
use std::path::Path;
use std::process::{Command, Output, Stdio};

use gatehouse::api::Login;
use gatehouse::domain::{FullName, Username};
use gatehouse::server::config::Settings;
use gatehouse::server::startup::Application;
use gatehouse::server::state::AppState;
use gatehouse::server::store::{NewUser, UserRow};
use leptos::server_fn::ServerFn;
use secrecy::SecretString;
use tempfile::TempDir;

pub struct TestApp {
    pub address: String,
    pub client: reqwest::Client,
    pub state: AppState,
    /// Kept so the directory lives as long as the app.
    pub data_dir: TempDir,
}

/// The password every test user gets unless a test says otherwise.
pub const PASSWORD: &str = "correct horse battery staple";

impl TestApp {
    pub async fn get(&self, path: &str) -> reqwest::Response {
        self.client
            .get(format!("{}{path}", self.address))
            .send()
            .await
            .expect("request failed")
    }

    /// A page load, as a browser asks for it.
    pub async fn get_page(&self, path: &str) -> reqwest::Response {
        self.client
            .get(format!("{}{path}", self.address))
            .header("accept", "text/html")
            .send()
            .await
            .expect("request failed")
    }

    /// Creates an active user named `username` ("Test <username>") with [`PASSWORD`].
    pub async fn add_user(&self, username: &str) -> UserRow {
        let password_hash = self
            .state
            .passwords
            .hash(&SecretString::from(PASSWORD))
            .await
            .unwrap();
        let new = NewUser {
            username: Username::parse(username).unwrap(),
            full_name: Some(FullName::parse(&format!("Test {username}")).unwrap()),
            email: None,
            password_hash,
            admin: false,
            disabled: false,
        };
        self.state.store.create_user(&new).await.unwrap()
    }

    /// Posts a form to a server function as a browser without JavaScript does.
    pub async fn post_form<F: ServerFn>(&self, form: &[(&str, &str)]) -> reqwest::Response {
        self.client
            .post(format!("{}{}", self.address, F::PATH))
            .header("origin", &self.address)
            .header("accept", "text/html")
            .header("referer", format!("{}/login", self.address))
            .form(form)
            .send()
            .await
            .expect("request failed")
    }

    /// Calls a server function as the hydrated app does (it accepts JSON, not HTML).
    pub async fn call<F: ServerFn>(&self, form: &[(&str, &str)]) -> reqwest::Response {
        self.client
            .post(format!("{}{}", self.address, F::PATH))
            .header("origin", &self.address)
            .header("accept", "application/json")
            .form(form)
            .send()
            .await
            .expect("request failed")
    }

    /// Signs in through the login form (no JavaScript); returns the response.
    pub async fn sign_in(&self, username: &str, password: &str, next: Option<&str>) -> reqwest::Response {
        let mut form = vec![("username", username), ("password", password)];
        if let Some(next) = next {
            form.push(("next", next));
        }
        self.post_form::<Login>(&form).await
    }

    /// A client of its own (another browser), with no cookies.
    pub fn other_browser(&self) -> reqwest::Client {
        reqwest::Client::builder()
            .cookie_store(true)
            .redirect(reqwest::redirect::Policy::none())
            .build()
            .unwrap()
    }
}

/// The `Set-Cookie` headers of a response.
pub fn set_cookies(response: &reqwest::Response) -> Vec<String> {
    response
        .headers()
        .get_all("set-cookie")
        .iter()
        .map(|value| value.to_str().unwrap().to_owned())
        .collect()
}

/// The access token a response sets.
pub fn access_token(response: &reqwest::Response) -> String {
    set_cookies(response)
        .iter()
        .find_map(|cookie| {
            cookie
                .strip_prefix("gatehouse_access=")?
                .split(';')
                .next()
                .map(str::to_owned)
        })
        .filter(|token| !token.is_empty())
        .expect("the response sets the access cookie")
}

pub fn location(response: &reqwest::Response) -> &str {
    response
        .headers()
        .get("location")
        .expect("a Location header")
        .to_str()
        .unwrap()
}

/// Builds and starts the application in a fresh temporary data directory.
pub async fn spawn_app() -> TestApp {
    let data_dir = tempfile::tempdir().unwrap();
    spawn_app_in(data_dir).await
}

/// Builds and starts the application on a given data directory (to test reopening one).
pub async fn spawn_app_in(data_dir: TempDir) -> TestApp {
    let settings = Settings::new(SocketAddr::from(([127, 0, 0, 1], 0)), data_dir.path());
    spawn_app_with(settings, data_dir).await
}

/// Builds and starts the application with the given settings.
pub async fn spawn_app_with(settings: Settings, data_dir: TempDir) -> TestApp {
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
