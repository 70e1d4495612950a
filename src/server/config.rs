//! Settings: the only place that reads command-line flags and `GATEHOUSE_*` environment variables.
//!
//! `clap` parses both (every flag has an environment twin); the result is turned once into plain
//! [`Settings`] that start-up and the commands receive. Tests build `Settings` directly.

use std::net::{IpAddr, SocketAddr};
use std::path::{Path, PathBuf};
use std::time::Duration;

use axum::http::Uri;
use clap::{Args, Parser, Subcommand};
use ipnet::IpNet;

use crate::domain::{Email, FullName, Username};
use crate::server::clock::Clock;

/// Command line of the `gatehouse` binary.
#[derive(Debug, Parser)]
#[command(
    name = "gatehouse",
    version,
    about = "Sign-in and protected pages: the OAuth2 password flow, served by one binary.",
    long_about = "Sign-in and protected pages: the OAuth2 password flow, served by one binary.\n\n\
                  Without a command, `gatehouse` serves the site (the same as `gatehouse serve`). \
                  Every flag can also be set through an environment variable GATEHOUSE_<FLAG>.",
    args_conflicts_with_subcommands = true
)]
pub struct Cli {
    #[command(subcommand)]
    pub command: Option<Command>,
    #[command(flatten)]
    pub serve: ServeArgs,
}

#[derive(Debug, Subcommand)]
pub enum Command {
    /// Serve the site (what runs when no command is given).
    Serve(ServeArgs),
    /// Manage the user accounts in the store.
    User(UserArgs),
    /// Read the audit log: who did what to which account, when and from where.
    Audit(AuditArgs),
    /// Apply the database migrations this build has, then exit (`serve` applies them too).
    Migrate(MigrateArgs),
    /// Database chores: copy a whole store between SQLite and PostgreSQL.
    Db(DbArgs),
}

/// `gatehouse audit ...`.
#[derive(Debug, Args)]
pub struct AuditArgs {
    #[command(flatten)]
    pub store: StoreArgs,
    #[command(subcommand)]
    pub action: AuditCommand,
}

#[derive(Debug, Subcommand)]
pub enum AuditCommand {
    /// List events, newest first.
    List {
        /// Only events by or about this user.
        #[arg(long, value_name = "NAME")]
        user: Option<String>,
        /// Only events of the last DURATION, e.g. 90m, 24h, 30d.
        #[arg(long, value_name = "DURATION", value_parser = parse_duration)]
        since: Option<Duration>,
        /// Most events listed.
        #[arg(long, default_value_t = 100, value_name = "COUNT", value_parser = clap::value_parser!(u32).range(1..=100_000))]
        limit: u32,
        /// One JSON array instead of a table.
        #[arg(long)]
        json: bool,
    },
}

/// `gatehouse migrate`.
#[derive(Debug, Args)]
pub struct MigrateArgs {
    #[command(flatten)]
    pub store: StoreArgs,
}

/// `gatehouse db ...`.
#[derive(Debug, Args)]
pub struct DbArgs {
    #[command(subcommand)]
    pub action: DbAction,
}

#[derive(Debug, Subcommand)]
pub enum DbAction {
    /// Copy every user, session, refresh token and item from one database to another, e.g.
    /// `gatehouse db copy --from data/gatehouse.db --to postgres://gatehouse@db/gatehouse`.
    Copy {
        /// The database to read: postgres://..., sqlite:PATH, or the path of a SQLite file.
        #[arg(long, value_name = "URL", value_parser = DatabaseLocation::parse)]
        from: DatabaseLocation,
        /// The database to write (migrated first; a SQLite file is created when missing).
        #[arg(long, value_name = "URL", value_parser = DatabaseLocation::parse)]
        to: DatabaseLocation,
        /// Replace whatever the target holds; without it a non-empty target is refused.
        #[arg(long)]
        overwrite: bool,
    },
}

