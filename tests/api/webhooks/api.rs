//! `/v1/webhook-endpoints`: creating, validating, reading, listing, changing, deleting endpoints
//! and rotating their secrets; who may do what; which URLs are refused.

use base64::Engine;
use base64::engine::general_purpose::STANDARD;
use chrono::{Duration, Utc};
use reqwest::Method;
use serde_json::{Value, json};
use uuid::Uuid;

use super::{
    ENDPOINTS, EVENT_TYPES, create_endpoint, deliveries_path, delivery_path, endpoint_body,
    endpoint_path, rotate, secret, spawn_webhook_app,
};
use crate::helpers::{Answer, TestApp, spawn_app, timestamp};

// ---------------------------------------------------------------------------------------------
// Helpers local to this module
// ---------------------------------------------------------------------------------------------

/// A loopback URL nothing listens on: fine to register, since these tests cause no events.
const NOWHERE: &str = "http://127.0.0.1:9/hooks/escalade";

/// A public address, accepted with default settings; never contacted, since nothing here
/// causes an event.
const PUBLIC: &str = "https://8.8.8.8/hooks/escalade";

/// The fields of an endpoint, as every answer shows them (the secret aside).
const FIELDS: [&str; 10] = [
    "id",
    "partner_id",
    "url",
    "description",
    "events",
    "enabled",
    "secret_rotated_at",
    "previous_secret_expires_at",
    "created_at",
    "updated_at",
];

/// Asserts `endpoint` has every field of an endpoint and no secret.
#[track_caller]
fn assert_shown_without_secret(endpoint: &Value) {
    for field in FIELDS {
        assert!(endpoint.get(field).is_some(), "no {field} in {endpoint}");
    }
    assert!(
        endpoint.get("secret").is_none(),
        "a secret is shown only when created or rotated: {endpoint}"
    );
}

/// Asserts `secret` is `whsec_` and the standard base64 of 32 bytes.
#[track_caller]
fn assert_fresh_secret(secret: &str) {
    let encoded = secret
        .strip_prefix("whsec_")
        .unwrap_or_else(|| panic!("{secret} starts with whsec_"));
    let key = STANDARD
        .decode(encoded)
        .unwrap_or_else(|error| panic!("{secret} is standard base64: {error}"));
    assert_eq!(key.len(), 32, "{secret} holds 32 random bytes");
}

/// Asserts a 422 naming only `field` (or, as elsewhere in the API, elements of it such as
/// `events[1]`).
#[track_caller]
fn assert_refused_on(answer: &Answer, field: &str, context: &dyn std::fmt::Display) {
    assert_eq!(answer.status, 422, "{context}: {}", answer.body);
    assert_eq!(
        answer.header("content-type"),
        Some("application/problem+json"),
        "{context}"
    );
    let fields = answer.error_fields();
    assert!(
        !fields.is_empty()
            && fields.iter().all(|named| {
                named == field
                    || named
                        .strip_prefix(field)
                        .is_some_and(|rest| rest.starts_with('['))
            }),
        "{context}: expected an error on {field}, got {}",
        answer.body
    );
}

/// The ids of the endpoints `key` lists.
async fn listed_ids(app: &TestApp, key: &str) -> Vec<Uuid> {
    app.get(ENDPOINTS, key).await.item_ids()
}

async fn delete_if_match(app: &TestApp, path: &str, key: &str, tag: &str) -> Answer {
    app.send(
        app.request(Method::DELETE, path, key)
            .header("If-Match", tag),
    )
    .await
}

/// Asserts `time` is within a minute of `expected`.
#[track_caller]
fn assert_about(time: &Value, expected: chrono::DateTime<Utc>) {
    let time = timestamp(time);
    assert!(
        (time - expected).abs() < Duration::seconds(60),
        "{time} is not about {expected}"
    );
}

// ---------------------------------------------------------------------------------------------
// Create, read, list
// ---------------------------------------------------------------------------------------------

