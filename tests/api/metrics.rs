//! Prometheus metrics: off unless `--metrics-addr` is given, and then on that address only,
//! counting requests by route, sign-ins by outcome and the session cache's hits and misses.

use std::net::SocketAddr;

use crate::helpers::{PASSWORD, TestData, spawn_app, spawn_app_with};

/// The value of the sample `name` (with its labels, as Prometheus writes them), or 0.
fn sample(text: &str, name: &str) -> f64 {
    text.lines()
        .find_map(|line| line.strip_prefix(name)?.strip_prefix(' ')?.parse().ok())
        .unwrap_or(0.0)
}

#[tokio::test]
async fn metrics_are_off_unless_asked_for_and_never_on_the_site() {
    let app = spawn_app().await;
    assert!(app.metrics_address.is_none());
    assert_eq!(app.get("/metrics").await.status(), 404);
}

#[tokio::test]
async fn requests_sign_ins_and_the_session_cache_are_counted() {
    let data = TestData::new().await;
    let mut settings = data.settings();
    settings.metrics_addr = Some(SocketAddr::from(([127, 0, 0, 1], 0)));
    let app = spawn_app_with(settings, data).await;
    app.add_user("johndoe").await;
    app.until_listening(true).await;

    let refused = app.sign_in("johndoe", "wrong password", None).await;
    assert!(
        crate::helpers::location(&refused).contains("/login?"),
        "back to the form"
    );
    assert_eq!(app.sign_in("johndoe", PASSWORD, None).await.status(), 303);
    for _ in 0..3 {
        assert_eq!(app.get_page("/dashboard").await.status(), 200);
    }
    assert_eq!(app.get("/no/such/page").await.status(), 404);
    assert_eq!(
        app.get("/metrics").await.status(),
        404,
        "not on the site's address"
    );

    let scrape = reqwest::get(format!("{}/metrics", app.metrics_address.as_ref().unwrap()))
        .await
        .unwrap();
    assert_eq!(scrape.status(), 200);
    let text = scrape.text().await.unwrap();
    assert_eq!(
        sample(&text, "gatehouse_sign_ins_total{outcome=\"success\"}"),
        1.0,
        "{text}"
    );
    assert_eq!(
        sample(&text, "gatehouse_sign_ins_total{outcome=\"refused\"}"),
        1.0
    );
    assert_eq!(
        sample(
            &text,
            "gatehouse_http_requests_total{method=\"GET\",route=\"/dashboard\",status=\"200\"}"
        ),
        3.0
    );
    assert!(
        sample(
            &text,
            "gatehouse_http_requests_total{method=\"GET\",route=\"other\",status=\"404\"}"
        ) >= 1.0,
        "unknown paths share one label: {text}"
    );
    assert_eq!(
        sample(
            &text,
            "gatehouse_http_request_duration_seconds_count{route=\"/dashboard\"}"
        ),
        3.0
    );
    assert!(
        sample(&text, "gatehouse_session_cache_hits_total") >= 2.0,
        "the second and third dashboards came from the cache: {text}"
    );
    assert!(sample(&text, "gatehouse_session_cache_misses_total") >= 1.0);
    assert_eq!(
        sample(&text, "gatehouse_page_cache_misses_total"),
        1.0,
        "the dashboard was rendered once: {text}"
    );
    assert_eq!(
        sample(&text, "gatehouse_page_cache_hits_total"),
        2.0,
        "and answered twice from memory: {text}"
    );
    assert_eq!(sample(&text, "gatehouse_store_up"), 1.0);
    assert_eq!(sample(&text, "gatehouse_argon2_queue"), 0.0);
}
