//! `/v1/partners`: admins create and update partners, operators read them, a partner reads only
//! itself.

use reqwest::{Method, RequestBuilder};
use serde_json::{Value, json};
use uuid::Uuid;

use crate::customers::{Fields, edited, url_params, without};
use crate::helpers::{Answer, TestApp, partner_body, spawn_app};

const PARTNERS: &str = "/v1/partners";

fn partner_path(id: Uuid) -> String {
    format!("{PARTNERS}/{id}")
}

/// A valid creation body with these fields set.
fn partner_with(edits: &[(&str, Value)]) -> Value {
    edited(partner_body("云桥科技"), edits)
}

/// Creates a partner as admin from `body`, asserting 201.
async fn create(app: &TestApp, body: &Value) -> Answer {
    app.created(PARTNERS, &app.admin_key, body).await
}

/// Suspends the partner at version 1 as admin, asserting 200.
async fn suspend(app: &TestApp, id: Uuid) -> Answer {
    let suspended = json!({"status": "suspended"});
    let answer = app
        .patch(&partner_path(id), &app.admin_key, Some("\"1\""), &suspended)
        .await;
    assert_eq!(answer.status, 200, "{}", answer.body);
    answer
}

// ---------------------------------------------------------------------------------------------
// Creating
// ---------------------------------------------------------------------------------------------

#[tokio::test]
async fn an_admin_creates_a_partner_and_its_location_reads_it_back() {
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
    let answer = app.post(PARTNERS, &app.admin_key, &body).await;
    let location = answer.header("location").unwrap_or_default();
    let read = app.get(location, &app.admin_key).await;

    // Assert
    assert_eq!(answer.status, 201, "{}", answer.body);
    let id = answer.id();
    assert_eq!(location, partner_path(id));
    assert_eq!(answer.etag(), "\"1\"");
    answer.holds(
        "created",
        &[
            ("name", json!("云桥科技 CloudBridge")),
            ("mpn_id", json!("6123456")),
            ("tenant_id", json!(tenant_id)),
            ("country", json!("CN")),
            ("status", json!("active")),
            ("version", json!(1)),
        ],
    );
    assert_eq!(id.get_version_num(), 7, "ids are UUID v7");
    assert!(answer.body["created_at"].is_string() && answer.body["updated_at"].is_string());
    assert_eq!(read.status, 200, "{}", read.body);
    assert_eq!((read.etag(), &read.body), (answer.etag(), &answer.body));
}

#[tokio::test]
async fn the_country_defaults_to_china_and_boundary_values_are_accepted() {
    // Arrange: the name's limit counts characters, not bytes (one 云 is three bytes of UTF-8).
    let app = spawn_app().await;
    let (longest, ten_digits) = (json!("云".repeat(100)), json!("1234567890"));
    let cases: &[(&str, Value, (&str, Value))] = &[
        (
            "country left out",
            without(partner_body("No Country Given"), &["country"]),
            ("country", json!("CN")),
        ),
        (
            "a null country",
            partner_with(&[("country", Value::Null)]),
            ("country", json!("CN")),
        ),
        (
            "another assigned country",
            partner_with(&[("country", json!("HK"))]),
            ("country", json!("HK")),
        ),
        (
            "a name of 100 Chinese characters",
            partner_with(&[("name", longest.clone())]),
            ("name", longest),
        ),
        (
            "an MPN id of ten digits",
            partner_with(&[("mpn_id", ten_digits.clone())]),
            ("mpn_id", ten_digits),
        ),
    ];

    for (label, body, stored) in cases {
        // Act
        let answer = app.post(PARTNERS, &app.admin_key, body).await;

        // Assert
        assert_eq!(answer.status, 201, "{label}: {}", answer.body);
        answer.holds(label, std::slice::from_ref(stored));
    }
}

