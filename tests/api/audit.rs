//! The audit log: every sign-in, sign-out and change to an account leaves an event with who,
//! what, to whom, when, from where and in which request; administrators read it on
//! `/admin/audit` and with `gatehouse audit list`, everyone their own on `/profile`.

use std::time::Duration;

use gatehouse::api::{ActOnUser, ListAudit, Login, Logout, RecentActivity, RevokeOtherSessions};
use gatehouse::server::store::{AuditQuery, AuditRow, NewAuditEvent};
use leptos::server_fn::ServerFn;
use serde_json::Value;

use crate::helpers::{PASSWORD, TestApp, signed_in, spawn_app, stdout};

/// Every event in the store, oldest first.
async fn events(app: &TestApp) -> Vec<AuditRow> {
    let mut page = app
        .state
        .store
        .audit_events(&AuditQuery {
            limit: 1000,
            ..AuditQuery::default()
        })
        .await
        .unwrap()
        .events;
    page.reverse();
    page
}

/// `(actor, action, target, outcome)` of every event, oldest first.
async fn summary(app: &TestApp) -> Vec<(String, String, String, String)> {
    events(app)
        .await
        .into_iter()
        .map(|event| {
            (
                event.actor_name.unwrap_or(event.actor_kind),
                event.action,
                event.target_name.unwrap_or_default(),
                event.outcome,
            )
        })
        .collect()
}

fn row(actor: &str, action: &str, target: &str, outcome: &str) -> (String, String, String, String) {
    (actor.into(), action.into(), target.into(), outcome.into())
}

#[tokio::test]
async fn sign_ins_by_form_and_by_token_are_recorded_whatever_their_outcome() {
    let app = spawn_app().await;
    app.add_user("johndoe").await;
    let browser = app.other_browser();
    let failed = app
        .call_from(&browser, Login::PATH)
        .header(
            "user-agent",
            "Mozilla/5.0 (X11; Linux x86_64; rv:128.0) Gecko/20100101 Firefox/128.0",
        )
        .form(&[("username", "johndoe"), ("password", "wrong guess")])
        .send()
        .await
        .unwrap();
    let request_id = failed.headers()["x-request-id"].to_str().unwrap().to_owned();
    app.token(&[
        ("grant_type", "password"),
        ("username", "nobody"),
        ("password", "x"),
    ])
    .await;
    app.sign_in("johndoe", PASSWORD, None).await;
    app.password_grant("johndoe").await;
    assert_eq!(
        summary(&app).await,
        [
            row("visitor", "sign_in", "johndoe", "failure"),
            row("visitor", "sign_in", "nobody", "failure"),
            row("johndoe", "sign_in", "johndoe", "success"),
            row("johndoe", "sign_in", "johndoe", "success"),
        ]
    );
    let first = &events(&app).await[0];
    assert_eq!(first.ip_address.as_deref(), Some("127.0.0.1"));
    assert!(first.user_agent.as_deref().unwrap().contains("Firefox/128.0"));
    assert_eq!(first.request_id.as_deref(), Some(request_id.as_str()));
}

#[tokio::test]
async fn throttled_sign_ins_are_recorded_as_throttled() {
    let app = spawn_app().await;
    app.add_user("johndoe").await;
    let mut statuses = Vec::new();
    for n in 0..7 {
        let guess = format!("guess {n}");
        statuses.push(
            app.token(&[
                ("grant_type", "password"),
                ("username", "johndoe"),
                ("password", &guess),
            ])
            .await
            .status()
            .as_u16(),
        );
    }
    assert!(statuses.contains(&429), "{statuses:?}");
    let outcomes: Vec<String> = events(&app)
        .await
        .into_iter()
        .map(|event| event.outcome)
        .collect();
    assert_eq!(
        outcomes.iter().filter(|outcome| *outcome == "throttled").count(),
        statuses.iter().filter(|status| **status == 429).count()
    );
}

#[tokio::test]
async fn signing_out_changing_the_password_and_ending_sessions_are_recorded() {
    let app = spawn_app().await;
    app.add_user("johndoe").await;
    app.sign_in("johndoe", PASSWORD, None).await;
    let other = signed_in(&app, "johndoe").await;
    app.call::<RevokeOtherSessions>(&[]).await;
    app.call::<gatehouse::api::ChangePassword>(&[
        ("current_password", "wrong"),
        ("new_password", "another fine passphrase"),
        ("confirm_password", "another fine passphrase"),
    ])
    .await;
    app.call::<Logout>(&[]).await;
    drop(other);
    let actions: Vec<(String, String, String, String)> = summary(&app).await.into_iter().skip(2).collect();
    assert_eq!(
        actions,
        [
            row("johndoe", "session_ended", "johndoe", "success"),
            row("johndoe", "password_changed", "johndoe", "failure"),
            row("johndoe", "sign_out", "johndoe", "success"),
        ]
    );
}