/// Flags of `gatehouse serve`.
#[derive(Debug, Args)]
pub struct ServeArgs {
    /// Address to listen on (wins over LEPTOS_SITE_ADDR). Port 0 picks a free port.
    #[arg(
        long,
        env = "GATEHOUSE_ADDR",
        default_value = "127.0.0.1:3000",
        value_name = "HOST:PORT"
    )]
    pub addr: SocketAddr,

    /// The origin people reach the site at, e.g. https://login.example.com [default: http://ADDR].
    /// An https origin turns on Secure, __Host- cookies and HSTS.
    #[arg(long, env = "GATEHOUSE_PUBLIC_URL", value_name = "URL", value_parser = PublicUrl::parse)]
    pub public_url: Option<PublicUrl>,

    #[command(flatten)]
    pub store: StoreArgs,

    /// Lifetime of an access token, e.g. 90s, 15m, 12h, 30d.
    #[arg(long, env = "GATEHOUSE_ACCESS_TTL", default_value = "15m", value_name = "DURATION", value_parser = parse_duration)]
    pub access_ttl: Duration,

    /// Absolute lifetime of a refresh token (and so of a session), e.g. 30d.
    #[arg(long, env = "GATEHOUSE_REFRESH_TTL", default_value = "30d", value_name = "DURATION", value_parser = parse_duration)]
    pub refresh_ttl: Duration,

    /// A browser session without "keep me signed in" ends after this long without use.
    #[arg(long, env = "GATEHOUSE_SESSION_IDLE", default_value = "12h", value_name = "DURATION", value_parser = parse_duration)]
    pub session_idle: Duration,

    /// Serve HTTPS directly with this certificate chain (PEM); needs --tls-key. Behind a reverse
    /// proxy that ends TLS, leave it out and set --public-url to the https origin.
    #[arg(long, env = "GATEHOUSE_TLS_CERT", value_name = "PATH", requires = "tls_key")]
    pub tls_cert: Option<PathBuf>,

    /// The private key (PEM) of --tls-cert.
    #[arg(long, env = "GATEHOUSE_TLS_KEY", value_name = "PATH", requires = "tls_cert")]
    pub tls_key: Option<PathBuf>,

    /// A reverse proxy (address or network, e.g. 10.0.0.0/8; repeat or separate with commas)
    /// whose X-Forwarded-For is believed. From any other peer the header is ignored.
    #[arg(long = "trusted-proxy", env = "GATEHOUSE_TRUSTED_PROXY", value_name = "ADDR[/BITS]",
          value_delimiter = ',', value_parser = parse_network)]
    pub trusted_proxies: Vec<IpNet>,

    /// Turn off the OAuth2 password grant at POST /token (refresh tokens keep working).
    #[arg(long, env = "GATEHOUSE_DISABLE_PASSWORD_GRANT")]
    pub disable_password_grant: bool,

    /// Most live sessions one user may hold (browsers and programs together); signing in once
    /// more ends the least recently used.
    #[arg(long, env = "GATEHOUSE_MAX_SESSIONS_PER_USER", default_value_t = DEFAULT_MAX_SESSIONS_PER_USER,
          value_name = "COUNT", value_parser = clap::value_parser!(u32).range(1..))]
    pub max_sessions_per_user: u32,

    /// How long audit events are kept, e.g. 90d; older ones are deleted.
    #[arg(long, env = "GATEHOUSE_AUDIT_RETENTION", default_value = "365d", value_name = "DURATION", value_parser = parse_duration)]
    pub audit_retention: Duration,

    /// Most live sessions kept in memory, so that checking a request's token needs no database
    /// read (0 turns the cache off). Revocation stays instant either way.
    #[arg(long, env = "GATEHOUSE_SESSION_CACHE", default_value_t = DEFAULT_SESSION_CACHE, value_name = "COUNT")]
    pub session_cache: usize,

    /// Serve Prometheus metrics at http://HOST:PORT/metrics (off unless given). Keep it on a
    /// private address: the metrics are for operators, not for the public.
    #[arg(long, env = "GATEHOUSE_METRICS_ADDR", value_name = "HOST:PORT")]
    pub metrics_addr: Option<SocketAddr>,

    /// How log lines are written on stderr: `text` for people, `json` (one object a line) for
    /// log shippers.
    #[arg(long, env = "GATEHOUSE_LOG_FORMAT", value_enum, default_value_t = LogFormat::Text)]
    pub log_format: LogFormat,

    /// Send mail through this SMTP server: smtp://USER:PASSWORD@HOST:PORT (STARTTLS required;
    /// add ?tls=none only for a server on this machine) or smtps://... (TLS from the start).
    #[arg(long, env = "GATEHOUSE_SMTP_URL", value_name = "URL", value_parser = SmtpUrl::parse, conflicts_with = "mail_dir")]
    pub smtp_url: Option<SmtpUrl>,

    /// Write each message as a .eml file into this directory instead of sending it (for
    /// development and tests).
    #[arg(long, env = "GATEHOUSE_MAIL_DIR", value_name = "DIR")]
    pub mail_dir: Option<PathBuf>,

    /// The sender of the site's mail, e.g. "Example <no-reply@example.com>".
    #[arg(long, env = "GATEHOUSE_MAIL_FROM", value_name = "ADDRESS")]
    pub mail_from: Option<String>,

    /// The site's name in page titles' place in mail: "Reset your <SITE> password".
    #[arg(long, env = "GATEHOUSE_SITE_NAME", default_value = DEFAULT_SITE_NAME, value_name = "NAME")]
    pub site_name: String,

    /// How long a mailed link (password reset, address check, sign-up) works.
    #[arg(long, env = "GATEHOUSE_EMAIL_LINK_TTL", default_value = "30m", value_name = "DURATION", value_parser = parse_duration)]
    pub email_link_ttl: Duration,

    /// Let anyone create an account at /signup (usable once its e-mail address is confirmed).
    #[arg(long, env = "GATEHOUSE_ALLOW_SIGNUP")]
    pub allow_signup: bool,

    /// Create the tutorial's demo users (johndoe, and alice disabled; password "password1") when
    /// missing. Only allowed on a loopback address.
    #[arg(long, env = "GATEHOUSE_DEMO")]
    pub demo: bool,

    /// For the browser tests only: the server's time is the system time plus the seconds
    /// written in this file, so that a test lets an hour pass without waiting for it. Only
    /// allowed on a loopback address; hidden from --help.
    #[arg(long, value_name = "PATH", hide = true)]
    pub clock_file: Option<PathBuf>,
}

