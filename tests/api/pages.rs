//! Server-rendered pages: the shell, the layout and the not-found page, and the pages kept
//! once rendered.

use gatehouse::domain::{FullName, Username};

use crate::helpers::{greets, location, signed_in, spawn_app};

#[tokio::test]
async fn an_unknown_path_gets_the_styled_not_found_page_with_status_404() {
    let app = spawn_app().await;
    let response = app.get("/no/such/page").await;
    assert_eq!(response.status(), 404);
    assert!(
        response.headers()["content-type"]
            .to_str()
            .unwrap()
            .starts_with("text/html")
    );
    let html = response.text().await.unwrap();
    assert!(html.contains("<h1>Page not found</h1>"), "{html}");
    assert!(
        html.contains("/no/such/page"),
        "the page names the path asked for"
    );
    assert!(
        html.contains(r#"rel="stylesheet" href="/pkg/"#) && html.contains(r#"/gatehouse.css""#),
        "the stylesheet is linked: {html}"
    );
    assert!(html.contains("Page not found · Gatehouse</title>"), "{html}");
}

/// A page is rendered on one worker thread and its answer may be finished, and its islands
/// dropped, on another. The sign-in form's and the profile's passkey actions were bound to the
/// thread that made them: dropped elsewhere they panicked, and the browser got an empty answer.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn pages_with_islands_are_answered_whole_whichever_thread_finishes_them() {
    let app = spawn_app().await;
    app.add_user("alice").await;
    let alice = signed_in(&app, "alice").await;
    let answers = (0..40).map(|round| {
        // Each address once: a page answered from memory would not be rendered at all.
        let (browser, path) = if round % 2 == 0 {
            (&app.client, format!("/login?next=%2Fround{round}"))
        } else {
            (&alice, format!("/profile?round={round}"))
        };
        let request = browser.get(format!("{}{path}", app.address)).send();
        async move {
            let response = request.await.unwrap_or_else(|error| panic!("{path}: {error}"));
            assert_eq!(response.status(), 200, "{path}");
            let html = response.text().await.unwrap_or_else(|error| panic!("{path}: {error}"));
            assert!(html.contains("</html>"), "{path}: cut off: {html}");
        }
    });
    futures::future::join_all(answers).await;
}

