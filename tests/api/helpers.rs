//! `spawn_app()`: the real application, built like `main` builds it, on a free port and fresh
//! data; `TestData::gatehouse()`: the real binary, pointed at that data.
//!
//! With `GATEHOUSE_TEST_POSTGRES` set (see `store::scratch`), every test's data lives in a
//! PostgreSQL database of its own instead of SQLite: the same tests cover both backends.

use std::io::Write;
use std::net::SocketAddr;
use std::path::Path;
use std::process::{Command, Output, Stdio};
use std::sync::Arc;

use gatehouse::api::{CurrentUser, Login};
use gatehouse::domain::{FullName, Username};
use gatehouse::server::auth::password::PasswordHash;
use gatehouse::server::clock::Clock;
use gatehouse::server::config::{DEFAULT_SESSION_CACHE, DatabaseLocation, Settings, StoreSettings};
use gatehouse::server::startup::Application;
use gatehouse::server::state::AppState;
use gatehouse::server::store::scratch::ScratchDatabase;
use gatehouse::server::store::{NewUser, SessionRow, UserRow};
use leptos::server_fn::ServerFn;
use secrecy::SecretString;
use serde_json::Value;
use tempfile::TempDir;

pub struct TestApp {
    pub address: String,
    pub client: reqwest::Client,
    pub state: AppState,
    /// The site's public origin: what state-changing requests show as `Origin`.
    pub origin: String,
    /// Kept so the data lives as long as the app (shared with other instances of the site).
    pub data: Arc<TestData>,
    /// The application's clock: `app.clock.advance(...)` moves time for every rule.
    pub clock: Clock,
    /// `http://` + the metrics address, when the settings asked for one.
    pub metrics_address: Option<String>,
    /// The first-run setup link the app logged, when its store had no administrator.
    pub setup_link: Option<String>,
}

/// Where a test keeps its data: a temporary data directory (key file, SQLite) and, when the
/// suite runs on PostgreSQL, a scratch database of its own. Dropped at the end of the test.
pub struct TestData {
    pub dir: TempDir,
    database: Option<ScratchDatabase>,
}

impl TestData {
    pub async fn new() -> Self {
        // Private, as `gatehouse` would make it (it tightens, and warns, otherwise).
        let dir = tempfile::Builder::new()
            .permissions(std::os::unix::fs::PermissionsExt::from_mode(0o700))
            .tempdir()
            .unwrap();
        Self {
            dir,
            database: ScratchDatabase::create_if_requested().await,
        }
    }

    pub fn path(&self) -> &Path {
        self.dir.path()
    }

    /// The scratch PostgreSQL database, when the test runs on PostgreSQL.
    pub fn scratch(&self) -> Option<&ScratchDatabase> {
        self.database.as_ref()
    }

    /// `--database-url` when the test runs on PostgreSQL.
    pub fn database_url(&self) -> Option<String> {
        self.database.as_ref().map(ScratchDatabase::url)
    }

    pub fn store_settings(&self) -> StoreSettings {
        let mut settings = StoreSettings::in_data_dir(self.path());
        if let Some(url) = self.database_url() {
            settings.database = DatabaseLocation::Url(url);
        }
        settings
    }

    /// The defaults of `serve` on a free loopback port, on this data, with a manual clock:
    /// tests move time (`app.clock.advance`) instead of sleeping.
    pub fn settings(&self) -> Settings {
        let mut settings = Settings::new(SocketAddr::from(([127, 0, 0, 1], 0)), self.path());
        settings.store = StoreSettings {
            session_cache: DEFAULT_SESSION_CACHE,
            ..self.store_settings()
        };
        settings.clock = Clock::manual();
        settings
    }

    /// Runs the real `gatehouse` binary on this data, with `stdin` as its standard input.
    pub fn gatehouse(&self, args: &[&str], stdin: &str) -> Output {
        gatehouse_in(self.path(), self.database_url().as_deref(), args, stdin)
    }
}

/// The password every test user gets unless a test says otherwise.
pub const PASSWORD: &str = "correct horse battery staple";

