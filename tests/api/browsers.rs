//! What browsers and caches rely on: CORS for the configured origins (preflights before
//! authentication), `HEAD` wherever `GET` works, and `If-None-Match` answered with 304.

use escalade::config::{CorsOrigins, ServeSettings};
use reqwest::Method;
use serde_json::json;

use crate::helpers::{Answer, TestApp, spawn_app, spawn_app_with};

const CONSOLE: &str = "https://console.partner.cn";

async fn spawn_app_allowing(origins: &[&str]) -> TestApp {
    spawn_app_with(ServeSettings {
        cors_allowed_origins: CorsOrigins(origins.iter().map(|o| (*o).to_owned()).collect()),
        ..ServeSettings::default()
    })
    .await
}

/// A CORS preflight, as a browser sends it: no key, no body.
async fn preflight(app: &TestApp, origin: &str, method: &str, headers: &str) -> Answer {
    let request = app
        .client
        .request(Method::OPTIONS, app.url("/v1/escalations"))
        .header("Origin", origin)
        .header("Access-Control-Request-Method", method)
        .header("Access-Control-Request-Headers", headers);
    app.send(request).await
}

fn cors_headers(answer: &Answer) -> Vec<String> {
    answer
        .headers
        .keys()
        .map(|name| name.as_str().to_owned())
        .filter(|name| name.starts_with("access-control-"))
        .collect()
}

fn listed(answer: &Answer, header: &str) -> Vec<String> {
    answer
        .header(header)
        .unwrap_or_default()
        .split(',')
        .map(|item| item.trim().to_ascii_lowercase())
        .collect()
}

#[tokio::test]
async fn a_preflight_from_an_allowed_origin_is_answered_without_a_key() {
    // Arrange
    let app = spawn_app_allowing(&["http://127.0.0.1:5173", CONSOLE]).await;
    let wanted = "authorization, content-type, if-match, if-none-match, idempotency-key, \
                  x-request-id, accept-language";

    // Act
    let answer = preflight(&app, CONSOLE, "POST", wanted).await;

    // Assert
    assert_eq!(answer.status, 200, "{:?}", answer.body);
    assert_eq!(answer.header("access-control-allow-origin"), Some(CONSOLE));
    let allowed = listed(&answer, "access-control-allow-headers");
    for header in wanted.split(", ") {
        assert!(
            allowed.contains(&header.to_owned()),
            "{header} in {allowed:?}"
        );
    }
    let methods = listed(&answer, "access-control-allow-methods");
    for method in ["get", "head", "post", "patch", "delete"] {
        assert!(
            methods.contains(&method.to_owned()),
            "{method} in {methods:?}"
        );
    }
    assert!(listed(&answer, "vary").contains(&"origin".to_owned()));
    assert!(answer.header("access-control-max-age").is_some());
}

#[tokio::test]
async fn an_allowed_origin_may_read_every_header_a_client_acts_on() {
    // Arrange
    let app = spawn_app_allowing(&[CONSOLE]).await;
    let partner = app.create_partner("Cross-origin").await;
    let customer = app.create_customer(&partner, "上海云启科技有限公司").await;
    let path = format!("/v1/customers/{}", customer.id());

    // Act
    let read = app
        .send(
            app.request(Method::GET, &path, &partner.key)
                .header("Origin", CONSOLE),
        )
        .await;
    let refused = app
        .send(
            app.request(Method::GET, &path, "esc_wrong")
                .header("Origin", CONSOLE),
        )
        .await;

    // Assert
    assert_eq!(read.status, 200);
    assert_eq!(read.header("access-control-allow-origin"), Some(CONSOLE));
    let exposed = listed(&read, "access-control-expose-headers");
    for header in [
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
    ] {
        assert!(
            exposed.contains(&header.to_owned()),
            "{header} in {exposed:?}"
        );
    }
    // A page must be able to read why it was refused.
    refused.problem(401, "unauthorized");
    assert_eq!(refused.header("access-control-allow-origin"), Some(CONSOLE));
    assert!(
        listed(&refused, "access-control-expose-headers").contains(&"www-authenticate".to_owned())
    );
}

