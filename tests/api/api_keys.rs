//! `/v1/api-keys`: admins manage every key; a partner manages its own partner keys; operators
//! have no access. The secret (`key`) appears once, in the creation response.

use std::collections::HashSet;

use reqwest::Method;
use serde_json::{Value, json};
use uuid::Uuid;

use crate::helpers::{Answer, TestApp, spawn_app, timestamp, uuid};
use crate::services::{FORBIDDEN, NOT_FOUND};

const API_KEYS: &str = "/v1/api-keys";

fn key_path(id: Uuid) -> String {
    format!("{API_KEYS}/{id}")
}

/// A body for an admin or operator key.
fn staff_key(role: &str, name: &str) -> Value {
    json!({ "role": role, "name": name })
}

/// A body for a key of the partner `partner_id`.
fn partner_key(partner_id: impl serde::Serialize, name: &str) -> Value {
    json!({ "role": "partner", "partner_id": partner_id, "name": name })
}

/// The `key` of a creation answer.
fn secret_of(answer: &Answer) -> String {
    let secret = answer.body["key"].as_str();
    secret
        .expect("the creation answer holds the key")
        .to_owned()
}

/// The id of the key `secret` authenticates, from `GET /v1/me`.
async fn id_of_key(app: &TestApp, secret: &str) -> Uuid {
    let me = app.read_ok("/v1/me", secret).await;
    uuid(&me.body["api_key"]["id"])
}

#[tokio::test]
async fn keys_of_every_role_work_at_once_and_their_secret_never_shows_again() {
    // Arrange
    let app = spawn_app().await;
    let partner = app.create_partner("云桥科技 CloudBridge").await;
    let (admin, own) = (app.admin_key.as_str(), partner.key.as_str());
    let longest = "键".repeat(100);

    // Act
    let mut created = Vec::new();
    for (label, caller, body) in [
        ("an admin key", admin, staff_key("admin", "second admin")),
        ("an operator key", admin, staff_key("operator", "same name")),
        (
            "another, same name",
            admin,
            staff_key("operator", "same name"),
        ),
        (
            "a 100-character name",
            admin,
            staff_key("operator", &longest),
        ),
        ("a partner key", admin, partner_key(partner.id, "ticketing")),
        (
            "by the partner itself",
            own,
            partner_key(partner.id, "CI pipeline"),
        ),
    ] {
        let answer = app.created(API_KEYS, caller, &body).await;
        let me = app.get("/v1/me", &secret_of(&answer)).await;
        let read = app.get(&key_path(answer.id()), caller).await;
        created.push((label, body, answer, me, read));
    }
    let list = app.get(API_KEYS, admin).await;

    // Assert
    for (label, body, answer, me, read) in &created {
        let key = secret_of(answer);
        assert!(key.starts_with("esc_"), "{label}: {key}");
        let why = "esc_ and 32 random bytes in URL-safe base64";
        assert_eq!(key.len(), 4 + 43, "{why}");
        assert_eq!(answer.body["prefix"], key[..12], "{label}");
        for field in ["role", "partner_id", "name"] {
            assert_eq!(answer.body[field], body[field], "{label}: {field}");
        }
        assert!(answer.body["last_used_at"].is_null(), "{label}");
        assert!(answer.body["revoked_at"].is_null(), "{label}");
        assert_eq!(answer.body["version"], 1, "{label}");
        assert_eq!(answer.etag(), "\"1\"", "{label}");
        let location = key_path(answer.id());
        assert_eq!(answer.header("location"), Some(location.as_str()));
        let digest = answer.body.get("secret_hash");
        assert!(digest.is_none(), "{label}: the digest is never shown");
        assert_eq!(me.status, 200, "{label}: {}", me.body);
        assert_eq!(me.body["role"], body["role"], "{label}");
        assert_eq!(me.body["api_key"]["id"], answer.body["id"], "{label}");
        if body["role"] == "partner" {
            assert_eq!(me.body["partner"]["id"], json!(partner.id), "{label}");
        } else {
            assert!(me.body["partner"].is_null(), "{label}: {}", me.body);
        }
        assert_eq!(read.status, 200, "{label}: {}", read.body);
        assert!(read.body.get("key").is_none(), "{label}: {}", read.body);
        assert!(read.body.get("secret_hash").is_none(), "{label}");
        assert!(!read.body.to_string().contains(&key), "{label}");
        assert_eq!(read.body["prefix"], key[..12], "{label}");
        assert_eq!(read.body["name"], body["name"], "{label}");
        assert_eq!(read.etag(), "\"1\"", "{label}");
    }
    for field in ["key", "prefix", "id"] {
        let values: HashSet<String> = created
            .iter()
            .map(|(_, _, answer, ..)| answer.body[field].to_string())
            .collect();
        assert_eq!(values.len(), created.len(), "every {field} is different");
    }
    let items = list.items();
    assert_eq!(items.len(), 2 + created.len(), "{}", list.body);
    for item in items {
        assert!(item.get("key").is_none(), "{item}");
        assert!(item.get("secret_hash").is_none(), "{item}");
    }
    let text = list.body.to_string();
    assert!(!text.contains(admin));
    for (label, _, answer, ..) in &created {
        assert!(!text.contains(&secret_of(answer)), "{label}");
    }
}

