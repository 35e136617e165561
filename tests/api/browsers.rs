//! What browsers and caches rely on: CORS for the configured origins (preflights before
//! authentication), `HEAD` wherever `GET` works, and `If-None-Match` answered with 304.

use escalade::config::{CorsOrigins, ServeSettings};
use reqwest::Method;
use serde_json::{Value, json};

use crate::helpers::{Answer, TestApp, spawn_app, spawn_app_with};

const CONSOLE: &str = "https://console.partner.cn";

/// A CORS preflight for `/v1/escalations`, as a browser sends it: no key, no body.
async fn preflight(app: &TestApp, origin: &str, method: &str, headers: &str) -> Answer {
    let request = app
        .client
        .request(Method::OPTIONS, app.url("/v1/escalations"))
        .header("Origin", origin)
        .header("Access-Control-Request-Method", method)
        .header("Access-Control-Request-Headers", headers);
    app.send(request).await
}

/// The names of the answer's `Access-Control-*` headers.
fn cors_headers(answer: &Answer) -> Vec<&str> {
    let names = answer.headers.keys().map(|name| name.as_str());
    names
        .filter(|name| name.starts_with("access-control-"))
        .collect()
}

/// Asserts the comma-separated `header` lists each of `expected` (in any case).
#[track_caller]
fn assert_lists(answer: &Answer, header: &str, expected: &[&str]) {
    let listed: Vec<String> = (answer.header(header).unwrap_or_default().split(','))
        .map(|item| item.trim().to_ascii_lowercase())
        .collect();
    for item in expected {
        let found = listed.iter().any(|l| l == item);
        assert!(found, "{item} in {header}: {listed:?}");
    }
}

#[tokio::test]
async fn the_configured_origins_and_no_other_may_call_across_origins_and_read_what_they_act_on() {
    // Arrange
    let app = spawn_app_with(ServeSettings {
        cors_allowed_origins: CorsOrigins(vec!["http://127.0.0.1:5173".into(), CONSOLE.into()]),
        ..ServeSettings::default()
    })
    .await;
    let partner = app.create_partner("Cross-origin").await;
    let customer = app.create_customer(&partner, "上海云启科技有限公司").await;
    let path = format!("/v1/customers/{}", customer.id());
    let from = async |origin: &str, key: &str, path: &str| {
        let request = app.request(Method::GET, path, key);
        app.send(request.header("Origin", origin)).await
    };
    let wanted = [
        "authorization",
        "content-type",
        "if-match",
        "if-none-match",
        "idempotency-key",
        "x-request-id",
        "accept-language",
        "last-event-id",
    ];

    // Act
    let allowed = preflight(&app, CONSOLE, "POST", &wanted.join(", ")).await;
    let read = from(CONSOLE, &partner.key, &path).await;
    let refused = from(CONSOLE, "esc_wrong", &path).await;
    let elsewhere = preflight(&app, "https://evil.example.cn", "POST", "authorization").await;
    let other_port = "https://console.partner.cn:8443";
    let near_miss = preflight(&app, other_port, "GET", "authorization").await;
    let wrong_header = preflight(&app, CONSOLE, "POST", "x-forwarded-host").await;
    let served_elsewhere = from("https://evil.example.cn", &partner.key, "/v1/customers").await;

    // Assert: a preflight from an allowed origin is answered without a key.
    assert_eq!(allowed.status, 200, "{:?}", allowed.body);
    assert_eq!(allowed.header("access-control-allow-origin"), Some(CONSOLE));
    assert_lists(&allowed, "access-control-allow-headers", &wanted);
    let methods = ["get", "head", "post", "patch", "delete"];
    assert_lists(&allowed, "access-control-allow-methods", &methods);
    assert_lists(&allowed, "vary", &["origin"]);
    assert!(allowed.header("access-control-max-age").is_some());
    // The page may read every header a client acts on, and why it was refused.
    assert_eq!(read.status, 200);
    let exposed = [
        "etag",
        "location",
        "link",
        "retry-after",
        "ratelimit",
        "ratelimit-policy",
        "idempotency-replayed",
        "x-request-id",
        "content-language",
        "content-disposition",
        "content-range",
        "allow",
        "www-authenticate",
    ];
    assert_lists(&read, "access-control-expose-headers", &exposed);
    refused.problem(401, "unauthorized");
    let expose = "access-control-expose-headers";
    assert_lists(&refused, expose, &["www-authenticate"]);
    for answer in [&read, &refused] {
        assert_eq!(answer.header("access-control-allow-origin"), Some(CONSOLE));
    }
    // Another origin, port or header: refused without CORS headers.
    for answer in [&elsewhere, &near_miss, &wrong_header] {
        answer.problem(400, "cors_refused");
        assert_eq!(cors_headers(answer), Vec::<&str>::new());
    }
    // Served (the browser, not the server, keeps the answer from the page), without CORS headers.
    assert_eq!(served_elsewhere.status, 200);
    assert_eq!(cors_headers(&served_elsewhere), Vec::<&str>::new());
}