#[tokio::test]
async fn an_origin_not_on_the_list_gets_no_cors_headers() {
    // Arrange
    let app = spawn_app_allowing(&[CONSOLE]).await;
    let partner = app.create_partner("Same-origin").await;

    // Act
    let refused = preflight(&app, "https://evil.example.cn", "POST", "authorization").await;
    let near_miss = preflight(
        &app,
        "https://console.partner.cn:8443",
        "GET",
        "authorization",
    )
    .await;
    let wrong_header = preflight(&app, CONSOLE, "POST", "x-forwarded-host").await;
    let served = app
        .send(
            app.request(Method::GET, "/v1/customers", &partner.key)
                .header("Origin", "https://evil.example.cn"),
        )
        .await;

    // Assert
    for answer in [&refused, &near_miss, &wrong_header] {
        answer.problem(400, "cors_refused");
        assert_eq!(cors_headers(answer), Vec::<String>::new());
    }
    // Served (the browser, not the server, keeps the answer from the page), without CORS headers.
    assert_eq!(served.status, 200);
    assert_eq!(cors_headers(&served), Vec::<String>::new());
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
    assert_eq!(cors_headers(&answer), Vec::<String>::new());
    assert_eq!(cors_headers(&plain), Vec::<String>::new());
}

#[tokio::test]
async fn head_answers_as_get_does_without_the_body() {
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
        let get = app
            .request(Method::GET, &path, &partner.key)
            .send()
            .await
            .unwrap();
        let head = app
            .request(Method::HEAD, &path, &partner.key)
            .send()
            .await
            .unwrap();
        let (get_status, get_headers) = (get.status(), get.headers().clone());
        let get_body = get.bytes().await.unwrap();
        let (head_status, head_headers) = (head.status(), head.headers().clone());
        let head_body = head.bytes().await.unwrap();

        // Assert
        assert_eq!(
            (head_status, get_status.as_u16()),
            (get_status, 200),
            "{path}"
        );
        assert!(head_body.is_empty(), "{path}: HEAD has no body");
        assert_eq!(
            head_headers["content-length"],
            get_body.len().to_string(),
            "{path}: HEAD states the length GET sends"
        );
        for name in ["content-type", "etag", "link", "ratelimit-policy"] {
            assert_eq!(
                head_headers.get(name),
                get_headers.get(name),
                "{path}: {name}"
            );
        }
    }
}

#[tokio::test]
async fn head_is_refused_where_get_is() {
    // Arrange
    let app = spawn_app().await;

    // Act
    let answer = app
        .request(Method::HEAD, "/v1/escalations/validate", &app.admin_key)
        .send()
        .await
        .unwrap();

    // Assert
    assert_eq!(answer.status(), 405);
    assert_eq!(answer.headers()["allow"], "POST");
}

#[tokio::test]
async fn if_none_match_with_the_current_tag_is_answered_304() {
    // Arrange
    let app = spawn_app().await;
    let partner = app.create_partner("Caching").await;
    let customer = app.create_customer(&partner, "上海云启科技有限公司").await;
    let path = format!("/v1/customers/{}", customer.id());
    let tag = customer.etag();
    let conditional = |method: Method, if_none_match: &str| {
        app.request(method, &path, &partner.key)
            .header("If-None-Match", if_none_match)
            .header("X-Request-Id", "cache-check")
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
        unchanged.push(app.send(conditional(method, &if_none_match)).await);
    }
    let other_tag = app.send(conditional(Method::GET, "\"999\"")).await;
    let updated = app
        .patch(
            &path,
            &partner.key,
            Some(&tag),
            &json!({"support_plan": "premium"}),
        )
        .await;
    let stale = app.send(conditional(Method::GET, &tag)).await;

    // Assert
    for answer in &unchanged {
        assert_eq!(answer.status, 304, "{answer:?}");
        assert_eq!(answer.body, serde_json::Value::Null, "no body");
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
}

#[tokio::test]
async fn if_none_match_never_turns_an_error_or_a_list_into_304() {
    // Arrange
    let app = spawn_app().await;
    let partner = app.create_partner("Not cached").await;

    // Act
    let missing = app
        .send(
            app.request(
                Method::GET,
                "/v1/customers/0193a1f2-7c4e-7d2a-9b1e-2f3c4d5e6f70",
                &partner.key,
            )
            .header("If-None-Match", "*"),
        )
        .await;
    let list = app
        .send(
            app.request(Method::GET, "/v1/customers", &partner.key)
                .header("If-None-Match", "*"),
        )
        .await;

    // Assert
    missing.problem(404, "not_found");
    assert_eq!(list.status, 200);
}