#[tokio::test]
async fn an_invalid_partner_is_422_naming_every_bad_field() {
    // Arrange
    let app = spawn_app().await;
    let country = |country: &str| partner_with(&[("country", json!(country))]);
    let mpn_id = |mpn_id: &str| partner_with(&[("mpn_id", json!(mpn_id))]);
    let bad_country: Fields = &[("country", "invalid_country")];
    let bad_mpn_id: Fields = &[("mpn_id", "invalid_mpn_id")];
    let bad_name: Fields = &[("name", "length")];
    let cases: &[(&str, Value, Fields)] = &[
        ("country in lower case", country("cn"), bad_country),
        ("another in lower case", country("hk"), bad_country),
        ("three letters", country("CHN"), bad_country),
        ("UK, not ISO's GB", country("UK"), bad_country),
        ("EU, no country", country("EU"), bad_country),
        ("a Chinese name", country("中国"), bad_country),
        ("an empty country", country(""), bad_country),
        (
            "every rule broken, the tenant missing",
            json!({"name": "", "mpn_id": "12ab", "country": "XX"}),
            &[
                ("country", "invalid_country"),
                ("mpn_id", "invalid_mpn_id"),
                ("name", "length"),
                ("tenant_id", "required"),
            ],
        ),
        (
            "101 Chinese characters",
            partner_with(&[("name", json!("云".repeat(101)))]),
            bad_name,
        ),
        (
            "only spaces",
            partner_with(&[("name", json!("   "))]),
            bad_name,
        ),
        ("eleven digits", mpn_id("12345678901"), bad_mpn_id),
        ("an empty MPN id", mpn_id(""), bad_mpn_id),
        ("letters", mpn_id("12ab"), bad_mpn_id),
        ("a sign", mpn_id("-123456"), bad_mpn_id),
        ("a space inside", mpn_id("123 456"), bad_mpn_id),
        ("a space before", mpn_id(" 123456"), bad_mpn_id),
        ("a space after", mpn_id("123456 "), bad_mpn_id),
        ("Arabic-Indic digits", mpn_id("١٢٣٤٥٦"), bad_mpn_id),
        (
            "a malformed tenant",
            partner_with(&[("tenant_id", json!("not-a-uuid"))]),
            &[("tenant_id", "invalid_type")],
        ),
        (
            "an unknown field",
            partner_with(&[("status", json!("suspended"))]),
            &[("status", "unknown_field")],
        ),
    ];

    for (label, body, fields) in cases {
        // Act
        let answer = app.post(PARTNERS, &app.admin_key, body).await;

        // Assert
        answer.case_refused(label, 422, "validation_failed", fields);
    }
    let listed = app.get(PARTNERS, &app.admin_key).await;
    assert!(listed.items().is_empty(), "nothing written");
}

#[tokio::test]
async fn mpn_and_tenant_ids_are_unique_among_partners() {
    // Arrange
    let app = spawn_app().await;
    let admin = app.admin_key.as_str();
    let first = create(&app, &partner_body("Owner of the MPN id")).await;
    let second = app.create_partner("Would-be Taker").await;
    let (mpn_id, tenant_id) = (&first.body["mpn_id"], &first.body["tenant_id"]);
    let (first_path, second_path) = (partner_path(first.id()), partner_path(second.id));
    let own_mpn_id = json!({"mpn_id": mpn_id});

    // Act
    let same_mpn_id = app
        .post(
            PARTNERS,
            admin,
            &partner_with(&[("mpn_id", mpn_id.clone())]),
        )
        .await;
    let same_tenant = app
        .post(
            PARTNERS,
            admin,
            &partner_with(&[("tenant_id", tenant_id.clone())]),
        )
        .await;
    let taken = app
        .patch(&second_path, admin, Some("\"1\""), &own_mpn_id)
        .await;
    let kept = app
        .patch(&first_path, admin, Some("\"1\""), &own_mpn_id)
        .await;

    // Assert
    for (label, answer, field) in [
        ("a new partner with a taken MPN id", &same_mpn_id, "mpn_id"),
        (
            "a new partner with a taken tenant",
            &same_tenant,
            "tenant_id",
        ),
        ("another partner's MPN id on update", &taken, "mpn_id"),
    ] {
        answer.case_refused(label, 409, "already_exists", &[(field, "taken")]);
        let body = answer.body.to_string().to_lowercase();
        assert!(
            !body.contains("unique constraint") && !body.contains("duplicate key"),
            "{label}: no SQL leaks: {body}"
        );
    }
    assert_eq!(kept.status, 200, "keeping its own MPN id: {}", kept.body);
    let listed = app.get(PARTNERS, admin).await;
    let why = "no duplicate was created";
    assert_eq!(listed.item_ids(), [first.id(), second.id], "{why}");
    let current = app.get(&second_path, admin).await;
    assert_ne!(&current.body["mpn_id"], mpn_id);
    let why = "the refused update changed nothing";
    assert_eq!(current.etag(), "\"1\"", "{why}");
}

