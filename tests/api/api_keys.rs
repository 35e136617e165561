//! `/v1/api-keys`: admins manage every key; a partner manages its own partner keys; operators
//! have no access. The secret (`key`) appears once, in the creation response.

use serde_json::{Value, json};
use uuid::Uuid;

use crate::helpers::{Answer, TestApp, TestPartner, spawn_app};

/// `POST /v1/api-keys` as `caller`.
async fn create_key(app: &TestApp, caller: &str, body: Value) -> Answer {
    app.post("/v1/api-keys", caller, &body).await
}

/// Creates a partner key for `partner` as admin, asserting 201.
async fn admin_creates_partner_key(app: &TestApp, partner: &TestPartner, name: &str) -> Answer {
    let answer = create_key(
        app,
        &app.admin_key,
        json!({"role": "partner", "partner_id": partner.id, "name": name}),
    )
    .await;
    assert_eq!(answer.status, 201, "{}", answer.body);
    answer
}

/// Creates a partner key as `partner` itself, naming its own id, asserting 201.
async fn partner_creates_key(app: &TestApp, partner: &TestPartner, name: &str) -> Answer {
    let body = json!({"role": "partner", "partner_id": partner.id, "name": name});
    let answer = create_key(app, &partner.key, body).await;
    assert_eq!(answer.status, 201, "{}", answer.body);
    answer
}

/// The `key` of a creation answer.
fn secret_of(answer: &Answer) -> String {
    answer.body["key"]
        .as_str()
        .expect("the creation answer holds the key")
        .to_owned()
}

/// The ids of a list answer's items, in order.
fn ids(page: &Value) -> Vec<String> {
    page["items"]
        .as_array()
        .expect("a list answer has items")
        .iter()
        .map(|item| item["id"].as_str().unwrap().to_owned())
        .collect()
}

/// The id of the key `secret` authenticates, from `GET /v1/me`.
async fn id_of_key(app: &TestApp, secret: &str) -> String {
    let me = app.get("/v1/me", secret).await;
    assert_eq!(me.status, 200, "{}", me.body);
    me.body["api_key"]["id"].as_str().unwrap().to_owned()
}

/// The body's `errors[0]` as `(field, code)`.
fn first_error(answer: &Answer) -> (String, String) {
    let error = &answer.body["errors"][0];
    (
        error["field"].as_str().unwrap_or_default().to_owned(),
        error["code"].as_str().unwrap_or_default().to_owned(),
    )
}

// ---------------------------------------------------------------------------------------------
// Creating, as admin
// ---------------------------------------------------------------------------------------------

#[tokio::test]
async fn admin_creates_an_admin_key() {
    // Arrange
    let app = spawn_app().await;

    // Act
    let answer = create_key(
        &app,
        &app.admin_key,
        json!({"role": "admin", "name": "second admin"}),
    )
    .await;

    // Assert
    assert_eq!(answer.status, 201, "{}", answer.body);
    let key = secret_of(&answer);
    assert!(key.starts_with("esc_"), "{key}");
    assert_eq!(
        key.len(),
        4 + 43,
        "esc_ and 32 random bytes in URL-safe base64"
    );
    assert_eq!(answer.body["prefix"], key[..12]);
    assert_eq!(answer.body["role"], "admin");
    assert!(answer.body["partner_id"].is_null());
    assert_eq!(answer.body["name"], "second admin");
    assert!(answer.body["last_used_at"].is_null());
    assert!(answer.body["revoked_at"].is_null());
    assert_eq!(answer.body["version"], 1);
    assert_eq!(answer.etag(), "\"1\"");
    assert_eq!(
        answer.header("location"),
        Some(format!("/v1/api-keys/{}", answer.id()).as_str())
    );
    assert!(
        answer.body.get("secret_hash").is_none(),
        "the digest is never shown"
    );
}

#[tokio::test]
async fn admin_creates_an_operator_key() {
    // Arrange
    let app = spawn_app().await;

    // Act
    let answer = create_key(
        &app,
        &app.admin_key,
        json!({"role": "operator", "name": "support desk"}),
    )
    .await;

    // Assert
    assert_eq!(answer.status, 201, "{}", answer.body);
    let key = secret_of(&answer);
    assert!(key.starts_with("esc_"));
    assert_eq!(answer.body["prefix"], key[..12]);
    assert_eq!(answer.body["role"], "operator");
    assert!(answer.body["partner_id"].is_null());
}