#[tokio::test]
async fn a_partner_creates_an_endpoint_and_sees_its_secret_only_then() {
    // Arrange
    let app = spawn_webhook_app().await;
    let partner = app.create_partner("云桥科技").await;
    let body = json!({
        "url": NOWHERE,
        "events": ["escalation.created", "service_incident.resolved"],
        "description": "工单系统 / ticketing"
    });

    // Act
    let answer = app.post(ENDPOINTS, &partner.key, &body).await;

    // Assert
    assert_eq!(answer.status, 201, "{}", answer.body);
    let id = answer.id();
    assert_eq!(answer.header("location"), Some(endpoint_path(id).as_str()));
    let etag = answer.etag();
    let endpoint = &answer.body;
    for field in FIELDS {
        assert!(endpoint.get(field).is_some(), "no {field} in {endpoint}");
    }
    assert_fresh_secret(&secret(&answer));
    assert_eq!(endpoint["partner_id"], json!(partner.id));
    assert_eq!(endpoint["url"], NOWHERE);
    assert_eq!(
        endpoint["events"],
        json!(["escalation.created", "service_incident.resolved"])
    );
    assert_eq!(endpoint["description"], "工单系统 / ticketing");
    assert_eq!(endpoint["enabled"], true, "enabled by default");
    assert!(endpoint["previous_secret_expires_at"].is_null());
    assert_about(&endpoint["created_at"], Utc::now());

    let read = app.get(&endpoint_path(id), &partner.key).await;
    assert_eq!(read.status, 200, "{}", read.body);
    assert_eq!(read.etag(), etag);
    assert_shown_without_secret(&read.body);
    let mut without_secret = answer.body.clone();
    without_secret.as_object_mut().unwrap().remove("secret");
    assert_eq!(read.body, without_secret);

    let listed = app.get(ENDPOINTS, &partner.key).await;
    assert_eq!(listed.item_ids(), [id]);
    assert_shown_without_secret(&listed.items()[0]);
}

#[tokio::test]
async fn every_endpoint_gets_a_secret_of_its_own() {
    // Arrange
    let app = spawn_webhook_app().await;
    let partner = app.create_partner("云桥科技").await;

    // Act
    let first = create_endpoint(&app, &partner.key, NOWHERE, &EVENT_TYPES).await;
    let second = create_endpoint(&app, &partner.key, NOWHERE, &EVENT_TYPES).await;

    // Assert
    assert_ne!(secret(&first), secret(&second));
    assert_eq!(first.body["events"], json!(EVENT_TYPES), "all six at once");
}

#[tokio::test]
async fn a_partner_lists_only_its_own_endpoints() {
    // Arrange
    let app = spawn_webhook_app().await;
    let ours = app.create_partner("云桥科技").await;
    let theirs = app.create_partner("蓝海科技").await;
    let first = create_endpoint(&app, &ours.key, NOWHERE, &["escalation.created"]).await;
    let second = create_endpoint(&app, &ours.key, NOWHERE, &["escalation.note_added"]).await;
    let other = create_endpoint(&app, &theirs.key, NOWHERE, &["escalation.created"]).await;

    // Act
    let listed = app.get(ENDPOINTS, &ours.key).await;

    // Assert
    let mut ids = listed.item_ids();
    ids.sort();
    let mut expected = vec![first.id(), second.id()];
    expected.sort();
    assert_eq!(ids, expected);
    assert!(listed.body.get("next_cursor").is_some(), "{}", listed.body);
    for item in listed.items() {
        assert_shown_without_secret(item);
        assert_eq!(item["partner_id"], json!(ours.id));
    }
    assert_eq!(listed_ids(&app, &theirs.key).await, [other.id()]);
}