#[tokio::test]
async fn only_admins_create_or_update_partners_and_a_partner_cannot_list_them() {
    // Arrange
    let app = spawn_app().await;
    let operator = app.operator_key().await;
    let partner = app.create_partner("Existing Partner").await;
    let path = partner_path(partner.id);
    let request = |method: Method, path: &str, key: &str| app.request(method, path, key);
    let post = |key: &str, body: &Value| request(Method::POST, PARTNERS, key).json(body);
    let update = |key: &str, body: Value| {
        let request = request(Method::PATCH, &path, key).header("If-Match", "\"1\"");
        request.json(&body)
    };
    let cases: [(&str, RequestBuilder); 6] = [
        (
            "an operator creates",
            post(&operator, &partner_body("By Operator")),
        ),
        (
            "a partner creates",
            post(&partner.key, &partner_body("By Partner")),
        ),
        (
            "an operator creates, invalid body: the role comes first",
            post(&operator, &json!({"name": ""})),
        ),
        (
            "an operator updates",
            update(&operator, json!({"status": "suspended"})),
        ),
        (
            "a partner updates itself",
            update(&partner.key, json!({"name": "Mine"})),
        ),
        (
            "a partner lists",
            request(Method::GET, PARTNERS, &partner.key),
        ),
    ];

    for (label, request) in cases {
        // Act
        let answer = app.send(request).await;

        // Assert
        answer.case_refused(label, 403, "forbidden", &[]);
    }
    let listed = app.get(PARTNERS, &app.admin_key).await;
    assert_eq!(listed.item_ids(), [partner.id], "nothing created");
    let after = app.get(&path, &app.admin_key).await;
    assert_eq!(after.etag(), "\"1\"", "nothing changed");
}

// ---------------------------------------------------------------------------------------------
// Reading
// ---------------------------------------------------------------------------------------------

#[tokio::test]
async fn staff_read_every_partner_and_a_partner_only_itself_even_suspended() {
    // Arrange
    let app = spawn_app().await;
    let operator = app.operator_key().await;
    let first = app.create_partner("First Partner").await;
    let second = app.create_partner("Private Partner").await;
    let (first_path, second_path) = (partner_path(first.id), partner_path(second.id));

    // Act
    let listed = app.get(PARTNERS, &operator).await;
    let read = app.get(&second_path, &operator).await;
    let itself = app.get(&first_path, &first.key).await;
    let other = app.get(&second_path, &first.key).await;
    let unknown = app.get(&partner_path(Uuid::now_v7()), &first.key).await;

    // Assert
    assert_eq!(listed.item_ids(), [first.id, second.id], "oldest first");
    assert!(listed.body["next_cursor"].is_null());
    let why = "no Link header on the last page";
    assert!(listed.header("link").is_none(), "{why}");
    assert_eq!(read.status, 200, "{}", read.body);
    assert_eq!((read.id(), read.etag()), (second.id, "\"1\"".to_owned()));
    assert_eq!(read.body["name"], "Private Partner");
    assert_eq!(itself.status, 200, "{}", itself.body);
    assert_eq!((itself.id(), itself.etag()), (first.id, "\"1\"".to_owned()));
    assert_eq!(itself.body["tenant_id"], json!(first.tenant_id));
    other.problem(404, "not_found");
    unknown.problem(404, "not_found");
    let why = "the two are indistinguishable";
    assert_eq!(other.body["detail"], unknown.body["detail"], "{why}");
    assert!(!other.body.to_string().contains("Private Partner"));

    // Act: the partner is suspended
    suspend(&app, first.id).await;
    let suspended = app.get(&first_path, &first.key).await;

    // Assert
    assert_eq!(suspended.status, 200, "{}", suspended.body);
    assert_eq!(suspended.body["status"], "suspended");
}

