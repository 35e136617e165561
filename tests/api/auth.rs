//! Authentication: `Authorization: Bearer <api key>` on every `/v1` call, and `GET /v1/me`.
//!
//! Every failure is the same 401 `unauthorized` with `WWW-Authenticate: Bearer`, whatever was
//! wrong with the key, so a caller learns nothing about which keys exist.

use escalade::http::verified_keys::REVALIDATION_INTERVAL;
use reqwest::Method;
use serde_json::json;

use crate::helpers::{Answer, TestApp, spawn_app};

/// A well-formed key (`esc_` and 43 URL-safe base64 characters) that no one was ever issued.
const UNKNOWN_KEY: &str = "esc_AAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAA";

/// `GET /v1/me` with a raw `Authorization` header, or none at all.
async fn me_with_authorization(app: &TestApp, authorization: Option<&str>) -> Answer {
    let mut request = app.client.get(app.url("/v1/me"));
    if let Some(value) = authorization {
        request = request.header("Authorization", value);
    }
    app.send(request).await
}

/// Asserts the one 401 every authentication failure gets.
#[track_caller]
fn assert_unauthorized(answer: &Answer) {
    answer.problem(401, "unauthorized");
    assert_eq!(
        answer.header("www-authenticate"),
        Some("Bearer"),
        "a 401 names the Bearer scheme"
    );
}

/// Creates a key through the API as admin; returns the creation answer.
async fn create_key(app: &TestApp, role: &str, partner_id: Option<uuid::Uuid>) -> Answer {
    let mut body = json!({"role": role, "name": format!("{role} integration")});
    if let Some(partner_id) = partner_id {
        body["partner_id"] = json!(partner_id);
    }
    let answer = app.post("/v1/api-keys", &app.admin_key, &body).await;
    assert_eq!(answer.status, 201, "{}", answer.body);
    answer
}

#[tokio::test]
async fn a_request_without_authorization_is_unauthorized_with_a_bearer_challenge() {
    // Arrange
    let app = spawn_app().await;

    // Act
    let answer = me_with_authorization(&app, None).await;

    // Assert
    assert_unauthorized(&answer);
    assert_eq!(answer.body["instance"], "/v1/me");
}

#[tokio::test]
async fn authentication_comes_before_the_body_is_read() {
    // Arrange
    let app = spawn_app().await;
    let request = app
        .client
        .post(app.url("/v1/partners"))
        .header("Content-Type", "application/json")
        .body("{ this is not json");

    // Act
    let answer = app.send(request).await;

    // Assert
    assert_unauthorized(&answer);
}

#[tokio::test]
async fn a_scheme_other_than_bearer_is_unauthorized() {
    // Arrange
    let app = spawn_app().await;

    // Act
    let basic = me_with_authorization(&app, Some("Basic YWRtaW46c2VjcmV0")).await;
    let basic_with_a_valid_key =
        me_with_authorization(&app, Some(&format!("Basic {}", app.admin_key))).await;
    let token_scheme = me_with_authorization(&app, Some(&format!("Token {}", app.admin_key))).await;
    let bare_key = me_with_authorization(&app, Some(&app.admin_key)).await;

    // Assert
    assert_unauthorized(&basic);
    assert_unauthorized(&basic_with_a_valid_key);
    assert_unauthorized(&token_scheme);
    assert_unauthorized(&bare_key);
}

#[tokio::test]
async fn the_bearer_scheme_name_is_case_insensitive() {
    // Arrange
    let app = spawn_app().await;

    // Act
    let answer = me_with_authorization(&app, Some(&format!("bearer {}", app.admin_key))).await;

    // Assert
    assert_eq!(answer.status, 200, "{}", answer.body);
    assert_eq!(answer.body["role"], "admin");
}