#[tokio::test]
async fn admin_creates_a_partner_key() {
    // Arrange
    let app = spawn_app().await;
    let partner = app.create_partner("云桥科技 CloudBridge").await;

    // Act
    let answer = admin_creates_partner_key(&app, &partner, "ticketing system").await;

    // Assert
    let key = secret_of(&answer);
    assert!(key.starts_with("esc_"));
    assert_eq!(answer.body["prefix"], key[..12]);
    assert_eq!(answer.body["role"], "partner");
    assert_eq!(answer.body["partner_id"], partner.id.to_string());
}

#[tokio::test]
async fn every_created_key_works_on_me_with_its_role() {
    // Arrange
    let app = spawn_app().await;
    let partner = app.create_partner("Key Owner").await;
    let bodies = [
        json!({"role": "admin", "name": "a"}),
        json!({"role": "operator", "name": "o"}),
        json!({"role": "partner", "partner_id": partner.id, "name": "p"}),
    ];

    for body in bodies {
        let created = create_key(&app, &app.admin_key, body.clone()).await;
        assert_eq!(created.status, 201, "{}", created.body);

        // Act
        let me = app.get("/v1/me", &secret_of(&created)).await;

        // Assert
        assert_eq!(me.status, 200, "{}", me.body);
        assert_eq!(me.body["role"], body["role"]);
        assert_eq!(me.body["api_key"]["id"], created.body["id"]);
        if body["role"] == "partner" {
            assert_eq!(me.body["partner"]["id"], partner.id.to_string());
        } else {
            assert!(me.body["partner"].is_null());
        }
    }
}

#[tokio::test]
async fn every_key_is_different() {
    // Arrange
    let app = spawn_app().await;

    // Act
    let first = create_key(
        &app,
        &app.admin_key,
        json!({"role": "operator", "name": "same name"}),
    )
    .await;
    let second = create_key(
        &app,
        &app.admin_key,
        json!({"role": "operator", "name": "same name"}),
    )
    .await;

    // Assert
    assert_ne!(secret_of(&first), secret_of(&second));
    assert_ne!(first.body["prefix"], second.body["prefix"]);
    assert_ne!(first.id(), second.id());
}

#[tokio::test]
async fn a_partner_key_without_partner_id_is_refused() {
    // Arrange
    let app = spawn_app().await;

    // Act
    let answer = create_key(
        &app,
        &app.admin_key,
        json!({"role": "partner", "name": "orphan"}),
    )
    .await;

    // Assert
    answer.problem(422, "validation_failed");
    assert_eq!(
        first_error(&answer),
        ("partner_id".to_owned(), "required".to_owned())
    );
}

#[tokio::test]
async fn a_partner_key_for_an_unknown_partner_is_404() {
    // Arrange
    let app = spawn_app().await;

    // Act
    let answer = create_key(
        &app,
        &app.admin_key,
        json!({"role": "partner", "partner_id": Uuid::now_v7(), "name": "ghost"}),
    )
    .await;

    // Assert: the body is well-formed; the partner it names does not exist.
    answer.problem(404, "not_found");
    assert!(answer.body.get("key").is_none());
}

#[tokio::test]
async fn an_operator_or_admin_key_with_a_partner_id_is_refused() {
    // Arrange
    let app = spawn_app().await;
    let partner = app.create_partner("Not For Staff").await;

    for role in ["operator", "admin"] {
        for partner_id in [json!(partner.id), json!(null)] {
            // Act
            let answer = create_key(
                &app,
                &app.admin_key,
                json!({"role": role, "partner_id": partner_id, "name": "misfit"}),
            )
            .await;

            // Assert: only partner keys have a partner_id.
            answer.problem(422, "validation_failed");
            assert_eq!(
                first_error(&answer),
                ("partner_id".to_owned(), "unknown_field".to_owned()),
                "role {role}, partner_id {partner_id}"
            );
        }
    }
}

#[tokio::test]
async fn a_refused_key_is_not_stored() {
    // Arrange
    let app = spawn_app().await;
    let partner = app.create_partner("Nothing Stored").await;
    create_key(
        &app,
        &app.admin_key,
        json!({"role": "operator", "partner_id": partner.id, "name": "x"}),
    )
    .await;
    create_key(
        &app,
        &app.admin_key,
        json!({"role": "partner", "name": "x"}),
    )
    .await;

    // Act
    let list = app
        .get("/v1/api-keys?include_revoked=true", &app.admin_key)
        .await;

    // Assert: the admin key of the harness and the partner key of create_partner only.
    assert_eq!(list.status, 200, "{}", list.body);
    assert_eq!(ids(&list.body).len(), 2, "{}", list.body);
}