impl TestApp {
    /// Waits until the app hears of other instances' changes (its LISTEN connection is up on
    /// PostgreSQL; at once on SQLite), or stops hearing them: until it does, its session cache
    /// is not used, and a test of the cache would prove nothing. Polls; the bound is generous
    /// for a busy machine.
    pub async fn until_listening(&self, listening: bool) {
        let deadline = std::time::Instant::now() + std::time::Duration::from_secs(30);
        while self.state.store.hears_other_instances() != listening {
            assert!(
                std::time::Instant::now() < deadline,
                "the listener never became {listening}"
            );
            tokio::time::sleep(std::time::Duration::from_millis(10)).await;
        }
    }

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

    /// Creates an active administrator named `username` with [`PASSWORD`].
    pub async fn add_admin(&self, username: &str) -> UserRow {
        self.add_user(username).await;
        let name = Username::parse(username).unwrap();
        self.state.store.set_admin(&name, true).await.unwrap();
        self.state.store.existing_user(&name).await.unwrap()
    }

    /// Posts a form to a server function as a browser without JavaScript does.
    pub async fn post_form<F: ServerFn>(&self, form: &[(&str, &str)]) -> reqwest::Response {
        self.post_form_from::<F>(&self.client, form).await
    }

    /// Posts a form to a server function from `browser`, as a browser without JavaScript does.
    pub async fn post_form_from<F: ServerFn>(
        &self,
        browser: &reqwest::Client,
        form: &[(&str, &str)],
    ) -> reqwest::Response {
        browser
            .post(format!("{}{}", self.address, F::PATH))
            .header("origin", &self.origin)
            .header("accept", "text/html")
            .header("referer", format!("{}/login", self.address))
            .form(form)
            .send()
            .await
            .expect("request failed")
    }

    /// Calls a server function as the hydrated app does (it accepts JSON, not HTML).
    pub async fn call<F: ServerFn>(&self, form: &[(&str, &str)]) -> reqwest::Response {
        self.call_from(&self.client, F::PATH)
            .form(form)
            .send()
            .await
            .expect("request failed")
    }

    /// A call of the server function at `path` as the hydrated app in `browser` sends it, to
    /// add headers and a body to.
    pub fn call_from(&self, browser: &reqwest::Client, path: &str) -> reqwest::RequestBuilder {
        browser
            .post(format!("{}{path}", self.address))
            .header("origin", &self.origin)
            .header("accept", "application/json")
    }

    /// Signs in through the login form (no JavaScript); returns the response.
    pub async fn sign_in(&self, username: &str, password: &str, next: Option<&str>) -> reqwest::Response {
        let mut form = vec![("username", username), ("password", password)];
        if let Some(next) = next {
            form.push(("next", next));
        }
        self.post_form::<Login>(&form).await
    }

    /// A `POST /token` request from `client` (this app's or another), to add headers and a form to.
    pub fn token_request(&self, client: &reqwest::Client) -> reqwest::RequestBuilder {
        client.post(format!("{}/token", self.address))
    }

    /// Posts a form to `POST /token`.
    pub async fn token(&self, form: &[(&str, &str)]) -> reqwest::Response {
        self.token_request(&self.client).form(form).send().await.unwrap()
    }

    /// The user's live sessions, most recently used first, as the store has them now.
    pub async fn live_sessions(&self, user_id: i64) -> Vec<SessionRow> {
        self.state
            .store
            .sessions_of(user_id, self.clock.now())
            .await
            .unwrap()
    }

    /// The tokens of a successful password grant for `username` (with [`PASSWORD`]).
    pub async fn password_grant(&self, username: &str) -> Value {
        let response = self
            .token(&[
                ("grant_type", "password"),
                ("username", username),
                ("password", PASSWORD),
            ])
            .await;
        assert_eq!(response.status(), 200);
        response.json().await.unwrap()
    }

    /// The access token of a successful password grant for `username`.
    pub async fn bearer_token(&self, username: &str) -> String {
        self.password_grant(username).await["access_token"]
            .as_str()
            .unwrap()
            .to_owned()
    }

    /// A refresh-token grant.
    pub async fn refresh(&self, refresh_token: &str) -> reqwest::Response {
        self.token(&[("grant_type", "refresh_token"), ("refresh_token", refresh_token)])
            .await
    }