/// Where the data lives: shared by `serve` and the `user` commands so both can use one store.
#[derive(Debug, Args)]
pub struct StoreArgs {
    /// Directory for the SQLite database and the generated signing key; created when missing.
    #[arg(
        long,
        env = "GATEHOUSE_DATA_DIR",
        default_value = "./data",
        value_name = "DIR",
        global = true
    )]
    pub data_dir: PathBuf,

    /// Database to use instead of SQLite in the data directory: postgres://USER@HOST/DATABASE
    /// (for several instances serving one site) or sqlite:PATH.
    #[arg(long, env = "GATEHOUSE_DATABASE_URL", value_name = "URL", global = true)]
    pub database_url: Option<String>,

    /// Most connections this process opens to PostgreSQL (SQLite uses a few of its own).
    #[arg(long, env = "GATEHOUSE_DATABASE_POOL_SIZE", default_value_t = DEFAULT_POOL_SIZE,
          value_name = "N", value_parser = clap::value_parser!(u32).range(1..=1000), global = true)]
    pub database_pool_size: u32,

    /// File holding the token signing key (at least 32 bytes) [default: DIR/signing.key,
    /// generated when missing]. Instances that serve one site must share it.
    #[arg(long, env = "GATEHOUSE_KEY_FILE", value_name = "PATH", global = true)]
    pub key_file: Option<PathBuf>,
}

/// `gatehouse user ...`.
#[derive(Debug, Args)]
pub struct UserArgs {
    #[command(flatten)]
    pub store: StoreArgs,
    #[command(subcommand)]
    pub action: UserAction,
}

#[derive(Debug, Subcommand)]
pub enum UserAction {
    /// Create a user; the password is read as one line from standard input.
    Add {
        #[arg(value_parser = |raw: &str| Username::parse(raw))]
        username: Username,
        /// The name the user is greeted by.
        #[arg(long, value_parser = |raw: &str| FullName::parse(raw))]
        full_name: Option<FullName>,
        #[arg(long, value_parser = |raw: &str| Email::parse(raw))]
        email: Option<Email>,
        /// Allow the user to administer other users.
        #[arg(long)]
        admin: bool,
        /// Create the account disabled: it cannot sign in until enabled.
        #[arg(long)]
        disabled: bool,
    },
    /// Set a user's password (read from standard input) and end their sessions.
    Passwd {
        #[arg(value_parser = |raw: &str| Username::parse(raw))]
        username: Username,
        /// A password the user must replace with their own at their next sign-in.
        #[arg(long)]
        temporary: bool,
    },
    /// Stop a user from signing in and end their sessions.
    Disable {
        #[arg(value_parser = |raw: &str| Username::parse(raw))]
        username: Username,
    },
    /// Let a disabled user sign in again.
    Enable {
        #[arg(value_parser = |raw: &str| Username::parse(raw))]
        username: Username,
    },
    /// Remove a user's two-step sign-in (check who is asking some other way first) and end
    /// their sessions: they sign in with their password alone, and may turn it on again.
    ResetMfa {
        #[arg(value_parser = |raw: &str| Username::parse(raw))]
        username: Username,
    },
    /// List all users.
    List {
        /// Print a JSON array instead of a table.
        #[arg(long)]
        json: bool,
    },
}

