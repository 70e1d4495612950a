//! The audit log: who did what to which account, when and from where. Every path that signs
//! someone in or out or changes an account records an [`Event`] here; administrators read the
//! log on `/admin/audit` and with `gatehouse audit list`, everyone their own sign-ins on
//! `/profile`.
//!
//! - `pages` holds the bodies of the audit server functions and [`pages::record_in_request`],
//!   which fills in the request's address, browser and id.
//!
//! Writing an event never fails what it records: the change is made by then, so a failed write
//! is logged as an error (with the event) and the request goes on.

pub mod pages;

use crate::api::AuditAction;
use crate::domain::Username;
use crate::server::store::{NewAuditEvent, SessionOrigin, Store, UserRow};

/// Who did it.
#[derive(Debug, Clone)]
pub enum Actor {
    /// A signed-in person (an administrator, or someone acting on their own account).
    User { id: i64, name: String },
    /// A `gatehouse user ...` command on the server.
    Cli,
    /// Gatehouse itself (a replayed refresh token ending its session, say).
    System,
    /// Nobody signed in: a sign-in attempt, the setup page.
    Visitor,
}

impl Actor {
    pub fn user(user: &UserRow) -> Self {
        Self::User {
            id: user.id,
            name: user.username.clone(),
        }
    }
}

/// How it went.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Outcome {
    Success,
    /// Refused: a wrong password, say.
    Failure,
    /// Refused before checking, by the brute-force throttle.
    Throttled,
}

impl Outcome {
    pub fn as_str(self) -> &'static str {
        match self {
            Self::Success => "success",
            Self::Failure => "failure",
            Self::Throttled => "throttled",
        }
    }
}

/// Who is acting and from where: what every event of one request (or one command) shares.
#[derive(Debug, Clone)]
pub struct Acting {
    pub actor: Actor,
    pub origin: SessionOrigin,
    pub request_id: Option<String>,
}

impl Acting {
    /// A `gatehouse` command on the server's shell.
    pub fn cli() -> Self {
        Self {
            actor: Actor::Cli,
            origin: SessionOrigin::default(),
            request_id: None,
        }
    }

    /// An event of this actor, from this request.
    pub fn event(&self, action: AuditAction) -> Event {
        let event = Event::new(self.actor.clone(), action).from_client(&self.origin);
        match &self.request_id {
            Some(request_id) => event.in_request(request_id.clone()),
            None => event,
        }
    }

    /// The actor's user id, for log lines.
    pub fn user_id(&self) -> Option<i64> {
        match self.actor {
            Actor::User { id, .. } => Some(id),
            _ => None,
        }
    }
}

/// The event of a sign-in (by form or password grant) that was refused or throttled: about the
/// account of the name typed when there is one (so its owner sees it), else about the name.
pub async fn refused_sign_in(store: &Store, acting: &Acting, typed: &str, outcome: Outcome) -> Event {
    let account = match Username::parse(typed) {
        Ok(name) => store.find_user(&name).await.ok().flatten(),
        Err(_) => None,
    };
    let event = acting.event(AuditAction::SignIn).outcome(outcome);
    match account {
        Some(user) => event.about(&user),
        None => event.about_name(typed),
    }
}

/// One thing that happened, built up and then [`record`]ed.
#[derive(Debug, Clone)]
pub struct Event {
    actor: Actor,
    action: AuditAction,
    target: Option<(Option<i64>, String)>,
    outcome: Outcome,
    origin: SessionOrigin,
    request_id: Option<String>,
}

impl Event {
    /// `actor` did `action`, successfully unless said otherwise.
    pub fn new(actor: Actor, action: AuditAction) -> Self {
        Self {
            actor,
            action,
            target: None,
            outcome: Outcome::Success,
            origin: SessionOrigin::default(),
            request_id: None,
        }
    }

    /// To or about this account.
    pub fn about(mut self, user: &UserRow) -> Self {
        self.target = Some((Some(user.id), user.username.clone()));
        self
    }

    /// About the account named so, which may not exist (a sign-in with an unknown name).
    pub fn about_name(mut self, name: &str) -> Self {
        self.target = Some((None, name.to_owned()));
        self
    }

    pub fn outcome(mut self, outcome: Outcome) -> Self {
        self.outcome = outcome;
        self
    }

    /// From this address and browser.
    pub fn from_client(mut self, origin: &SessionOrigin) -> Self {
        self.origin = origin.clone();
        self
    }

    /// In the request with this id.
    pub fn in_request(mut self, request_id: String) -> Self {
        self.request_id = Some(request_id);
        self
    }
}

/// Longest name kept from a sign-in attempt: what someone typed, not an account's name.
const MAX_TYPED_NAME: usize = 64;

/// Appends `event` to the log; a failure is logged, never returned (see the module's docs).
pub async fn record(store: &Store, event: Event) {
    let (actor_kind, actor_id, actor_name) = match &event.actor {
        Actor::User { id, name } => ("user", Some(*id), Some(name.clone())),
        Actor::Cli => ("cli", None, None),
        Actor::System => ("system", None, None),
        Actor::Visitor => ("visitor", None, None),
    };
    let (target_id, target_name) = match &event.target {
        Some((id, name)) => (*id, Some(name.chars().take(MAX_TYPED_NAME).collect())),
        None => (None, None),
    };
    let stored = NewAuditEvent {
        actor_kind,
        actor_id,
        actor_name,
        action: event.action.as_str(),
        target_id,
        target_name,
        ip_address: event.origin.ip_address.clone(),
        user_agent: event.origin.user_agent.clone(),
        outcome: event.outcome.as_str(),
        request_id: event.request_id.clone(),
    };
    if let Err(error) = store.record_audit_event(&stored).await {
        tracing::error!(
            error = format!("{error:#}"),
            action = stored.action,
            actor_id,
            target_id,
            outcome = stored.outcome,
            "cannot write an audit event"
        );
    }
}
