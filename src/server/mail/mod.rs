//! Sending mail: through an SMTP server (`--smtp-url`), into a directory of `.eml` files
//! (`--mail-dir`), or, when neither is set, into the server log with a warning at start.
//!
//! [`Mailer::send`] never waits for a server: each message is delivered by a task of its own,
//! retried with growing pauses while the SMTP server fails or is slow, and a message given up
//! on is logged. [`MailStats`] counts what is pending, sent and failed; `/healthz` shows it.
//! `messages` writes the messages from the templates beside this file.

pub mod messages;

use std::path::Path;
use std::sync::Arc;
use std::sync::atomic::{AtomicU64, Ordering};
use std::time::Duration;

use anyhow::Context;
use lettre::message::{Mailbox, MultiPart};
use lettre::{AsyncFileTransport, AsyncSmtpTransport, AsyncTransport, Message, Tokio1Executor};
use serde::Serialize;
use tokio::sync::{Notify, Semaphore};

use crate::server::config::{MailSettings, MailTransport, SmtpUrl};
use crate::server::files::create_private_dir;

/// Deliveries talking to the SMTP server at once; the rest wait their turn.
const PARALLEL_DELIVERIES: usize = 4;
/// Tries per message before it is given up on: with pauses of 2, 4, 8, ... seconds (by
/// default), about two minutes of an SMTP server failing.
const ATTEMPTS: u32 = 7;
/// The longest pause between two tries.
const LONGEST_PAUSE: Duration = Duration::from_secs(300);
/// One SMTP conversation longer than this counts as a failure (and is tried again).
const SMTP_TIMEOUT: Duration = Duration::from_secs(15);

/// One message to send: a plain-text and an HTML part.
#[derive(Debug, Clone)]
pub struct Mail {
    pub to: Mailbox,
    pub subject: String,
    pub text: String,
    pub html: String,
}

/// How mail leaves this process.
enum Transport {
    Smtp(AsyncSmtpTransport<Tokio1Executor>),
    Dir(AsyncFileTransport<Tokio1Executor>),
    /// No mail configured: messages go to the log, links included, so a developer can follow them.
    Log,
}

/// What the mailer did since start, for `/healthz` and the tests.
#[derive(Debug, Default)]
pub struct MailStats {
    pending: AtomicU64,
    sent: AtomicU64,
    failed_attempts: AtomicU64,
    given_up: AtomicU64,
}

/// [`MailStats`] at one moment.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize)]
pub struct MailCounts {
    /// Messages not yet delivered (being sent, or waiting to be tried again), and requests
    /// still being turned into mail.
    pub pending: u64,
    pub sent: u64,
    /// Tries that failed (each is retried until the message is given up on).
    pub failed_attempts: u64,
    /// Messages given up on after every try failed.
    pub given_up: u64,
}

/// Sends mail in the background; cloning shares it.
#[derive(Clone)]
pub struct Mailer(Arc<Inner>);

struct Inner {
    transport: Transport,
    from: Mailbox,
    first_pause: Duration,
    slots: Semaphore,
    stats: MailStats,
    /// Woken whenever a delivery ends, for [`Mailer::drain`].
    ended: Notify,
}

impl std::fmt::Debug for Mailer {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Mailer")
            .field("from", &self.0.from.to_string())
            .field("stats", &self.0.stats)
            .finish_non_exhaustive()
    }
}

impl Mailer {
    /// The mailer `settings` ask for. Nothing is connected yet: an SMTP server that is down
    /// now is tried when there is mail to send.
    ///
    /// # Errors
    /// The sender address or the SMTP URL cannot be used, or the mail directory cannot be made.
    pub fn new(settings: &MailSettings) -> anyhow::Result<Self> {
        let from: Mailbox = settings.from.parse().with_context(|| {
            format!(
                "--mail-from {:?} is not an address, e.g. \"Gatehouse <no-reply@example.com>\"",
                settings.from
            )
        })?;
        let transport = match &settings.transport {
            MailTransport::Smtp(url) => Transport::Smtp(smtp_transport(url)?),
            MailTransport::Dir(dir) => Transport::Dir(mail_dir(dir)?),
            MailTransport::Log => {
                tracing::warn!(
                    "mail is not configured (--smtp-url or --mail-dir): messages, and the links in them, are written to this log instead"
                );
                Transport::Log
            }
        };
        Ok(Self(Arc::new(Inner {
            transport,
            from,
            first_pause: settings.first_retry_pause,
            slots: Semaphore::new(PARALLEL_DELIVERIES),
            stats: MailStats::default(),
            ended: Notify::new(),
        })))
    }

    /// Sends `mail` in the background and returns at once.
    pub fn send(&self, mail: Mail) {
        let message = match self.message(&mail) {
            Ok(message) => message,
            Err(error) => {
                // Our templates and parsed addresses make valid messages; this is a bug.
                tracing::error!(
                    error = format!("{error:#}"),
                    subject = mail.subject,
                    "a message could not be written"
                );
                self.0.stats.given_up.fetch_add(1, Ordering::Relaxed);
                return;
            }
        };
        let mailer = self.clone();
        self.in_background(async move { mailer.deliver(&mail, &message).await });
    }