#[tokio::test]
async fn another_partners_endpoint_is_404_everywhere() {
    // Arrange
    let app = spawn_webhook_app().await;
    let owner = app.create_partner("云桥科技").await;
    let stranger = app.create_partner("蓝海科技").await;
    let created = create_endpoint(&app, &owner.key, NOWHERE, &["escalation.created"]).await;
    let (id, etag) = (created.id(), created.etag());
    let path = endpoint_path(id);

    // Act
    let answers = [
        ("GET", app.get(&path, &stranger.key).await),
        (
            "PATCH",
            app.patch(
                &path,
                &stranger.key,
                Some(&etag),
                &json!({"enabled": false}),
            )
            .await,
        ),
        (
            "DELETE",
            delete_if_match(&app, &path, &stranger.key, &etag).await,
        ),
        (
            "DELETE without If-Match",
            app.delete(&path, &stranger.key).await,
        ),
        ("rotate", rotate(&app, &stranger.key, id, Some(&etag)).await),
        (
            "deliveries",
            app.get(&deliveries_path(id), &stranger.key).await,
        ),
        (
            "one delivery",
            app.get(&delivery_path(id, Uuid::now_v7()), &stranger.key)
                .await,
        ),
    ];

    // Assert
    for (what, answer) in &answers {
        assert_eq!(answer.status, 404, "{what}: {}", answer.body);
        answer.problem(404, "not_found");
    }
    let read = app.get(&path, &owner.key).await;
    assert_eq!(read.status, 200, "{}", read.body);
    assert_eq!(read.etag(), etag, "untouched");
    assert_eq!(read.body["enabled"], true);
}

#[tokio::test]
async fn an_unknown_endpoint_is_404() {
    // Arrange
    let app = spawn_webhook_app().await;
    let partner = app.create_partner("云桥科技").await;

    // Act
    let answer = app.get(&endpoint_path(Uuid::now_v7()), &partner.key).await;

    // Assert
    answer.problem(404, "not_found");
}

#[tokio::test]
async fn staff_keys_cannot_manage_webhook_endpoints() {
    // Arrange
    let app = spawn_webhook_app().await;
    let partner = app.create_partner("云桥科技").await;
    let created = create_endpoint(&app, &partner.key, NOWHERE, &["escalation.created"]).await;
    let operator = app.operator_key().await;

    for (role, key) in [
        ("admin", app.admin_key.as_str()),
        ("operator", operator.as_str()),
    ] {
        // Act
        let create = app
            .post(
                ENDPOINTS,
                key,
                &endpoint_body(NOWHERE, &["escalation.created"]),
            )
            .await;
        let list = app.get(ENDPOINTS, key).await;
        let read = app.get(&endpoint_path(created.id()), key).await;

        // Assert
        for (what, answer) in [("create", &create), ("list", &list), ("read", &read)] {
            assert_eq!(answer.status, 403, "{role} {what}: {}", answer.body);
            answer.problem(403, "forbidden");
        }
    }
    assert_eq!(listed_ids(&app, &partner.key).await, [created.id()]);
}

// ---------------------------------------------------------------------------------------------
// Validation
// ---------------------------------------------------------------------------------------------