/// How log lines are written.
#[derive(Debug, Clone, Copy, PartialEq, Eq, clap::ValueEnum)]
pub enum LogFormat {
    Text,
    Json,
}

/// Everything `serve` needs, resolved from flags, environment and defaults.
#[derive(Debug, Clone)]
pub struct Settings {
    pub addr: SocketAddr,
    /// `None` means "http(s):// + the address actually bound" (known only after binding port 0).
    pub public_url: Option<PublicUrl>,
    pub store: StoreSettings,
    pub access_ttl: Duration,
    pub refresh_ttl: Duration,
    pub session_idle: Duration,
    pub disable_password_grant: bool,
    pub demo: bool,
    /// Reverse proxies whose `X-Forwarded-For` names the client.
    pub trusted_proxies: Vec<IpNet>,
    /// Serve HTTPS with this certificate and key instead of plain HTTP.
    pub tls: Option<TlsFiles>,
    /// Most live sessions one user may hold; starting one more ends the oldest.
    pub max_sessions_per_user: u32,
    /// Where to serve Prometheus metrics; `None`: nowhere, and nothing is counted.
    pub metrics_addr: Option<SocketAddr>,
    /// Audit events older than this are deleted.
    pub audit_retention: Duration,
    /// How mail is sent, and what it says the site is.
    pub mail: MailSettings,
    /// Anyone may create an account at `/signup`.
    pub allow_signup: bool,
    /// The system clock, except in tests: a manual one in the Rust tests, the hidden
    /// `--clock-file` in the browser tests.
    pub clock: Clock,
}

/// How the site sends mail.
#[derive(Debug, Clone)]
pub struct MailSettings {
    pub transport: MailTransport,
    /// The sender, as `--mail-from` says (checked when the mailer is made).
    pub from: String,
    pub site_name: String,
    /// How long a mailed link works.
    pub link_ttl: Duration,
    /// Not a flag: the pause after a failed delivery, doubled after each (tests shorten it).
    pub first_retry_pause: Duration,
}

/// Where mail goes.
#[derive(Debug, Clone)]
pub enum MailTransport {
    Smtp(SmtpUrl),
    Dir(PathBuf),
    /// Nowhere but the log.
    Log,
}

/// The site's name when `--site-name` is not given.
pub const DEFAULT_SITE_NAME: &str = "Gatehouse";

impl MailSettings {
    /// No mail configured: messages go to the log.
    pub fn to_log() -> Self {
        Self {
            transport: MailTransport::Log,
            from: format!("{DEFAULT_SITE_NAME} <no-reply@localhost>"),
            site_name: DEFAULT_SITE_NAME.to_owned(),
            link_ttl: Duration::from_secs(30 * 60),
            first_retry_pause: Duration::from_secs(2),
        }
    }
}

/// `--smtp-url`: it may carry a password, so it is never printed (its `Debug` shows the host).
#[derive(Clone, PartialEq, Eq)]
pub struct SmtpUrl {
    /// As lettre reads it: `smtp://` without a `tls` parameter means plain text there, so
    /// STARTTLS is asked for explicitly.
    lettre_url: String,
    host: String,
}

impl SmtpUrl {
    /// `smtp://[USER:PASSWORD@]HOST[:PORT][?tls=required|opportunistic|none]` (STARTTLS
    /// required unless said otherwise) or `smtps://...` (TLS from the first byte).
    ///
    /// # Errors
    /// A message saying what is wrong, never repeating the URL (it may hold a password).
    pub fn parse(raw: &str) -> Result<Self, String> {
        let uri: Uri = raw.parse().map_err(|_| "--smtp-url is not a URL".to_owned())?;
        let scheme = uri.scheme_str().map(str::to_ascii_lowercase);
        let Some(authority) = uri.authority() else {
            return Err("--smtp-url needs a host, e.g. smtp://mail.example.com:587".into());
        };
        let host = authority.host().to_owned();
        let tls = uri.query().and_then(|query| {
            query
                .split('&')
                .find_map(|pair| pair.strip_prefix("tls="))
                .map(str::to_owned)
        });
        let base = raw.split('?').next().unwrap_or(raw);
        let lettre_url = match (scheme.as_deref(), tls.as_deref()) {
            (Some("smtp"), None | Some("required")) => format!("{base}?tls=required"),
            (Some("smtp"), Some("opportunistic")) => format!("{base}?tls=opportunistic"),
            // lettre's plain SMTP: no `tls` parameter at all.
            (Some("smtp"), Some("none")) => base.to_owned(),
            (Some("smtps"), None) => base.to_owned(),
            (Some("smtp" | "smtps"), Some(other)) => {
                return Err(format!(
                    "--smtp-url: tls={other} is not one of required, opportunistic, none"
                ));
            }
            _ => return Err("--smtp-url starts with smtp:// (STARTTLS) or smtps:// (TLS)".into()),
        };
        Ok(Self { lettre_url, host })
    }