#[tokio::test]
async fn malformed_tokens_are_unauthorized() {
    // Arrange
    let app = spawn_app().await;
    let valid = app.admin_key.clone();
    let malformed = [
        "Bearer".to_owned(),
        "Bearer ".to_owned(),
        "Bearer not-a-key".to_owned(),
        "Bearer esc_short".to_owned(),
        // One character short, one too many, a character outside the alphabet, another scheme.
        format!("Bearer {}", &valid[..valid.len() - 1]),
        format!("Bearer {valid}A"),
        format!("Bearer {}!", &valid[..valid.len() - 1]),
        format!("Bearer {}", valid.replacen("esc_", "xyz_", 1)),
    ];

    for authorization in &malformed {
        // Act
        let answer = me_with_authorization(&app, Some(authorization)).await;

        // Assert
        assert_eq!(
            answer.status, 401,
            "`{authorization}` must be refused; body: {}",
            answer.body
        );
        assert_unauthorized(&answer);
    }
}

#[tokio::test]
async fn an_unknown_well_formed_key_is_unauthorized() {
    // Arrange
    let app = spawn_app().await;
    assert_eq!(UNKNOWN_KEY.len(), 4 + 43);

    // Act
    let answer = app.get("/v1/me", UNKNOWN_KEY).await;

    // Assert
    assert_unauthorized(&answer);
}

#[tokio::test]
async fn a_key_sharing_a_real_prefix_but_not_its_secret_is_unauthorized() {
    // Arrange: same first 12 characters (the stored prefix), different last character.
    let app = spawn_app().await;
    let key = &app.admin_key;
    let last = key.chars().last().unwrap();
    let other_last = if last == 'A' { 'B' } else { 'A' };
    let forged = format!("{}{other_last}", &key[..key.len() - 1]);
    assert_eq!(forged[..12], key[..12]);

    // Act
    let answer = app.get("/v1/me", &forged).await;

    // Assert
    assert_unauthorized(&answer);
}

#[tokio::test]
async fn a_revoked_key_is_unauthorized_everywhere() {
    // Arrange
    let app = spawn_app().await;
    let partner = app.create_partner("撤销测试 Revoked Ltd").await;
    let created = create_key(&app, "partner", Some(partner.id)).await;
    let key = created.body["key"].as_str().unwrap().to_owned();
    assert_eq!(
        app.get("/v1/me", &key).await.status,
        200,
        "the key works before it is revoked"
    );

    // Act
    let revoked = app
        .delete(&format!("/v1/api-keys/{}", created.id()), &app.admin_key)
        .await;

    // Assert
    assert_eq!(revoked.status, 204, "{}", revoked.body);
    assert_unauthorized(&app.get("/v1/me", &key).await);
    assert_unauthorized(&app.get(&format!("/v1/partners/{}", partner.id), &key).await);
    assert_unauthorized(&app.get("/v1/api-keys", &key).await);
}

#[tokio::test]
async fn unauthorized_answers_never_echo_the_presented_key() {
    // Arrange
    let app = spawn_app().await;
    let created = create_key(&app, "operator", None).await;
    let revoked_key = created.body["key"].as_str().unwrap().to_owned();
    app.delete(&format!("/v1/api-keys/{}", created.id()), &app.admin_key)
        .await;
    let presented = [
        UNKNOWN_KEY.to_owned(),
        revoked_key,
        "esc_this-is-not-a-valid-key".to_owned(),
        format!("{}!", &app.admin_key[..app.admin_key.len() - 1]),
    ];

    for key in &presented {
        // Act
        let answer = app.get("/v1/me", key).await;

        // Assert
        assert_unauthorized(&answer);
        let body = answer.body.to_string();
        assert!(
            !body.contains(key.as_str()),
            "the 401 body echoes the key: {body}"
        );
        assert!(
            !body.contains(&key[4..12]),
            "the 401 body echoes part of the key: {body}"
        );
        for (name, value) in &answer.headers {
            let value = value.to_str().unwrap_or_default();
            assert!(
                !value.contains(key.as_str()),
                "header {name} echoes the key"
            );
        }
    }
}