#[tokio::test]
async fn an_invalid_endpoint_is_422_naming_the_field() {
    // Arrange
    let app = spawn_webhook_app().await;
    let partner = app.create_partner("云桥科技").await;
    let valid = endpoint_body(NOWHERE, &["escalation.created"]);
    let with = |field: &str, value: Value| {
        let mut body = valid.clone();
        body[field] = value;
        body
    };
    let without = |field: &str| {
        let mut body = valid.clone();
        body.as_object_mut().unwrap().remove(field);
        body
    };
    let too_long = format!("http://127.0.0.1:9/{}", "a".repeat(2048));
    let cases = [
        ("url missing", without("url"), "url"),
        (
            "url ftp",
            with("url", json!("ftp://127.0.0.1/hooks")),
            "url",
        ),
        ("url relative", with("url", json!("/hooks/escalade")), "url"),
        (
            "url without scheme",
            with("url", json!("127.0.0.1:9/hooks")),
            "url",
        ),
        ("url over 2048", with("url", json!(too_long)), "url"),
        ("url not a string", with("url", json!(5)), "url"),
        ("events missing", without("events"), "events"),
        ("events empty", with("events", json!([])), "events"),
        (
            "events unknown",
            with("events", json!(["escalation.exploded"])),
            "events",
        ),
        (
            "events with an unknown one",
            with("events", json!(["escalation.created", "ticket.opened"])),
            "events",
        ),
        (
            "events duplicated",
            with(
                "events",
                json!(["escalation.created", "escalation.created"]),
            ),
            "events",
        ),
        (
            "events a string",
            with("events", json!("escalation.created")),
            "events",
        ),
        (
            "description empty",
            with("description", json!("")),
            "description",
        ),
        (
            "description over 200",
            with("description", json!("描".repeat(201))),
            "description",
        ),
        ("enabled a string", with("enabled", json!("yes")), "enabled"),
        ("unknown field", with("colour", json!("red")), "colour"),
        (
            "a secret of one's own",
            with(
                "secret",
                json!("whsec_AAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAA="),
            ),
            "secret",
        ),
    ];

    for (case, body, field) in &cases {
        // Act
        let answer = app.post(ENDPOINTS, &partner.key, body).await;

        // Assert
        assert_refused_on(&answer, field, case);
        assert_eq!(answer.body["code"], "validation_failed", "{case}");
    }
    assert!(
        listed_ids(&app, &partner.key).await.is_empty(),
        "nothing was created"
    );
}

#[tokio::test]
async fn a_url_of_2048_characters_and_a_description_of_200_are_accepted() {
    // Arrange
    let app = spawn_webhook_app().await;
    let partner = app.create_partner("云桥科技").await;
    let prefix = "http://127.0.0.1:9/";
    let url = format!("{prefix}{}", "a".repeat(2048 - prefix.len()));
    let body = json!({
        "url": url,
        "events": ["escalation.created"],
        "description": "描".repeat(200),
        "enabled": false
    });

    // Act
    let answer = app.post(ENDPOINTS, &partner.key, &body).await;

    // Assert
    assert_eq!(answer.status, 201, "{}", answer.body);
    assert_eq!(answer.body["url"], url);
    assert_eq!(answer.body["enabled"], false);
}

// ---------------------------------------------------------------------------------------------
// Private networks (server-side request forgery)
// ---------------------------------------------------------------------------------------------

/// Addresses of the network escalade runs in, which a webhook must not be able to reach, also
/// when an IPv6 transition mechanism carries them (6to4, NAT64, Teredo, IPv4-mapped,
/// -translated and -compatible forms).
const PRIVATE: [&str; 21] = [
    "http://127.0.0.1:9/x",
    "http://localhost/x",
    "https://localhost:8443/x",
    "http://10.0.0.1/x",
    "http://172.16.0.1/x",
    "http://192.168.1.1/x",
    "http://169.254.169.254/latest",
    "http://100.64.0.1/x",
    "http://0.0.0.0/x",
    "http://224.0.0.1/x",
    "http://[::1]/x",
    "http://[fe80::1]/x",
    "http://[fc00::1]/x",
    "http://[::ffff:7f00:1]/x",
    "http://[::ffff:0:a00:1]/x",
    "http://[::7f00:1]/x",
    "http://[2002:7f00:1::]/hook",
    "http://[2002:a9fe:a9fe::1]/latest",
    "http://[64:ff9b::a00:1]/x",
    "http://[64:ff9b:1::808:808]/x",
    "http://[2001:0:808:808::3f57:fefe]/x",
];

#[tokio::test]
async fn private_and_loopback_urls_are_refused_by_default() {
    // Arrange
    let app = spawn_app().await;
    let partner = app.create_partner("云桥科技").await;

    for url in PRIVATE {
        // Act
        let answer = app
            .post(
                ENDPOINTS,
                &partner.key,
                &endpoint_body(url, &["escalation.created"]),
            )
            .await;

        // Assert
        assert_refused_on(&answer, "url", &url);
    }
    assert!(listed_ids(&app, &partner.key).await.is_empty());
}