#[tokio::test]
async fn every_administrator_action_is_recorded_with_the_administrator_and_the_account() {
    let app = spawn_app().await;
    app.add_admin("root").await;
    app.add_user("victim").await;
    app.add_admin("second").await;
    let root = signed_in(&app, "root").await;
    for (action, confirm) in [
        ("disable", ""),
        ("disable", ""),
        ("enable", ""),
        ("grant_admin", ""),
        ("revoke_admin", ""),
        ("delete", "victim"),
    ] {
        app.call_from(&root, ActOnUser::PATH)
            .form(&[("username", "victim"), ("action", action), ("confirm", confirm)])
            .send()
            .await
            .unwrap();
    }
    // The last administrator's refused demotion changes nothing and records nothing.
    let recorded: Vec<_> = summary(&app).await.into_iter().skip(1).collect();
    assert_eq!(
        recorded,
        [
            row("root", "user_disabled", "victim", "success"),
            row("root", "user_enabled", "victim", "success"),
            row("root", "admin_granted", "victim", "success"),
            row("root", "admin_revoked", "victim", "success"),
            row("root", "user_deleted", "victim", "success"),
        ],
        "a repeated disable changed nothing and is not recorded"
    );
    assert!(
        app.state
            .store
            .find_user(&gatehouse::domain::Username::parse("victim").unwrap())
            .await
            .unwrap()
            .is_none()
    );
    let trail = app
        .state
        .store
        .audit_events(&AuditQuery {
            user: Some("VICTIM".into()),
            limit: 10,
            ..AuditQuery::default()
        })
        .await
        .unwrap();
    assert_eq!(trail.events.len(), 5, "the trail outlives the account");
}

#[tokio::test]
async fn the_cli_records_its_changes_and_lists_the_log() {
    let app = spawn_app().await;
    let output = app
        .data
        .gatehouse(&["user", "add", "carol"], &format!("{PASSWORD}\n"));
    assert!(output.status.success());
    app.data.gatehouse(&["user", "disable", "carol"], "");
    app.data.gatehouse(&["user", "enable", "carol"], "");
    app.data
        .gatehouse(&["user", "passwd", "carol"], &format!("{PASSWORD} again\n"));
    assert_eq!(
        summary(&app).await,
        [
            row("cli", "user_created", "carol", "success"),
            row("cli", "user_disabled", "carol", "success"),
            row("cli", "user_enabled", "carol", "success"),
            row("cli", "password_reset", "carol", "success"),
        ]
    );
    let output = app.data.gatehouse(
        &["audit", "list", "--user", "carol", "--since", "1h", "--json"],
        "",
    );
    assert!(output.status.success());
    let listed: Value = serde_json::from_str(&stdout(&output)).unwrap();
    let actions: Vec<&str> = listed
        .as_array()
        .unwrap()
        .iter()
        .map(|event| event["action"].as_str().unwrap())
        .collect();
    assert_eq!(
        actions,
        ["password_reset", "user_enabled", "user_disabled", "user_created"]
    );
    // The shell is held to the last-administrator rule too.
    app.data
        .gatehouse(&["user", "add", "root", "--admin"], &format!("{PASSWORD}\n"));
    let refused = app.data.gatehouse(&["user", "disable", "root"], "");
    assert_eq!(refused.status.code(), Some(1));
    assert!(
        crate::helpers::stderr(&refused).contains("last active administrator"),
        "{}",
        crate::helpers::stderr(&refused)
    );
    let table = stdout(&app.data.gatehouse(&["audit", "list"], ""));
    assert!(table.starts_with("TIME"), "{table}");
    assert!(table.contains("user_created"), "{table}");
}

#[tokio::test]
async fn administrators_filter_the_log_by_user_action_and_day() {
    let app = spawn_app().await;
    app.add_admin("root").await;
    app.add_user("alice").await;
    app.sign_in("alice", "wrong", None).await;
    app.clock.advance(Duration::from_secs(3 * 24 * 60 * 60));
    app.add_user("bob").await;
    app.sign_in("bob", PASSWORD, None).await;
    let root = signed_in(&app, "root").await;
    let list = |form: Vec<(&'static str, String)>| {
        let request = app.call_from(&root, ListAudit::PATH).form(&form);
        async move {
            let response = request.send().await.unwrap();
            assert_eq!(response.status(), 200);
            let body: Value = response.json().await.unwrap();
            body["events"]
                .as_array()
                .unwrap()
                .iter()
                .map(|event| {
                    format!(
                        "{} {}",
                        event["target"].as_str().unwrap_or(""),
                        event["outcome"].as_str().unwrap()
                    )
                })
                .collect::<Vec<_>>()
        }
    };
    assert_eq!(list(vec![("user", "ALICE".into())]).await, ["alice failure"]);
    assert_eq!(
        list(vec![("action", "sign_in".into()), ("user", "bob".into())]).await,
        ["bob success"]
    );
    let today = app.clock.now().date().to_string();
    let events_today = list(vec![("since", today.clone()), ("until", today)]).await;
    assert!(
        !events_today.contains(&"alice failure".to_owned()),
        "{events_today:?}"
    );
    assert!(
        events_today.contains(&"bob success".to_owned()),
        "{events_today:?}"
    );

    let bad_date = app
        .call_from(&root, ListAudit::PATH)
        .form(&[("since", "yesterday")])
        .send()
        .await
        .unwrap();
    assert_eq!(bad_date.status(), 400);

    let alice = signed_in(&app, "alice").await;
    assert_eq!(
        app.call_from(&alice, ListAudit::PATH)
            .form(&[("user", "")])
            .send()
            .await
            .unwrap()
            .status(),
        403
    );
    let page = alice
        .get(format!("{}/admin/audit", app.address))
        .send()
        .await
        .unwrap();
    assert_eq!(page.status(), 403);
    let page = root
        .get(format!("{}/admin/audit?user=bob", app.address))
        .send()
        .await
        .unwrap();
    assert_eq!(page.status(), 200);
    assert!(
        page.text().await.unwrap().contains("Sign-in"),
        "the page shows the events without JavaScript"
    );
}