#[tokio::test]
async fn a_key_without_a_role_is_refused() {
    // Arrange
    let app = spawn_app().await;

    // Act
    let answer = create_key(&app, &app.admin_key, json!({"name": "no role"})).await;

    // Assert
    answer.problem(422, "validation_failed");
    assert_eq!(
        first_error(&answer),
        ("role".to_owned(), "required".to_owned())
    );
}

#[tokio::test]
async fn a_key_with_an_empty_or_blank_name_is_refused() {
    // Arrange
    let app = spawn_app().await;

    for name in ["", "   "] {
        // Act
        let answer = create_key(
            &app,
            &app.admin_key,
            json!({"role": "operator", "name": name}),
        )
        .await;

        // Assert
        answer.problem(422, "validation_failed");
        assert_eq!(answer.error_fields(), ["name"], "name {name:?}");
    }
}

#[tokio::test]
async fn a_key_name_longer_than_100_characters_is_refused() {
    // Arrange
    let app = spawn_app().await;

    // Act
    let longest = create_key(
        &app,
        &app.admin_key,
        json!({"role": "operator", "name": "键".repeat(100)}),
    )
    .await;
    let too_long = create_key(
        &app,
        &app.admin_key,
        json!({"role": "operator", "name": "键".repeat(101)}),
    )
    .await;

    // Assert
    assert_eq!(longest.status, 201, "{}", longest.body);
    too_long.problem(422, "validation_failed");
    assert_eq!(too_long.error_fields(), ["name"]);
}

#[tokio::test]
async fn an_unknown_role_is_refused() {
    // Arrange
    let app = spawn_app().await;

    // Act
    let answer = create_key(
        &app,
        &app.admin_key,
        json!({"role": "root", "name": "superuser"}),
    )
    .await;

    // Assert
    answer.problem(422, "validation_failed");
    assert_eq!(
        first_error(&answer),
        ("role".to_owned(), "invalid_value".to_owned())
    );
}

#[tokio::test]
async fn a_key_cannot_be_chosen_by_the_caller() {
    // Arrange
    let app = spawn_app().await;
    let chosen = "esc_AAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAA";

    // Act
    let answer = create_key(
        &app,
        &app.admin_key,
        json!({"role": "admin", "name": "mine", "key": chosen}),
    )
    .await;

    // Assert
    answer.problem(422, "validation_failed");
    assert_eq!(
        first_error(&answer),
        ("key".to_owned(), "unknown_field".to_owned())
    );
    assert_eq!(app.get("/v1/me", chosen).await.status, 401);
}

// ---------------------------------------------------------------------------------------------
// Creating, as a partner
// ---------------------------------------------------------------------------------------------

#[tokio::test]
async fn a_partner_creates_its_own_partner_key() {
    // Arrange
    let app = spawn_app().await;
    let partner = app.create_partner("Self Service").await;

    // Act
    let answer = create_key(
        &app,
        &partner.key,
        json!({"role": "partner", "partner_id": partner.id, "name": "CI pipeline"}),
    )
    .await;

    // Assert
    assert_eq!(answer.status, 201, "{}", answer.body);
    assert_eq!(answer.body["role"], "partner");
    assert_eq!(answer.body["partner_id"], partner.id.to_string());
    let key = secret_of(&answer);
    assert!(key.starts_with("esc_"));
    assert_eq!(answer.body["prefix"], key[..12]);
    let me = app.get("/v1/me", &key).await;
    assert_eq!(me.status, 200, "{}", me.body);
    assert_eq!(me.body["partner"]["id"], partner.id.to_string());
}

#[tokio::test]
async fn a_partner_must_name_its_own_partner_id() {
    // Arrange: partner keys always name their partner, whoever creates them.
    let app = spawn_app().await;
    let partner = app.create_partner("Implicit Self").await;

    // Act
    let answer = create_key(
        &app,
        &partner.key,
        json!({"role": "partner", "name": "implicit"}),
    )
    .await;

    // Assert
    answer.problem(422, "validation_failed");
    assert_eq!(
        first_error(&answer),
        ("partner_id".to_owned(), "required".to_owned())
    );
}

#[tokio::test]
async fn a_partner_cannot_create_admin_or_operator_keys() {
    // Arrange
    let app = spawn_app().await;
    let partner = app.create_partner("Escalation of Privilege").await;

    for role in ["admin", "operator"] {
        // Act
        let answer = create_key(&app, &partner.key, json!({"role": role, "name": "sneaky"})).await;

        // Assert
        answer.problem(403, "forbidden");
        assert!(
            answer.body.get("key").is_none(),
            "no secret leaks out of a refusal"
        );
    }
    let list = app
        .get("/v1/api-keys?include_revoked=true", &app.admin_key)
        .await;
    assert_eq!(
        ids(&list.body).len(),
        2,
        "nothing was created: {}",
        list.body
    );
}