    /// The URL in lettre's spelling.
    pub fn for_lettre(&self) -> &str {
        &self.lettre_url
    }
}

impl std::fmt::Debug for SmtpUrl {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        write!(f, "SmtpUrl({}, credentials hidden)", self.host)
    }
}

/// The PEM files of `--tls-cert` and `--tls-key`.
#[derive(Debug, Clone)]
pub struct TlsFiles {
    pub cert: PathBuf,
    pub key: PathBuf,
}

impl Settings {
    /// The defaults of `gatehouse serve`, with the data kept in `data_dir`.
    pub fn new(addr: SocketAddr, data_dir: impl Into<PathBuf>) -> Self {
        Self {
            addr,
            public_url: None,
            store: StoreSettings {
                session_cache: DEFAULT_SESSION_CACHE,
                ..StoreSettings::in_data_dir(data_dir)
            },
            access_ttl: Duration::from_secs(15 * 60),
            refresh_ttl: Duration::from_secs(30 * 24 * 60 * 60),
            session_idle: Duration::from_secs(12 * 60 * 60),
            disable_password_grant: false,
            demo: false,
            trusted_proxies: Vec::new(),
            tls: None,
            max_sessions_per_user: DEFAULT_MAX_SESSIONS_PER_USER,
            metrics_addr: None,
            audit_retention: Duration::from_secs(365 * 24 * 60 * 60),
            mail: MailSettings::to_log(),
            allow_signup: false,
            clock: Clock::system(),
        }
    }

    pub fn from_args(args: ServeArgs) -> Self {
        Self {
            addr: args.addr,
            public_url: args.public_url,
            store: StoreSettings {
                session_cache: args.session_cache,
                ..StoreSettings::from_args(args.store)
            },
            access_ttl: args.access_ttl,
            refresh_ttl: args.refresh_ttl,
            session_idle: args.session_idle,
            disable_password_grant: args.disable_password_grant,
            demo: args.demo,
            trusted_proxies: args.trusted_proxies,
            tls: args
                .tls_cert
                .zip(args.tls_key)
                .map(|(cert, key)| TlsFiles { cert, key }),
            max_sessions_per_user: args.max_sessions_per_user,
            metrics_addr: args.metrics_addr,
            audit_retention: args.audit_retention,
            mail: MailSettings {
                transport: match (args.smtp_url, args.mail_dir) {
                    (Some(url), _) => MailTransport::Smtp(url),
                    (None, Some(dir)) => MailTransport::Dir(dir),
                    (None, None) => MailTransport::Log,
                },
                from: args
                    .mail_from
                    .unwrap_or_else(|| format!("{} <no-reply@localhost>", args.site_name)),
                site_name: args.site_name,
                link_ttl: args.email_link_ttl,
                ..MailSettings::to_log()
            },
            allow_signup: args.allow_signup,
            clock: args.clock_file.map_or_else(Clock::system, Clock::offset_by_file),
        }
    }
}

/// Where the store and the signing key live.
#[derive(Debug, Clone)]
pub struct StoreSettings {
    pub data_dir: PathBuf,
    pub database: DatabaseLocation,
    pub key_file: PathBuf,
    /// Most PostgreSQL connections of this process.
    pub pool_size: u32,
    /// Most live sessions kept in memory (0: none; the `user` commands keep none).
    pub session_cache: usize,
}

/// Enough for every device and script a person runs; few enough that a loop of password
/// grants cannot fill the store.
pub const DEFAULT_MAX_SESSIONS_PER_USER: u32 = 100;