#[tokio::test]
async fn the_log_pages_newest_first_without_repeating_an_event() {
    let app = spawn_app().await;
    app.add_admin("root").await;
    for n in 0..120 {
        let event = NewAuditEvent {
            actor_kind: "visitor",
            actor_id: None,
            actor_name: None,
            action: "sign_in",
            target_id: None,
            target_name: Some("nobody".into()),
            ip_address: Some(format!("192.0.2.{n}")),
            user_agent: None,
            outcome: "failure",
            request_id: None,
        };
        app.state.store.record_audit_event(&event).await.unwrap();
        app.clock.advance(Duration::from_secs(60));
    }
    let root = signed_in(&app, "root").await;
    let mut seen = Vec::new();
    let mut before = String::new();
    loop {
        let response = app
            .call_from(&root, ListAudit::PATH)
            .form(&[("user", "nobody"), ("before", before.as_str())])
            .send()
            .await
            .unwrap();
        let body: Value = response.json().await.unwrap();
        seen.extend(
            body["events"]
                .as_array()
                .unwrap()
                .iter()
                .map(|event| event["at"].as_str().unwrap().to_owned()),
        );
        match body["next"].as_str() {
            Some(next) => before = next.to_owned(),
            None => break,
        }
    }
    assert_eq!(seen.len(), 120);
    let mut unique = seen.clone();
    unique.dedup();
    assert_eq!(unique.len(), 120, "every event once");
}

#[tokio::test]
async fn a_person_sees_a_sign_in_that_was_not_theirs_on_their_profile() {
    let app = spawn_app().await;
    app.add_user("johndoe").await;
    app.add_user("other").await;
    let attacker = app.other_browser();
    app.call_from(&attacker, Login::PATH)
        .form(&[("username", "johndoe"), ("password", "guess")])
        .send()
        .await
        .unwrap();
    app.sign_in("other", "guess", None).await;
    app.sign_in("johndoe", PASSWORD, None).await;
    let response = app.call::<RecentActivity>(&[]).await;
    assert_eq!(response.status(), 200);
    let activity: Value = response.json().await.unwrap();
    let seen: Vec<String> = activity
        .as_array()
        .unwrap()
        .iter()
        .map(|event| {
            format!(
                "{} {}",
                event["action"].as_str().unwrap(),
                event["outcome"].as_str().unwrap()
            )
        })
        .collect();
    assert_eq!(
        seen,
        ["Sign-in success", "Sign-in failure"],
        "only their own account's events"
    );
    let profile = app.get_page("/profile").await.text().await.unwrap();
    assert!(
        profile.contains("Recent activity") && profile.contains("failure"),
        "{profile}"
    );
}

#[tokio::test]
async fn a_replayed_refresh_token_is_recorded() {
    let app = spawn_app().await;
    app.add_user("johndoe").await;
    let tokens = app.password_grant("johndoe").await;
    let refresh_token = tokens["refresh_token"].as_str().unwrap();
    assert_eq!(app.refresh(refresh_token).await.status(), 200);
    app.clock.advance(Duration::from_secs(120));
    assert_eq!(app.refresh(refresh_token).await.status(), 400);
    let last = summary(&app).await.pop().unwrap();
    assert_eq!(last, row("system", "refresh_reuse", "johndoe", "failure"));
}

#[tokio::test]
async fn events_older_than_the_retention_are_purged() {
    let app = spawn_app().await;
    app.add_user("johndoe").await;
    app.sign_in("johndoe", "wrong", None).await;
    app.clock.advance(Duration::from_secs(10 * 24 * 60 * 60));
    app.sign_in("johndoe", PASSWORD, None).await;
    let retention = time::Duration::days(5);
    let purged = app
        .state
        .store
        .purge_audit_events(app.clock.now() - retention)
        .await
        .unwrap();
    assert_eq!(purged, 1);
    assert_eq!(
        summary(&app).await,
        [row("johndoe", "sign_in", "johndoe", "success")]
    );
}