#[tokio::test]
async fn a_partner_naming_another_partner_gets_404() {
    // Arrange
    let app = spawn_app().await;
    let partner = app.create_partner("Impostor").await;
    let other = app.create_partner("Victim").await;

    // Act
    let other_answer = create_key(
        &app,
        &partner.key,
        json!({"role": "partner", "partner_id": other.id, "name": "stolen"}),
    )
    .await;
    let unknown_answer = create_key(
        &app,
        &partner.key,
        json!({"role": "partner", "partner_id": Uuid::now_v7(), "name": "ghost"}),
    )
    .await;

    // Assert
    other_answer.problem(404, "not_found");
    unknown_answer.problem(404, "not_found");
    assert_eq!(other_answer.body["detail"], unknown_answer.body["detail"]);
    let others = app
        .get(
            &format!("/v1/api-keys?partner_id={}", other.id),
            &app.admin_key,
        )
        .await;
    assert_eq!(
        ids(&others.body).len(),
        1,
        "only the victim's own key: {}",
        others.body
    );
}

// ---------------------------------------------------------------------------------------------
// Operators have no access
// ---------------------------------------------------------------------------------------------

#[tokio::test]
async fn an_operator_is_forbidden_on_every_api_key_endpoint() {
    // Arrange
    let app = spawn_app().await;
    let operator = app.operator_key().await;
    let partner = app.create_partner("Operator Cannot Touch").await;
    let target = admin_creates_partner_key(&app, &partner, "target").await;
    let path = format!("/v1/api-keys/{}", target.id());

    // Act
    let create = create_key(
        &app,
        &operator,
        json!({"role": "operator", "name": "self-made"}),
    )
    .await;
    let list = app.get("/v1/api-keys", &operator).await;
    let get = app.get(&path, &operator).await;
    let rename = app
        .patch(&path, &operator, Some("\"1\""), &json!({"name": "renamed"}))
        .await;
    let revoke = app.delete(&path, &operator).await;

    // Assert
    for answer in [&create, &list, &get, &rename, &revoke] {
        answer.problem(403, "forbidden");
    }
    let still = app.get(&path, &app.admin_key).await;
    assert_eq!(still.body["name"], "target");
    assert!(still.body["revoked_at"].is_null());
    assert_eq!(app.get("/v1/me", &secret_of(&target)).await.status, 200);
}

// ---------------------------------------------------------------------------------------------
// Reading: the secret is never shown again
// ---------------------------------------------------------------------------------------------

#[tokio::test]
async fn get_never_shows_the_secret() {
    // Arrange
    let app = spawn_app().await;
    let created = create_key(
        &app,
        &app.admin_key,
        json!({"role": "operator", "name": "quiet"}),
    )
    .await;
    let secret = secret_of(&created);

    // Act
    let answer = app
        .get(&format!("/v1/api-keys/{}", created.id()), &app.admin_key)
        .await;

    // Assert
    assert_eq!(answer.status, 200, "{}", answer.body);
    assert!(answer.body.get("key").is_none(), "{}", answer.body);
    assert!(answer.body.get("secret_hash").is_none(), "{}", answer.body);
    assert!(!answer.body.to_string().contains(&secret));
    assert_eq!(answer.body["prefix"], secret[..12]);
    assert_eq!(answer.body["name"], "quiet");
    assert_eq!(answer.etag(), "\"1\"");
}

#[tokio::test]
async fn list_never_shows_any_secret() {
    // Arrange
    let app = spawn_app().await;
    let partner = app.create_partner("Listed").await;
    let created = [
        create_key(&app, &app.admin_key, json!({"role": "admin", "name": "a"})).await,
        create_key(
            &app,
            &app.admin_key,
            json!({"role": "operator", "name": "o"}),
        )
        .await,
        admin_creates_partner_key(&app, &partner, "p").await,
    ];

    // Act
    let answer = app.get("/v1/api-keys", &app.admin_key).await;

    // Assert
    assert_eq!(answer.status, 200, "{}", answer.body);
    let items = answer.body["items"].as_array().unwrap();
    assert_eq!(items.len(), 2 + created.len(), "{}", answer.body);
    for item in items {
        assert!(item.get("key").is_none(), "{item}");
        assert!(item.get("secret_hash").is_none(), "{item}");
    }
    let text = answer.body.to_string();
    assert!(!text.contains(&app.admin_key));
    for key in &created {
        assert!(!text.contains(&secret_of(key)));
    }
}

