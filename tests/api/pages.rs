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
        html.contains(r#"href="/pkg/gatehouse.css""#),
        "the stylesheet is linked"
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
    assert!(
        html.contains("/pkg/gatehouse.js"),
        "the browser bundle is loaded: {html}"
    );
    assert!(
        html.contains("/pkg/gatehouse.wasm"),
        "the wasm is named as cargo-leptos writes it: {html}"
    );
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