#[tokio::test]
async fn me_for_an_admin_has_no_partner() {
    // Arrange
    let app = spawn_app().await;

    // Act
    let answer = app.get("/v1/me", &app.admin_key).await;

    // Assert
    assert_eq!(answer.status, 200, "{}", answer.body);
    assert_eq!(answer.body["role"], "admin");
    assert!(answer.body["partner"].is_null(), "{}", answer.body);
    let key = &answer.body["api_key"];
    assert_eq!(key["role"], "admin");
    assert!(key["partner_id"].is_null());
    assert_eq!(key["prefix"], app.admin_key[..12]);
    assert!(key["revoked_at"].is_null());
    assert!(
        key.get("key").is_none(),
        "the secret is never shown again: {key}"
    );
    assert!(
        key.get("secret_hash").is_none(),
        "the digest is never shown: {key}"
    );
}

#[tokio::test]
async fn me_for_an_operator_has_no_partner() {
    // Arrange
    let app = spawn_app().await;
    let operator = app.operator_key().await;

    // Act
    let answer = app.get("/v1/me", &operator).await;

    // Assert
    assert_eq!(answer.status, 200, "{}", answer.body);
    assert_eq!(answer.body["role"], "operator");
    assert!(answer.body["partner"].is_null(), "{}", answer.body);
    assert_eq!(answer.body["api_key"]["role"], "operator");
    assert_eq!(answer.body["api_key"]["prefix"], operator[..12]);
    assert!(answer.body["api_key"].get("key").is_none());
}

#[tokio::test]
async fn me_for_a_partner_names_its_partner() {
    // Arrange
    let app = spawn_app().await;
    let partner = app.create_partner("云桥科技 CloudBridge").await;
    app.create_partner("Someone Else Ltd").await;

    // Act
    let answer = app.get("/v1/me", &partner.key).await;

    // Assert
    assert_eq!(answer.status, 200, "{}", answer.body);
    assert_eq!(answer.body["role"], "partner");
    assert_eq!(answer.body["partner"]["id"], partner.id.to_string());
    assert_eq!(answer.body["partner"]["name"], "云桥科技 CloudBridge");
    assert_eq!(
        answer.body["partner"]["tenant_id"],
        partner.tenant_id.to_string()
    );
    assert_eq!(answer.body["partner"]["status"], "active");
    assert_eq!(answer.body["api_key"]["role"], "partner");
    assert_eq!(answer.body["api_key"]["partner_id"], partner.id.to_string());
    assert_eq!(answer.body["api_key"]["prefix"], partner.key[..12]);
}

#[tokio::test]
async fn me_describes_the_key_that_made_the_request() {
    // Arrange: two admin keys.
    let app = spawn_app().await;
    let created = create_key(&app, "admin", None).await;
    let second = created.body["key"].as_str().unwrap();

    // Act
    let first_me = app.get("/v1/me", &app.admin_key).await;
    let second_me = app.get("/v1/me", second).await;

    // Assert
    assert_eq!(second_me.body["api_key"]["id"], created.body["id"]);
    assert_eq!(second_me.body["api_key"]["name"], "admin integration");
    assert_ne!(
        first_me.body["api_key"]["id"],
        second_me.body["api_key"]["id"]
    );
}