#[tokio::test]
async fn an_unresolvable_host_is_refused() {
    // Arrange
    let app = spawn_app().await;
    let partner = app.create_partner("云桥科技").await;
    let url = "http://no-such-host.invalid/x";

    // Act
    let answer = app
        .post(
            ENDPOINTS,
            &partner.key,
            &endpoint_body(url, &["escalation.created"]),
        )
        .await;

    // Assert
    assert_refused_on(&answer, "url", &url);
    assert!(listed_ids(&app, &partner.key).await.is_empty());
}

#[tokio::test]
async fn a_public_address_is_accepted_by_default() {
    // Arrange
    let app = spawn_app().await;
    let partner = app.create_partner("云桥科技").await;

    // Act
    let answer = app
        .post(
            ENDPOINTS,
            &partner.key,
            &endpoint_body(PUBLIC, &["escalation.created"]),
        )
        .await;

    // Assert
    assert_eq!(answer.status, 201, "{}", answer.body);
}

#[tokio::test]
async fn a_patch_to_a_private_url_is_refused_by_default() {
    // Arrange
    let app = spawn_app().await;
    let partner = app.create_partner("云桥科技").await;
    let created = create_endpoint(&app, &partner.key, PUBLIC, &["escalation.created"]).await;
    let path = endpoint_path(created.id());

    for url in PRIVATE {
        // Act
        let answer = app
            .patch(
                &path,
                &partner.key,
                Some(&created.etag()),
                &json!({"url": url}),
            )
            .await;

        // Assert
        assert_refused_on(&answer, "url", &url);
    }
    let read = app.get(&path, &partner.key).await;
    assert_eq!(read.body["url"], PUBLIC);
    assert_eq!(read.etag(), created.etag());
}

#[tokio::test]
async fn loopback_urls_are_accepted_when_private_networks_are_allowed() {
    // Arrange
    let app = spawn_webhook_app().await;
    let partner = app.create_partner("云桥科技").await;

    for url in [
        "http://127.0.0.1:9/x",
        "http://localhost:9/x",
        "http://[::1]:9/x",
    ] {
        // Act
        let answer = app
            .post(
                ENDPOINTS,
                &partner.key,
                &endpoint_body(url, &["escalation.created"]),
            )
            .await;

        // Assert
        assert_eq!(answer.status, 201, "{url}: {}", answer.body);
    }
}

// ---------------------------------------------------------------------------------------------
// Change, delete
// ---------------------------------------------------------------------------------------------

#[tokio::test]
async fn a_patch_with_if_match_changes_events_enabled_and_description() {
    // Arrange
    let app = spawn_webhook_app().await;
    let partner = app.create_partner("云桥科技").await;
    let created = create_endpoint(&app, &partner.key, NOWHERE, &["escalation.created"]).await;
    let path = endpoint_path(created.id());
    let moved_to = "http://127.0.0.1:9/hooks/v2";

    // Act
    let changed = app
        .patch(
            &path,
            &partner.key,
            Some(&created.etag()),
            &json!({
                "events": ["escalation.note_added", "service_incident.created"],
                "enabled": false,
                "description": "新的工单系统"
            }),
        )
        .await;
    let moved = app
        .patch(
            &path,
            &partner.key,
            Some(&changed.etag()),
            &json!({"url": moved_to}),
        )
        .await;

    // Assert
    assert_eq!(changed.status, 200, "{}", changed.body);
    assert_ne!(changed.etag(), created.etag());
    assert_shown_without_secret(&changed.body);
    assert_eq!(
        changed.body["events"],
        json!(["escalation.note_added", "service_incident.created"])
    );
    assert_eq!(changed.body["enabled"], false);
    assert_eq!(changed.body["description"], "新的工单系统");
    assert_eq!(changed.body["url"], NOWHERE, "what is not sent stays");
    assert_eq!(changed.body["created_at"], created.body["created_at"]);
    assert!(timestamp(&changed.body["updated_at"]) >= timestamp(&created.body["updated_at"]));
    assert_eq!(moved.status, 200, "{}", moved.body);
    assert_ne!(moved.etag(), changed.etag());
    assert_eq!(moved.body["url"], moved_to);
    assert_eq!(moved.body["enabled"], false);
    let read = app.get(&path, &partner.key).await;
    assert_eq!(read.etag(), moved.etag());
    assert_eq!(read.body, moved.body);
}

