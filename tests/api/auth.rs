//! Authentication: `Authorization: Bearer <api key>` on every `/v1` call, and `GET /v1/me`.
//!
//! Every failure is the same 401 `unauthorized` with `WWW-Authenticate: Bearer`, whatever was
//! wrong with the key, so a caller learns nothing about which keys exist.

use std::time::{Duration, Instant};

use escalade::http::verified_keys::REVALIDATION_INTERVAL;
use serde_json::{Value, json};

use crate::helpers::{Answer, TestApp, spawn_app, timestamp};

/// A well-formed key (`esc_` and 43 URL-safe base64 characters) that no one was ever issued.
const UNKNOWN_KEY: &str = "esc_AAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAA";

/// Asserts the one 401 every authentication failure gets.
#[track_caller]
fn assert_unauthorized(label: &str, answer: &Answer) {
    assert_eq!(answer.status, 401, "{label}: {}", answer.body);
    answer.problem(401, "unauthorized");
    let challenge = answer.header("www-authenticate");
    assert_eq!(challenge, Some("Bearer"), "{label}: the scheme is named");
}

/// `key` with another last character: the same stored prefix (the first 12), not its secret.
pub(crate) fn forged(key: &str) -> String {
    let (rest, last) = key.split_at(key.len() - 1);
    format!("{rest}{}", if last == "A" { 'B' } else { 'A' })
}

/// Creates a key through the API as admin; returns the creation answer and the key.
async fn create_key(app: &TestApp, role: &str, partner_id: Option<uuid::Uuid>) -> (Answer, String) {
    let mut body = json!({"role": role, "name": format!("{role} integration")});
    if let Some(partner_id) = partner_id {
        body["partner_id"] = json!(partner_id);
    }
    let answer = app.created("/v1/api-keys", &app.admin_key, &body).await;
    let key = answer.body["key"].as_str().unwrap().to_owned();
    (answer, key)
}

/// `GET path` as `key`, until it is refused, every answer before a 200; panics if that takes
/// longer than `limit` from `since`.
async fn refused_within(app: &TestApp, path: &str, key: &str, since: Instant, limit: Duration) {
    loop {
        let answer = app.get(path, key).await;
        if answer.status == 401 {
            return;
        }
        assert_eq!(answer.status, 200, "{}", answer.body);
        let elapsed = since.elapsed();
        assert!(elapsed <= limit, "the key still works after {elapsed:?}");
        tokio::time::sleep(Duration::from_millis(50)).await;
    }
}

#[tokio::test]
async fn every_authentication_failure_is_the_same_401_that_never_echoes_the_key() {
    // Arrange
    let app = spawn_app().await;
    let valid = app.admin_key.clone();
    let (created, revoked) = create_key(&app, "operator", None).await;
    let revocation = format!("/v1/api-keys/{}", created.id());
    assert_eq!(app.delete(&revocation, &valid).await.status, 204);
    let short = &valid[..valid.len() - 1];
    let forged = forged(&valid);
    assert_eq!(forged[..12], valid[..12]);
    assert_eq!(UNKNOWN_KEY.len(), 4 + 43);
    let bearer = |key: &str| Some(format!("Bearer {key}"));

    for (label, authorization) in [
        ("no Authorization", None),
        ("Basic", Some("Basic YWRtaW46c2VjcmV0".to_owned())),
        ("Basic with a valid key", Some(format!("Basic {valid}"))),
        ("Token with a valid key", Some(format!("Token {valid}"))),
        ("a bare valid key", Some(valid.clone())),
        ("Bearer alone", Some("Bearer".to_owned())),
        ("Bearer and a space", bearer("")),
        ("not a key", bearer("not-a-key")),
        ("too short", bearer("esc_short")),
        ("one character short", bearer(short)),
        ("one character too many", bearer(&format!("{valid}A"))),
        ("outside the alphabet", bearer(&format!("{short}!"))),
        ("another prefix", bearer(&valid.replacen("esc_", "xyz_", 1))),
        ("unknown and well formed", bearer(UNKNOWN_KEY)),
        ("a real prefix, not its secret", bearer(&forged)),
        ("revoked", bearer(&revoked)),
        ("not valid", bearer("esc_this-is-not-a-valid-key")),
    ] {
        // Act
        let mut request = app.client.get(app.url("/v1/me"));
        if let Some(value) = &authorization {
            request = request.header("Authorization", value);
        }
        let answer = app.send(request).await;

        // Assert
        assert_unauthorized(label, &answer);
        assert_eq!(answer.body["instance"], "/v1/me", "{label}");
        let presented = authorization.as_deref().unwrap_or_default();
        let key = presented.rsplit(' ').next().unwrap_or_default();
        if key.len() >= 12 {
            let body = answer.body.to_string();
            let echoed = body.contains(key) || body.contains(&key[4..12]);
            assert!(!echoed, "{label}: the key or part of it in {body}");
            let mut headers = answer.headers.values().filter_map(|v| v.to_str().ok());
            let in_a_header = headers.any(|value| value.contains(key));
            assert!(!in_a_header, "{label}: a header echoes the key");
        }
    }
    // Authentication comes before the body is read.
    let unreadable = app
        .client
        .post(app.url("/v1/partners"))
        .header("Content-Type", "application/json")
        .body("{ this is not json");
    assert_unauthorized("an unreadable body", &app.send(unreadable).await);
    // The same on a resource's path.
    let customers = "/v1/customers";
    let anonymous = app.get_anonymously(customers).await;
    assert_unauthorized("customers, no key", &anonymous);
    let forged = "esk_not-a-real-key-at-all-0123456789abcdef";
    assert_unauthorized("customers, not a key", &app.get(customers, forged).await);
}