#[tokio::test]
async fn without_configured_origins_no_browser_may_call_across_origins() {
    // Arrange
    let app = spawn_app().await;

    // Act
    let answer = preflight(&app, CONSOLE, "GET", "authorization").await;
    let plain = app.get("/v1/me", &app.admin_key).await;

    // Assert
    answer.problem(400, "cors_refused");
    assert_eq!(cors_headers(&answer), Vec::<&str>::new());
    assert_eq!(cors_headers(&plain), Vec::<&str>::new());
}

#[tokio::test]
async fn head_answers_as_get_does_without_the_body_and_is_refused_where_get_is() {
    // Arrange
    let app = spawn_app().await;
    let partner = app.create_partner("Heads").await;
    let customer = app.create_customer(&partner, "北京数智医疗集团").await;
    let paths = [
        format!("/v1/customers/{}", customer.id()),
        "/v1/customers?limit=1".to_owned(),
        "/v1/services".to_owned(),
        "/healthz".to_owned(),
        "/openapi.json".to_owned(),
    ];

    for path in paths {
        // Act
        let read = async |method| {
            let request = app.request(method, &path, &partner.key);
            let answer = request.send().await.unwrap();
            let (status, headers) = (answer.status(), answer.headers().clone());
            (status, headers, answer.bytes().await.unwrap())
        };
        let (get_status, get_headers, get_body) = read(Method::GET).await;
        let (head_status, head_headers, head_body) = read(Method::HEAD).await;

        // Assert
        assert_eq!(get_status, 200, "{path}");
        assert_eq!(head_status, get_status, "{path}");
        assert!(head_body.is_empty(), "{path}: HEAD has no body");
        // HEAD states the length GET sends.
        let length = head_headers["content-length"].to_str().unwrap();
        assert_eq!(length, get_body.len().to_string(), "{path}");
        for name in ["content-type", "etag", "link", "ratelimit-policy"] {
            let (head, get) = (head_headers.get(name), get_headers.get(name));
            assert_eq!(head, get, "{path}: {name}");
        }
    }
    let validate = app.request(Method::HEAD, "/v1/escalations/validate", &app.admin_key);
    let refused = validate.send().await.unwrap();
    assert_eq!(refused.status(), 405);
    assert_eq!(refused.headers()["allow"], "POST");
}

#[tokio::test]
async fn if_none_match_with_the_current_tag_is_304_and_never_for_an_error_or_a_list() {
    // Arrange
    let app = spawn_app().await;
    let partner = app.create_partner("Caching").await;
    let customer = app.create_customer(&partner, "上海云启科技有限公司").await;
    let path = format!("/v1/customers/{}", customer.id());
    let tag = customer.etag();
    let conditional = async |method: Method, path: &str, if_none_match: &str| {
        let request = app.request(method, path, &partner.key);
        let request = request.header("If-None-Match", if_none_match);
        app.send(request.header("X-Request-Id", "cache-check"))
            .await
    };

    // Act
    let mut unchanged = Vec::new();
    for (method, if_none_match) in [
        (Method::GET, tag.clone()),
        (Method::GET, format!("W/{tag}")),
        (Method::GET, format!("\"999\", {tag}")),
        (Method::GET, "*".to_owned()),
        (Method::HEAD, tag.clone()),
    ] {
        unchanged.push(conditional(method, &path, &if_none_match).await);
    }
    let other_tag = conditional(Method::GET, &path, "\"999\"").await;
    let premium = json!({"support_plan": "premium"});
    let updated = app.patch(&path, &partner.key, Some(&tag), &premium).await;
    let stale = conditional(Method::GET, &path, &tag).await;
    let missing = "/v1/customers/0193a1f2-7c4e-7d2a-9b1e-2f3c4d5e6f70";
    let missing = conditional(Method::GET, missing, "*").await;
    let list = conditional(Method::GET, "/v1/customers", "*").await;

    // Assert
    for answer in &unchanged {
        assert_eq!(answer.status, 304, "{answer:?}");
        assert_eq!(answer.body, Value::Null, "no body");
        assert_eq!(answer.header("etag"), Some(tag.as_str()));
        assert_eq!(answer.header("x-request-id"), Some("cache-check"));
        assert!(answer.header("ratelimit").is_some());
        assert!(answer.header("content-type").is_none());
    }
    assert_eq!(other_tag.status, 200);
    assert_eq!(other_tag.body["id"], customer.body["id"]);
    assert_eq!(updated.status, 200, "{}", updated.body);
    assert_eq!(stale.status, 200);
    assert_eq!(stale.header("etag"), updated.header("etag"));
    assert_eq!(stale.body["support_plan"], "premium");
    missing.problem(404, "not_found");
    assert_eq!(list.status, 200);
}