#[tokio::test]
async fn a_patch_needs_a_current_if_match() {
    // Arrange
    let app = spawn_webhook_app().await;
    let partner = app.create_partner("云桥科技").await;
    let created = create_endpoint(&app, &partner.key, NOWHERE, &["escalation.created"]).await;
    let path = endpoint_path(created.id());
    let changed = app
        .patch(
            &path,
            &partner.key,
            Some(&created.etag()),
            &json!({"enabled": false}),
        )
        .await;
    assert_eq!(changed.status, 200, "{}", changed.body);

    // Act
    let without = app
        .patch(&path, &partner.key, None, &json!({"description": "无条件"}))
        .await;
    let stale = app
        .patch(
            &path,
            &partner.key,
            Some(&created.etag()),
            &json!({"description": "过时"}),
        )
        .await;

    // Assert
    without.problem(428, "if_match_required");
    stale.problem(412, "stale_version");
    let read = app.get(&path, &partner.key).await;
    assert_eq!(read.etag(), changed.etag());
    assert_eq!(read.body["description"], changed.body["description"]);
}

#[tokio::test]
async fn an_invalid_patch_is_422_and_changes_nothing() {
    // Arrange
    let app = spawn_webhook_app().await;
    let partner = app.create_partner("云桥科技").await;
    let created = create_endpoint(&app, &partner.key, NOWHERE, &["escalation.created"]).await;
    let path = endpoint_path(created.id());

    for (body, field) in [
        (json!({"events": []}), "events"),
        (json!({"events": ["nope"]}), "events"),
        (json!({"url": "ftp://127.0.0.1/x"}), "url"),
        (json!({"enabled": "no"}), "enabled"),
        (json!({"secret": "whsec_x"}), "secret"),
    ] {
        // Act
        let answer = app
            .patch(&path, &partner.key, Some(&created.etag()), &body)
            .await;

        // Assert
        assert_refused_on(&answer, field, &body);
    }
    let read = app.get(&path, &partner.key).await;
    assert_eq!(read.etag(), created.etag());
}

#[tokio::test]
async fn a_deleted_endpoint_is_gone() {
    // Arrange
    let app = spawn_webhook_app().await;
    let partner = app.create_partner("云桥科技").await;
    let kept = create_endpoint(&app, &partner.key, NOWHERE, &["escalation.created"]).await;
    let created = create_endpoint(&app, &partner.key, NOWHERE, &["escalation.created"]).await;
    let path = endpoint_path(created.id());

    // Act
    let deleted = app.delete(&path, &partner.key).await;

    // Assert
    assert_eq!(deleted.status, 204, "{}", deleted.body);
    app.get(&path, &partner.key).await.problem(404, "not_found");
    app.get(&deliveries_path(created.id()), &partner.key)
        .await
        .problem(404, "not_found");
    app.delete(&path, &partner.key)
        .await
        .problem(404, "not_found");
    assert_eq!(listed_ids(&app, &partner.key).await, [kept.id()]);
}

#[tokio::test]
async fn a_delete_honours_if_match_when_sent() {
    // Arrange
    let app = spawn_webhook_app().await;
    let partner = app.create_partner("云桥科技").await;
    let created = create_endpoint(&app, &partner.key, NOWHERE, &["escalation.created"]).await;
    let path = endpoint_path(created.id());
    let changed = app
        .patch(
            &path,
            &partner.key,
            Some(&created.etag()),
            &json!({"enabled": false}),
        )
        .await;

    // Act
    let stale = delete_if_match(&app, &path, &partner.key, &created.etag()).await;
    let current = delete_if_match(&app, &path, &partner.key, &changed.etag()).await;

    // Assert
    stale.problem(412, "stale_version");
    assert_eq!(current.status, 204, "{}", current.body);
    app.get(&path, &partner.key).await.problem(404, "not_found");
}

