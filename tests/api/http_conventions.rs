//! Conventions every endpoint shares: ops endpoints, unknown routes and methods, request ids,
//! the published spec and the documentation UI.

use reqwest::Method;

use crate::helpers::{Answer, spawn_app};

#[tokio::test]
async fn healthz_and_readyz_answer_without_a_key() {
    let app = spawn_app().await;

    let health = Answer::read(app.client.get(app.url("/healthz")).send().await.unwrap()).await;
    let ready = Answer::read(app.client.get(app.url("/readyz")).send().await.unwrap()).await;

    assert_eq!((health.status, &health.body["status"]), (200, &"ok".into()));
    assert_eq!(
        (ready.status, &ready.body["status"]),
        (200, &"ready".into())
    );
}

#[tokio::test]
async fn an_unknown_route_is_a_404_problem() {
    let app = spawn_app().await;

    let answer = Answer::read(app.client.get(app.url("/nowhere")).send().await.unwrap()).await;

    answer.problem(404, "not_found");
    assert_eq!(answer.body["instance"], "/nowhere");
}

#[tokio::test]
async fn a_known_path_with_another_method_is_405_with_allow() {
    let app = spawn_app().await;

    let answer = app
        .send(app.request(Method::PUT, "/v1/customers", &app.admin_key))
        .await;

    answer.problem(405, "method_not_allowed");
    assert_eq!(answer.header("allow"), Some("GET, HEAD, POST"));
    let item = app
        .send(app.request(
            Method::POST,
            "/v1/customers/0193a1f2-7c4e-7d2a-9b1e-2f3c4d5e6f70",
            &app.admin_key,
        ))
        .await;
    item.problem(405, "method_not_allowed");
    assert_eq!(item.header("allow"), Some("DELETE, GET, HEAD, PATCH"));
}

#[tokio::test]
async fn a_sensible_request_id_is_echoed_and_others_are_replaced() {
    let app = spawn_app().await;

    let echoed = app
        .client
        .get(app.url("/healthz"))
        .header("X-Request-Id", "partner-42.abc")
        .send()
        .await
        .unwrap();
    let generated = app.client.get(app.url("/healthz")).send().await.unwrap();
    let forged = app
        .client
        .get(app.url("/healthz"))
        .header("X-Request-Id", "a".repeat(129))
        .send()
        .await
        .unwrap();

    assert_eq!(echoed.headers()["x-request-id"], "partner-42.abc");
    let generated_id = generated.headers()["x-request-id"].to_str().unwrap();
    assert!(
        uuid::Uuid::parse_str(generated_id).is_ok(),
        "{generated_id}"
    );
    assert_ne!(
        forged.headers()["x-request-id"].to_str().unwrap(),
        "a".repeat(129)
    );
}

#[tokio::test]
async fn errors_carry_the_request_id_too() {
    let app = spawn_app().await;

    let response = app
        .client
        .get(app.url("/v1/me"))
        .header("X-Request-Id", "trace-401")
        .send()
        .await
        .unwrap();

    assert_eq!(response.status(), 401);
    assert_eq!(response.headers()["x-request-id"], "trace-401");
    assert_eq!(response.headers()["www-authenticate"], "Bearer");
    let answer = Answer::read(response).await;
    assert_eq!(answer.body["instance"], "/v1/me");
}

#[tokio::test]
async fn the_spec_and_the_docs_are_served_from_the_binary() {
    let app = spawn_app().await;

    let spec = Answer::read(
        app.client
            .get(app.url("/openapi.json"))
            .send()
            .await
            .unwrap(),
    )
    .await;
    let spec_30 = Answer::read(
        app.client
            .get(app.url("/openapi-3.0.json"))
            .send()
            .await
            .unwrap(),
    )
    .await;
    let redirect = app.client.get(app.url("/docs")).send().await.unwrap();
    let page = app.client.get(app.url("/docs/")).send().await.unwrap();
    let status = page.status();
    let policy = page.headers()["content-security-policy"].clone();
    let html = page.text().await.unwrap();

    assert_eq!(spec.status, 200);
    assert_eq!(
        spec.body,
        serde_json::from_str::<serde_json::Value>(&escalade::run::openapi_json(
            escalade::config::OpenapiVersion::V3_1
        ))
        .unwrap()
    );
    assert_eq!(spec_30.status, 200);
    assert_eq!(
        spec_30.body,
        serde_json::from_str::<serde_json::Value>(&escalade::run::openapi_json(
            escalade::config::OpenapiVersion::V3_0
        ))
        .unwrap()
    );
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
    assert!(
        !text.contains(&customer.id().to_string()),
        "routes are templates, never raw paths"
    );
}