#[tokio::test]
async fn an_unknown_partner_is_404_and_a_malformed_id_400() {
    // Arrange
    let app = spawn_app().await;
    let (admin, unknown) = (app.admin_key.as_str(), partner_path(Uuid::now_v7()));
    let suspended = json!({"status": "suspended"});
    let malformed: Fields = &[("id", "invalid_uuid")];

    // Act
    let answers = [
        (
            "an unknown one read",
            app.get(&unknown, admin).await,
            404,
            "not_found",
            &[][..],
        ),
        (
            "an unknown one updated",
            app.patch(&unknown, admin, Some("\"1\""), &suspended).await,
            404,
            "not_found",
            &[],
        ),
        (
            "a malformed id read",
            app.get("/v1/partners/not-a-uuid", admin).await,
            400,
            "invalid_path_parameter",
            malformed,
        ),
        (
            "a malformed id updated",
            app.patch("/v1/partners/12345", admin, Some("\"1\""), &suspended)
                .await,
            400,
            "invalid_path_parameter",
            malformed,
        ),
    ];

    // Assert
    for (label, answer, status, code, fields) in &answers {
        answer.case_refused(label, *status, code, fields);
    }
}

// ---------------------------------------------------------------------------------------------
// Listing: filters and pagination
// ---------------------------------------------------------------------------------------------

#[tokio::test]
async fn the_list_filters_by_status_and_country_combined_and_refuses_other_queries() {
    // Arrange: an active partner in Hong Kong, a suspended and an active one in China
    let app = spawn_app().await;
    let admin = app.admin_key.as_str();
    let hong_kong = create(&app, &partner_with(&[("country", json!("HK"))]))
        .await
        .id();
    let suspended = app.create_partner("CN Suspended").await.id;
    suspend(&app, suspended).await;
    let active = app.create_partner("CN Active").await.id;
    let filters: &[(&str, &[Uuid])] = &[
        ("status=suspended", &[suspended]),
        ("status=active", &[hong_kong, active]),
        ("country=CN", &[suspended, active]),
        ("country=HK", &[hong_kong]),
        ("country=US", &[]),
        ("status=suspended&country=CN", &[suspended]),
    ];
    let refused = [
        ("status=deleted", "status", "invalid_value"),
        ("country=cn", "country", "invalid_country"),
        ("country=XX", "country", "invalid_country"),
        ("limit=0", "limit", "range"),
        ("limit=101", "limit", "range"),
        ("limit=ten", "limit", "invalid_type"),
        ("cursor=garbage", "cursor", "invalid_cursor"),
        ("sort=name", "sort", "unknown_field"),
    ];

    for (query, expected) in filters {
        // Act
        let listed = app.get(&format!("{PARTNERS}?{query}"), admin).await;

        // Assert
        assert_eq!(listed.item_ids(), *expected, "{query}");
    }
    for (query, field, code) in refused {
        // Act
        let answer = app.get(&format!("{PARTNERS}?{query}"), admin).await;

        // Assert
        answer.case_refused(query, 400, "invalid_query", &[(field, code)]);
    }
}

#[tokio::test]
async fn the_list_pages_by_limit_and_cursor_and_its_link_keeps_the_filter() {
    // Arrange: an active, a suspended and another active partner
    let app = spawn_app().await;
    let admin = app.admin_key.as_str();
    let first = app.create_partner("Active A").await.id;
    let suspended = app.create_partner("Suspended").await.id;
    suspend(&app, suspended).await;
    let last = app.create_partner("Active B").await.id;

    // Act
    let one = app.get_query(PARTNERS, admin, &[("limit", "1")]).await;
    let cursor = one.body["next_cursor"].as_str().expect("a next_cursor");
    let two = app
        .get_query(PARTNERS, admin, &[("limit", "1"), ("cursor", cursor)])
        .await;
    let cursor = two.body["next_cursor"].as_str().expect("a next_cursor");
    let three = app
        .get_query(PARTNERS, admin, &[("limit", "1"), ("cursor", cursor)])
        .await;
    let active = [("status", "active"), ("limit", "1")];
    let first_active = app.get_query(PARTNERS, admin, &active).await;
    let link = first_active
        .next_link()
        .expect("a Link header while pages follow");
    let active_pages = app.every_page(first_active, admin).await;

    // Assert
    let pages = [&one, &two, &three].map(Answer::item_ids);
    assert_eq!(pages, [[first], [suspended], [last]]);
    assert!(three.body["next_cursor"].is_null(), "{}", three.body);
    assert!(three.header("link").is_none());
    let link_of_one = one.next_link().expect("a Link header while pages follow");
    assert!(
        url_params(&link_of_one).contains(&("limit".into(), "1".into())),
        "{link_of_one}"
    );
    let pages: Vec<Vec<Uuid>> = active_pages.iter().map(Answer::item_ids).collect();
    let why = "pages of the filter skip other rows";
    assert_eq!(pages, [[first], [last]], "{why}");
    for (name, value) in active {
        let kept = (name.to_owned(), value.to_owned());
        assert!(
            url_params(&link).contains(&kept),
            "the Link keeps the filter: {link}"
        );
    }
}