// ---------------------------------------------------------------------------------------------
// Secret rotation
// ---------------------------------------------------------------------------------------------

#[tokio::test]
async fn rotating_the_secret_gives_a_new_one_and_keeps_the_old_for_a_grace_period() {
    // Arrange
    let app = spawn_webhook_app().await;
    let partner = app.create_partner("云桥科技").await;
    let created = create_endpoint(&app, &partner.key, NOWHERE, &["escalation.created"]).await;
    let id = created.id();

    // Act
    let rotated = rotate(&app, &partner.key, id, Some(&created.etag())).await;

    // Assert
    assert_eq!(rotated.status, 200, "{}", rotated.body);
    let new = secret(&rotated);
    assert_fresh_secret(&new);
    assert_ne!(new, secret(&created));
    assert_ne!(rotated.etag(), created.etag());
    for field in FIELDS {
        assert!(
            rotated.body.get(field).is_some(),
            "no {field} in {}",
            rotated.body
        );
    }
    assert_eq!(rotated.body["id"], json!(id));
    assert_eq!(rotated.body["events"], created.body["events"]);
    assert_about(&rotated.body["secret_rotated_at"], Utc::now());
    assert_about(
        &rotated.body["previous_secret_expires_at"],
        Utc::now() + Duration::seconds(86_400),
    );
    let read = app.get(&endpoint_path(id), &partner.key).await;
    assert_eq!(read.etag(), rotated.etag());
    assert_shown_without_secret(&read.body);
    assert_eq!(
        read.body["previous_secret_expires_at"],
        rotated.body["previous_secret_expires_at"]
    );
}

#[tokio::test]
async fn rotating_needs_a_current_if_match() {
    // Arrange
    let app = spawn_webhook_app().await;
    let partner = app.create_partner("云桥科技").await;
    let created = create_endpoint(&app, &partner.key, NOWHERE, &["escalation.created"]).await;
    let id = created.id();
    let rotated = rotate(&app, &partner.key, id, Some(&created.etag())).await;
    assert_eq!(rotated.status, 200, "{}", rotated.body);

    // Act
    let without = rotate(&app, &partner.key, id, None).await;
    let stale = rotate(&app, &partner.key, id, Some(&created.etag())).await;

    // Assert
    without.problem(428, "if_match_required");
    stale.problem(412, "stale_version");
    let read = app.get(&endpoint_path(id), &partner.key).await;
    assert_eq!(read.etag(), rotated.etag(), "not rotated again");
}

#[tokio::test]
async fn the_published_url_pattern_refuses_what_the_server_refuses() {
    // Arrange
    let app = spawn_app().await;
    let partner = app.create_partner("云桥科技").await;
    let spec: Value = app
        .client
        .get(app.url("/openapi.json"))
        .send()
        .await
        .unwrap()
        .json()
        .await
        .unwrap();
    let pattern = regex::Regex::new(
        spec["components"]["schemas"]["WebhookUrl"]["pattern"]
            .as_str()
            .unwrap(),
    )
    .unwrap();

    for url in [
        "https://[6]/hook",
        "https://[1::2::3]/",
        "https://[::ffff:1.2.3.4]/",
        "https://h:0/",
    ] {
        // Act
        let answer = app
            .post(
                ENDPOINTS,
                &partner.key,
                &endpoint_body(url, &["escalation.created"]),
            )
            .await;

        // Assert
        assert!(!pattern.is_match(url), "{url} fits the published pattern");
        answer.problem(422, "validation_failed");
        assert_eq!(answer.body["errors"][0]["code"], "invalid_url", "{url}");
    }
}