#[tokio::test]
async fn admin_lists_filter_by_role_and_partner() {
    // Arrange
    let app = spawn_app().await;
    let partner = app.create_partner("Filtered").await;
    let other = app.create_partner("Other").await;
    let operator = create_key(
        &app,
        &app.admin_key,
        json!({"role": "operator", "name": "o"}),
    )
    .await;
    let partner_key = admin_creates_partner_key(&app, &partner, "p").await;
    let partner_own_key = id_of_key(&app, &partner.key).await;

    // Act
    let operators = app.get("/v1/api-keys?role=operator", &app.admin_key).await;
    let of_partner = app
        .get(
            &format!("/v1/api-keys?partner_id={}", partner.id),
            &app.admin_key,
        )
        .await;
    let of_other = app
        .get(
            &format!("/v1/api-keys?partner_id={}", other.id),
            &app.admin_key,
        )
        .await;

    // Assert
    assert_eq!(ids(&operators.body), [operator.id().to_string()]);
    assert_eq!(
        ids(&of_partner.body),
        [partner_own_key, partner_key.id().to_string()]
    );
    assert_eq!(ids(&of_other.body).len(), 1);
}

#[tokio::test]
async fn the_key_list_pages_with_limit_and_next_cursor() {
    // Arrange: the harness admin key plus two more.
    let app = spawn_app().await;
    create_key(
        &app,
        &app.admin_key,
        json!({"role": "operator", "name": "one"}),
    )
    .await;
    create_key(
        &app,
        &app.admin_key,
        json!({"role": "operator", "name": "two"}),
    )
    .await;

    // Act
    let mut seen = Vec::new();
    let mut path = "/v1/api-keys?limit=1".to_owned();
    let mut pages = 0;
    loop {
        let page = app.get(&path, &app.admin_key).await;
        assert_eq!(page.status, 200, "{}", page.body);
        assert_eq!(page.body["items"].as_array().unwrap().len(), 1);
        seen.extend(ids(&page.body));
        pages += 1;
        match page.body["next_cursor"].as_str() {
            Some(cursor) => path = format!("/v1/api-keys?limit=1&cursor={cursor}"),
            None => break,
        }
        assert!(pages < 10, "pagination does not end");
    }

    // Assert
    assert_eq!(pages, 3);
    let mut unique = seen.clone();
    unique.sort();
    unique.dedup();
    assert_eq!(unique.len(), 3, "every key once: {seen:?}");
}

// ---------------------------------------------------------------------------------------------
// Partner scope
// ---------------------------------------------------------------------------------------------

#[tokio::test]
async fn a_partner_lists_only_its_own_keys() {
    // Arrange
    let app = spawn_app().await;
    let partner = app.create_partner("Mine").await;
    let other = app.create_partner("Theirs").await;
    let own_original = id_of_key(&app, &partner.key).await;
    let own_created = partner_creates_key(&app, &partner, "second").await;
    admin_creates_partner_key(&app, &other, "their second").await;
    create_key(
        &app,
        &app.admin_key,
        json!({"role": "admin", "name": "another admin"}),
    )
    .await;
    create_key(
        &app,
        &app.admin_key,
        json!({"role": "operator", "name": "an operator"}),
    )
    .await;

    // Act
    let answer = app.get("/v1/api-keys", &partner.key).await;

    // Assert
    assert_eq!(answer.status, 200, "{}", answer.body);
    assert_eq!(
        ids(&answer.body),
        [own_original, own_created.id().to_string()]
    );
    for item in answer.body["items"].as_array().unwrap() {
        assert_eq!(item["partner_id"], partner.id.to_string());
        assert_eq!(item["role"], "partner");
    }
}

#[tokio::test]
async fn a_partner_filtering_by_another_partner_sees_nothing() {
    // Arrange
    let app = spawn_app().await;
    let partner = app.create_partner("Filter Abuser").await;
    let other = app.create_partner("Filtered Out").await;

    // Act
    let by_other = app
        .get(
            &format!("/v1/api-keys?partner_id={}", other.id),
            &partner.key,
        )
        .await;
    let admins = app.get("/v1/api-keys?role=admin", &partner.key).await;

    // Assert
    assert_eq!(by_other.status, 200, "{}", by_other.body);
    assert!(ids(&by_other.body).is_empty(), "{}", by_other.body);
    assert!(ids(&admins.body).is_empty(), "{}", admins.body);
}

#[tokio::test]
async fn a_partner_reads_its_own_key() {
    // Arrange
    let app = spawn_app().await;
    let partner = app.create_partner("Reader").await;
    let created = partner_creates_key(&app, &partner, "readable").await;

    // Act
    let answer = app
        .get(&format!("/v1/api-keys/{}", created.id()), &partner.key)
        .await;

    // Assert
    assert_eq!(answer.status, 200, "{}", answer.body);
    assert_eq!(answer.body["name"], "readable");
    assert!(answer.body.get("key").is_none());
}

