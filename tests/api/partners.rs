//! `/v1/partners`: admins create and update partners, operators read them, a partner reads only
//! itself.

use serde_json::{Value, json};
use uuid::Uuid;

use crate::helpers::{TestApp, spawn_app};

/// A valid creation body with a fresh MPN id and tenant.
fn partner_body(name: &str) -> Value {
    json!({
        "name": name,
        "mpn_id": fresh_mpn_id(),
        "tenant_id": Uuid::new_v4(),
        "country": "CN",
    })
}

/// A random MPN id of 7 to 10 digits.
fn fresh_mpn_id() -> String {
    format!(
        "{}",
        1_000_000 + (Uuid::new_v4().as_u128() % 8_999_999_999) as u64
    )
}

/// Creates a partner as admin from `body`, asserting 201.
async fn create(app: &TestApp, body: &Value) -> Value {
    let answer = app.post("/v1/partners", &app.admin_key, body).await;
    assert_eq!(answer.status, 201, "{}", answer.body);
    answer.body
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

// ---------------------------------------------------------------------------------------------
// Creating
// ---------------------------------------------------------------------------------------------

#[tokio::test]
async fn admin_creates_a_partner() {
    // Arrange
    let app = spawn_app().await;
    let tenant_id = Uuid::new_v4();
    let body = json!({
        "name": "云桥科技 CloudBridge",
        "mpn_id": "6123456",
        "tenant_id": tenant_id,
        "country": "CN",
    });

    // Act
    let answer = app.post("/v1/partners", &app.admin_key, &body).await;

    // Assert
    assert_eq!(answer.status, 201, "{}", answer.body);
    let id = answer.id();
    assert_eq!(
        answer.header("location"),
        Some(format!("/v1/partners/{id}").as_str())
    );
    assert_eq!(answer.etag(), "\"1\"");
    assert_eq!(answer.body["name"], "云桥科技 CloudBridge");
    assert_eq!(answer.body["mpn_id"], "6123456");
    assert_eq!(answer.body["tenant_id"], tenant_id.to_string());
    assert_eq!(answer.body["country"], "CN");
    assert_eq!(answer.body["status"], "active");
    assert_eq!(answer.body["version"], 1);
    assert_eq!(id.get_version_num(), 7, "ids are UUID v7");
    assert!(answer.body["created_at"].is_string() && answer.body["updated_at"].is_string());
}

#[tokio::test]
async fn the_location_of_a_new_partner_can_be_read() {
    // Arrange
    let app = spawn_app().await;
    let created = app
        .post(
            "/v1/partners",
            &app.admin_key,
            &partner_body("Location Ltd"),
        )
        .await;
    let location = created.header("location").expect("a Location").to_owned();

    // Act
    let fetched = app.get(&location, &app.admin_key).await;

    // Assert
    assert_eq!(fetched.status, 200, "{}", fetched.body);
    assert_eq!(fetched.body, created.body);
    assert_eq!(fetched.etag(), created.etag());
}

#[tokio::test]
async fn country_defaults_to_china() {
    // Arrange
    let app = spawn_app().await;
    let body =
        json!({"name": "No Country Given", "mpn_id": fresh_mpn_id(), "tenant_id": Uuid::new_v4()});

    // Act
    let answer = app.post("/v1/partners", &app.admin_key, &body).await;

    // Assert
    assert_eq!(answer.status, 201, "{}", answer.body);
    assert_eq!(answer.body["country"], "CN");
}

#[tokio::test]
async fn a_null_country_defaults_to_china() {
    // Arrange
    let app = spawn_app().await;
    let mut body = partner_body("Null Country");
    body["country"] = json!(null);

    // Act
    let answer = app.post("/v1/partners", &app.admin_key, &body).await;

    // Assert
    assert_eq!(answer.status, 201, "{}", answer.body);
    assert_eq!(answer.body["country"], "CN");
}

#[tokio::test]
async fn another_assigned_country_is_kept() {
    // Arrange
    let app = spawn_app().await;
    let mut body = partner_body("Hong Kong Partner");
    body["country"] = json!("HK");

    // Act
    let answer = app.post("/v1/partners", &app.admin_key, &body).await;

    // Assert
    assert_eq!(answer.status, 201, "{}", answer.body);
    assert_eq!(answer.body["country"], "HK");
}

#[tokio::test]
async fn country_must_be_an_upper_case_iso_code() {
    // Arrange
    let app = spawn_app().await;

    for country in ["cn", "hk", "CHN", "UK", "EU", "中国", ""] {
        let mut body = partner_body("Country Spelling");
        body["country"] = json!(country);

        // Act
        let answer = app.post("/v1/partners", &app.admin_key, &body).await;

        // Assert
        assert_eq!(answer.status, 422, "country {country:?}: {}", answer.body);
        answer.problem(422, "validation_failed");
        assert_eq!(answer.error_fields(), ["country"]);
        assert_eq!(answer.body["errors"][0]["code"], "invalid_country");
    }
}

#[tokio::test]
async fn creation_lists_every_invalid_field_at_once() {
    // Arrange: empty name, letters in mpn_id, an unassigned country, no tenant_id.
    let app = spawn_app().await;
    let body = json!({"name": "", "mpn_id": "12ab", "country": "XX"});

    // Act
    let answer = app.post("/v1/partners", &app.admin_key, &body).await;

    // Assert
    answer.problem(422, "validation_failed");
    assert_eq!(
        answer.error_fields(),
        ["country", "mpn_id", "name", "tenant_id"]
    );
    let code_of = |field: &str| {
        answer.body["errors"]
            .as_array()
            .unwrap()
            .iter()
            .find(|e| e["field"] == field)
            .map(|e| e["code"].as_str().unwrap().to_owned())
            .unwrap()
    };
    assert_eq!(code_of("tenant_id"), "required");
    assert_eq!(code_of("mpn_id"), "invalid_mpn_id");
    assert_eq!(code_of("country"), "invalid_country");
    for error in answer.body["errors"].as_array().unwrap() {
        assert!(
            error["message"].as_str().is_some_and(|m| !m.is_empty()),
            "{error}"
        );
    }
}

#[tokio::test]
async fn a_name_of_100_chinese_characters_is_accepted_and_101_refused() {
    // Arrange: the limit counts characters, not bytes (one 云 is three bytes of UTF-8).
    let app = spawn_app().await;
    let mut longest = partner_body("placeholder");
    longest["name"] = json!("云".repeat(100));
    let mut too_long = partner_body("placeholder");
    too_long["name"] = json!("云".repeat(101));

    // Act
    let accepted = app.post("/v1/partners", &app.admin_key, &longest).await;
    let refused = app.post("/v1/partners", &app.admin_key, &too_long).await;

    // Assert
    assert_eq!(accepted.status, 201, "{}", accepted.body);
    assert_eq!(accepted.body["name"], "云".repeat(100));
    refused.problem(422, "validation_failed");
    assert_eq!(refused.error_fields(), ["name"]);
}

#[tokio::test]
async fn a_name_of_only_spaces_is_refused() {
    // Arrange
    let app = spawn_app().await;
    let mut body = partner_body("placeholder");
    body["name"] = json!("   ");

    // Act
    let answer = app.post("/v1/partners", &app.admin_key, &body).await;

    // Assert
    answer.problem(422, "validation_failed");
    assert_eq!(answer.error_fields(), ["name"]);
}

#[tokio::test]
async fn an_mpn_id_of_eleven_digits_is_refused() {
    // Arrange
    let app = spawn_app().await;
    let mut body = partner_body("Too Many Digits");
    body["mpn_id"] = json!("12345678901");

    // Act
    let answer = app.post("/v1/partners", &app.admin_key, &body).await;

    // Assert
    answer.problem(422, "validation_failed");
    assert_eq!(answer.error_fields(), ["mpn_id"]);
    assert_eq!(answer.body["errors"][0]["code"], "invalid_mpn_id");
}

#[tokio::test]
async fn mpn_ids_that_are_not_plain_digits_are_refused() {
    // Arrange
    let app = spawn_app().await;

    for mpn_id in [
        "",
        "12ab",
        "-123456",
        "123 456",
        " 123456",
        "123456 ",
        "١٢٣٤٥٦",
    ] {
        let mut body = partner_body("Odd MPN id");
        body["mpn_id"] = json!(mpn_id);

        // Act
        let answer = app.post("/v1/partners", &app.admin_key, &body).await;

        // Assert
        assert_eq!(answer.status, 422, "mpn_id {mpn_id:?}: {}", answer.body);
        assert_eq!(answer.error_fields(), ["mpn_id"], "mpn_id {mpn_id:?}");
    }
}

#[tokio::test]
async fn an_mpn_id_of_ten_digits_is_accepted() {
    // Arrange
    let app = spawn_app().await;
    let mut body = partner_body("Ten Digits");
    body["mpn_id"] = json!("1234567890");

    // Act
    let answer = app.post("/v1/partners", &app.admin_key, &body).await;

    // Assert
    assert_eq!(answer.status, 201, "{}", answer.body);
    assert_eq!(answer.body["mpn_id"], "1234567890");
}

#[tokio::test]
async fn a_malformed_tenant_id_is_named() {
    // Arrange
    let app = spawn_app().await;
    let mut body = partner_body("Bad Tenant");
    body["tenant_id"] = json!("not-a-uuid");

    // Act
    let answer = app.post("/v1/partners", &app.admin_key, &body).await;

    // Assert
    answer.problem(422, "validation_failed");
    assert_eq!(answer.error_fields(), ["tenant_id"]);
}

#[tokio::test]
async fn an_unknown_field_on_creation_is_refused() {
    // Arrange
    let app = spawn_app().await;
    let mut body = partner_body("Extra Field");
    body["status"] = json!("suspended");

    // Act
    let answer = app.post("/v1/partners", &app.admin_key, &body).await;

    // Assert
    answer.problem(422, "validation_failed");
    assert_eq!(answer.body["errors"][0]["field"], "status");
    assert_eq!(answer.body["errors"][0]["code"], "unknown_field");
}

#[tokio::test]
async fn a_duplicate_mpn_id_is_a_conflict_on_mpn_id() {
    // Arrange
    let app = spawn_app().await;
    let first = create(&app, &partner_body("First")).await;
    let mut second = partner_body("Second");
    second["mpn_id"] = first["mpn_id"].clone();

    // Act
    let answer = app.post("/v1/partners", &app.admin_key, &second).await;

    // Assert
    answer.problem(409, "already_exists");
    assert_eq!(answer.body["errors"][0]["field"], "mpn_id");
    assert_eq!(answer.body["errors"][0]["code"], "taken");
    let body = answer.body.to_string().to_lowercase();
    assert!(
        !body.contains("unique constraint") && !body.contains("duplicate key"),
        "no SQL leaks: {body}"
    );
}

#[tokio::test]
async fn a_duplicate_tenant_id_is_a_conflict_on_tenant_id() {
    // Arrange
    let app = spawn_app().await;
    let first = create(&app, &partner_body("First")).await;
    let mut second = partner_body("Second");
    second["tenant_id"] = first["tenant_id"].clone();

    // Act
    let answer = app.post("/v1/partners", &app.admin_key, &second).await;

    // Assert
    answer.problem(409, "already_exists");
    assert_eq!(answer.body["errors"][0]["field"], "tenant_id");
}

#[tokio::test]
async fn a_refused_duplicate_creates_nothing() {
    // Arrange
    let app = spawn_app().await;
    let first = create(&app, &partner_body("Only One")).await;
    let mut duplicate = partner_body("Duplicate");
    duplicate["mpn_id"] = first["mpn_id"].clone();
    app.post("/v1/partners", &app.admin_key, &duplicate).await;

    // Act
    let list = app.get("/v1/partners", &app.admin_key).await;

    // Assert
    assert_eq!(ids(&list.body), [first["id"].as_str().unwrap()]);
}

#[tokio::test]
async fn an_operator_cannot_create_a_partner() {
    // Arrange
    let app = spawn_app().await;
    let operator = app.operator_key().await;

    // Act
    let answer = app
        .post("/v1/partners", &operator, &partner_body("By Operator"))
        .await;

    // Assert
    answer.problem(403, "forbidden");
}

#[tokio::test]
async fn a_partner_cannot_create_a_partner() {
    // Arrange
    let app = spawn_app().await;
    let partner = app.create_partner("Existing Partner").await;

    // Act
    let answer = app
        .post("/v1/partners", &partner.key, &partner_body("By Partner"))
        .await;

    // Assert
    answer.problem(403, "forbidden");
}

#[tokio::test]
async fn role_is_checked_before_the_body_is_validated() {
    // Arrange
    let app = spawn_app().await;
    let operator = app.operator_key().await;

    // Act
    let answer = app
        .post("/v1/partners", &operator, &json!({"name": ""}))
        .await;

    // Assert
    answer.problem(403, "forbidden");
}

// ---------------------------------------------------------------------------------------------
// Reading
// ---------------------------------------------------------------------------------------------

#[tokio::test]
async fn an_operator_lists_partners_oldest_first() {
    // Arrange
    let app = spawn_app().await;
    let operator = app.operator_key().await;
    let first = app.create_partner("First Partner").await;
    let second = app.create_partner("Second Partner").await;

    // Act
    let answer = app.get("/v1/partners", &operator).await;

    // Assert
    assert_eq!(answer.status, 200, "{}", answer.body);
    assert_eq!(
        ids(&answer.body),
        [first.id.to_string(), second.id.to_string()]
    );
    assert!(answer.body["next_cursor"].is_null());
    assert!(
        answer.header("link").is_none(),
        "no Link header on the last page"
    );
}

#[tokio::test]
async fn an_operator_gets_a_partner_with_its_etag() {
    // Arrange
    let app = spawn_app().await;
    let operator = app.operator_key().await;
    let partner = app.create_partner("Readable Partner").await;

    // Act
    let answer = app
        .get(&format!("/v1/partners/{}", partner.id), &operator)
        .await;

    // Assert
    assert_eq!(answer.status, 200, "{}", answer.body);
    assert_eq!(answer.id(), partner.id);
    assert_eq!(answer.body["name"], "Readable Partner");
    assert_eq!(answer.etag(), "\"1\"");
}

#[tokio::test]
async fn a_partner_cannot_list_partners() {
    // Arrange
    let app = spawn_app().await;
    let partner = app.create_partner("Curious Partner").await;

    // Act
    let answer = app.get("/v1/partners", &partner.key).await;

    // Assert
    answer.problem(403, "forbidden");
}

#[tokio::test]
async fn a_partner_reads_itself() {
    // Arrange
    let app = spawn_app().await;
    let partner = app.create_partner("Self Reader").await;

    // Act
    let answer = app
        .get(&format!("/v1/partners/{}", partner.id), &partner.key)
        .await;

    // Assert
    assert_eq!(answer.status, 200, "{}", answer.body);
    assert_eq!(answer.id(), partner.id);
    assert_eq!(answer.body["tenant_id"], partner.tenant_id.to_string());
    assert_eq!(answer.etag(), "\"1\"");
}

#[tokio::test]
async fn a_partner_asking_for_another_partner_gets_404_as_for_an_unknown_one() {
    // Arrange
    let app = spawn_app().await;
    let partner = app.create_partner("Nosy Partner").await;
    let other = app.create_partner("Private Partner").await;

    // Act
    let other_answer = app
        .get(&format!("/v1/partners/{}", other.id), &partner.key)
        .await;
    let unknown_answer = app
        .get(&format!("/v1/partners/{}", Uuid::now_v7()), &partner.key)
        .await;

    // Assert
    other_answer.problem(404, "not_found");
    unknown_answer.problem(404, "not_found");
    assert_eq!(
        other_answer.body["detail"], unknown_answer.body["detail"],
        "the two are indistinguishable"
    );
    assert!(!other_answer.body.to_string().contains("Private Partner"));
}

#[tokio::test]
async fn an_unknown_partner_is_404() {
    // Arrange
    let app = spawn_app().await;

    // Act
    let answer = app
        .get(&format!("/v1/partners/{}", Uuid::now_v7()), &app.admin_key)
        .await;

    // Assert
    answer.problem(404, "not_found");
}

#[tokio::test]
async fn a_malformed_partner_id_is_a_bad_request() {
    // Arrange
    let app = spawn_app().await;

    // Act
    let answer = app.get("/v1/partners/not-a-uuid", &app.admin_key).await;

    // Assert
    answer.problem(400, "invalid_path_parameter");
    assert_eq!(answer.error_fields(), ["id"]);
    assert_eq!(answer.body["errors"][0]["code"], "invalid_uuid");
}

#[tokio::test]
async fn a_malformed_partner_id_on_update_is_a_bad_request() {
    // Arrange
    let app = spawn_app().await;

    // Act
    let answer = app
        .patch(
            "/v1/partners/12345",
            &app.admin_key,
            Some("\"1\""),
            &json!({"status": "suspended"}),
        )
        .await;

    // Assert
    answer.problem(400, "invalid_path_parameter");
}

// ---------------------------------------------------------------------------------------------
// Listing: filters and pagination
// ---------------------------------------------------------------------------------------------

#[tokio::test]
async fn the_list_filters_by_status() {
    // Arrange
    let app = spawn_app().await;
    let active = app.create_partner("Still Active").await;
    let suspended = app.create_partner("To Suspend").await;
    let path = format!("/v1/partners/{}", suspended.id);
    let patched = app
        .patch(
            &path,
            &app.admin_key,
            Some("\"1\""),
            &json!({"status": "suspended"}),
        )
        .await;
    assert_eq!(patched.status, 200, "{}", patched.body);

    // Act
    let only_suspended = app
        .get("/v1/partners?status=suspended", &app.admin_key)
        .await;
    let only_active = app.get("/v1/partners?status=active", &app.admin_key).await;

    // Assert
    assert_eq!(ids(&only_suspended.body), [suspended.id.to_string()]);
    assert_eq!(ids(&only_active.body), [active.id.to_string()]);
}

#[tokio::test]
async fn the_list_filters_by_country() {
    // Arrange
    let app = spawn_app().await;
    let chinese = create(&app, &partner_body("Beijing Partner")).await;
    let mut body = partner_body("Hong Kong Partner");
    body["country"] = json!("HK");
    let hong_kong = create(&app, &body).await;

    // Act
    let cn = app.get("/v1/partners?country=CN", &app.admin_key).await;
    let hk = app.get("/v1/partners?country=HK", &app.admin_key).await;
    let us = app.get("/v1/partners?country=US", &app.admin_key).await;

    // Assert
    assert_eq!(ids(&cn.body), [chinese["id"].as_str().unwrap()]);
    assert_eq!(ids(&hk.body), [hong_kong["id"].as_str().unwrap()]);
    assert!(ids(&us.body).is_empty());
}

#[tokio::test]
async fn the_list_filters_combine() {
    // Arrange
    let app = spawn_app().await;
    let mut hk = partner_body("HK Active");
    hk["country"] = json!("HK");
    create(&app, &hk).await;
    let cn_suspended = app.create_partner("CN Suspended").await;
    app.patch(
        &format!("/v1/partners/{}", cn_suspended.id),
        &app.admin_key,
        Some("\"1\""),
        &json!({"status": "suspended"}),
    )
    .await;
    app.create_partner("CN Active").await;

    // Act
    let answer = app
        .get("/v1/partners?status=suspended&country=CN", &app.admin_key)
        .await;

    // Assert
    assert_eq!(ids(&answer.body), [cn_suspended.id.to_string()]);
}

#[tokio::test]
async fn invalid_list_filters_are_bad_requests() {
    // Arrange
    let app = spawn_app().await;

    for query in [
        "status=deleted",
        "country=cn",
        "country=XX",
        "limit=0",
        "limit=101",
        "limit=ten",
        "cursor=garbage",
        "sort=name",
    ] {
        // Act
        let answer = app
            .get(&format!("/v1/partners?{query}"), &app.admin_key)
            .await;

        // Assert
        assert_eq!(answer.status, 400, "`{query}`: {}", answer.body);
        answer.problem(400, "invalid_query");
    }
}

#[tokio::test]
async fn the_list_pages_with_limit_and_next_cursor() {
    // Arrange
    let app = spawn_app().await;
    let first = app.create_partner("Page One").await;
    let second = app.create_partner("Page Two").await;
    let third = app.create_partner("Page Three").await;

    // Act
    let page_one = app.get("/v1/partners?limit=1", &app.admin_key).await;
    let cursor = page_one.body["next_cursor"]
        .as_str()
        .expect("a next_cursor")
        .to_owned();
    let page_two = app
        .get(
            &format!("/v1/partners?limit=1&cursor={cursor}"),
            &app.admin_key,
        )
        .await;
    let cursor = page_two.body["next_cursor"]
        .as_str()
        .expect("a next_cursor")
        .to_owned();
    let page_three = app
        .get(
            &format!("/v1/partners?limit=1&cursor={cursor}"),
            &app.admin_key,
        )
        .await;

    // Assert
    assert_eq!(ids(&page_one.body), [first.id.to_string()]);
    assert_eq!(ids(&page_two.body), [second.id.to_string()]);
    assert_eq!(ids(&page_three.body), [third.id.to_string()]);
    assert!(
        page_three.body["next_cursor"].is_null(),
        "{}",
        page_three.body
    );
    let link = page_one
        .header("link")
        .expect("a Link header while pages follow");
    assert!(link.contains("rel=\"next\""), "{link}");
    assert!(
        link.contains("limit=1"),
        "the Link keeps the other parameters: {link}"
    );
    assert!(page_three.header("link").is_none());
}

#[tokio::test]
async fn the_link_header_leads_to_the_next_page() {
    // Arrange
    let app = spawn_app().await;
    app.create_partner("Linked One").await;
    let second = app.create_partner("Linked Two").await;
    let first_page = app
        .get("/v1/partners?limit=1&status=active", &app.admin_key)
        .await;
    let link = first_page.header("link").expect("a Link header").to_owned();
    let target = link
        .strip_prefix('<')
        .and_then(|rest| rest.split_once('>'))
        .map(|(target, _)| target.to_owned())
        .expect("a <target> in the Link header");

    // Act
    let next = app.get(&target, &app.admin_key).await;

    // Assert
    assert_eq!(next.status, 200, "{}", next.body);
    assert_eq!(ids(&next.body), [second.id.to_string()]);
}

#[tokio::test]
async fn pagination_with_a_filter_skips_other_rows() {
    // Arrange
    let app = spawn_app().await;
    let first_active = app.create_partner("Active A").await;
    let suspended = app.create_partner("Suspended").await;
    app.patch(
        &format!("/v1/partners/{}", suspended.id),
        &app.admin_key,
        Some("\"1\""),
        &json!({"status": "suspended"}),
    )
    .await;
    let second_active = app.create_partner("Active B").await;

    // Act
    let page_one = app
        .get("/v1/partners?status=active&limit=1", &app.admin_key)
        .await;
    let cursor = page_one.body["next_cursor"]
        .as_str()
        .expect("a next_cursor")
        .to_owned();
    let page_two = app
        .get(
            &format!("/v1/partners?status=active&limit=1&cursor={cursor}"),
            &app.admin_key,
        )
        .await;

    // Assert
    assert_eq!(ids(&page_one.body), [first_active.id.to_string()]);
    assert_eq!(ids(&page_two.body), [second_active.id.to_string()]);
    assert!(page_two.body["next_cursor"].is_null());
}

// ---------------------------------------------------------------------------------------------
// Updating
// ---------------------------------------------------------------------------------------------

#[tokio::test]
async fn an_update_without_if_match_is_refused_with_428() {
    // Arrange
    let app = spawn_app().await;
    let partner = app.create_partner("No If-Match").await;

    // Act
    let answer = app
        .patch(
            &format!("/v1/partners/{}", partner.id),
            &app.admin_key,
            None,
            &json!({"status": "suspended"}),
        )
        .await;

    // Assert
    answer.problem(428, "if_match_required");
    let current = app
        .get(&format!("/v1/partners/{}", partner.id), &app.admin_key)
        .await;
    assert_eq!(current.body["status"], "active", "nothing changed");
}

#[tokio::test]
async fn an_update_with_a_stale_etag_is_refused_with_412() {
    // Arrange
    let app = spawn_app().await;
    let partner = app.create_partner("Stale Partner").await;
    let path = format!("/v1/partners/{}", partner.id);
    let first = app
        .patch(
            &path,
            &app.admin_key,
            Some("\"1\""),
            &json!({"name": "Renamed"}),
        )
        .await;
    assert_eq!(first.status, 200, "{}", first.body);

    // Act: a second writer still holding version 1.
    let answer = app
        .patch(
            &path,
            &app.admin_key,
            Some("\"1\""),
            &json!({"status": "suspended"}),
        )
        .await;

    // Assert
    answer.problem(412, "stale_version");
    let current = app.get(&path, &app.admin_key).await;
    assert_eq!(
        current.body["status"], "active",
        "the stale write was not applied"
    );
    assert_eq!(current.body["name"], "Renamed");
    assert_eq!(current.etag(), "\"2\"");
}

#[tokio::test]
async fn a_malformed_if_match_matches_nothing_and_changes_nothing() {
    // Arrange
    let app = spawn_app().await;
    let partner = app.create_partner("Weak Tags").await;
    let path = format!("/v1/partners/{}", partner.id);

    for tag in ["1", "\"one\"", ""] {
        // Act
        let answer = app
            .patch(
                &path,
                &app.admin_key,
                Some(tag),
                &json!({"status": "suspended"}),
            )
            .await;

        // Assert
        assert_eq!(answer.status, 412, "If-Match {tag:?}: {}", answer.body);
        answer.problem(412, "stale_version");
    }
    let current = app.get(&path, &app.admin_key).await;
    assert_eq!(current.body["status"], "active");
    assert_eq!(current.etag(), "\"1\"");
}

#[tokio::test]
async fn an_if_match_list_admits_any_of_its_versions() {
    // Arrange
    let app = spawn_app().await;
    let partner = app.create_partner("Tag List").await;
    let path = format!("/v1/partners/{}", partner.id);

    // Act
    let answer = app
        .patch(
            &path,
            &app.admin_key,
            Some("\"7\", \"1\""),
            &json!({"status": "suspended"}),
        )
        .await;

    // Assert
    assert_eq!(answer.status, 200, "{}", answer.body);
    assert_eq!(answer.etag(), "\"2\"");
}

#[tokio::test]
async fn an_update_with_the_current_etag_suspends_the_partner() {
    // Arrange
    let app = spawn_app().await;
    let partner = app.create_partner("To Be Suspended").await;
    let path = format!("/v1/partners/{}", partner.id);
    let read = app.get(&path, &app.admin_key).await;

    // Act
    let answer = app
        .patch(
            &path,
            &app.admin_key,
            Some(&read.etag()),
            &json!({"status": "suspended"}),
        )
        .await;

    // Assert
    assert_eq!(answer.status, 200, "{}", answer.body);
    assert_eq!(answer.body["status"], "suspended");
    assert_eq!(answer.body["version"], 2);
    assert_eq!(answer.etag(), "\"2\"");
    assert_eq!(
        answer.body["name"], "To Be Suspended",
        "fields left out keep their value"
    );
    assert_eq!(answer.body["created_at"], read.body["created_at"]);
    let again = app.get(&path, &app.admin_key).await;
    assert_eq!(again.body["status"], "suspended");
    assert_eq!(again.etag(), "\"2\"");
}

#[tokio::test]
async fn an_update_changes_name_mpn_id_and_country_together() {
    // Arrange
    let app = spawn_app().await;
    let partner = app.create_partner("Old Name").await;
    let path = format!("/v1/partners/{}", partner.id);

    // Act
    let answer = app
        .patch(
            &path,
            &app.admin_key,
            Some("\"1\""),
            &json!({"name": "新名字 New Name", "mpn_id": "7000001", "country": "MO"}),
        )
        .await;

    // Assert
    assert_eq!(answer.status, 200, "{}", answer.body);
    assert_eq!(answer.body["name"], "新名字 New Name");
    assert_eq!(answer.body["mpn_id"], "7000001");
    assert_eq!(answer.body["country"], "MO");
    assert_eq!(answer.body["tenant_id"], partner.tenant_id.to_string());
    assert_eq!(answer.body["version"], 2);
}

#[tokio::test]
async fn if_match_star_updates_whatever_the_version() {
    // Arrange
    let app = spawn_app().await;
    let partner = app.create_partner("Star Partner").await;
    let path = format!("/v1/partners/{}", partner.id);
    app.patch(
        &path,
        &app.admin_key,
        Some("\"1\""),
        &json!({"name": "Star Partner 2"}),
    )
    .await;

    // Act
    let answer = app
        .patch(
            &path,
            &app.admin_key,
            Some("*"),
            &json!({"status": "suspended"}),
        )
        .await;

    // Assert
    assert_eq!(answer.status, 200, "{}", answer.body);
    assert_eq!(answer.body["version"], 3);
}

#[tokio::test]
async fn null_fields_in_an_update_keep_their_value() {
    // Arrange
    let app = spawn_app().await;
    let partner = app.create_partner("Null Keeps").await;
    let path = format!("/v1/partners/{}", partner.id);
    let before = app.get(&path, &app.admin_key).await;

    // Act
    let answer = app
        .patch(
            &path,
            &app.admin_key,
            Some("\"1\""),
            &json!({"name": null, "mpn_id": null, "country": null, "status": "suspended"}),
        )
        .await;

    // Assert
    assert_eq!(answer.status, 200, "{}", answer.body);
    assert_eq!(answer.body["name"], "Null Keeps");
    assert_eq!(answer.body["mpn_id"], before.body["mpn_id"]);
    assert_eq!(answer.body["country"], "CN");
    assert_eq!(answer.body["status"], "suspended");
}

#[tokio::test]
async fn an_operator_cannot_update_a_partner() {
    // Arrange
    let app = spawn_app().await;
    let operator = app.operator_key().await;
    let partner = app.create_partner("Operator Target").await;

    // Act
    let answer = app
        .patch(
            &format!("/v1/partners/{}", partner.id),
            &operator,
            Some("\"1\""),
            &json!({"status": "suspended"}),
        )
        .await;

    // Assert
    answer.problem(403, "forbidden");
}

#[tokio::test]
async fn a_partner_cannot_update_itself() {
    // Arrange
    let app = spawn_app().await;
    let partner = app.create_partner("Self Updater").await;

    // Act
    let answer = app
        .patch(
            &format!("/v1/partners/{}", partner.id),
            &partner.key,
            Some("\"1\""),
            &json!({"name": "Mine"}),
        )
        .await;

    // Assert
    answer.problem(403, "forbidden");
}

#[tokio::test]
async fn tenant_id_cannot_be_changed() {
    // Arrange
    let app = spawn_app().await;
    let partner = app.create_partner("Fixed Tenant").await;
    let path = format!("/v1/partners/{}", partner.id);

    // Act
    let answer = app
        .patch(
            &path,
            &app.admin_key,
            Some("\"1\""),
            &json!({"tenant_id": Uuid::new_v4()}),
        )
        .await;

    // Assert
    answer.problem(422, "validation_failed");
    assert_eq!(answer.body["errors"][0]["field"], "tenant_id");
    assert_eq!(answer.body["errors"][0]["code"], "unknown_field");
    let current = app.get(&path, &app.admin_key).await;
    assert_eq!(current.body["tenant_id"], partner.tenant_id.to_string());
    assert_eq!(current.etag(), "\"1\"");
}

#[tokio::test]
async fn an_update_lists_every_invalid_field() {
    // Arrange
    let app = spawn_app().await;
    let partner = app.create_partner("Invalid Update").await;

    // Act
    let answer = app
        .patch(
            &format!("/v1/partners/{}", partner.id),
            &app.admin_key,
            Some("\"1\""),
            &json!({"name": "", "mpn_id": "12345678901", "country": "XX"}),
        )
        .await;

    // Assert
    answer.problem(422, "validation_failed");
    assert_eq!(answer.error_fields(), ["country", "mpn_id", "name"]);
}

#[tokio::test]
async fn an_unknown_status_is_refused() {
    // Arrange
    let app = spawn_app().await;
    let partner = app.create_partner("Unknown Status").await;

    // Act
    let answer = app
        .patch(
            &format!("/v1/partners/{}", partner.id),
            &app.admin_key,
            Some("\"1\""),
            &json!({"status": "deleted"}),
        )
        .await;

    // Assert
    answer.problem(422, "validation_failed");
    assert_eq!(answer.body["errors"][0]["field"], "status");
    assert_eq!(answer.body["errors"][0]["code"], "invalid_value");
}

#[tokio::test]
async fn changing_mpn_id_to_another_partners_is_a_conflict() {
    // Arrange
    let app = spawn_app().await;
    let first = create(&app, &partner_body("Owner of the MPN id")).await;
    let second = app.create_partner("Would-be Taker").await;
    let path = format!("/v1/partners/{}", second.id);

    // Act
    let answer = app
        .patch(
            &path,
            &app.admin_key,
            Some("\"1\""),
            &json!({"mpn_id": first["mpn_id"]}),
        )
        .await;

    // Assert
    answer.problem(409, "already_exists");
    assert_eq!(answer.body["errors"][0]["field"], "mpn_id");
    let current = app.get(&path, &app.admin_key).await;
    assert_ne!(current.body["mpn_id"], first["mpn_id"]);
    assert_eq!(
        current.etag(),
        "\"1\"",
        "the refused update changed nothing"
    );
}

#[tokio::test]
async fn keeping_its_own_mpn_id_is_not_a_conflict() {
    // Arrange
    let app = spawn_app().await;
    let partner = create(&app, &partner_body("Same MPN")).await;
    let path = format!("/v1/partners/{}", partner["id"].as_str().unwrap());

    // Act
    let answer = app
        .patch(
            &path,
            &app.admin_key,
            Some("\"1\""),
            &json!({"mpn_id": partner["mpn_id"]}),
        )
        .await;

    // Assert
    assert_eq!(answer.status, 200, "{}", answer.body);
}

#[tokio::test]
async fn updating_an_unknown_partner_is_404() {
    // Arrange
    let app = spawn_app().await;

    // Act
    let answer = app
        .patch(
            &format!("/v1/partners/{}", Uuid::now_v7()),
            &app.admin_key,
            Some("\"1\""),
            &json!({"status": "suspended"}),
        )
        .await;

    // Assert
    answer.problem(404, "not_found");
}

#[tokio::test]
async fn a_suspended_partner_still_reads_itself() {
    // Arrange
    let app = spawn_app().await;
    let partner = app.create_partner("Suspended Reader").await;
    let path = format!("/v1/partners/{}", partner.id);
    app.patch(
        &path,
        &app.admin_key,
        Some("\"1\""),
        &json!({"status": "suspended"}),
    )
    .await;

    // Act
    let answer = app.get(&path, &partner.key).await;

    // Assert
    assert_eq!(answer.status, 200, "{}", answer.body);
    assert_eq!(answer.body["status"], "suspended");
}
