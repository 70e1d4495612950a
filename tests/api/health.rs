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
    assert_eq!(
        body["mail"],
        serde_json::json!({ "pending": 0, "sent": 0, "failed_attempts": 0, "given_up": 0 }),
        "mail is counted for operators"
    );
}

#[tokio::test]
async fn health_is_503_when_the_store_is_gone() {
    let app = spawn_app().await;
    // Sabotage: close every database connection under the running server.
    app.state.store.close().await;
    let response = app.get("/healthz").await;
    assert_eq!(response.status(), 503);
    let body: serde_json::Value = response.json().await.unwrap();
    assert_eq!(body["status"], "unavailable");
    let fields: Vec<&String> = body.as_object().unwrap().keys().collect();
    assert_eq!(fields, ["mail", "status"], "no internals in the answer: {body}");
}