#[tokio::test]
async fn a_partner_cannot_see_change_or_revoke_another_partners_key() {
    // Arrange
    let app = spawn_app().await;
    let partner = app.create_partner("Attacker").await;
    let other = app.create_partner("Target").await;
    let theirs = admin_creates_partner_key(&app, &other, "their key").await;
    let path = format!("/v1/api-keys/{}", theirs.id());

    // Act
    let get = app.get(&path, &partner.key).await;
    let rename = app
        .patch(
            &path,
            &partner.key,
            Some("\"1\""),
            &json!({"name": "pwned"}),
        )
        .await;
    let revoke = app.delete(&path, &partner.key).await;

    // Assert
    for answer in [&get, &rename, &revoke] {
        answer.problem(404, "not_found");
    }
    let unknown = app
        .get(&format!("/v1/api-keys/{}", Uuid::now_v7()), &partner.key)
        .await;
    assert_eq!(
        get.body["detail"], unknown.body["detail"],
        "indistinguishable from an unknown key"
    );
    let still = app.get(&path, &app.admin_key).await;
    assert_eq!(still.body["name"], "their key");
    assert!(still.body["revoked_at"].is_null());
    assert_eq!(
        app.get("/v1/me", &secret_of(&theirs)).await.status,
        200,
        "their key still works"
    );
}

#[tokio::test]
async fn a_partner_cannot_see_or_revoke_an_admin_key() {
    // Arrange
    let app = spawn_app().await;
    let partner = app.create_partner("Reaching Up").await;
    let admin_key_id = id_of_key(&app, &app.admin_key).await;
    let path = format!("/v1/api-keys/{admin_key_id}");

    // Act
    let get = app.get(&path, &partner.key).await;
    let revoke = app.delete(&path, &partner.key).await;

    // Assert
    get.problem(404, "not_found");
    revoke.problem(404, "not_found");
    assert_eq!(app.get("/v1/me", &app.admin_key).await.status, 200);
}

#[tokio::test]
async fn a_partner_revokes_its_own_key() {
    // Arrange
    let app = spawn_app().await;
    let partner = app.create_partner("Self Revoker").await;
    let created = partner_creates_key(&app, &partner, "leaked").await;
    let secret = secret_of(&created);

    // Act
    let answer = app
        .delete(&format!("/v1/api-keys/{}", created.id()), &partner.key)
        .await;

    // Assert
    assert_eq!(answer.status, 204, "{}", answer.body);
    assert_eq!(app.get("/v1/me", &secret).await.status, 401);
    assert_eq!(
        app.get("/v1/me", &partner.key).await.status,
        200,
        "its other key still works"
    );
}

// ---------------------------------------------------------------------------------------------
// Renaming
// ---------------------------------------------------------------------------------------------

#[tokio::test]
async fn renaming_without_if_match_is_refused_with_428() {
    // Arrange
    let app = spawn_app().await;
    let created = create_key(
        &app,
        &app.admin_key,
        json!({"role": "operator", "name": "before"}),
    )
    .await;

    // Act
    let answer = app
        .patch(
            &format!("/v1/api-keys/{}", created.id()),
            &app.admin_key,
            None,
            &json!({"name": "after"}),
        )
        .await;

    // Assert
    answer.problem(428, "if_match_required");
}

#[tokio::test]
async fn renaming_with_a_stale_etag_is_refused_with_412() {
    // Arrange
    let app = spawn_app().await;
    let created = create_key(
        &app,
        &app.admin_key,
        json!({"role": "operator", "name": "v1"}),
    )
    .await;
    let path = format!("/v1/api-keys/{}", created.id());
    let first = app
        .patch(&path, &app.admin_key, Some("\"1\""), &json!({"name": "v2"}))
        .await;
    assert_eq!(first.status, 200, "{}", first.body);

    // Act
    let answer = app
        .patch(
            &path,
            &app.admin_key,
            Some("\"1\""),
            &json!({"name": "lost update"}),
        )
        .await;

    // Assert
    answer.problem(412, "stale_version");
    assert_eq!(app.get(&path, &app.admin_key).await.body["name"], "v2");
}

