//! `GET /healthz`.

use crate::helpers::spawn_app;

#[tokio::test]
async fn health_is_ok_when_the_store_answers() {
    let app = spawn_app().await;
    let response = app.get("/healthz").await;
    assert_eq!(response.status(), 200);
    assert_eq!(response.headers()["cache-control"], "no-store");
    let body: serde_json::Value = response.json().await.unwrap();
    assert_eq!(body["status"], "ok");
}

#[tokio::test]
async fn health_is_503_when_the_store_is_gone() {
    let app = spawn_app().await;
    // Sabotage: close every database connection under the running server.
    app.state.store.close().await;
    let response = app.get("/healthz").await;
    assert_eq!(response.status(), 503);
    let body = response.text().await.unwrap();
    assert_eq!(body, r#"{"status":"unavailable"}"#, "no internals in the answer");
}