#[tokio::test]
async fn pages_carry_the_header_and_the_hydration_scripts() {
    let app = spawn_app().await;
    let response = app.get("/login").await;
    assert_eq!(response.status(), 200);
    let html = response.text().await.unwrap();
    assert!(html.contains(r#"<header class="site-header">"#), "{html}");
    let version = bundle_version(&html);
    assert!(
        html.contains(&format!("/pkg/{version}/gatehouse.js")),
        "the browser bundle is loaded: {html}"
    );
    assert!(
        html.contains(&format!("/pkg/{version}/gatehouse.wasm")),
        "the wasm is named as cargo-leptos writes it: {html}"
    );
}

/// The version a page names the bundle by: `/pkg/<12 hex digits>/...`.
fn bundle_version(html: &str) -> String {
    let (_, after) = html.split_once("/pkg/").expect("the page loads the bundle");
    let version: String = after.chars().take_while(|c| *c != '/').collect();
    assert!(
        version.len() == 12 && version.chars().all(|c| c.is_ascii_hexdigit()),
        "a content version, not {version:?}"
    );
    version
}

#[tokio::test]
async fn the_bundle_a_page_names_may_be_kept_for_a_year() {
    let app = spawn_app().await;
    let html = app.get("/login").await.text().await.unwrap();
    let version = bundle_version(&html);
    for file in ["gatehouse.js", "gatehouse.wasm", "gatehouse.css"] {
        let response = app
            .client
            .get(format!("{}/pkg/{version}/{file}", app.address))
            .header("accept-encoding", "br")
            .send()
            .await
            .unwrap();
        assert_eq!(response.status(), 200, "{file}");
        assert_eq!(
            response.headers()["cache-control"],
            "public, max-age=31536000, immutable",
            "{file}"
        );
        assert_eq!(response.headers()["content-encoding"], "br", "{file}");
    }
    let other_version = app
        .client
        .get(format!("{}/pkg/000000000000/gatehouse.wasm", app.address))
        .send()
        .await
        .unwrap();
    assert_eq!(other_version.status(), 404, "only this build's version is served");
}

#[tokio::test]
async fn every_response_carries_a_request_id() {
    let app = spawn_app().await;
    for path in ["/", "/login", "/healthz", "/missing"] {
        let response = app.get(path).await;
        let id = response
            .headers()
            .get("x-request-id")
            .unwrap_or_else(|| panic!("no request id on {path}"));
        assert_eq!(id.len(), 36, "a UUID on {path}");
    }
}

#[tokio::test]
async fn the_browser_bundle_travels_compressed_and_is_asked_for_again_only_when_changed() {
    let app = spawn_app().await;
    assert!(
        std::path::Path::new("target/site/pkg/gatehouse.wasm.br").is_file(),
        "the bundle and its compressed copies come from `make build`"
    );
    let fetch = |encoding: &'static str| {
        app.client
            .get(format!("{}/pkg/gatehouse.wasm", app.address))
            .header("accept-encoding", encoding)
            .send()
    };
    let plain = fetch("identity").await.unwrap();
    let raw_size = plain.bytes().await.unwrap().len();
    let brotli = fetch("br, gzip").await.unwrap();
    assert_eq!(brotli.status(), 200);
    assert_eq!(brotli.headers()["content-encoding"], "br");
    assert_eq!(brotli.headers()["cache-control"], "no-cache");
    assert_eq!(brotli.headers()["vary"], "accept-encoding");
    let last_modified = brotli.headers()["last-modified"].clone();
    let compressed_size = brotli.bytes().await.unwrap().len();
    assert!(
        compressed_size * 2 < raw_size,
        "{compressed_size} of {raw_size} bytes"
    );
    assert_eq!(fetch("gzip").await.unwrap().headers()["content-encoding"], "gzip");

    let again = app
        .client
        .get(format!("{}/pkg/gatehouse.wasm", app.address))
        .header("accept-encoding", "br")
        .header("if-modified-since", last_modified)
        .send()
        .await
        .unwrap();
    assert_eq!(again.status(), 304, "nothing is sent again while it is unchanged");
}

/// The nonce a page's policy names, and its HTML with that nonce taken out.
async fn page_and_nonce(response: reqwest::Response) -> (String, String) {
    assert_eq!(response.status(), 200);
    let policy = response.headers()["content-security-policy"]
        .to_str()
        .unwrap()
        .to_owned();
    let (_, after) = policy.split_once("'nonce-").expect("a page policy with a nonce");
    let nonce = after.split_once('\'').unwrap().0.to_owned();
    let html = response.text().await.unwrap();
    assert!(
        html.contains(&format!(r#"nonce="{nonce}""#)),
        "the scripts carry the policy's nonce: {html}"
    );
    (html.replace(&nonce, "NONCE"), nonce)
}

#[tokio::test]
async fn a_page_answered_again_has_a_fresh_nonce_and_is_otherwise_the_same() {
    let app = spawn_app().await;
    let mut nonces = std::collections::HashSet::new();
    let mut pages = std::collections::HashSet::new();
    for _ in 0..3 {
        let (html, nonce) = page_and_nonce(app.get_page("/login").await).await;
        assert!(html.contains(r#"name="next" value="""#), "{html}");
        nonces.insert(nonce);
        pages.insert(html);
    }
    assert_eq!(nonces.len(), 3, "a script nonce is never sent twice");
    assert_eq!(pages.len(), 1, "the same page every time");
    let (other, _) = page_and_nonce(app.get_page("/login?next=/dashboard").await).await;
    assert!(
        other.contains(r#"name="next" value="/dashboard""#),
        "another address is another page: {other}"
    );
}

#[tokio::test]
async fn a_kept_dashboard_is_never_shown_to_another_person() {
    let app = spawn_app().await;
    app.add_user("alice").await;
    app.add_user("bob").await;
    let alice = signed_in(&app, "alice").await;
    let bob = signed_in(&app, "bob").await;
    for _ in 0..2 {
        for (browser, mine, theirs) in [
            (&alice, "Test alice", "Test bob"),
            (&bob, "Test bob", "Test alice"),
        ] {
            let response = browser
                .get(format!("{}/dashboard", app.address))
                .send()
                .await
                .unwrap();
            let (html, _) = page_and_nonce(response).await;
            assert!(greets(&html, mine), "{html}");
            assert!(!html.contains(theirs), "{html}");
        }
    }
    let visitor = app.get_page("/dashboard").await;
    assert_eq!(visitor.status(), 303);
    assert_eq!(location(&visitor), "/login?next=%2Fdashboard");
}

#[tokio::test]
async fn a_kept_page_follows_the_person_and_their_session() {
    let app = spawn_app().await;
    app.add_user("alice").await;
    let alice = signed_in(&app, "alice").await;
    let dashboard = || alice.get(format!("{}/dashboard", app.address)).send();
    let (html, _) = page_and_nonce(dashboard().await.unwrap()).await;
    assert!(greets(&html, "Test alice"), "{html}");

    // A new name shows at once.
    let name = Username::parse("alice").unwrap();
    app.state
        .store
        .update_user_details(&name, Some(&FullName::parse("Alice Liddell").unwrap()), None)
        .await
        .unwrap();
    let (html, _) = page_and_nonce(dashboard().await.unwrap()).await;
    assert!(greets(&html, "Alice Liddell"), "{html}");

    // Disabled: the kept page is not shown; the sign-in page says why.
    app.state.store.set_disabled(&name, true).await.unwrap();
    let response = dashboard().await.unwrap();
    assert_eq!(response.status(), 303);
    assert_eq!(
        location(&response),
        "/login?next=%2Fdashboard&reason=account_disabled"
    );
}