#[tokio::test]
async fn renaming_with_the_current_etag_succeeds() {
    // Arrange
    let app = spawn_app().await;
    let created = create_key(
        &app,
        &app.admin_key,
        json!({"role": "operator", "name": "old name"}),
    )
    .await;
    let path = format!("/v1/api-keys/{}", created.id());
    let read = app.get(&path, &app.admin_key).await;

    // Act
    let answer = app
        .patch(
            &path,
            &app.admin_key,
            Some(&read.etag()),
            &json!({"name": "new name"}),
        )
        .await;

    // Assert
    assert_eq!(answer.status, 200, "{}", answer.body);
    assert_eq!(answer.body["name"], "new name");
    assert_eq!(answer.body["version"], 2);
    assert_eq!(answer.etag(), "\"2\"");
    assert!(answer.body.get("key").is_none());
    assert_eq!(answer.body["prefix"], created.body["prefix"]);
    assert_eq!(
        app.get(&path, &app.admin_key).await.body["name"],
        "new name"
    );
    assert_eq!(
        app.get("/v1/me", &secret_of(&created)).await.status,
        200,
        "renaming keeps the key working"
    );
}

#[tokio::test]
async fn a_partner_renames_its_own_key() {
    // Arrange
    let app = spawn_app().await;
    let partner = app.create_partner("Renamer").await;
    let created = partner_creates_key(&app, &partner, "staging").await;

    // Act
    let answer = app
        .patch(
            &format!("/v1/api-keys/{}", created.id()),
            &partner.key,
            Some(&created.etag()),
            &json!({"name": "production"}),
        )
        .await;

    // Assert
    assert_eq!(answer.status, 200, "{}", answer.body);
    assert_eq!(answer.body["name"], "production");
}

#[tokio::test]
async fn renaming_validates_the_name_and_refuses_other_fields() {
    // Arrange
    let app = spawn_app().await;
    let created = create_key(
        &app,
        &app.admin_key,
        json!({"role": "operator", "name": "fixed"}),
    )
    .await;
    let path = format!("/v1/api-keys/{}", created.id());

    // Act
    let empty = app
        .patch(&path, &app.admin_key, Some("\"1\""), &json!({"name": ""}))
        .await;
    let missing = app
        .patch(&path, &app.admin_key, Some("\"1\""), &json!({}))
        .await;
    let role = app
        .patch(
            &path,
            &app.admin_key,
            Some("\"1\""),
            &json!({"name": "x", "role": "admin"}),
        )
        .await;

    // Assert
    empty.problem(422, "validation_failed");
    assert_eq!(empty.error_fields(), ["name"]);
    missing.problem(422, "validation_failed");
    assert_eq!(
        first_error(&missing),
        ("name".to_owned(), "required".to_owned())
    );
    role.problem(422, "validation_failed");
    assert_eq!(
        first_error(&role),
        ("role".to_owned(), "unknown_field".to_owned())
    );
    let current = app.get(&path, &app.admin_key).await;
    assert_eq!(current.body["role"], "operator");
    assert_eq!(current.etag(), "\"1\"");
}

// ---------------------------------------------------------------------------------------------
// Revoking
// ---------------------------------------------------------------------------------------------

#[tokio::test]
async fn revoking_a_key_stops_it_at_once() {
    // Arrange
    let app = spawn_app().await;
    let partner = app.create_partner("Revoked Partner").await;
    let created = admin_creates_partner_key(&app, &partner, "to revoke").await;
    let secret = secret_of(&created);
    assert_eq!(app.get("/v1/me", &secret).await.status, 200);

    // Act
    let answer = app
        .delete(&format!("/v1/api-keys/{}", created.id()), &app.admin_key)
        .await;

    // Assert
    assert_eq!(answer.status, 204);
    assert!(answer.body.is_null(), "a 204 has no body: {}", answer.body);
    let refused = app.get("/v1/me", &secret).await;
    refused.problem(401, "unauthorized");
    assert_eq!(
        app.get("/v1/me", &partner.key).await.status,
        200,
        "the partner's other key still works"
    );
}

#[tokio::test]
async fn a_revoked_key_shows_revoked_at_to_an_admin() {
    // Arrange
    let app = spawn_app().await;
    let created = create_key(
        &app,
        &app.admin_key,
        json!({"role": "operator", "name": "gone"}),
    )
    .await;
    let path = format!("/v1/api-keys/{}", created.id());
    let started = chrono::Utc::now();

    // Act
    app.delete(&path, &app.admin_key).await;
    let answer = app.get(&path, &app.admin_key).await;

    // Assert
    assert_eq!(answer.status, 200, "{}", answer.body);
    let revoked_at: chrono::DateTime<chrono::Utc> = answer.body["revoked_at"]
        .as_str()
        .expect("revoked_at is set")
        .parse()
        .expect("revoked_at is RFC 3339");
    let slack = chrono::Duration::seconds(5);
    assert!(
        revoked_at >= started - slack && revoked_at <= chrono::Utc::now() + slack,
        "{revoked_at}"
    );
    assert_eq!(answer.body["version"], 2, "revoking is a change");
    assert_eq!(answer.etag(), "\"2\"");
}