#[tokio::test]
async fn a_refused_key_is_neither_created_nor_stored() {
    // Arrange
    let app = spawn_app().await;
    let partner = app.create_partner("Self Service").await;
    let other = app.create_partner("Victim").await;
    let (admin, own) = (app.admin_key.as_str(), partner.key.as_str());
    let chosen = "esc_AAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAA";
    let misfit = |role: &str, partner_id: Value| {
        let mut body = staff_key(role, "misfit");
        body["partner_id"] = partner_id;
        body
    };
    let no_partner_id = json!({"role": "partner", "name": "orphan"});
    let (length, not_for_staff) = ([("name", "length")], [("partner_id", "unknown_field")]);

    for (label, caller, body, fields) in [
        (
            "a partner key without partner_id",
            admin,
            no_partner_id.clone(),
            &[("partner_id", "required")][..],
        ),
        (
            "the partner's own, without partner_id",
            own,
            no_partner_id,
            &[("partner_id", "required")],
        ),
        (
            "an operator key with a partner_id",
            admin,
            misfit("operator", json!(partner.id)),
            &not_for_staff,
        ),
        (
            "an operator key with partner_id null",
            admin,
            misfit("operator", Value::Null),
            &not_for_staff,
        ),
        (
            "an admin key with a partner_id",
            admin,
            misfit("admin", json!(partner.id)),
            &not_for_staff,
        ),
        (
            "an admin key with partner_id null",
            admin,
            misfit("admin", Value::Null),
            &not_for_staff,
        ),
        (
            "no role",
            admin,
            json!({"name": "no role"}),
            &[("role", "required")],
        ),
        (
            "an unknown role",
            admin,
            staff_key("root", "superuser"),
            &[("role", "invalid_value")],
        ),
        ("an empty name", admin, staff_key("operator", ""), &length),
        ("a blank name", admin, staff_key("operator", "   "), &length),
        (
            "a 101-character name",
            admin,
            staff_key("operator", &"键".repeat(101)),
            &length,
        ),
        (
            "a key chosen by the caller",
            admin,
            json!({"role": "admin", "name": "mine", "key": chosen}),
            &[("key", "unknown_field")],
        ),
    ] {
        // Act
        let answer = app.post(API_KEYS, caller, &body).await;

        // Assert
        answer.case_refused(label, 422, "validation_failed", fields);
        assert!(
            answer.body.get("key").is_none(),
            "{label}: no secret leaks out"
        );
    }
    for (label, caller, body, (status, code)) in [
        (
            "an unknown partner's",
            admin,
            partner_key(Uuid::now_v7(), "ghost"),
            NOT_FOUND,
        ),
        (
            "the partner makes an admin key",
            own,
            staff_key("admin", "sneaky"),
            FORBIDDEN,
        ),
        (
            "the partner makes an operator key",
            own,
            staff_key("operator", "sneaky"),
            FORBIDDEN,
        ),
        (
            "the partner, another partner's",
            own,
            partner_key(other.id, "stolen"),
            NOT_FOUND,
        ),
        (
            "the partner, an unknown partner's",
            own,
            partner_key(Uuid::now_v7(), "ghost"),
            NOT_FOUND,
        ),
    ] {
        // Act
        let answer = app.post(API_KEYS, caller, &body).await;

        // Assert
        answer.case_refused(label, status, code, &[]);
        assert!(
            answer.body.get("key").is_none(),
            "{label}: no secret leaks out"
        );
    }
    let stolen = app
        .post(API_KEYS, own, &partner_key(other.id, "stolen"))
        .await;
    let ghost = app
        .post(API_KEYS, own, &partner_key(Uuid::now_v7(), "x"))
        .await;
    let why = "another's is unknown";
    assert_eq!(stolen.body["detail"], ghost.body["detail"], "{why}");
    assert_eq!(app.get("/v1/me", chosen).await.status, 401);
    let stored = app
        .get(&format!("{API_KEYS}?include_revoked=true"), admin)
        .await;
    let expected = [
        id_of_key(&app, admin).await,
        id_of_key(&app, own).await,
        id_of_key(&app, &other.key).await,
    ];
    let why = "only the keys the test began with";
    assert_eq!(stored.item_ids(), expected, "{why}");
}