    /// Runs `job` (work that ends in mail: a lookup, a throttle check, a stored link) in the
    /// background, counted as pending until it ends, so that [`Self::drain`] waits for it too.
    pub fn in_background(&self, job: impl Future<Output = ()> + Send + 'static) {
        self.0.stats.pending.fetch_add(1, Ordering::Relaxed);
        let mailer = self.clone();
        tokio::spawn(async move {
            job.await;
            mailer.0.stats.pending.fetch_sub(1, Ordering::Relaxed);
            mailer.0.ended.notify_waiters();
        });
    }

    /// What was sent and what failed so far.
    pub fn counts(&self) -> MailCounts {
        let stats = &self.0.stats;
        MailCounts {
            pending: stats.pending.load(Ordering::Relaxed),
            sent: stats.sent.load(Ordering::Relaxed),
            failed_attempts: stats.failed_attempts.load(Ordering::Relaxed),
            given_up: stats.given_up.load(Ordering::Relaxed),
        }
    }

    /// Waits up to `limit` for every pending message to be delivered or given up on: what a
    /// stopping server does, so that a reset link asked for just before is not lost.
    pub async fn drain(&self, limit: Duration) {
        let drained = async {
            loop {
                let ended = self.0.ended.notified();
                if self.0.stats.pending.load(Ordering::Relaxed) == 0 {
                    return;
                }
                ended.await;
            }
        };
        if tokio::time::timeout(limit, drained).await.is_err() {
            tracing::warn!(
                pending = self.counts().pending,
                "stopping with mail not yet delivered"
            );
        }
    }

    fn message(&self, mail: &Mail) -> anyhow::Result<Message> {
        Message::builder()
            .from(self.0.from.clone())
            .to(mail.to.clone())
            .subject(&mail.subject)
            .multipart(MultiPart::alternative_plain_html(
                mail.text.clone(),
                mail.html.clone(),
            ))
            .context("Failed to write a message")
    }

    /// Tries until delivered or [`ATTEMPTS`] tries failed, pausing longer after each failure.
    async fn deliver(&self, mail: &Mail, message: &Message) {
        let mut pause = self.0.first_pause;
        for attempt in 1..=ATTEMPTS {
            let outcome = {
                // A permit only while talking to the server, not while pausing.
                let _slot = self.0.slots.acquire().await;
                self.try_once(mail, message).await
            };
            match outcome {
                Ok(()) => {
                    self.0.stats.sent.fetch_add(1, Ordering::Relaxed);
                    return;
                }
                Err(error) => {
                    self.0.stats.failed_attempts.fetch_add(1, Ordering::Relaxed);
                    tracing::warn!(
                        error = format!("{error:#}"),
                        attempt,
                        subject = mail.subject,
                        "mail not delivered; trying again in {}",
                        humantime::format_duration(pause)
                    );
                }
            }
            if attempt < ATTEMPTS {
                tokio::time::sleep(pause).await;
                pause = (pause * 2).min(LONGEST_PAUSE);
            }
        }
        self.0.stats.given_up.fetch_add(1, Ordering::Relaxed);
        tracing::error!(
            subject = mail.subject,
            attempts = ATTEMPTS,
            "mail given up on: every try failed"
        );
    }

    async fn try_once(&self, mail: &Mail, message: &Message) -> anyhow::Result<()> {
        match &self.0.transport {
            Transport::Smtp(smtp) => {
                tokio::time::timeout(SMTP_TIMEOUT, smtp.send(message.clone()))
                    .await
                    .context("The SMTP server did not answer in time")?
                    .context("The SMTP server refused the message")?;
            }
            Transport::Dir(dir) => {
                dir.send(message.clone())
                    .await
                    .context("Failed to write a message file")?;
            }
            Transport::Log => {
                tracing::info!(
                    to = mail.to.email.to_string(),
                    subject = mail.subject,
                    text = mail.text,
                    "mail (not sent: mail is not configured)"
                );
            }
        }
        Ok(())
    }
}

fn smtp_transport(url: &SmtpUrl) -> anyhow::Result<AsyncSmtpTransport<Tokio1Executor>> {
    let builder = AsyncSmtpTransport::<Tokio1Executor>::from_url(url.for_lettre())
        .map_err(|error| anyhow::anyhow!("--smtp-url cannot be used: {error}"))?;
    Ok(builder.timeout(Some(SMTP_TIMEOUT)).build())
}

/// The `.eml` files hold live links: the directory is private to this user, like the data.
fn mail_dir(dir: &Path) -> anyhow::Result<AsyncFileTransport<Tokio1Executor>> {
    create_private_dir(dir)?;
    Ok(AsyncFileTransport::new(dir))
}