// ---------------------------------------------------------------------------------------------
// Updating
// ---------------------------------------------------------------------------------------------

#[tokio::test]
async fn an_update_under_a_matching_if_match_changes_only_the_fields_sent() {
    // Arrange
    let app = spawn_app().await;
    let admin = app.admin_key.as_str();
    let partner = app.create_partner("To Be Suspended").await;
    let path = partner_path(partner.id);
    let read = app.get(&path, admin).await;
    assert_eq!(read.etag(), "\"1\"");
    let cases: &[(&str, &str, Value, &str)] = &[
        (
            "suspended under the current tag",
            "\"1\"",
            json!({"status": "suspended"}),
            "\"2\"",
        ),
        (
            "name, MPN id and country together",
            "\"2\"",
            json!({"name": "新名字 New Name", "mpn_id": "7000001", "country": "MO"}),
            "\"3\"",
        ),
        (
            "reactivated under a list holding the current tag",
            "\"7\", \"3\"",
            json!({"status": "active"}),
            "\"4\"",
        ),
        (
            "null fields keep their value, under *",
            "*",
            json!({"name": null, "mpn_id": null, "country": null, "status": "suspended"}),
            "\"5\"",
        ),
    ];
    let mut previous = read.body;

    for (label, tag, changes, etag) in cases {
        // Act
        let answer = app
            .assert_updated(&path, admin, tag, changes, &previous, etag)
            .await;

        // Assert
        for (field, value) in changes.as_object().unwrap() {
            if !value.is_null() {
                assert_eq!(&answer.body[field], value, "{label}: {field}");
            }
        }
        previous = answer.body;
    }
}

#[tokio::test]
async fn a_refused_update_changes_nothing() {
    // Arrange: a partner renamed once, at version 2
    let app = spawn_app().await;
    let admin = app.admin_key.as_str();
    let partner = app.create_partner("Stale Partner").await;
    let path = partner_path(partner.id);
    let renamed = app
        .patch(&path, admin, Some("\"1\""), &json!({"name": "Renamed"}))
        .await;
    assert_eq!(renamed.status, 200, "{}", renamed.body);
    let suspended = json!({"status": "suspended"});
    let tags = [
        ("\"1\"", "stale"),
        ("2", "unquoted"),
        ("\"two\"", "not a version"),
        ("", "empty"),
    ];
    let bodies: &[(&str, Value, Fields)] = &[
        (
            "a new tenant",
            json!({"tenant_id": Uuid::new_v4()}),
            &[("tenant_id", "unknown_field")],
        ),
        (
            "every bad field",
            json!({"name": "", "mpn_id": "12345678901", "country": "XX"}),
            &[
                ("country", "invalid_country"),
                ("mpn_id", "invalid_mpn_id"),
                ("name", "length"),
            ],
        ),
        (
            "an unknown status",
            json!({"status": "deleted"}),
            &[("status", "invalid_value")],
        ),
    ];

    // Act and assert: If-Match missing or not the current tag
    let untagged = app.patch(&path, admin, None, &suspended).await;
    untagged.case_refused("no If-Match", 428, "if_match_required", &[]);
    for (tag, why) in tags {
        let answer = app.patch(&path, admin, Some(tag), &suspended).await;
        let label = format!("If-Match {tag:?}, {why}");
        answer.case_refused(&label, 412, "stale_version", &[]);
    }

    // Act and assert: bodies refused under the current tag
    for (label, body, fields) in bodies {
        let answer = app.patch(&path, admin, Some("\"2\""), body).await;
        answer.case_refused(label, 422, "validation_failed", fields);
    }
    let current = app.get(&path, admin).await;
    assert_eq!(
        (current.etag(), current.body),
        ("\"2\"".to_owned(), renamed.body)
    );
}
