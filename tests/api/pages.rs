//! Server-rendered pages: the shell, the layout and the not-found page.

use crate::helpers::spawn_app;

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