#[tokio::test]
async fn operators_and_other_partners_touch_no_key_and_a_malformed_id_is_400() {
    // Arrange
    let app = spawn_app().await;
    let operator = app.operator_key().await;
    let partner = app.create_partner("Attacker").await;
    let other = app.create_partner("Target").await;
    let (admin, own) = (app.admin_key.as_str(), partner.key.as_str());
    let staff = operator.as_str();
    let theirs = app
        .created(API_KEYS, admin, &partner_key(other.id, "their key"))
        .await;
    let path = key_path(theirs.id());
    let admins = key_path(id_of_key(&app, admin).await);
    let unknown = key_path(Uuid::now_v7());
    let call = |method: Method, path: &str, key: &str| app.request(method, path, key);
    let get = |path: &str, key: &str| call(Method::GET, path, key);
    let delete = |path: &str, key: &str| call(Method::DELETE, path, key);
    let rename = |path: &str, key: &str| {
        let request = call(Method::PATCH, path, key).header("If-Match", "\"1\"");
        request.json(&json!({"name": "pwned"}))
    };
    let create = call(Method::POST, API_KEYS, staff).json(&staff_key("operator", "self-made"));

    for (label, request, (status, code)) in [
        ("an operator creates", create, FORBIDDEN),
        ("an operator lists", get(API_KEYS, staff), FORBIDDEN),
        ("an operator reads", get(&path, staff), FORBIDDEN),
        ("an operator renames", rename(&path, staff), FORBIDDEN),
        ("an operator revokes", delete(&path, staff), FORBIDDEN),
        ("a partner reads another's", get(&path, own), NOT_FOUND),
        ("a partner renames another's", rename(&path, own), NOT_FOUND),
        ("a partner revokes another's", delete(&path, own), NOT_FOUND),
        ("a partner reads an admin's", get(&admins, own), NOT_FOUND),
        (
            "a partner revokes an admin's",
            delete(&admins, own),
            NOT_FOUND,
        ),
        (
            "an admin revokes an unknown key",
            delete(&unknown, admin),
            NOT_FOUND,
        ),
    ] {
        // Act
        let answer = app.send(request).await;

        // Assert
        answer.case_refused(label, status, code, &[]);
    }
    let bad_id = [("id", "invalid_uuid")];
    for (label, request) in [
        ("reading", get("/v1/api-keys/esc_not_an_id", admin)),
        ("revoking", delete("/v1/api-keys/123", admin)),
    ] {
        let answer = app.send(request).await;
        answer.case_refused(label, 400, "invalid_path_parameter", &bad_id);
    }
    let foreign = app.get(&path, own).await;
    let missing = app.get(&unknown, own).await;
    let why = "another partner's key is indistinguishable from an unknown one";
    assert_eq!(foreign.body["detail"], missing.body["detail"], "{why}");
    let still = app.get(&path, admin).await;
    assert_eq!(still.body["name"], "their key");
    assert!(still.body["revoked_at"].is_null());
    let secret = secret_of(&theirs);
    for (key, works) in [
        (secret.as_str(), "their key works"),
        (admin, "so does the admin's"),
    ] {
        assert_eq!(app.get("/v1/me", key).await.status, 200, "{works}");
    }
}