#[tokio::test]
async fn last_used_at_is_recorded_within_seconds_of_a_use() {
    // Arrange
    let app = spawn_app().await;
    let created = create_key(&app, "operator", None).await;
    let key = created.body["key"].as_str().unwrap().to_owned();
    let path = format!("/v1/api-keys/{}", created.id());
    assert!(
        created.body["last_used_at"].is_null(),
        "a new key was never used: {}",
        created.body
    );
    let before = app.get(&path, &app.admin_key).await;
    assert!(before.body["last_used_at"].is_null(), "{}", before.body);
    let started = chrono::Utc::now();

    // Act
    let me = app.send(app.request(Method::GET, "/v1/me", &key)).await;

    // Assert
    assert_eq!(me.status, 200, "{}", me.body);
    let recorded = std::time::Instant::now();
    let last_used = loop {
        let after = app.get(&path, &app.admin_key).await;
        if let Some(at) = after.body["last_used_at"].as_str() {
            break at
                .parse::<chrono::DateTime<chrono::Utc>>()
                .expect("RFC 3339");
        }
        assert!(
            recorded.elapsed() < 3 * REVALIDATION_INTERVAL,
            "last_used_at is still unset: {}",
            after.body
        );
        tokio::time::sleep(std::time::Duration::from_millis(100)).await;
    };
    let slack = chrono::Duration::seconds(5);
    assert!(
        last_used >= started - slack && last_used <= chrono::Utc::now() + slack,
        "last_used_at {last_used} is not around {started}"
    );
}

#[tokio::test]
async fn every_role_may_ask_who_it_is_but_not_with_another_method() {
    // Arrange
    let app = spawn_app().await;

    // Act
    let answer = app.post("/v1/me", &app.admin_key, &json!({})).await;

    // Assert
    answer.problem(405, "method_not_allowed");
    assert_eq!(answer.header("allow"), Some("GET, HEAD"));
}

#[tokio::test]
async fn a_revoked_key_fails_at_once_where_revoked_and_within_two_seconds_everywhere_else() {
    // Arrange: two instances of one deployment, each having verified the key.
    let here = spawn_app().await;
    let elsewhere = here.spawn_sibling();
    let created = create_key(&here, "operator", None).await;
    let key = created.body["key"].as_str().unwrap().to_owned();
    for app in [&here, &elsewhere] {
        let me = app.send(app.request(Method::GET, "/v1/me", &key)).await;
        assert_eq!(me.status, 200, "{}", me.body);
    }

    // Act
    let revoked = here
        .delete(&format!("/v1/api-keys/{}", created.id()), &here.admin_key)
        .await;
    let revoked_at = std::time::Instant::now();

    // Assert
    assert_eq!(revoked.status, 204, "{}", revoked.body);
    let at_once = here.send(here.request(Method::GET, "/v1/me", &key)).await;
    at_once.problem(401, "unauthorized");
    loop {
        let answer = elsewhere
            .send(elsewhere.request(Method::GET, "/v1/me", &key))
            .await;
        if answer.status == 401 {
            break;
        }
        assert_eq!(answer.status, 200, "{}", answer.body);
        assert!(
            revoked_at.elapsed() <= 2 * REVALIDATION_INTERVAL,
            "the other instance still admits the key after {:?}",
            revoked_at.elapsed()
        );
        tokio::time::sleep(std::time::Duration::from_millis(50)).await;
    }
}

#[tokio::test]
async fn a_key_revoked_in_the_database_by_another_tool_stops_working_within_two_seconds() {
    // Arrange
    let app = spawn_app().await;
    let created = create_key(&app, "operator", None).await;
    let key = created.body["key"].as_str().unwrap().to_owned();
    let me = app.send(app.request(Method::GET, "/v1/me", &key)).await;
    assert_eq!(me.status, 200);

    // Act: revoked behind the service's back, as another deployment's tool would.
    app.execute_sql(
        "UPDATE api_keys SET revoked_at = $1 WHERE id = $2",
        vec![chrono::Utc::now().into(), created.id().into()],
    )
    .await;

    // Assert
    let started = std::time::Instant::now();
    loop {
        let answer = app
            .send(app.request(Method::GET, "/v1/vocabulary", &key))
            .await;
        if answer.status == 401 {
            break;
        }
        assert!(
            started.elapsed() <= 2 * REVALIDATION_INTERVAL,
            "the key still works after {:?}",
            started.elapsed()
        );
        tokio::time::sleep(std::time::Duration::from_millis(50)).await;
    }
}