#[tokio::test]
async fn me_describes_the_caller_and_the_key_it_used_and_only_answers_get() {
    // Arrange
    let app = spawn_app().await;
    let operator = app.operator_key().await;
    let partner = app.create_partner("云桥科技 CloudBridge").await;
    app.create_partner("Someone Else Ltd").await;
    let (second_admin, second_admin_key) = create_key(&app, "admin", None).await;
    let partner_of = json!({
        "id": partner.id, "name": "云桥科技 CloudBridge", "tenant_id": partner.tenant_id,
        "status": "active"
    });
    let admin = &app.admin_key;

    let none = Value::Null;

    for (label, key, role, partner_seen) in [
        ("admin", admin, "admin", &none),
        ("a second admin", &second_admin_key, "admin", &none),
        ("operator", &operator, "operator", &none),
        ("partner", &partner.key, "partner", &partner_of),
    ] {
        // Act
        let me = app.get("/v1/me", key).await;

        // Assert
        assert_eq!(me.status, 200, "{label}: {}", me.body);
        assert_eq!(me.body["role"], role, "{label}");
        for (field, expected) in partner_seen.as_object().into_iter().flatten() {
            assert_eq!(me.body["partner"][field], *expected, "{label}: {field}");
        }
        let no_partner = me.body["partner"].is_null();
        assert_eq!(no_partner, partner_seen.is_null(), "{label}");
        let shown = &me.body["api_key"];
        assert_eq!(shown["role"], role, "{label}");
        assert_eq!(shown["partner_id"], partner_seen["id"], "{label}");
        assert_eq!(shown["prefix"], key[..12], "{label}");
        assert!(shown["revoked_at"].is_null(), "{label}: {shown}");
        let never_shown = ["key", "secret_hash"].map(|field| shown.get(field));
        assert_eq!(never_shown, [None, None], "{label}: secret or digest shown");
    }
    let request = app.client.get(app.url("/v1/me"));
    let lower = app
        .send(request.header("Authorization", format!("bearer {admin}")))
        .await;
    // The scheme's name is case-insensitive.
    assert_eq!(lower.status, 200, "{}", lower.body);
    assert_eq!(lower.body["role"], "admin");
    let second = app.get("/v1/me", &second_admin_key).await;
    let first = app.get("/v1/me", admin).await;
    assert_eq!(second.body["api_key"]["id"], second_admin.body["id"]);
    assert_eq!(second.body["api_key"]["name"], "admin integration");
    assert_ne!(first.body["api_key"]["id"], second.body["api_key"]["id"]);
    let posted = app.post("/v1/me", admin, &json!({})).await;
    posted.problem(405, "method_not_allowed");
    assert_eq!(posted.header("allow"), Some("GET, HEAD"));
}

#[tokio::test]
async fn a_revoked_key_fails_at_once_where_revoked_and_within_two_seconds_everywhere_else() {
    // Arrange: two instances of one deployment, each having verified a partner's key.
    let here = spawn_app().await;
    let elsewhere = here.spawn_sibling();
    let partner = here.create_partner("撤销测试 Revoked Ltd").await;
    let (created, key) = create_key(&here, "partner", Some(partner.id)).await;
    for app in [&here, &elsewhere] {
        let me = app.get("/v1/me", &key).await;
        assert_eq!(me.status, 200, "before it is revoked: {}", me.body);
    }

    // Act
    let path = format!("/v1/api-keys/{}", created.id());
    let revoked = here.delete(&path, &here.admin_key).await;
    let revoked_at = Instant::now();

    // Assert
    assert_eq!(revoked.status, 204, "{}", revoked.body);
    for path in [
        "/v1/me",
        &format!("/v1/partners/{}", partner.id),
        "/v1/api-keys",
    ] {
        assert_unauthorized(path, &here.get(path, &key).await);
    }
    let limit = 2 * REVALIDATION_INTERVAL;
    refused_within(&elsewhere, "/v1/me", &key, revoked_at, limit).await;
}

#[tokio::test]
async fn a_keys_last_use_is_recorded_and_a_revocation_by_another_tool_is_seen_within_seconds() {
    // Arrange
    let app = spawn_app().await;
    let (created, key) = create_key(&app, "operator", None).await;
    let path = format!("/v1/api-keys/{}", created.id());
    let unused = &created.body["last_used_at"];
    assert!(unused.is_null(), "a new key was never used: {unused}");
    let before = app.get(&path, &app.admin_key).await;
    assert!(before.body["last_used_at"].is_null(), "{}", before.body);
    let started = chrono::Utc::now();

    // Act
    let me = app.get("/v1/me", &key).await;

    // Assert: last_used_at is recorded within seconds of the use.
    assert_eq!(me.status, 200, "{}", me.body);
    let recorded = Instant::now();
    let last_used = loop {
        let after = app.get(&path, &app.admin_key).await;
        if !after.body["last_used_at"].is_null() {
            break timestamp(&after.body["last_used_at"]);
        }
        let still = after.body;
        let waited = recorded.elapsed();
        assert!(waited < 3 * REVALIDATION_INTERVAL, "still unset: {still}");
        tokio::time::sleep(Duration::from_millis(100)).await;
    };
    let slack = chrono::Duration::seconds(5);
    let around = started - slack..=chrono::Utc::now() + slack;
    assert!(
        around.contains(&last_used),
        "{last_used} is not around {started}"
    );

    // Act: revoked behind the service's back, as another deployment's tool would.
    app.execute_sql(
        "UPDATE api_keys SET revoked_at = $1 WHERE id = $2",
        vec![chrono::Utc::now().into(), created.id().into()],
    )
    .await;

    // Assert
    let limit = 2 * REVALIDATION_INTERVAL;
    refused_within(&app, "/v1/vocabulary", &key, Instant::now(), limit).await;
}