/// Sessions a server keeps in memory: about 5 MB, and enough that a busy site's active
/// sessions are all there.
pub const DEFAULT_SESSION_CACHE: usize = 10_000;

/// PostgreSQL's default limit is 100 connections: ten instances of ten each.
pub const DEFAULT_POOL_SIZE: u32 = 10;

impl StoreSettings {
    /// SQLite and the key file, both inside `data_dir`.
    pub fn in_data_dir(data_dir: impl Into<PathBuf>) -> Self {
        let data_dir = data_dir.into();
        Self {
            database: DatabaseLocation::SqliteFile(data_dir.join("gatehouse.db")),
            key_file: default_key_file(&data_dir),
            data_dir,
            pool_size: DEFAULT_POOL_SIZE,
            session_cache: 0,
        }
    }

    /// Just a database (what `db copy` opens): no key file is read or made.
    pub fn for_database(database: DatabaseLocation) -> Self {
        Self {
            database,
            ..Self::in_data_dir(PathBuf::new())
        }
    }

    pub fn from_args(args: StoreArgs) -> Self {
        let mut settings = Self::in_data_dir(args.data_dir);
        if let Some(url) = args.database_url {
            settings.database = DatabaseLocation::Url(url);
        }
        if let Some(key_file) = args.key_file {
            settings.key_file = key_file;
        }
        settings.pool_size = args.database_pool_size;
        settings
    }
}

fn default_key_file(data_dir: &Path) -> PathBuf {
    data_dir.join("signing.key")
}

/// Which database to open.
#[derive(Clone, PartialEq, Eq)]
pub enum DatabaseLocation {
    /// The embedded default: a SQLite file, created when missing.
    SqliteFile(PathBuf),
    /// A URL given with `--database-url` (it may carry a password, so it is never printed).
    Url(String),
}

impl DatabaseLocation {
    /// A `postgres://` or `sqlite:` URL, or the path of a SQLite file.
    ///
    /// # Errors
    /// Never for a non-empty value; the URL is checked when the database is opened.
    pub fn parse(raw: &str) -> Result<Self, String> {
        if raw.is_empty() {
            return Err("give a database URL (postgres://... or sqlite:PATH) or a SQLite file".into());
        }
        if raw.contains("://") || raw.starts_with("sqlite:") {
            Ok(Self::Url(raw.to_owned()))
        } else {
            Ok(Self::SqliteFile(PathBuf::from(raw)))
        }
    }

    /// Where the database is, fit for a message: a SQLite URL or path is shown, a PostgreSQL URL
    /// only by its host and database (it may carry a password).
    pub fn describe(&self) -> String {
        match self {
            Self::SqliteFile(path) => path.display().to_string(),
            Self::Url(url) => match url.strip_prefix("sqlite:") {
                Some(path) => path.trim_start_matches("//").to_owned(),
                None => "the database of --database-url".to_owned(),
            },
        }
    }
}

impl std::fmt::Debug for DatabaseLocation {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        match self {
            Self::SqliteFile(path) => f.debug_tuple("SqliteFile").field(path).finish(),
            Self::Url(url) => write!(f, "Url({}:...)", url.split(':').next().unwrap_or_default()),
        }
    }
}

/// The origin users reach the site at: a scheme, a host and maybe a port, nothing more.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct PublicUrl {
    origin: String,
    https: bool,
}

impl PublicUrl {
    /// Accepts `http(s)://host[:port]` with an optional trailing `/`, and writes it as a browser
    /// writes an `Origin`: `https://HOST:443/` is `https://host`.
    ///
    /// # Errors
    /// A message saying what is wrong with `raw`.
    pub fn parse(raw: &str) -> Result<Self, String> {
        let uri: Uri = raw.parse().map_err(|_| format!("{raw:?} is not a URL"))?;
        let https = match uri.scheme_str().map(str::to_ascii_lowercase).as_deref() {
            Some("https") => true,
            Some("http") => false,
            _ => return Err("the public URL must start with http:// or https://".into()),
        };
        let scheme = if https { "https" } else { "http" };
        let Some(authority) = uri.authority() else {
            return Err("the public URL needs a host, e.g. https://login.example.com".into());
        };
        // `Uri` drops a fragment without a word: look for it in the text.
        if authority.as_str().contains('@')
            || !matches!(uri.path(), "" | "/")
            || uri.query().is_some()
            || raw.contains('#')
        {
            return Err("the public URL is an origin only: no user, path, query or fragment".into());
        }
        // Browsers send the origin without the scheme's default port and with the host in
        // lower case: so must ours be, or every same-origin check would refuse every form.
        let default_port = if https { 443 } else { 80 };
        let host = authority.host().to_ascii_lowercase();
        let origin = match authority.port_u16() {
            Some(port) if port != default_port => format!("{scheme}://{host}:{port}"),
            _ => format!("{scheme}://{host}"),
        };
        Ok(Self { origin, https })
    }

