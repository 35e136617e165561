//! `/v1/webhook-endpoints`: creating, validating, reading, listing, changing, deleting endpoints
//! and rotating their secrets; who may do what; which URLs are refused.

use std::collections::HashSet;

use base64::Engine;
use base64::engine::general_purpose::STANDARD;
use chrono::{Duration, Utc};
use reqwest::Method;
use serde_json::{Value, json};
use uuid::Uuid;

use super::{
    ENDPOINTS, EVENT_TYPES, assert_problem, create_endpoint, deliveries_path, delivery_path,
    endpoint_body, endpoint_path, rotate, secret, spawn_webhook_app,
};
use crate::helpers::{Answer, spawn_app, timestamp};
use crate::world::World;

/// A loopback URL nothing listens on: fine to register, since these tests cause no events.
const NOWHERE: &str = "http://127.0.0.1:9/hooks/escalade";

/// A public address, accepted with default settings; never contacted, since nothing here
/// causes an event.
const PUBLIC: &str = "https://8.8.8.8/hooks/escalade";

const CREATED: [&str; 1] = ["escalation.created"];

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

/// Asserts `endpoint` has every field of an endpoint, and a secret only if `with_secret`.
#[track_caller]
fn assert_shown(endpoint: &Value, with_secret: bool) {
    for field in FIELDS {
        assert!(endpoint.get(field).is_some(), "no {field} in {endpoint}");
    }
    assert_eq!(
        endpoint.get("secret").is_some(),
        with_secret,
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
    let problem_json = Some("application/problem+json");
    assert_eq!(answer.header("content-type"), problem_json, "{context}");
    let fields = answer.error_fields();
    let on_field = |named: &String| {
        let rest = named.strip_prefix(field);
        rest.is_some_and(|rest| rest.is_empty() || rest.starts_with('['))
    };
    assert!(
        !fields.is_empty() && fields.iter().all(on_field),
        "{context}: expected an error on {field}, got {}",
        answer.body
    );
}

/// Asserts `time` is within a minute of `expected`.
#[track_caller]
fn assert_about(time: &Value, expected: chrono::DateTime<Utc>) {
    let time = timestamp(time);
    let near = (time - expected).abs() < Duration::seconds(60);
    assert!(near, "{time} is not about {expected}");
}

// ---------------------------------------------------------------------------------------------
// Create, read, list; who may
// ---------------------------------------------------------------------------------------------

#[tokio::test]
async fn a_partner_creates_endpoints_each_with_a_secret_of_its_own_shown_only_then() {
    // Arrange
    let app = spawn_webhook_app().await;
    let ours = app.create_partner("云桥科技").await;
    let theirs = app.create_partner("蓝海科技").await;
    let events = ["escalation.created", "service_incident.resolved"];
    let description = "工单系统 / ticketing";
    let body = json!({"url": NOWHERE, "events": events, "description": description});

    // Act
    let answer = app.post(ENDPOINTS, &ours.key, &body).await;
    let every = create_endpoint(&app, &ours.key, NOWHERE, &EVENT_TYPES).await;
    let other = create_endpoint(&app, &theirs.key, NOWHERE, &CREATED).await;

    // Assert
    assert_eq!(answer.status, 201, "{}", answer.body);
    let (id, endpoint) = (answer.id(), &answer.body);
    assert_eq!(answer.header("location"), Some(endpoint_path(id).as_str()));
    assert_shown(endpoint, true);
    assert_fresh_secret(&secret(&answer));
    assert_eq!(endpoint["partner_id"], json!(ours.id));
    assert_eq!(endpoint["url"], NOWHERE);
    assert_eq!(endpoint["events"], json!(events));
    assert_eq!(endpoint["description"], description);
    assert_eq!(endpoint["enabled"], true, "enabled by default");
    assert!(endpoint["previous_secret_expires_at"].is_null());
    assert_about(&endpoint["created_at"], Utc::now());
    let why = "every endpoint has its own";
    assert_ne!(secret(&every), secret(&answer), "{why}");
    assert_eq!(every.body["events"], json!(EVENT_TYPES), "all six at once");
    let read = app.read_ok(&endpoint_path(id), &ours.key).await;
    assert_eq!(read.etag(), answer.etag());
    assert_shown(&read.body, false);
    let mut without_secret = answer.body.clone();
    without_secret.as_object_mut().unwrap().remove("secret");
    assert_eq!(read.body, without_secret);
    let listed = app.get(ENDPOINTS, &ours.key).await;
    let ids: HashSet<Uuid> = listed.item_ids().into_iter().collect();
    assert_eq!(ids, HashSet::from([id, every.id()]), "only its own");
    assert!(listed.body.get("next_cursor").is_some(), "{}", listed.body);
    for item in listed.items() {
        assert_shown(item, false);
        assert_eq!(item["partner_id"], json!(ours.id));
    }
    let their_list = app.get(ENDPOINTS, &theirs.key).await;
    assert_eq!(their_list.item_ids(), [other.id()]);
}

#[tokio::test]
async fn an_endpoint_is_404_to_other_partners_and_staff_keys_cannot_manage_endpoints() {
    // Arrange
    let world = World::over(spawn_webhook_app().await).await;
    let (app, owner) = (&world.app, world.key());
    let stranger = app.create_partner("蓝海科技").await;
    let them = stranger.key.as_str();
    let created = create_endpoint(app, owner, NOWHERE, &CREATED).await;
    let (id, etag) = (created.id(), created.etag());
    let path = endpoint_path(id);
    let (one_delivery, unknown) = (delivery_path(id, Uuid::now_v7()), Uuid::now_v7());
    let disable = json!({"enabled": false});
    let delete = app.request(Method::DELETE, &path, them);

    // Act
    let not_found = [
        ("GET", app.get(&path, them).await),
        ("PATCH", app.patch(&path, them, Some(&etag), &disable).await),
        ("DELETE", app.send(delete.header("If-Match", &etag)).await),
        ("DELETE without If-Match", app.delete(&path, them).await),
        ("rotate", rotate(app, them, id, Some(&etag)).await),
        ("deliveries", app.get(&deliveries_path(id), them).await),
        ("one delivery", app.get(&one_delivery, them).await),
        (
            "an unknown endpoint",
            app.get(&endpoint_path(unknown), owner).await,
        ),
    ];
    let mut forbidden = Vec::new();
    for (role, key) in [("admin", &app.admin_key), ("operator", &world.operator)] {
        let body = endpoint_body(NOWHERE, &CREATED);
        forbidden.push((role, "create", app.post(ENDPOINTS, key, &body).await));
        forbidden.push((role, "list", app.get(ENDPOINTS, key).await));
        forbidden.push((role, "read", app.get(&path, key).await));
    }

    // Assert
    for (what, answer) in &not_found {
        assert_problem(answer, what, 404, "not_found");
    }
    for (role, what, answer) in &forbidden {
        assert_problem(answer, &format!("{role} {what}"), 403, "forbidden");
    }
    let read = app.read_ok(&path, owner).await;
    assert_eq!(read.etag(), etag, "untouched");
    assert_eq!(read.body["enabled"], true);
    assert_eq!(app.get(ENDPOINTS, owner).await.item_ids(), [id]);
}

// ---------------------------------------------------------------------------------------------
// Validation
// ---------------------------------------------------------------------------------------------

#[tokio::test]
async fn an_invalid_endpoint_is_422_naming_the_field_and_the_limits_are_accepted() {
    // Arrange
    let app = spawn_webhook_app().await;
    let partner = app.create_partner("云桥科技").await;
    let valid = endpoint_body(NOWHERE, &CREATED);
    let prefix = "http://127.0.0.1:9/";
    let longest = format!("{prefix}{}", "a".repeat(2048 - prefix.len()));
    let mut cases = Vec::new();
    for field in ["url", "events"] {
        let mut body = valid.clone();
        body.as_object_mut().unwrap().remove(field);
        cases.push((format!("{field} missing"), body, field));
    }
    for (field, value) in [
        ("url", json!("ftp://127.0.0.1/hooks")),
        ("url", json!("/hooks/escalade")),
        ("url", json!("127.0.0.1:9/hooks")),
        ("url", json!(format!("{longest}a"))),
        ("url", json!(5)),
        ("events", json!([])),
        ("events", json!(["escalation.exploded"])),
        ("events", json!(["escalation.created", "ticket.opened"])),
        (
            "events",
            json!(["escalation.created", "escalation.created"]),
        ),
        ("events", json!("escalation.created")),
        ("description", json!("")),
        ("description", json!("描".repeat(201))),
        ("enabled", json!("yes")),
        ("colour", json!("red")),
        (
            "secret",
            json!("whsec_AAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAA="),
        ),
    ] {
        let mut body = valid.clone();
        body[field] = value.clone();
        cases.push((format!("{field}: {value}"), body, field));
    }
    let limits = json!({
        "url": longest,
        "events": CREATED,
        "description": "描".repeat(200),
        "enabled": false
    });

    for (case, body, field) in &cases {
        // Act
        let answer = app.post(ENDPOINTS, &partner.key, body).await;

        // Assert
        assert_refused_on(&answer, field, case);
        assert_eq!(answer.body["code"], "validation_failed", "{case}");
    }
    // Act
    let accepted = app.post(ENDPOINTS, &partner.key, &limits).await;

    // Assert
    assert_eq!(accepted.status, 201, "{}", accepted.body);
    assert_eq!(accepted.body["url"], longest);
    assert_eq!(accepted.body["enabled"], false);
    let listed = app.get(ENDPOINTS, &partner.key).await.item_ids();
    assert_eq!(listed, [accepted.id()], "nothing else was created");
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
async fn by_default_a_public_address_is_accepted_and_private_or_unresolvable_ones_refused() {
    // Arrange
    let app = spawn_app().await;
    let partner = app.create_partner("云桥科技").await;
    let unresolvable = "http://no-such-host.invalid/x";

    // Act
    let public = app
        .post(ENDPOINTS, &partner.key, &endpoint_body(PUBLIC, &CREATED))
        .await;
    let (path, tag) = (endpoint_path(public.id()), public.etag());
    let mut refused = Vec::new();
    for url in PRIVATE.into_iter().chain([unresolvable]) {
        let (body, moved_to) = (endpoint_body(url, &CREATED), json!({ "url": url }));
        let created = app.post(ENDPOINTS, &partner.key, &body).await;
        let moved = app.patch(&path, &partner.key, Some(&tag), &moved_to).await;
        refused.push((url, created, moved));
    }

    // Assert
    assert_eq!(public.status, 201, "{}", public.body);
    for (url, created, moved) in &refused {
        assert_refused_on(created, "url", url);
        assert_refused_on(moved, "url", &format!("PATCH to {url}"));
    }
    let listed = app.get(ENDPOINTS, &partner.key).await.item_ids();
    assert_eq!(listed, [public.id()]);
    let read = app.get(&path, &partner.key).await;
    assert_eq!(read.body["url"], PUBLIC);
    assert_eq!(read.etag(), tag);
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
        let body = endpoint_body(url, &CREATED);
        let answer = app.post(ENDPOINTS, &partner.key, &body).await;

        // Assert
        assert_eq!(answer.status, 201, "{url}: {}", answer.body);
    }
}

#[tokio::test]
async fn the_published_url_pattern_refuses_what_the_server_refuses() {
    // Arrange
    let app = spawn_app().await;
    let partner = app.create_partner("云桥科技").await;
    let spec = app.get_anonymously("/openapi.json").await;
    let pattern = spec.body["components"]["schemas"]["WebhookUrl"]["pattern"].as_str();
    let pattern = regex::Regex::new(pattern.expect("a published pattern")).unwrap();

    for url in [
        "https://[6]/hook",
        "https://[1::2::3]/",
        "https://[::ffff:1.2.3.4]/",
        "https://h:0/",
    ] {
        // Act
        let body = endpoint_body(url, &CREATED);
        let answer = app.post(ENDPOINTS, &partner.key, &body).await;

        // Assert
        assert!(!pattern.is_match(url), "{url} fits the published pattern");
        answer.problem(422, "validation_failed");
        assert_eq!(answer.body["errors"][0]["code"], "invalid_url", "{url}");
    }
}

// ---------------------------------------------------------------------------------------------
// Change, delete, rotate
// ---------------------------------------------------------------------------------------------

#[tokio::test]
async fn a_patch_with_a_current_if_match_changes_what_it_sends_and_a_refused_one_nothing() {
    // Arrange
    let app = spawn_webhook_app().await;
    let partner = app.create_partner("云桥科技").await;
    let key = partner.key.as_str();
    let created = create_endpoint(&app, key, NOWHERE, &CREATED).await;
    let path = endpoint_path(created.id());
    let events = json!(["escalation.note_added", "service_incident.created"]);
    let changes = json!({"events": events, "enabled": false, "description": "新的工单系统"});
    let moved_to = "http://127.0.0.1:9/hooks/v2";

    // Act
    let changed = app.patch(&path, key, Some(&created.etag()), &changes).await;
    let moved = app
        .patch(&path, key, Some(&changed.etag()), &json!({"url": moved_to}))
        .await;
    let current = Some(moved.etag());
    let described = |text: &str| json!({ "description": text });
    let without = app.patch(&path, key, None, &described("无条件")).await;
    let stale = app
        .patch(&path, key, Some(&created.etag()), &described("过时"))
        .await;
    let mut invalid = Vec::new();
    for (body, field) in [
        (json!({"events": []}), "events"),
        (json!({"events": ["nope"]}), "events"),
        (json!({"url": "ftp://127.0.0.1/x"}), "url"),
        (json!({"enabled": "no"}), "enabled"),
        (json!({"secret": "whsec_x"}), "secret"),
    ] {
        let answer = app.patch(&path, key, current.as_deref(), &body).await;
        invalid.push((answer, field, body));
    }

    // Assert
    assert_eq!(changed.status, 200, "{}", changed.body);
    assert_ne!(changed.etag(), created.etag());
    assert_shown(&changed.body, false);
    assert_eq!(changed.body["events"], events);
    assert_eq!(changed.body["enabled"], false);
    assert_eq!(changed.body["description"], "新的工单系统");
    assert_eq!(changed.body["url"], NOWHERE, "what is not sent stays");
    assert_eq!(changed.body["created_at"], created.body["created_at"]);
    let updated_at = |answer: &Answer| timestamp(&answer.body["updated_at"]);
    assert!(updated_at(&changed) >= updated_at(&created));
    assert_eq!(moved.status, 200, "{}", moved.body);
    assert_ne!(moved.etag(), changed.etag());
    assert_eq!(moved.body["url"], moved_to);
    assert_eq!(moved.body["enabled"], false);
    without.problem(428, "if_match_required");
    stale.problem(412, "stale_version");
    for (answer, field, body) in &invalid {
        assert_refused_on(answer, field, body);
    }
    let read = app.get(&path, key).await;
    assert_eq!(read.etag(), moved.etag());
    assert_eq!(read.body, moved.body);
}

#[tokio::test]
async fn a_delete_honours_if_match_when_sent_and_the_endpoint_is_gone() {
    // Arrange
    let app = spawn_webhook_app().await;
    let partner = app.create_partner("云桥科技").await;
    let key = partner.key.as_str();
    let kept = create_endpoint(&app, key, NOWHERE, &CREATED).await;
    let plain = create_endpoint(&app, key, NOWHERE, &CREATED).await;
    let guarded = create_endpoint(&app, key, NOWHERE, &CREATED).await;
    let path = endpoint_path(guarded.id());
    let disable = json!({"enabled": false});
    let changed = app.patch(&path, key, Some(&guarded.etag()), &disable).await;
    let delete = |tag: String| {
        app.request(Method::DELETE, &path, key)
            .header("If-Match", tag)
    };

    // Act
    let deleted = app.delete(&endpoint_path(plain.id()), key).await;
    let stale = app.send(delete(guarded.etag())).await;
    let current = app.send(delete(changed.etag())).await;

    // Assert
    assert_eq!(deleted.status, 204, "{}", deleted.body);
    stale.problem(412, "stale_version");
    assert_eq!(current.status, 204, "{}", current.body);
    for id in [plain.id(), guarded.id()] {
        let path = endpoint_path(id);
        app.get(&path, key).await.problem(404, "not_found");
        let deliveries = app.get(&deliveries_path(id), key).await;
        deliveries.problem(404, "not_found");
        app.delete(&path, key).await.problem(404, "not_found");
    }
    assert_eq!(app.get(ENDPOINTS, key).await.item_ids(), [kept.id()]);
}

#[tokio::test]
async fn rotating_needs_a_current_if_match_gives_a_new_secret_and_keeps_the_old_a_while() {
    // Arrange
    let app = spawn_webhook_app().await;
    let partner = app.create_partner("云桥科技").await;
    let created = create_endpoint(&app, &partner.key, NOWHERE, &CREATED).await;
    let id = created.id();

    // Act
    let rotated = rotate(&app, &partner.key, id, Some(&created.etag())).await;
    let without = rotate(&app, &partner.key, id, None).await;
    let stale = rotate(&app, &partner.key, id, Some(&created.etag())).await;

    // Assert
    assert_eq!(rotated.status, 200, "{}", rotated.body);
    let new = secret(&rotated);
    assert_fresh_secret(&new);
    assert_ne!(new, secret(&created));
    assert_ne!(rotated.etag(), created.etag());
    assert_shown(&rotated.body, true);
    assert_eq!(rotated.body["id"], json!(id));
    assert_eq!(rotated.body["events"], created.body["events"]);
    assert_about(&rotated.body["secret_rotated_at"], Utc::now());
    let expires = &rotated.body["previous_secret_expires_at"];
    assert_about(expires, Utc::now() + Duration::seconds(86_400));
    without.problem(428, "if_match_required");
    stale.problem(412, "stale_version");
    let read = app.get(&endpoint_path(id), &partner.key).await;
    assert_eq!(read.etag(), rotated.etag(), "not rotated again");
    assert_shown(&read.body, false);
    assert_eq!(&read.body["previous_secret_expires_at"], expires);
}