#[tokio::test]
async fn admins_list_every_key_and_a_partner_its_own_revoked_ones_only_when_asked() {
    // Arrange
    let app = spawn_app().await;
    let partner = app.create_partner("Mine").await;
    let other = app.create_partner("Theirs").await;
    let (admin, own) = (app.admin_key.as_str(), partner.key.as_str());
    let harness_admin = id_of_key(&app, admin).await;
    let own_first = id_of_key(&app, own).await;
    let other_first = id_of_key(&app, &other.key).await;
    let create = async |caller: &str, body: Value| app.created(API_KEYS, caller, &body).await.id();
    let another_admin = create(admin, staff_key("admin", "another")).await;
    let kept = create(admin, staff_key("operator", "kept")).await;
    let revoked = create(admin, staff_key("operator", "revoked")).await;
    let own_second = create(own, partner_key(partner.id, "second")).await;
    let own_old = create(own, partner_key(partner.id, "old")).await;
    let their_second = create(admin, partner_key(other.id, "2nd")).await;
    for (revoker, id) in [(admin, revoked), (own, own_old)] {
        assert_eq!(app.delete(&key_path(id), revoker).await.status, 204);
    }
    let of = |partner_id: Uuid| format!("partner_id={partner_id}");
    let (of_partner, of_other) = (of(partner.id), of(other.id));

    for (caller, query, expected) in [
        (admin, "role=operator", vec![kept]),
        (admin, "role=operator&include_revoked=false", vec![kept]),
        (
            admin,
            "role=operator&include_revoked=true",
            vec![kept, revoked],
        ),
        (admin, of_partner.as_str(), vec![own_first, own_second]),
        (admin, of_other.as_str(), vec![other_first, their_second]),
        (own, "", vec![own_first, own_second]),
        (
            own,
            "include_revoked=true",
            vec![own_first, own_second, own_old],
        ),
        (own, of_other.as_str(), vec![]),
        (own, "role=admin", vec![]),
    ] {
        // Act
        let list = app.get(&format!("{API_KEYS}?{query}"), caller).await;

        // Assert
        assert_eq!(list.item_ids(), expected, "{query}");
        for item in list.items() {
            let was_revoked = [revoked, own_old].map(|id| json!(id)).contains(&item["id"]);
            assert_eq!(
                item["revoked_at"].is_string(),
                was_revoked,
                "{query}: {item}"
            );
            if caller == own {
                assert_eq!(item["partner_id"], json!(partner.id), "{query}: {item}");
                assert_eq!(item["role"], "partner", "{query}: {item}");
            }
        }
    }
    let everything = [
        harness_admin,
        own_first,
        other_first,
        another_admin,
        kept,
        own_second,
        their_second,
    ];
    assert_eq!(app.get(API_KEYS, admin).await.item_ids(), everything);
    let first = app.get_query(API_KEYS, admin, &[("limit", "2")]).await;
    let pages = app.every_page(first, admin).await;
    let pages: Vec<Vec<Uuid>> = pages.iter().map(Answer::item_ids).collect();
    let sizes: Vec<usize> = pages.iter().map(Vec::len).collect();
    assert_eq!(sizes, [2, 2, 2, 1], "{pages:?}");
    assert_eq!(pages.concat(), everything, "every key once, in order");
}