    /// A Bearer API call.
    pub async fn api(&self, path: &str, token: &str) -> reqwest::Response {
        self.client
            .get(format!("{}{path}", self.address))
            .bearer_auth(token)
            .send()
            .await
            .unwrap()
    }

    /// Signs in through the login form with "keep me signed in" ticked.
    pub async fn sign_in_remembered(&self, username: &str) -> reqwest::Response {
        self.post_form::<Login>(&[("username", username), ("password", PASSWORD), ("remember", "on")])
            .await
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

/// A user to store directly, with a placeholder instead of a real hash: for tests about the
/// store itself, where no one signs in and argon2's time would be wasted.
pub fn user_without_password(username: &str) -> NewUser {
    NewUser {
        username: Username::parse(username).unwrap(),
        full_name: None,
        email: None,
        password_hash: PasswordHash::from_stored("$argon2id$kept".into()),
        admin: false,
        disabled: false,
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

/// Calls server function `F` from `browser` as the hydrated app does.
pub async fn call<F: ServerFn>(
    app: &TestApp,
    browser: &reqwest::Client,
    form: &[(&str, &str)],
) -> reqwest::Response {
    app.call_from(browser, F::PATH).form(form).send().await.unwrap()
}

/// The status and the error a call answered with.
pub async fn error_of(response: reqwest::Response) -> (u16, Value) {
    (response.status().as_u16(), response.json().await.unwrap())
}

/// Whether the dashboard's `html` greets `name` (Leptos may mark the text's start for
/// hydration).
pub fn greets(html: &str, name: &str) -> bool {
    html.contains(&format!("Welcome, {name}")) || html.contains(&format!("Welcome, <!>{name}"))
}

/// A new browser signed in as `username` with [`PASSWORD`] (no second factor).
pub async fn signed_in(app: &TestApp, username: &str) -> reqwest::Client {
    let browser = app.other_browser();
    let response = app
        .post_form_from::<Login>(&browser, &[("username", username), ("password", PASSWORD)])
        .await;
    assert_eq!(location(&response), "/dashboard");
    browser
}

/// Who `browser` is signed in as (`current_user`'s answer; `null` for nobody).
pub async fn current_user(app: &TestApp, browser: &reqwest::Client) -> Value {
    call::<CurrentUser>(app, browser, &[]).await.json().await.unwrap()
}

/// Builds and starts the application on fresh data.
pub async fn spawn_app() -> TestApp {
    let data = TestData::new().await;
    spawn_app_with(data.settings(), data).await
}

/// Starts the application again on the data of a stopped one (to test reopening it).
pub async fn spawn_app_again(stopped: TestApp) -> TestApp {
    stopped.state.store.close().await;
    let settings = stopped.data.settings();
    spawn_app_with(settings, stopped.data).await
}

/// Builds and starts the application with the given settings (made from `data.settings()`).
pub async fn spawn_app_with(settings: Settings, data: impl Into<Arc<TestData>>) -> TestApp {
    let app = Application::build(settings)
        .await
        .expect("the application builds");
    let address = format!("http://{}", app.addr());
    let metrics_address = app.metrics_addr().map(|addr| format!("http://{addr}"));
    let setup_link = app.setup_link().map(str::to_owned);
    let state = app.state().clone();
    let origin = state.public_url.origin().to_owned();
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
        clock: state.clock.clone(),
        state,
        origin,
        data: data.into(),
        metrics_address,
        setup_link,
    }
}

/// Runs the real `gatehouse` binary on `data_dir` (and `database_url` when given), with `stdin`
/// as its standard input.
pub fn gatehouse_in(data_dir: &Path, database_url: Option<&str>, args: &[&str], stdin: &str) -> Output {
    let mut command = Command::new(env!("CARGO_BIN_EXE_gatehouse"));
    command.args(args).arg("--data-dir").arg(data_dir);
    match database_url {
        Some(url) => command.env("GATEHOUSE_DATABASE_URL", url),
        None => command.env_remove("GATEHOUSE_DATABASE_URL"),
    };
    let mut child = command
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