    /// The scheme + the bound address: the default when no public URL is configured.
    pub fn for_addr(addr: SocketAddr, https: bool) -> Self {
        Self {
            origin: format!("{}://{addr}", if https { "https" } else { "http" }),
            https,
        }
    }

    /// The origin, without a trailing slash: `https://login.example.com`.
    pub fn origin(&self) -> &str {
        &self.origin
    }

    pub fn is_https(&self) -> bool {
        self.https
    }
}

/// Parses `10.0.0.1` (one address) or `10.0.0.0/8` (a network).
///
/// # Errors
/// A message with an example when `raw` is neither.
pub fn parse_network(raw: &str) -> Result<IpNet, String> {
    let raw = raw.trim();
    raw.parse::<IpNet>()
        .or_else(|_| raw.parse::<IpAddr>().map(IpNet::from))
        .map_err(|_| format!("{raw:?} is not an address or network; write it like 10.0.0.1 or 10.0.0.0/8"))
}

/// Parses a humane duration (`90s`, `15m`, `12h`, `30d`; combinations like `1h 30m` too).
///
/// # Errors
/// A message with an example when `raw` is not a duration or is zero.
pub fn parse_duration(raw: &str) -> Result<Duration, String> {
    let duration = humantime::parse_duration(raw.trim())
        .map_err(|_| format!("{raw:?} is not a duration; write it like 90s, 15m, 12h or 30d"))?;
    if duration.is_zero() {
        return Err("the duration must be longer than zero".into());
    }
    Ok(duration)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn durations_read_like_the_contract() {
        assert_eq!(parse_duration("90s"), Ok(Duration::from_secs(90)));
        assert_eq!(parse_duration("15m"), Ok(Duration::from_secs(15 * 60)));
        assert_eq!(parse_duration("12h"), Ok(Duration::from_secs(12 * 3600)));
        assert_eq!(parse_duration("30d"), Ok(Duration::from_secs(30 * 86400)));
        assert_eq!(parse_duration("1h 30m"), Ok(Duration::from_secs(5400)));
    }

    #[test]
    fn durations_without_a_unit_or_zero_are_refused() {
        for raw in ["15", "fifteen minutes", "", "-5m", "0s"] {
            assert!(parse_duration(raw).is_err(), "{raw:?}");
        }
    }

    #[test]
    fn public_url_is_an_origin() {
        let url = PublicUrl::parse("https://Login.Example.com/").unwrap();
        assert_eq!(url.origin(), "https://login.example.com");
        assert!(url.is_https());
        assert!(!PublicUrl::parse("http://127.0.0.1:3000").unwrap().is_https());
    }

    #[test]
    fn public_url_is_written_as_a_browser_writes_its_origin() {
        for (raw, origin) in [
            ("https://host:443/", "https://host"),
            ("https://HOST", "https://host"),
            ("HTTPS://Host:443", "https://host"),
            ("http://host:80", "http://host"),
            ("http://host:443", "http://host:443"),
            ("https://host:8443/", "https://host:8443"),
            ("http://[::1]:3000", "http://[::1]:3000"),
        ] {
            assert_eq!(PublicUrl::parse(raw).unwrap().origin(), origin, "{raw}");
        }
    }

    #[test]
    fn public_url_with_a_path_query_user_or_other_scheme_is_refused() {
        for raw in [
            "https://example.com/login",
            "https://example.com?x=1",
            "https://me@example.com",
            "https://me:secret@example.com",
            "https://example.com/#top",
            "https://example.com/a/",
            "ftp://example.com",
            "example.com",
        ] {
            assert!(PublicUrl::parse(raw).is_err(), "{raw:?}");
        }
    }

    #[test]
    fn trusted_proxies_are_addresses_or_networks_separated_by_commas() {
        let cli = Cli::try_parse_from([
            "gatehouse",
            "--trusted-proxy",
            "10.0.0.0/8,192.168.1.7",
            "--trusted-proxy",
            "::1",
        ])
        .unwrap();
        let networks: Vec<String> = cli
            .serve
            .trusted_proxies
            .iter()
            .map(ToString::to_string)
            .collect();
        assert_eq!(networks, ["10.0.0.0/8", "192.168.1.7/32", "::1/128"]);
        assert!(Cli::try_parse_from(["gatehouse", "--trusted-proxy", "proxy.example.com"]).is_err());
    }

    #[test]
    fn every_flag_has_an_environment_twin() {
        use clap::CommandFactory;
        let command = Cli::command();
        let serve = command.find_subcommand("serve").unwrap();
        // Hidden flags are the tests' (`--clock-file`): no variable left in an environment may
        // turn one on.
        for arg in serve
            .get_arguments()
            .filter(|arg| arg.get_long().is_some_and(|long| long != "help") && !arg.is_hide_set())
        {
            let long = arg.get_long().unwrap();
            let twin = format!("GATEHOUSE_{}", long.to_uppercase().replace('-', "_"));
            assert_eq!(
                arg.get_env().and_then(|env| env.to_str()),
                Some(twin.as_str()),
                "--{long}"
            );
        }
    }

    #[test]
    fn store_flags_apply_to_user_commands_too() {
        let cli = Cli::try_parse_from([
            "gatehouse",
            "user",
            "list",
            "--data-dir",
            "/tmp/x",
            "--key-file",
            "/tmp/k",
        ])
        .unwrap();
        let Some(Command::User(args)) = cli.command else {
            panic!("not a user command")
        };
        let store = StoreSettings::from_args(args.store);
        assert_eq!(store.key_file, PathBuf::from("/tmp/k"));
        assert!(
            matches!(store.database, DatabaseLocation::SqliteFile(ref path) if path == Path::new("/tmp/x/gatehouse.db"))
        );
    }

    #[test]
    fn smtp_urls_ask_for_starttls_unless_told_otherwise_and_never_show_their_password() {
        let url = SmtpUrl::parse("smtp://mailer:s3cret@mail.example.com:587").unwrap();
        assert_eq!(
            url.for_lettre(),
            "smtp://mailer:s3cret@mail.example.com:587?tls=required"
        );
        let shown = format!("{url:?}");
        assert!(
            shown.contains("mail.example.com") && !shown.contains("s3cret"),
            "{shown}"
        );
        assert_eq!(
            SmtpUrl::parse("smtp://127.0.0.1:1025?tls=none")
                .unwrap()
                .for_lettre(),
            "smtp://127.0.0.1:1025"
        );
        assert_eq!(
            SmtpUrl::parse("smtp://h:25?tls=opportunistic")
                .unwrap()
                .for_lettre(),
            "smtp://h:25?tls=opportunistic"
        );
        assert_eq!(SmtpUrl::parse("smtps://h").unwrap().for_lettre(), "smtps://h");
        for bad in ["http://h", "smtp://h?tls=maybe", "smtp:///nohost", "not a url"] {
            let error = SmtpUrl::parse(bad).unwrap_err();
            assert!(!error.contains("s3cret"), "{error}");
        }
    }

    #[test]
    fn mail_settings_follow_the_flags() {
        let cli = Cli::try_parse_from([
            "gatehouse",
            "serve",
            "--mail-dir",
            "/tmp/mail",
            "--site-name",
            "Example",
            "--allow-signup",
            "--email-link-ttl",
            "10m",
        ])
        .unwrap();
        let Some(Command::Serve(args)) = cli.command else {
            panic!("serve")
        };
        let settings = Settings::from_args(args);
        assert!(matches!(&settings.mail.transport, MailTransport::Dir(dir) if dir == Path::new("/tmp/mail")));
        assert_eq!(settings.mail.from, "Example <no-reply@localhost>");
        assert_eq!(settings.mail.link_ttl, Duration::from_secs(600));
        assert!(settings.allow_signup);
        assert!(
            Cli::try_parse_from(["gatehouse", "serve", "--mail-dir", "d", "--smtp-url", "smtp://h"]).is_err()
        );
        assert!(matches!(
            Settings::new("127.0.0.1:0".parse().unwrap(), "d").mail.transport,
            MailTransport::Log
        ));
    }

    #[test]
    fn no_command_means_serve() {
        let cli = Cli::try_parse_from(["gatehouse", "--addr", "127.0.0.1:0"]).unwrap();
        assert!(cli.command.is_none());
        assert_eq!(cli.serve.addr.port(), 0);
    }
}