#[tokio::test]
async fn renaming_needs_the_current_version_and_a_valid_name_and_keeps_the_key_working() {
    // Arrange
    let app = spawn_app().await;
    let admin = app.admin_key.as_str();
    let created = app
        .created(API_KEYS, admin, &staff_key("operator", "old name"))
        .await;
    let path = key_path(created.id());
    let partner = app.create_partner("Renamer").await;
    let staging = app
        .created(API_KEYS, &partner.key, &partner_key(partner.id, "staging"))
        .await;
    let name = |name: &str| json!({ "name": name });

    // Act
    let without = app.patch(&path, admin, None, &name("after")).await;
    let mut invalid = Vec::new();
    for (label, body, field) in [
        ("an empty name", name(""), ("name", "length")),
        ("no name", json!({}), ("name", "required")),
        (
            "a new role",
            json!({"name": "x", "role": "admin"}),
            ("role", "unknown_field"),
        ),
    ] {
        let answer = app.patch(&path, admin, Some("\"1\""), &body).await;
        invalid.push((label, answer, field));
    }
    let renamed = app
        .patch(&path, admin, Some(&created.etag()), &name("new name"))
        .await;
    let stale = app
        .patch(&path, admin, Some("\"1\""), &name("lost update"))
        .await;
    let staging_path = key_path(staging.id());
    let by_partner = app
        .patch(
            &staging_path,
            &partner.key,
            Some(&staging.etag()),
            &name("production"),
        )
        .await;

    // Assert
    without.problem(428, "if_match_required");
    for (label, answer, field) in invalid {
        answer.case_refused(label, 422, "validation_failed", &[field]);
    }
    assert_eq!(
        renamed.status, 200,
        "refused renames wrote nothing: {}",
        renamed.body
    );
    assert_eq!(renamed.body["name"], "new name");
    assert_eq!(renamed.body["version"], 2);
    assert_eq!(renamed.etag(), "\"2\"");
    assert!(renamed.body.get("key").is_none());
    assert_eq!(renamed.body["prefix"], created.body["prefix"]);
    stale.problem(412, "stale_version");
    let read = app.get(&path, admin).await;
    assert_eq!(read.body["name"], "new name");
    assert_eq!(read.body["role"], "operator");
    let works = app.get("/v1/me", &secret_of(&created)).await.status;
    assert_eq!(works, 200, "renaming keeps the key working");
    assert_eq!(by_partner.status, 200, "{}", by_partner.body);
    assert_eq!(by_partner.body["name"], "production");
}

#[tokio::test]
async fn a_revoked_key_stops_at_once_and_keeps_its_first_revocation_time() {
    // Arrange
    let app = spawn_app().await;
    let admin = app.admin_key.clone();
    let partner = app.create_partner("Revoked Partner").await;
    let by_admin = app
        .created(API_KEYS, &admin, &partner_key(partner.id, "to revoke"))
        .await;
    let by_partner = app
        .created(API_KEYS, &partner.key, &partner_key(partner.id, "leaked"))
        .await;
    let spare = secret_of(
        &app.created(API_KEYS, &admin, &staff_key("admin", "spare"))
            .await,
    );
    let own_id = id_of_key(&app, &admin).await;
    assert_eq!(app.get("/v1/me", &secret_of(&by_admin)).await.status, 200);
    let started = chrono::Utc::now();

    for (label, revoker, id, secret, other) in [
        (
            "an admin revokes a partner's key",
            &admin,
            by_admin.id(),
            secret_of(&by_admin),
            &partner.key,
        ),
        (
            "a partner revokes its own",
            &partner.key,
            by_partner.id(),
            secret_of(&by_partner),
            &partner.key,
        ),
        (
            "an admin revokes the key it is using",
            &admin,
            own_id,
            admin.clone(),
            &spare,
        ),
    ] {
        // Act
        let answer = app.delete(&key_path(id), revoker).await;
        let refused = app.get("/v1/me", &secret).await;

        // Assert
        assert_eq!(answer.status, 204, "{label}: {}", answer.body);
        assert!(answer.body.is_null(), "{label}: a 204 has no body");
        refused.case_refused(label, 401, "unauthorized", &[]);
        let still = app.get("/v1/me", other).await.status;
        assert_eq!(still, 200, "{label}: the other key still works");
    }
    let path = key_path(by_admin.id());
    let first = app.get(&path, &spare).await;
    let again = app.delete(&path, &spare).await;
    let after = app.get(&path, &spare).await;
    let revoked_at = timestamp(&first.body["revoked_at"]);
    let slack = chrono::Duration::seconds(5);
    let within = started - slack..=chrono::Utc::now() + slack;
    assert!(within.contains(&revoked_at), "{revoked_at}");
    assert_eq!(first.body["version"], 2, "revoking is a change");
    assert_eq!(first.etag(), "\"2\"");
    assert_eq!(again.status, 204, "revoking twice is 204 too");
    let why = "the first revocation time stays";
    assert_eq!(after.body["revoked_at"], first.body["revoked_at"], "{why}");
    assert_eq!(after.body["version"], first.body["version"]);
}