#[tokio::test]
async fn the_list_hides_revoked_keys_unless_asked() {
    // Arrange
    let app = spawn_app().await;
    let kept = create_key(
        &app,
        &app.admin_key,
        json!({"role": "operator", "name": "kept"}),
    )
    .await;
    let revoked = create_key(
        &app,
        &app.admin_key,
        json!({"role": "operator", "name": "revoked"}),
    )
    .await;
    app.delete(&format!("/v1/api-keys/{}", revoked.id()), &app.admin_key)
        .await;

    // Act
    let default = app.get("/v1/api-keys?role=operator", &app.admin_key).await;
    let explicit_false = app
        .get(
            "/v1/api-keys?role=operator&include_revoked=false",
            &app.admin_key,
        )
        .await;
    let included = app
        .get(
            "/v1/api-keys?role=operator&include_revoked=true",
            &app.admin_key,
        )
        .await;

    // Assert
    assert_eq!(ids(&default.body), [kept.id().to_string()]);
    assert_eq!(ids(&explicit_false.body), [kept.id().to_string()]);
    assert_eq!(
        ids(&included.body),
        [kept.id().to_string(), revoked.id().to_string()]
    );
    let revoked_item = &included.body["items"][1];
    assert!(revoked_item["revoked_at"].is_string(), "{revoked_item}");
}

#[tokio::test]
async fn a_partner_sees_its_revoked_keys_only_when_asked() {
    // Arrange
    let app = spawn_app().await;
    let partner = app.create_partner("History").await;
    let created = partner_creates_key(&app, &partner, "old").await;
    app.delete(&format!("/v1/api-keys/{}", created.id()), &partner.key)
        .await;

    // Act
    let default = app.get("/v1/api-keys", &partner.key).await;
    let included = app
        .get("/v1/api-keys?include_revoked=true", &partner.key)
        .await;

    // Assert
    assert!(!ids(&default.body).contains(&created.id().to_string()));
    assert!(ids(&included.body).contains(&created.id().to_string()));
}

#[tokio::test]
async fn revoking_twice_is_204_both_times_and_changes_nothing_more() {
    // Arrange
    let app = spawn_app().await;
    let created = create_key(
        &app,
        &app.admin_key,
        json!({"role": "operator", "name": "twice"}),
    )
    .await;
    let path = format!("/v1/api-keys/{}", created.id());

    // Act
    let first = app.delete(&path, &app.admin_key).await;
    let after_first = app.get(&path, &app.admin_key).await;
    let second = app.delete(&path, &app.admin_key).await;
    let after_second = app.get(&path, &app.admin_key).await;

    // Assert
    assert_eq!(first.status, 204);
    assert_eq!(second.status, 204);
    assert_eq!(
        after_first.body["revoked_at"], after_second.body["revoked_at"],
        "the first revocation time stays"
    );
    assert_eq!(after_first.body["version"], after_second.body["version"]);
}

#[tokio::test]
async fn revoking_an_unknown_key_is_404() {
    // Arrange
    let app = spawn_app().await;

    // Act
    let answer = app
        .delete(&format!("/v1/api-keys/{}", Uuid::now_v7()), &app.admin_key)
        .await;

    // Assert
    answer.problem(404, "not_found");
}

#[tokio::test]
async fn a_malformed_key_id_is_a_bad_request() {
    // Arrange
    let app = spawn_app().await;

    // Act
    let get = app.get("/v1/api-keys/esc_not_an_id", &app.admin_key).await;
    let delete = app.delete("/v1/api-keys/123", &app.admin_key).await;

    // Assert
    get.problem(400, "invalid_path_parameter");
    delete.problem(400, "invalid_path_parameter");
    assert_eq!(get.error_fields(), ["id"]);
}

#[tokio::test]
async fn an_admin_may_revoke_the_key_it_is_using() {
    // Arrange: a second admin key, so the deployment keeps one.
    let app = spawn_app().await;
    let spare = create_key(
        &app,
        &app.admin_key,
        json!({"role": "admin", "name": "spare"}),
    )
    .await;
    let own_id = id_of_key(&app, &app.admin_key).await;

    // Act
    let answer = app
        .delete(&format!("/v1/api-keys/{own_id}"), &app.admin_key)
        .await;

    // Assert
    assert_eq!(answer.status, 204, "{}", answer.body);
    assert_eq!(app.get("/v1/me", &app.admin_key).await.status, 401);
    assert_eq!(app.get("/v1/me", &secret_of(&spare)).await.status, 200);
}
