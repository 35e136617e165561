//! Conventions every endpoint shares: ops endpoints, unknown routes and methods, request ids,
//! the published spec and the documentation UI.

use escalade::config::OpenapiVersion;
use reqwest::Method;
use serde_json::Value;

use crate::helpers::spawn_app;

#[tokio::test]
async fn healthz_and_readyz_answer_without_a_key() {
    let app = spawn_app().await;

    let health = app.get_anonymously("/healthz").await;
    let ready = app.get_anonymously("/readyz").await;

    assert_eq!((health.status, &health.body["status"]), (200, &"ok".into()));
    assert_eq!(
        (ready.status, &ready.body["status"]),
        (200, &"ready".into())
    );
}

#[tokio::test]
async fn an_unknown_route_is_a_404_problem() {
    let app = spawn_app().await;

    let answer = app.get_anonymously("/nowhere").await;

    answer.problem(404, "not_found");
    assert_eq!(answer.body["instance"], "/nowhere");
}

/// Problem documents are `application/problem+json`, and `application/json` to a client that
/// accepts JSON but not them, as clients generated from the spec ask.
#[tokio::test]
async fn a_client_that_accepts_only_json_gets_its_problems_as_json() {
    let app = spawn_app().await;
    let cases = [
        ("application/json", "application/json"),
        (
            "application/json, application/problem+json;q=0",
            "application/json",
        ),
        (
            "application/json, application/problem+json",
            "application/problem+json",
        ),
        ("application/json, */*;q=0.1", "application/problem+json"),
        ("text/html", "application/problem+json"),
    ];

    for (accept, expected) in cases {
        let request = app.request(Method::GET, "/v1/customers", "esc_wrong");
        let answer = app.send(request.header("Accept", accept)).await;

        assert_eq!(answer.status, 401);
        assert_eq!(
            answer.header("content-type"),
            Some(expected),
            "Accept: {accept}"
        );
        assert_eq!(answer.body["code"], "unauthorized", "the same document");
    }
}

#[tokio::test]
async fn a_known_path_with_another_method_is_405_with_allow() {
    let app = spawn_app().await;

    let answer = app
        .send(app.request(Method::PUT, "/v1/customers", &app.admin_key))
        .await;

    answer.problem(405, "method_not_allowed");
    assert_eq!(answer.header("allow"), Some("GET, HEAD, POST"));
    let item = "/v1/customers/0193a1f2-7c4e-7d2a-9b1e-2f3c4d5e6f70";
    let item = app
        .send(app.request(Method::POST, item, &app.admin_key))
        .await;
    item.problem(405, "method_not_allowed");
    assert_eq!(item.header("allow"), Some("DELETE, GET, HEAD, PATCH"));
}

#[tokio::test]
async fn a_sensible_request_id_is_echoed_and_others_are_replaced() {
    let app = spawn_app().await;

    let with_id = |id: String| {
        app.client
            .get(app.url("/healthz"))
            .header("X-Request-Id", id)
    };
    let echoed = app.send(with_id("partner-42.abc".to_owned())).await;
    let generated = app.get_anonymously("/healthz").await;
    let forged = app.send(with_id("a".repeat(129))).await;

    assert_eq!(echoed.header("x-request-id"), Some("partner-42.abc"));
    let generated_id = generated.header("x-request-id").unwrap();
    assert!(
        uuid::Uuid::parse_str(generated_id).is_ok(),
        "{generated_id}"
    );
    let forged_id = forged.header("x-request-id").unwrap();
    assert_ne!(forged_id, "a".repeat(129));
}

#[tokio::test]
async fn errors_carry_the_request_id_too() {
    let app = spawn_app().await;

    let request = app.client.get(app.url("/v1/me"));
    let answer = app.send(request.header("X-Request-Id", "trace-401")).await;

    assert_eq!(answer.status, 401);
    assert_eq!(answer.header("x-request-id"), Some("trace-401"));
    assert_eq!(answer.header("www-authenticate"), Some("Bearer"));
    assert_eq!(answer.body["instance"], "/v1/me");
}

#[tokio::test]
async fn the_spec_and_the_docs_are_served_from_the_binary() {
    let app = spawn_app().await;

    let spec = app.get_anonymously("/openapi.json").await;
    let spec_30 = app.get_anonymously("/openapi-3.0.json").await;
    let redirect = app.client.get(app.url("/docs")).send().await.unwrap();
    let page = app.client.get(app.url("/docs/")).send().await.unwrap();
    let status = page.status();
    let policy = page.headers()["content-security-policy"].clone();
    let html = page.text().await.unwrap();

    for (served, version) in [
        (spec, OpenapiVersion::V3_1),
        (spec_30, OpenapiVersion::V3_0),
    ] {
        let built = escalade::run::openapi_json(version);
        assert_eq!(served.status, 200);
        assert_eq!(served.body, serde_json::from_str::<Value>(&built).unwrap());
    }
    assert!(redirect.status().is_redirection());
    assert_eq!(redirect.headers()["location"], "/docs/");
    assert_eq!(status, 200);
    assert!(html.contains("swagger-ui"), "Swagger UI's page");
    let policy = policy.to_str().unwrap();
    assert!(
        policy.starts_with("default-src 'none'; script-src 'self';") && !policy.contains("unsafe"),
        "{policy}"
    );
    assert!(
        !html.contains("://cdn") && !html.contains("unpkg.com"),
        "no CDN"
    );
}

#[tokio::test]
async fn metrics_count_requests_by_route_template_without_a_key() {
    let app = spawn_app().await;
    let partner = app.create_partner("Metered").await;
    let customer = app.create_customer(&partner, "上海云启科技有限公司").await;
    app.get(&format!("/v1/customers/{}", customer.id()), &partner.key)
        .await;
    app.get(
        "/v1/customers/0193a1f2-7c4e-7d2a-9b1e-2f3c4d5e6f70",
        &partner.key,
    )
    .await;

    let response = app.client.get(app.url("/metrics")).send().await.unwrap();
    let status = response.status();
    let content_type = response.headers()["content-type"]
        .to_str()
        .unwrap()
        .to_owned();
    let text = response.text().await.unwrap();

    assert_eq!(status, 200);
    assert!(
        content_type.starts_with("application/openmetrics-text"),
        "{content_type}"
    );
    for expected in [
        r#"escalade_http_requests_total{method="GET",route="/v1/customers/{id}",status="200"} 1"#,
        r#"escalade_http_requests_total{method="GET",route="/v1/customers/{id}",status="404"} 1"#,
        r#"escalade_http_requests_total{method="POST",route="/v1/customers",status="201"} 1"#,
        r#"escalade_http_request_duration_seconds_count{method="GET",route="/v1/customers/{id}"} 2"#,
        r#"escalade_db_pool_connections{state="idle"}"#,
        "# TYPE process_cpu_seconds counter",
        "process_resident_memory_bytes ",
        "process_open_fds ",
        "process_max_fds ",
        "process_threads ",
        "process_start_time_seconds ",
        "# EOF",
    ] {
        assert!(text.contains(expected), "missing `{expected}` in:\n{text}");
    }
    let why = "routes are templates, never raw paths";
    assert!(!text.contains(&customer.id().to_string()), "{why}");
}
