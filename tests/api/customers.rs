//! `/v1/customers`: a partner's customers, as partner systems and 21Vianet staff use them —
//! creating, validating, reading, searching, paging, updating, deleting, and who may do what.

use std::collections::HashSet;

use chrono::{DateTime, Utc};
use reqwest::Method;
use serde_json::{Value, json};
use uuid::Uuid;

use crate::helpers::{Answer, TestApp, TestPartner, customer_body, spawn_app};

const CUSTOMERS: &str = "/v1/customers";

// ---------------------------------------------------------------------------------------------
// Helpers local to this module
// ---------------------------------------------------------------------------------------------

fn customer_path(id: Uuid) -> String {
    format!("{CUSTOMERS}/{id}")
}

/// A valid customer body with a chosen name and domain, so searches match only what they should.
fn body_named(company_name: &str, domain: &str) -> Value {
    let mut body = customer_body(company_name);
    body["domain"] = json!(domain);
    body
}

/// Creates a customer from `body` as `partner`, asserting 201.
async fn create(app: &TestApp, partner: &TestPartner, body: &Value) -> Answer {
    let answer = app.post(CUSTOMERS, &partner.key, body).await;
    assert_eq!(answer.status, 201, "{}", answer.body);
    answer
}

/// POSTs raw bytes to `/v1/customers` with the given `Content-Type` (none when `None`).
async fn post_raw(
    app: &TestApp,
    key: &str,
    content_type: Option<&str>,
    body: impl Into<reqwest::Body>,
) -> Answer {
    let mut request = app.request(Method::POST, CUSTOMERS, key).body(body);
    if let Some(content_type) = content_type {
        request = request.header("Content-Type", content_type);
    }
    app.send(request).await
}

async fn delete_if_match(app: &TestApp, path: &str, key: &str, tag: &str) -> Answer {
    app.send(
        app.request(Method::DELETE, path, key)
            .header("If-Match", tag),
    )
    .await
}

/// `GET /v1/customers` with these query parameters (URL-encoded by the client).
async fn list(app: &TestApp, key: &str, params: &[(&str, &str)]) -> Answer {
    app.send(app.request(Method::GET, CUSTOMERS, key).query(params))
        .await
}

/// The company names of a 200 list answer, in order.
#[track_caller]
fn names(answer: &Answer) -> Vec<String> {
    items(answer)
        .iter()
        .map(|customer| {
            customer["company_name"]
                .as_str()
                .expect("a company name")
                .to_owned()
        })
        .collect()
}

/// The ids of a 200 list answer, in order.
#[track_caller]
fn ids(answer: &Answer) -> Vec<Uuid> {
    items(answer)
        .iter()
        .map(|customer| {
            customer["id"]
                .as_str()
                .and_then(|id| id.parse().ok())
                .expect("an id")
        })
        .collect()
}

#[track_caller]
fn items(answer: &Answer) -> &Vec<Value> {
    assert_eq!(answer.status, 200, "{}", answer.body);
    answer.body["items"].as_array().expect("an items array")
}

/// Names found by a search as `key`.
async fn search(app: &TestApp, key: &str, params: &[(&str, &str)]) -> Vec<String> {
    names(&list(app, key, params).await)
}

/// The target of `Link: <…>; rel="next"`, if the answer has one.
fn next_link(answer: &Answer) -> Option<String> {
    let link = answer.header("link")?;
    let (target, params) = link.split_once(';')?;
    assert_eq!(params.trim(), "rel=\"next\"", "{link}");
    Some(
        target
            .trim()
            .strip_prefix('<')?
            .strip_suffix('>')?
            .to_owned(),
    )
}

/// The decoded query parameters of a relative URL.
fn url_params(link: &str) -> Vec<(String, String)> {
    let query = link.split_once('?').map_or("", |(_, query)| query);
    form_urlencoded::parse(query.as_bytes())
        .into_owned()
        .collect()
}

fn timestamp(value: &Value) -> DateTime<Utc> {
    value
        .as_str()
        .and_then(|text| DateTime::parse_from_rfc3339(text).ok())
        .map(|time| time.with_timezone(&Utc))
        .unwrap_or_else(|| panic!("an RFC 3339 timestamp, got {value}"))
}

/// The field errors as (field, code) pairs, sorted.
fn field_codes(answer: &Answer) -> Vec<(String, String)> {
    let mut pairs: Vec<(String, String)> = answer.body["errors"]
        .as_array()
        .expect("an errors array")
        .iter()
        .map(|e| {
            (
                e["field"].as_str().unwrap().to_owned(),
                e["code"].as_str().unwrap().to_owned(),
            )
        })
        .collect();
    pairs.sort();
    pairs
}

fn pairs(expected: &[(&str, &str)]) -> Vec<(String, String)> {
    let mut pairs: Vec<(String, String)> = expected
        .iter()
        .map(|(f, c)| (f.to_string(), c.to_string()))
        .collect();
    pairs.sort();
    pairs
}

// ---------------------------------------------------------------------------------------------
// Create
// ---------------------------------------------------------------------------------------------

#[tokio::test]
async fn a_partner_creates_a_customer_with_a_chinese_name() {
    // Arrange
    let app = spawn_app().await;
    let partner = app.create_partner("世纪互联合作伙伴").await;
    let tenant_id = Uuid::new_v4();
    let body = json!({
        "company_name": "上海云启科技有限公司",
        "domain": "YunQi.Partner.OnMSChina.CN",
        "tenant_id": tenant_id,
        "country": "CN",
        "support_plan": "premium",
        "primary_contact": {"name": "王芳", "email": "wang.fang@yunqi.cn", "phone": "+86 21 5555 0100"}
    });

    // Act
    let answer = app.post(CUSTOMERS, &partner.key, &body).await;

    // Assert
    assert_eq!(answer.status, 201, "{}", answer.body);
    let id = answer.id();
    assert_eq!(answer.header("location"), Some(customer_path(id).as_str()));
    assert_eq!(answer.etag(), "\"1\"");
    assert_eq!(id.get_version_num(), 7, "ids are UUID v7");
    let customer = &answer.body;
    assert_eq!(customer["partner_id"], json!(partner.id));
    assert_eq!(customer["company_name"], "上海云启科技有限公司");
    assert_eq!(
        customer["domain"], "yunqi.partner.onmschina.cn",
        "domains are stored in lower case"
    );
    assert_eq!(customer["tenant_id"], json!(tenant_id));
    assert_eq!(customer["country"], "CN");
    assert_eq!(customer["support_plan"], "premium");
    assert_eq!(
        customer["primary_contact"],
        json!({"name": "王芳", "email": "wang.fang@yunqi.cn", "phone": "+862155550100"}),
        "the phone is normalised to E.164"
    );
    assert_eq!(customer["version"], 1);
    assert_eq!(
        timestamp(&customer["created_at"]),
        timestamp(&customer["updated_at"])
    );
    assert!(
        customer["created_at"].as_str().unwrap().ends_with('Z'),
        "UTC"
    );
}

#[tokio::test]
async fn the_location_of_a_new_customer_reads_it_back() {
    // Arrange
    let app = spawn_app().await;
    let partner = app.create_partner("Readback").await;
    let created = app.create_customer(&partner, "北京数据有限公司").await;

    // Act
    let location = created.header("location").expect("a Location").to_owned();
    let read = app.get(&location, &partner.key).await;

    // Assert
    assert_eq!(read.status, 200, "{}", read.body);
    assert_eq!(read.etag(), "\"1\"");
    assert_eq!(read.body, created.body);
}

#[tokio::test]
async fn the_country_defaults_to_cn_and_the_phone_is_optional() {
    // Arrange
    let app = spawn_app().await;
    let partner = app.create_partner("Defaults").await;
    let mut body = customer_body("深圳云端网络有限公司");
    body.as_object_mut().unwrap().remove("country");
    body["primary_contact"]
        .as_object_mut()
        .unwrap()
        .remove("phone");

    // Act
    let answer = create(&app, &partner, &body).await;

    // Assert
    assert_eq!(answer.body["country"], "CN");
    assert_eq!(answer.body["primary_contact"]["phone"], Value::Null);
}

#[tokio::test]
async fn a_null_country_defaults_to_cn_like_an_absent_one() {
    // Arrange
    let app = spawn_app().await;
    let partner = app.create_partner("Null country").await;
    let mut body = customer_body("杭州湖畔有限公司");
    body["country"] = Value::Null;
    body["primary_contact"]["phone"] = Value::Null;

    // Act
    let answer = create(&app, &partner, &body).await;

    // Assert
    assert_eq!(answer.body["country"], "CN");
    assert_eq!(answer.body["primary_contact"]["phone"], Value::Null);
}

#[tokio::test]
async fn surrounding_spaces_are_trimmed_and_200_chinese_characters_fit() {
    // Arrange
    let app = spawn_app().await;
    let partner = app.create_partner("Boundaries").await;
    let longest = "世纪互联".repeat(50);
    assert_eq!(longest.chars().count(), 200);

    // Act
    let padded = create(&app, &partner, &customer_body("  上海云启科技有限公司 ")).await;
    let long = create(&app, &partner, &customer_body(&longest)).await;

    // Assert
    assert_eq!(padded.body["company_name"], "上海云启科技有限公司");
    assert_eq!(long.body["company_name"], longest.as_str());
}

#[tokio::test]
async fn lower_case_countries_trailing_dots_and_padded_long_names_are_refused() {
    // Arrange
    let app = spawn_app().await;
    let partner = app.create_partner("Strict forms").await;
    let mut body = customer_body(&format!(" {}", "世纪互联".repeat(50)));
    body["country"] = json!("hk");
    body["domain"] = json!("yunqi.partner.onmschina.cn.");

    // Act
    let answer = app.post(CUSTOMERS, &partner.key, &body).await;

    // Assert
    answer.problem(422, "validation_failed");
    assert_eq!(
        field_codes(&answer),
        pairs(&[
            ("company_name", "length"),
            ("country", "invalid_country"),
            ("domain", "invalid_domain")
        ])
    );
}

#[tokio::test]
async fn a_json_content_type_with_a_charset_is_accepted() {
    // Arrange
    let app = spawn_app().await;
    let partner = app.create_partner("Charset").await;
    let body = customer_body("广州星河有限公司").to_string();

    // Act
    let answer = post_raw(
        &app,
        &partner.key,
        Some("application/json; charset=utf-8"),
        body,
    )
    .await;

    // Assert
    assert_eq!(answer.status, 201, "{}", answer.body);
}

// ---------------------------------------------------------------------------------------------
// Validation of the create body
// ---------------------------------------------------------------------------------------------

#[tokio::test]
async fn every_invalid_field_is_listed_at_once() {
    // Arrange
    let app = spawn_app().await;
    let partner = app.create_partner("Validation").await;
    let body = json!({
        "company_name": "",
        "domain": "not a domain",
        "tenant_id": Uuid::new_v4(),
        "country": "XX",
        "support_plan": "standard",
        "primary_contact": {"name": "王芳", "email": "wang.fang", "phone": "12345"}
    });

    // Act
    let answer = app.post(CUSTOMERS, &partner.key, &body).await;

    // Assert
    answer.problem(422, "validation_failed");
    assert_eq!(
        field_codes(&answer),
        pairs(&[
            ("company_name", "length"),
            ("country", "invalid_country"),
            ("domain", "invalid_domain"),
            ("primary_contact.email", "invalid_email"),
            ("primary_contact.phone", "invalid_phone"),
        ])
    );
    assert_eq!(answer.body["detail"], "5 fields are invalid");
    assert_eq!(answer.body["instance"], CUSTOMERS);
    for error in answer.body["errors"].as_array().unwrap() {
        assert!(
            error["message"].as_str().is_some_and(|m| !m.is_empty()),
            "{error}"
        );
    }
}

#[tokio::test]
async fn a_company_name_of_201_chinese_characters_is_too_long() {
    // Arrange
    let app = spawn_app().await;
    let partner = app.create_partner("Too long").await;
    let name = format!("{}云", "世纪互联".repeat(50));
    assert_eq!(name.chars().count(), 201);

    // Act
    let answer = app
        .post(CUSTOMERS, &partner.key, &customer_body(&name))
        .await;

    // Assert
    answer.problem(422, "validation_failed");
    assert_eq!(field_codes(&answer), pairs(&[("company_name", "length")]));
}

#[tokio::test]
async fn a_blank_company_name_is_refused() {
    // Arrange
    let app = spawn_app().await;
    let partner = app.create_partner("Blank").await;

    // Act
    let answer = app
        .post(CUSTOMERS, &partner.key, &customer_body("   "))
        .await;

    // Assert
    answer.problem(422, "validation_failed");
    assert_eq!(answer.error_fields(), ["company_name"]);
}

#[tokio::test]
async fn contact_and_name_rules_are_checked_too() {
    // Arrange
    let app = spawn_app().await;
    let partner = app.create_partner("Contact rules").await;
    let body = json!({
        "company_name": "上海\u{0007}云启",
        "domain": "yunqi.cn",
        "tenant_id": Uuid::new_v4(),
        "support_plan": "standard",
        "primary_contact": {"name": "王".repeat(101), "email": "wang fang@yunqi.cn", "phone": "021 5555 0100"}
    });

    // Act
    let answer = app.post(CUSTOMERS, &partner.key, &body).await;

    // Assert
    answer.problem(422, "validation_failed");
    assert_eq!(
        field_codes(&answer),
        pairs(&[
            ("company_name", "control_characters"),
            ("primary_contact.email", "invalid_email"),
            ("primary_contact.name", "length"),
            ("primary_contact.phone", "invalid_phone"),
        ])
    );
}

/// Numbers of the right shape that no numbering plan has (libphonenumber's metadata): refused,
/// naming the field; real ones of several countries pass and are stored in E.164.
#[tokio::test]
async fn a_phone_number_must_exist_in_its_country() {
    // Arrange
    let app = spawn_app().await;
    let partner = app.create_partner("Phones").await;
    let with_phone = |phone: &str| {
        let mut body = customer_body("上海云启科技有限公司");
        body["primary_contact"]["phone"] = json!(phone);
        body
    };

    for phone in [
        "+86 1234 5678",
        "+86 10 5555",
        "+999 1234 5678",
        "+1 555 0100 999",
    ] {
        // Act
        let answer = app.post(CUSTOMERS, &partner.key, &with_phone(phone)).await;

        // Assert
        answer.problem(422, "validation_failed");
        assert_eq!(
            field_codes(&answer),
            pairs(&[("primary_contact.phone", "invalid_phone")]),
            "{phone}"
        );
    }
    for (phone, stored) in [
        ("+86 138 0013 8000", "+8613800138000"),
        ("+86 21 5555 0100", "+862155550100"),
        ("+852 2123 4567", "+85221234567"),
    ] {
        let answer = app.post(CUSTOMERS, &partner.key, &with_phone(phone)).await;
        assert_eq!(answer.status, 201, "{phone}: {}", answer.body);
        assert_eq!(answer.body["primary_contact"]["phone"], stored);
    }
}

#[tokio::test]
async fn missing_required_fields_are_all_listed() {
    // Arrange
    let app = spawn_app().await;
    let partner = app.create_partner("Missing").await;
    let without_top_level = json!({"company_name": "上海云启科技有限公司", "domain": "yunqi.cn"});
    let without_contact_name = json!({
        "company_name": "上海云启科技有限公司",
        "domain": "yunqi.cn",
        "support_plan": "standard",
        "primary_contact": {"email": "wang.fang@yunqi.cn"}
    });

    // Act
    let top_level = app.post(CUSTOMERS, &partner.key, &without_top_level).await;
    let nested = app
        .post(CUSTOMERS, &partner.key, &without_contact_name)
        .await;
    let empty = app.post(CUSTOMERS, &partner.key, &json!({})).await;

    // Assert
    top_level.problem(422, "validation_failed");
    assert_eq!(
        field_codes(&top_level),
        pairs(&[
            ("primary_contact", "required"),
            ("support_plan", "required"),
            ("tenant_id", "required")
        ])
    );
    nested.problem(422, "validation_failed");
    assert_eq!(
        field_codes(&nested),
        pairs(&[
            ("primary_contact.name", "required"),
            ("tenant_id", "required")
        ])
    );
    empty.problem(422, "validation_failed");
    assert_eq!(
        empty.error_fields(),
        [
            "company_name",
            "domain",
            "primary_contact",
            "support_plan",
            "tenant_id"
        ]
    );
}

#[tokio::test]
async fn a_value_of_the_wrong_json_type_is_422_naming_the_field() {
    // Arrange
    let app = spawn_app().await;
    let partner = app.create_partner("Types").await;
    let cases = [
        ("company_name", json!(5), "company_name", "invalid_type"),
        ("tenant_id", json!("nope"), "tenant_id", "invalid_type"),
        (
            "support_plan",
            json!("gold"),
            "support_plan",
            "invalid_value",
        ),
        ("country", json!(["CN"]), "country", "invalid_type"),
        (
            "primary_contact",
            json!("王芳"),
            "primary_contact",
            "invalid_type",
        ),
    ];

    for (field, value, expected_field, expected_code) in cases {
        let mut body = customer_body("上海云启科技有限公司");
        body[field] = value.clone();

        // Act
        let answer = app.post(CUSTOMERS, &partner.key, &body).await;

        // Assert
        answer.problem(422, "validation_failed");
        assert_eq!(
            field_codes(&answer),
            pairs(&[(expected_field, expected_code)]),
            "{field}: {value}"
        );
    }
}

#[tokio::test]
async fn a_nested_value_of_the_wrong_type_is_named_by_its_path() {
    // Arrange
    let app = spawn_app().await;
    let partner = app.create_partner("Nested types").await;
    let mut body = customer_body("上海云启科技有限公司");
    body["primary_contact"]["email"] = json!(42);

    // Act
    let answer = app.post(CUSTOMERS, &partner.key, &body).await;

    // Assert
    answer.problem(422, "validation_failed");
    assert_eq!(
        field_codes(&answer),
        pairs(&[("primary_contact.email", "invalid_type")])
    );
}

#[tokio::test]
async fn a_body_that_is_not_an_object_is_422_naming_the_body() {
    // Arrange
    let app = spawn_app().await;
    let partner = app.create_partner("Not an object").await;

    for body in [
        json!("上海云启科技有限公司"),
        json!(42),
        json!(null),
        json!(true),
    ] {
        // Act
        let answer = app.post(CUSTOMERS, &partner.key, &body).await;

        // Assert
        answer.problem(422, "validation_failed");
        assert_eq!(answer.error_fields(), ["body"], "{body}");
    }
}

#[tokio::test]
async fn a_json_array_is_not_read_as_a_customer() {
    // Arrange: the customer's fields, in declaration order, as an array instead of an object
    let app = spawn_app().await;
    let partner = app.create_partner("Array").await;
    let positional = json!([
        "上海云启科技有限公司",
        "yunqi.partner.onmschina.cn",
        Uuid::new_v4(),
        "CN",
        "standard",
        {"name": "王芳", "email": "wang.fang@yunqi.cn"}
    ]);

    // Act
    let answer = app.post(CUSTOMERS, &partner.key, &positional).await;

    // Assert
    answer.problem(422, "validation_failed");
    assert_eq!(answer.error_fields(), ["body"]);
    assert!(names(&list(&app, &partner.key, &[]).await).is_empty());
}

#[tokio::test]
async fn a_json_array_is_not_read_as_an_update() {
    // Arrange: the update's five fields, in declaration order, as an array
    let app = spawn_app().await;
    let partner = app.create_partner("Array update").await;
    let customer = app.create_customer(&partner, "上海云启科技有限公司").await;
    let path = customer_path(customer.id());

    // Act
    let answer = app
        .patch(
            &path,
            &partner.key,
            Some("\"1\""),
            &json!([null, null, null, "premium", null]),
        )
        .await;

    // Assert
    answer.problem(422, "validation_failed");
    let after = app.get(&path, &partner.key).await;
    assert_eq!(after.body, customer.body, "nothing changed");
}

#[tokio::test]
async fn an_unknown_field_is_422_unknown_field() {
    // Arrange
    let app = spawn_app().await;
    let partner = app.create_partner("Unknown").await;
    let mut body = customer_body("上海云启科技有限公司");
    body["nickname"] = json!("云启");

    // Act
    let answer = app.post(CUSTOMERS, &partner.key, &body).await;

    // Assert
    answer.problem(422, "validation_failed");
    assert_eq!(
        field_codes(&answer),
        pairs(&[("nickname", "unknown_field")])
    );
}

#[tokio::test]
async fn an_unknown_field_inside_the_contact_is_named_by_its_full_path() {
    // Arrange
    let app = spawn_app().await;
    let partner = app.create_partner("Unknown nested").await;
    let mut body = customer_body("上海云启科技有限公司");
    body["primary_contact"]["nickname"] = json!("芳芳");

    // Act
    let answer = app.post(CUSTOMERS, &partner.key, &body).await;

    // Assert
    answer.problem(422, "validation_failed");
    assert_eq!(
        field_codes(&answer),
        pairs(&[("primary_contact.nickname", "unknown_field")])
    );
}

#[tokio::test]
async fn malformed_json_is_400_malformed_json() {
    // Arrange
    let app = spawn_app().await;
    let partner = app.create_partner("Malformed").await;

    for body in [r#"{"a":"#, "", "{'company_name': 'x'}", "not json"] {
        // Act
        let answer = post_raw(&app, &partner.key, Some("application/json"), body).await;

        // Assert
        answer.problem(400, "malformed_json");
        assert!(
            answer.body["detail"]
                .as_str()
                .unwrap()
                .contains("not valid JSON"),
            "{body:?}"
        );
    }
}

#[tokio::test]
async fn a_body_not_declared_as_json_is_415() {
    // Arrange
    let app = spawn_app().await;
    let partner = app.create_partner("Media types").await;
    let body = customer_body("上海云启科技有限公司").to_string();

    for content_type in [
        None,
        Some("text/plain"),
        Some("application/x-www-form-urlencoded"),
        Some("text/json"),
    ] {
        // Act
        let answer = post_raw(&app, &partner.key, content_type, body.clone()).await;

        // Assert
        answer.problem(415, "unsupported_media_type");
    }
    assert!(names(&list(&app, &partner.key, &[]).await).is_empty());
}

#[tokio::test]
async fn a_body_over_64_kib_is_413() {
    // Arrange
    let app = spawn_app().await;
    let partner = app.create_partner("Too large").await;
    let mut body = customer_body("上海云启科技有限公司");
    body["primary_contact"]["name"] = json!("王".repeat(25_000)); // 75,000 bytes of UTF-8
    let bytes = body.to_string();
    assert!(bytes.len() > 64 * 1024);

    // Act
    let answer = post_raw(&app, &partner.key, Some("application/json"), bytes).await;

    // Assert
    answer.problem(413, "body_too_large");
}

#[tokio::test]
async fn a_body_just_under_the_limit_is_read_and_validated() {
    // Arrange
    let app = spawn_app().await;
    let partner = app.create_partner("Under the limit").await;
    let mut body = customer_body("上海云启科技有限公司");
    body["primary_contact"]["name"] = json!("王".repeat(20_000)); // 60,000 bytes: read, then refused
    assert!(body.to_string().len() < 64 * 1024);

    // Act
    let answer = app.post(CUSTOMERS, &partner.key, &body).await;

    // Assert
    answer.problem(422, "validation_failed");
    assert_eq!(answer.error_fields(), ["primary_contact.name"]);
}

#[tokio::test]
async fn refused_creates_leave_nothing_behind() {
    // Arrange
    let app = spawn_app().await;
    let partner = app.create_partner("Nothing half-written").await;
    let operator = app.operator_key().await;
    let mut invalid = customer_body("上海云启科技有限公司");
    invalid["domain"] = json!("bad domain");
    let mut wrong_type = customer_body("上海云启科技有限公司");
    wrong_type["support_plan"] = json!("gold");
    let mut unknown = customer_body("上海云启科技有限公司");
    unknown["extra"] = json!(true);
    let mut own_tenant = customer_body("上海云启科技有限公司");
    own_tenant["tenant_id"] = json!(partner.tenant_id);
    let mut huge = customer_body("上海云启科技有限公司");
    huge["extra"] = json!("x".repeat(70_000));

    // Act
    let statuses = vec![
        app.post(CUSTOMERS, &partner.key, &invalid).await.status,
        app.post(CUSTOMERS, &partner.key, &wrong_type).await.status,
        app.post(CUSTOMERS, &partner.key, &unknown).await.status,
        app.post(CUSTOMERS, &partner.key, &own_tenant).await.status,
        app.post(CUSTOMERS, &partner.key, &json!({})).await.status,
        post_raw(&app, &partner.key, Some("application/json"), r#"{"a":"#)
            .await
            .status,
        post_raw(
            &app,
            &partner.key,
            Some("text/plain"),
            customer_body("x").to_string(),
        )
        .await
        .status,
        post_raw(
            &app,
            &partner.key,
            Some("application/json"),
            huge.to_string(),
        )
        .await
        .status,
        app.post(CUSTOMERS, &operator, &customer_body("上海云启科技有限公司"))
            .await
            .status,
        app.post(
            CUSTOMERS,
            &app.admin_key,
            &customer_body("上海云启科技有限公司"),
        )
        .await
        .status,
    ];

    // Assert
    assert_eq!(statuses, [422, 422, 422, 422, 422, 400, 415, 413, 403, 403]);
    assert!(names(&list(&app, &partner.key, &[]).await).is_empty());
    assert!(names(&list(&app, &operator, &[]).await).is_empty());
}

// ---------------------------------------------------------------------------------------------
// Tenant rules
// ---------------------------------------------------------------------------------------------

#[tokio::test]
async fn a_tenant_is_unique_among_a_partners_customers_only() {
    // Arrange: in Partner Center one tenant may have relationships with several partners.
    let app = spawn_app().await;
    let first = app.create_partner("First").await;
    let second = app.create_partner("Second").await;
    let operator = app.operator_key().await;
    let original = app.create_customer(&first, "上海云启科技有限公司").await;
    let tenant_id = original.body["tenant_id"].clone();
    let mut same_partner = customer_body("上海云启科技（二）有限公司");
    same_partner["tenant_id"] = tenant_id.clone();
    let mut other_partner = customer_body("北京云启科技有限公司");
    other_partner["tenant_id"] = tenant_id.clone();

    // Act
    let again = app.post(CUSTOMERS, &first.key, &same_partner).await;
    let elsewhere = app.post(CUSTOMERS, &second.key, &other_partner).await;
    let second_again = app.post(CUSTOMERS, &second.key, &other_partner).await;

    // Assert
    for answer in [&again, &second_again] {
        answer.problem(409, "already_exists");
        assert_eq!(answer.body["errors"][0]["field"], "tenant_id");
        assert_eq!(answer.body["errors"].as_array().unwrap().len(), 1);
        let text = answer.body.to_string().to_lowercase();
        for leak in ["unique constraint", "sqlx", "insert", "ux_customers"] {
            assert!(!text.contains(leak), "the problem leaks `{leak}`: {text}");
        }
    }
    assert_eq!(elsewhere.status, 201, "{}", elsewhere.body);
    assert_eq!(elsewhere.body["tenant_id"], tenant_id);
    // Each partner sees its own relationship only, by list, by filter and by id.
    let tenant = tenant_id.as_str().unwrap();
    assert_eq!(ids(&list(&app, &first.key, &[]).await), [original.id()]);
    assert_eq!(
        ids(&list(&app, &second.key, &[("tenant_id", tenant)]).await),
        [elsewhere.id()]
    );
    let foreign = app.get(&customer_path(original.id()), &second.key).await;
    foreign.problem(404, "not_found");
    // Staff see both.
    let mut both = ids(&list(&app, &operator, &[("tenant_id", tenant)]).await);
    both.sort();
    let mut expected = vec![original.id(), elsewhere.id()];
    expected.sort();
    assert_eq!(both, expected);
}

#[tokio::test]
async fn the_partners_own_tenant_is_refused() {
    // Arrange
    let app = spawn_app().await;
    let partner = app.create_partner("Own tenant").await;
    let mut body = customer_body("合作伙伴自己");
    body["tenant_id"] = json!(partner.tenant_id);

    // Act
    let answer = app.post(CUSTOMERS, &partner.key, &body).await;

    // Assert
    answer.problem(422, "partner_own_tenant");
    assert_eq!(answer.body["errors"][0]["field"], "tenant_id");
    assert!(names(&list(&app, &partner.key, &[]).await).is_empty());
}

#[tokio::test]
async fn a_tenant_frees_up_when_its_customer_is_deleted() {
    // Arrange
    let app = spawn_app().await;
    let partner = app.create_partner("Reuse").await;
    let original = app.create_customer(&partner, "上海云启科技有限公司").await;
    let deleted = app
        .delete(&customer_path(original.id()), &partner.key)
        .await;
    assert_eq!(deleted.status, 204);
    let mut body = customer_body("上海云启科技有限公司");
    body["tenant_id"] = original.body["tenant_id"].clone();

    // Act
    let recreated = app.post(CUSTOMERS, &partner.key, &body).await;

    // Assert
    assert_eq!(recreated.status, 201, "{}", recreated.body);
    assert_ne!(recreated.id(), original.id());
}

// ---------------------------------------------------------------------------------------------
// Roles and partner isolation
// ---------------------------------------------------------------------------------------------

#[tokio::test]
async fn operators_and_admins_cannot_create_customers() {
    // Arrange
    let app = spawn_app().await;
    let operator = app.operator_key().await;

    for key in [&operator, &app.admin_key] {
        // Act
        let answer = app
            .post(CUSTOMERS, key, &customer_body("上海云启科技有限公司"))
            .await;

        // Assert
        answer.problem(403, "forbidden");
    }
}

#[tokio::test]
async fn a_request_without_a_valid_key_is_401() {
    // Arrange
    let app = spawn_app().await;

    // Act
    let anonymous = Answer::read(app.client.get(app.url(CUSTOMERS)).send().await.unwrap()).await;
    let forged = app
        .get(CUSTOMERS, "esk_not-a-real-key-at-all-0123456789abcdef")
        .await;

    // Assert
    anonymous.problem(401, "unauthorized");
    forged.problem(401, "unauthorized");
}

#[tokio::test]
async fn operators_and_admins_read_and_list_every_partners_customers() {
    // Arrange
    let app = spawn_app().await;
    let operator = app.operator_key().await;
    let first = app.create_partner("First").await;
    let second = app.create_partner("Second").await;
    let a = app.create_customer(&first, "上海云启科技有限公司").await;
    let b = app.create_customer(&second, "北京数据有限公司").await;
    let c = app.create_customer(&first, "Fabrikam China").await;

    for key in [&operator, &app.admin_key] {
        // Act
        let listed = list(&app, key, &[]).await;
        let read = app.get(&customer_path(b.id()), key).await;

        // Assert
        assert_eq!(
            ids(&listed),
            [a.id(), b.id(), c.id()],
            "oldest first, every partner"
        );
        assert_eq!(read.status, 200, "{}", read.body);
        assert_eq!(read.body, b.body);
        assert_eq!(read.etag(), "\"1\"");
    }
}

#[tokio::test]
async fn a_partner_lists_only_its_own_customers() {
    // Arrange
    let app = spawn_app().await;
    let first = app.create_partner("First").await;
    let second = app.create_partner("Second").await;
    let mine = app.create_customer(&first, "上海云启科技有限公司").await;
    app.create_customer(&second, "北京数据有限公司").await;
    let also_mine = app.create_customer(&first, "Fabrikam China").await;

    // Act
    let listed = list(&app, &first.key, &[]).await;

    // Assert
    assert_eq!(ids(&listed), [mine.id(), also_mine.id()]);
    assert!(
        items(&listed)
            .iter()
            .all(|c| c["partner_id"] == json!(first.id))
    );
}

#[tokio::test]
async fn a_partner_cannot_read_another_partners_customer() {
    // Arrange
    let app = spawn_app().await;
    let owner = app.create_partner("Owner").await;
    let intruder = app.create_partner("Intruder").await;
    let customer = app.create_customer(&owner, "上海云启科技有限公司").await;

    // Act
    let foreign = app.get(&customer_path(customer.id()), &intruder.key).await;
    let missing = app.get(&customer_path(Uuid::now_v7()), &intruder.key).await;

    // Assert
    foreign.problem(404, "not_found");
    missing.problem(404, "not_found");
    assert_eq!(
        foreign.body["detail"], missing.body["detail"],
        "indistinguishable from absent"
    );
    assert!(!foreign.body.to_string().contains("上海云启"));
}

#[tokio::test]
async fn a_partner_cannot_update_another_partners_customer() {
    // Arrange
    let app = spawn_app().await;
    let owner = app.create_partner("Owner").await;
    let intruder = app.create_partner("Intruder").await;
    let customer = app.create_customer(&owner, "上海云启科技有限公司").await;
    let path = customer_path(customer.id());

    // Act
    let tagged = app
        .patch(
            &path,
            &intruder.key,
            Some("\"1\""),
            &json!({"company_name": "被劫持"}),
        )
        .await;
    let star = app
        .patch(
            &path,
            &intruder.key,
            Some("*"),
            &json!({"support_plan": "premium"}),
        )
        .await;

    // Assert
    tagged.problem(404, "not_found");
    star.problem(404, "not_found");
    let after = app.get(&path, &owner.key).await;
    assert_eq!(after.body, customer.body, "the customer is unchanged");
    assert_eq!(after.etag(), "\"1\"");
}

#[tokio::test]
async fn a_partner_cannot_delete_another_partners_customer() {
    // Arrange
    let app = spawn_app().await;
    let owner = app.create_partner("Owner").await;
    let intruder = app.create_partner("Intruder").await;
    let customer = app.create_customer(&owner, "上海云启科技有限公司").await;
    let path = customer_path(customer.id());

    // Act
    let unconditional = app.delete(&path, &intruder.key).await;
    let tagged = delete_if_match(&app, &path, &intruder.key, "\"1\"").await;

    // Assert
    unconditional.problem(404, "not_found");
    tagged.problem(404, "not_found");
    let after = app.get(&path, &owner.key).await;
    assert_eq!(after.status, 200);
    assert_eq!(after.body, customer.body);
}

#[tokio::test]
async fn operators_and_admins_cannot_update_or_delete_customers() {
    // Arrange
    let app = spawn_app().await;
    let operator = app.operator_key().await;
    let partner = app.create_partner("Owner").await;
    let customer = app.create_customer(&partner, "上海云启科技有限公司").await;
    let path = customer_path(customer.id());

    for key in [&operator, &app.admin_key] {
        // Act
        let patched = app
            .patch(
                &path,
                key,
                Some("\"1\""),
                &json!({"support_plan": "premium"}),
            )
            .await;
        let deleted = app.delete(&path, key).await;

        // Assert
        patched.problem(403, "forbidden");
        deleted.problem(403, "forbidden");
    }
    let after = app.get(&path, &partner.key).await;
    assert_eq!(after.body, customer.body);
}

// ---------------------------------------------------------------------------------------------
// Search and filters
// ---------------------------------------------------------------------------------------------

#[tokio::test]
async fn q_is_a_case_insensitive_prefix_of_the_company_name() {
    // Arrange
    let app = spawn_app().await;
    let partner = app.create_partner("Search").await;
    create(
        &app,
        &partner,
        &body_named("Fabrikam China", "fbk.partner.onmschina.cn"),
    )
    .await;
    create(
        &app,
        &partner,
        &body_named("Contoso", "cts.partner.onmschina.cn"),
    )
    .await;
    create(
        &app,
        &partner,
        &body_named("上海云启科技有限公司", "yunqi.partner.onmschina.cn"),
    )
    .await;
    create(
        &app,
        &partner,
        &body_named("上海数据有限公司", "shdata.partner.onmschina.cn"),
    )
    .await;
    let key = &partner.key;

    // Act and assert
    assert_eq!(search(&app, key, &[("q", "fab")]).await, ["Fabrikam China"]);
    assert_eq!(search(&app, key, &[("q", "FAB")]).await, ["Fabrikam China"]);
    assert_eq!(
        search(&app, key, &[("q", "fabrikam c")]).await,
        ["Fabrikam China"]
    );
    assert_eq!(
        search(&app, key, &[("q", " Fabrikam ")]).await,
        ["Fabrikam China"],
        "trimmed"
    );
    assert_eq!(
        search(&app, key, &[("q", "上海")]).await,
        ["上海云启科技有限公司", "上海数据有限公司"]
    );
    assert_eq!(
        search(&app, key, &[("q", "上海云")]).await,
        ["上海云启科技有限公司"]
    );
    assert!(
        search(&app, key, &[("q", "China")]).await.is_empty(),
        "prefix, not infix"
    );
    assert!(
        search(&app, key, &[("q", "云启")]).await.is_empty(),
        "prefix, not infix"
    );
    assert!(
        search(&app, key, &[("q", "Fabrikam Chinas")])
            .await
            .is_empty()
    );
    assert_eq!(
        search(&app, key, &[("q", "")]).await.len(),
        4,
        "an empty q filters nothing"
    );
}

#[tokio::test]
async fn q_folds_case_beyond_ascii() {
    // Arrange
    let app = spawn_app().await;
    let partner = app.create_partner("Unicode search").await;
    create(
        &app,
        &partner,
        &body_named("Über Cloud 有限公司", "uber.partner.onmschina.cn"),
    )
    .await;
    create(
        &app,
        &partner,
        &body_named("École Numérique", "ecole.partner.onmschina.cn"),
    )
    .await;
    let key = &partner.key;

    // Act and assert
    assert_eq!(
        search(&app, key, &[("q", "über")]).await,
        ["Über Cloud 有限公司"]
    );
    assert_eq!(
        search(&app, key, &[("q", "ÜBER CLOUD")]).await,
        ["Über Cloud 有限公司"]
    );
    assert_eq!(
        search(&app, key, &[("q", "ÉCOLE")]).await,
        ["École Numérique"]
    );
    assert!(
        search(&app, key, &[("q", "Ecole N")]).await.is_empty(),
        "accents are not folded"
    );
}

#[tokio::test]
async fn q_also_matches_a_prefix_of_the_domain() {
    // Arrange
    let app = spawn_app().await;
    let partner = app.create_partner("Domain search").await;
    create(
        &app,
        &partner,
        &body_named("北京数据有限公司", "BJData.Partner.OnMSChina.cn"),
    )
    .await;
    create(
        &app,
        &partner,
        &body_named("Contoso", "contoso.partner.onmschina.cn"),
    )
    .await;
    let key = &partner.key;

    // Act and assert
    assert_eq!(
        search(&app, key, &[("q", "bjd")]).await,
        ["北京数据有限公司"]
    );
    assert_eq!(
        search(&app, key, &[("q", "BJDATA.PARTNER")]).await,
        ["北京数据有限公司"]
    );
    assert_eq!(
        search(&app, key, &[("q", "contoso.partner.onmschina.cn")]).await,
        ["Contoso"]
    );
    assert!(
        search(&app, key, &[("q", "partner")]).await.is_empty(),
        "prefix, not infix"
    );
    assert!(
        search(&app, key, &[("q", "onmschina")]).await.is_empty(),
        "prefix, not infix"
    );
}

#[tokio::test]
async fn a_search_lists_by_the_text_that_matched_and_pages_through_every_match_once() {
    // Arrange: names and domains starting with "co" interleave, one customer matches by both,
    // two share a name, and others match nothing.
    let app = spawn_app().await;
    let partner = app.create_partner("Search order").await;
    for (name, domain) in [
        ("Coho Winery", "cohowinery.partner.onmschina.cn"),
        ("北京数据有限公司", "contoso-bj.partner.onmschina.cn"),
        ("Contoso", "zz.partner.onmschina.cn"),
        ("Cobalt", "aa.partner.onmschina.cn"),
        ("Fabrikam", "fabrikam.partner.onmschina.cn"),
        ("上海电子", "coastal.partner.onmschina.cn"),
        ("Contoso", "contoso-sh.partner.onmschina.cn"),
        ("Litware", "litware.partner.onmschina.cn"),
    ] {
        create(&app, &partner, &body_named(name, domain)).await;
    }
    let key = &partner.key;

    // Act: every page of one customer, following the cursors.
    let mut seen = Vec::new();
    let mut cursor = None;
    loop {
        let mut params = vec![("q", "CO"), ("limit", "1")];
        if let Some(cursor) = cursor.as_deref() {
            params.push(("cursor", cursor));
        }
        let page = list(&app, key, &params).await;
        seen.extend(names(&page));
        match page.body["next_cursor"].as_str() {
            Some(next) => cursor = Some(next.to_owned()),
            None => break,
        }
    }

    // Assert: by the matched text, byte by byte ("coastal…", "cobalt", "coho winery",
    // "contoso" twice, then "contoso-bj…"), each once.
    assert_eq!(
        seen,
        [
            "上海电子",
            "Cobalt",
            "Coho Winery",
            "Contoso",
            "Contoso",
            "北京数据有限公司"
        ]
    );
    assert_eq!(search(&app, key, &[("q", "co")]).await, seen);
}

#[tokio::test]
async fn percent_and_underscore_in_q_are_taken_literally() {
    // Arrange
    let app = spawn_app().await;
    let partner = app.create_partner("Wildcards").await;
    create(
        &app,
        &partner,
        &body_named("100% Cloud", "hundred.partner.onmschina.cn"),
    )
    .await;
    create(
        &app,
        &partner,
        &body_named("1000 Cloud", "thousand.partner.onmschina.cn"),
    )
    .await;
    create(
        &app,
        &partner,
        &body_named("a_b Consulting", "ab.partner.onmschina.cn"),
    )
    .await;
    create(
        &app,
        &partner,
        &body_named("axb Consulting", "axb.partner.onmschina.cn"),
    )
    .await;
    create(
        &app,
        &partner,
        &body_named(r"C:\Cloud 有限公司", "backslash.partner.onmschina.cn"),
    )
    .await;
    let key = &partner.key;

    // Act and assert
    assert_eq!(search(&app, key, &[("q", "100%")]).await, ["100% Cloud"]);
    assert_eq!(search(&app, key, &[("q", "a_")]).await, ["a_b Consulting"]);
    assert!(
        search(&app, key, &[("q", "%")]).await.is_empty(),
        "`%` is not a wildcard"
    );
    assert!(
        search(&app, key, &[("q", "_")]).await.is_empty(),
        "`_` is not a wildcard"
    );
    assert!(search(&app, key, &[("q", "%cloud")]).await.is_empty());
    assert_eq!(
        search(&app, key, &[("q", r"c:\")]).await,
        [r"C:\Cloud 有限公司"],
        "a backslash is literal too"
    );
    assert!(search(&app, key, &[("q", r"\")]).await.is_empty());
}

#[tokio::test]
async fn a_rename_is_found_by_the_new_name_only() {
    // Arrange
    let app = spawn_app().await;
    let partner = app.create_partner("Rename").await;
    let customer = create(
        &app,
        &partner,
        &body_named("Fabrikam China", "fbk.partner.onmschina.cn"),
    )
    .await;

    // Act
    let renamed = app
        .patch(
            &customer_path(customer.id()),
            &partner.key,
            Some("\"1\""),
            &json!({"company_name": "Northwind 中国"}),
        )
        .await;

    // Assert
    assert_eq!(renamed.status, 200, "{}", renamed.body);
    assert!(search(&app, &partner.key, &[("q", "fab")]).await.is_empty());
    assert_eq!(
        search(&app, &partner.key, &[("q", "NORTHWIND")]).await,
        ["Northwind 中国"]
    );
}

#[tokio::test]
async fn q_longer_than_200_characters_is_400() {
    // Arrange
    let app = spawn_app().await;
    let partner = app.create_partner("Long q").await;
    let q = "云".repeat(201);

    // Act
    let answer = list(&app, &partner.key, &[("q", &q)]).await;

    // Assert
    answer.problem(400, "invalid_query");
    assert_eq!(answer.error_fields(), ["q"]);
}

#[tokio::test]
async fn exact_filters_on_country_support_plan_and_tenant() {
    // Arrange
    let app = spawn_app().await;
    let partner = app.create_partner("Filters").await;
    let mut a = customer_body("A 上海标准");
    a["country"] = json!("CN");
    a["support_plan"] = json!("standard");
    let mut b = customer_body("B 香港高级");
    b["country"] = json!("HK");
    b["support_plan"] = json!("premium");
    let mut c = customer_body("C 北京高级");
    c["country"] = json!("CN");
    c["support_plan"] = json!("premium");
    for body in [&a, &b, &c] {
        create(&app, &partner, body).await;
    }
    let tenant_of_a = a["tenant_id"].as_str().unwrap();
    let key = &partner.key;

    // Act and assert
    assert_eq!(
        search(&app, key, &[("country", "HK")]).await,
        ["B 香港高级"]
    );
    assert_eq!(
        search(&app, key, &[("country", "CN")]).await,
        ["A 上海标准", "C 北京高级"]
    );
    assert!(search(&app, key, &[("country", "JP")]).await.is_empty());
    assert_eq!(
        search(&app, key, &[("support_plan", "premium")]).await,
        ["B 香港高级", "C 北京高级"]
    );
    assert_eq!(
        search(&app, key, &[("support_plan", "standard")]).await,
        ["A 上海标准"]
    );
    assert_eq!(
        search(&app, key, &[("country", "CN"), ("support_plan", "premium")]).await,
        ["C 北京高级"],
        "filters combine with AND"
    );
    assert_eq!(
        search(&app, key, &[("tenant_id", tenant_of_a)]).await,
        ["A 上海标准"]
    );
    assert!(
        search(&app, key, &[("tenant_id", &Uuid::new_v4().to_string())])
            .await
            .is_empty()
    );
    assert_eq!(
        search(&app, key, &[("q", "b"), ("support_plan", "premium")]).await,
        ["B 香港高级"]
    );
    assert!(
        search(&app, key, &[("q", "b"), ("support_plan", "standard")])
            .await
            .is_empty()
    );
}

#[tokio::test]
async fn malformed_filter_values_are_400_naming_the_parameter() {
    // Arrange
    let app = spawn_app().await;
    let partner = app.create_partner("Bad filters").await;
    let cases = [
        ("country", "XX"),
        ("country", "hk"),
        ("country", "China"),
        ("support_plan", "gold"),
        ("tenant_id", "nope"),
        ("partner_id", "nope"),
    ];

    for (parameter, value) in cases {
        // Act
        let answer = list(&app, &partner.key, &[(parameter, value)]).await;

        // Assert
        answer.problem(400, "invalid_query");
        assert_eq!(answer.error_fields(), [parameter], "{parameter}={value}");
    }
}

#[tokio::test]
async fn operators_filter_by_partner_and_a_partner_filtering_on_another_gets_nothing() {
    // Arrange
    let app = spawn_app().await;
    let operator = app.operator_key().await;
    let first = app.create_partner("First").await;
    let second = app.create_partner("Second").await;
    let a = app.create_customer(&first, "上海云启科技有限公司").await;
    let b = app.create_customer(&second, "北京数据有限公司").await;
    let c = app.create_customer(&second, "Fabrikam China").await;
    let first_id = first.id.to_string();
    let second_id = second.id.to_string();

    // Act
    let operator_first = list(&app, &operator, &[("partner_id", &first_id)]).await;
    let operator_second = list(&app, &operator, &[("partner_id", &second_id)]).await;
    let admin_second = list(&app, &app.admin_key, &[("partner_id", &second_id)]).await;
    let operator_nobody = list(
        &app,
        &operator,
        &[("partner_id", &Uuid::new_v4().to_string())],
    )
    .await;
    let first_on_itself = list(&app, &first.key, &[("partner_id", &first_id)]).await;
    let first_on_second = list(&app, &first.key, &[("partner_id", &second_id)]).await;

    // Assert
    assert_eq!(ids(&operator_first), [a.id()]);
    assert_eq!(ids(&operator_second), [b.id(), c.id()]);
    assert_eq!(ids(&admin_second), [b.id(), c.id()]);
    assert!(ids(&operator_nobody).is_empty());
    assert_eq!(ids(&first_on_itself), [a.id()]);
    assert!(
        ids(&first_on_second).is_empty(),
        "a partner never sees another's customers"
    );
}

// ---------------------------------------------------------------------------------------------
// Pagination
// ---------------------------------------------------------------------------------------------

#[tokio::test]
async fn a_limit_outside_1_to_100_is_400_invalid_query() {
    // Arrange
    let app = spawn_app().await;
    let partner = app.create_partner("Limits").await;

    for limit in ["0", "101", "-1", "ten", ""] {
        // Act
        let answer = list(&app, &partner.key, &[("limit", limit)]).await;

        // Assert
        answer.problem(400, "invalid_query");
        assert_eq!(answer.error_fields(), ["limit"], "limit={limit}");
    }
    for limit in ["1", "100"] {
        let answer = list(&app, &partner.key, &[("limit", limit)]).await;
        assert_eq!(answer.status, 200, "limit={limit}: {}", answer.body);
    }
}

#[tokio::test]
async fn a_cursor_that_did_not_come_from_a_page_is_400() {
    // Arrange
    let app = spawn_app().await;
    let partner = app.create_partner("Cursors").await;

    for cursor in ["garbage!", "AAAA", "not a cursor", ""] {
        // Act
        let answer = list(&app, &partner.key, &[("cursor", cursor)]).await;

        // Assert
        answer.problem(400, "invalid_query");
        assert_eq!(
            answer.body["errors"][0]["field"], "cursor",
            "cursor={cursor:?}"
        );
        assert_eq!(answer.error_fields(), ["cursor"]);
    }
}

#[tokio::test]
async fn an_unknown_query_parameter_is_400() {
    // Arrange
    let app = spawn_app().await;
    let partner = app.create_partner("Unknown parameters").await;

    for parameter in ["page", "colour", "company_name"] {
        // Act
        let answer = list(&app, &partner.key, &[(parameter, "1")]).await;

        // Assert
        answer.problem(400, "invalid_query");
        assert_eq!(field_codes(&answer), pairs(&[(parameter, "unknown_field")]));
    }
}

#[tokio::test]
async fn an_empty_list_has_no_next_cursor_and_no_link() {
    // Arrange
    let app = spawn_app().await;
    let partner = app.create_partner("Empty").await;

    // Act
    let answer = list(&app, &partner.key, &[]).await;

    // Assert
    assert_eq!(answer.status, 200);
    assert_eq!(answer.body, json!({"items": [], "next_cursor": null}));
    assert_eq!(answer.header("link"), None);
}

#[tokio::test]
async fn limit_two_over_five_customers_gives_pages_of_two_two_and_one() {
    // Arrange
    let app = spawn_app().await;
    let partner = app.create_partner("Pages").await;
    let mut created = Vec::new();
    for n in 1..=5 {
        created.push(
            app.create_customer(&partner, &format!("客户 {n}"))
                .await
                .id(),
        );
    }

    // Act
    let first = list(&app, &partner.key, &[("limit", "2")]).await;
    let cursor = first.body["next_cursor"]
        .as_str()
        .expect("a next cursor")
        .to_owned();
    let second = list(&app, &partner.key, &[("limit", "2"), ("cursor", &cursor)]).await;
    let cursor = second.body["next_cursor"]
        .as_str()
        .expect("a next cursor")
        .to_owned();
    let third = list(&app, &partner.key, &[("limit", "2"), ("cursor", &cursor)]).await;

    // Assert
    assert_eq!(ids(&first), created[0..2]);
    assert_eq!(ids(&second), created[2..4]);
    assert_eq!(ids(&third), created[4..5]);
    assert!(next_link(&first).is_some_and(|link| link.contains("cursor=")));
    assert!(next_link(&second).is_some());
    assert_eq!(third.body["next_cursor"], Value::Null, "the last page");
    assert_eq!(third.header("link"), None);
}

#[tokio::test]
async fn a_page_that_exactly_fills_the_limit_is_the_last() {
    // Arrange
    let app = spawn_app().await;
    let partner = app.create_partner("Exact").await;
    for n in 1..=2 {
        app.create_customer(&partner, &format!("客户 {n}")).await;
    }

    // Act
    let page = list(&app, &partner.key, &[("limit", "2")]).await;

    // Assert
    assert_eq!(ids(&page).len(), 2);
    assert_eq!(page.body["next_cursor"], Value::Null);
    assert_eq!(page.header("link"), None);
}

#[tokio::test]
async fn the_default_page_holds_25_customers() {
    // Arrange
    let app = spawn_app().await;
    let partner = app.create_partner("Default limit").await;
    for n in 1..=26 {
        app.create_customer(&partner, &format!("客户 {n:02}")).await;
    }

    // Act
    let first = list(&app, &partner.key, &[]).await;
    let cursor = first.body["next_cursor"]
        .as_str()
        .expect("a next cursor")
        .to_owned();
    let rest = list(&app, &partner.key, &[("cursor", &cursor)]).await;

    // Assert
    assert_eq!(names(&first).len(), 25);
    assert_eq!(names(&rest), ["客户 26"]);
}

#[tokio::test]
async fn the_link_header_keeps_the_other_parameters_and_can_be_followed() {
    // Arrange
    let app = spawn_app().await;
    let partner = app.create_partner("Links").await;
    for name in [
        "上海一号有限公司",
        "Contoso",
        "上海二号有限公司",
        "上海三号有限公司",
    ] {
        let domain = format!("d{}.partner.onmschina.cn", Uuid::new_v4().simple());
        create(&app, &partner, &body_named(name, &domain)).await;
    }

    // Act
    let first = list(&app, &partner.key, &[("q", "上海"), ("limit", "2")]).await;
    let link = next_link(&first).expect("a Link to the next page");
    let second = app.get(&link, &partner.key).await;

    // Assert
    assert_eq!(names(&first), ["上海一号有限公司", "上海三号有限公司"]);
    assert!(link.starts_with("/v1/customers?"), "{link}");
    let params: Vec<(String, String)> = url_params(&link);
    assert!(
        params.contains(&("q".to_owned(), "上海".to_owned())),
        "{link}"
    );
    assert!(
        params.contains(&("limit".to_owned(), "2".to_owned())),
        "{link}"
    );
    let cursor = first.body["next_cursor"].as_str().unwrap().to_owned();
    assert!(params.contains(&("cursor".to_owned(), cursor)), "{link}");
    assert_eq!(
        names(&second),
        ["上海二号有限公司"],
        "the link keeps the search"
    );
    assert_eq!(second.header("link"), None);
}

#[tokio::test]
async fn a_link_keeps_a_search_with_reserved_characters_intact() {
    // Arrange
    let app = spawn_app().await;
    let partner = app.create_partner("Reserved").await;
    for name in ["R&D+云 一号", "R&D+云 二号", "R&D 三号", "R&D+云 四号"] {
        let domain = format!("d{}.partner.onmschina.cn", Uuid::new_v4().simple());
        create(&app, &partner, &body_named(name, &domain)).await;
    }

    // Act
    let first = list(&app, &partner.key, &[("q", "r&d+云 "), ("limit", "2")]).await;
    let link = next_link(&first).expect("a Link to the next page");
    let second = app.get(&link, &partner.key).await;

    // Assert
    assert_eq!(names(&first), ["R&D+云 一号", "R&D+云 二号"]);
    assert!(
        url_params(&link).contains(&("q".to_owned(), "r&d+云 ".to_owned())),
        "{link}"
    );
    assert_eq!(names(&second), ["R&D+云 四号"]);
}

#[tokio::test]
async fn a_followed_link_replaces_the_cursor_instead_of_adding_one() {
    // Arrange
    let app = spawn_app().await;
    let partner = app.create_partner("Link chain").await;
    for n in 1..=5 {
        app.create_customer(&partner, &format!("客户 {n}")).await;
    }

    // Act: follow the Link headers to the end
    let mut pages = vec![list(&app, &partner.key, &[("limit", "2")]).await];
    while let Some(link) = next_link(pages.last().unwrap()) {
        assert_eq!(
            url_params(&link)
                .iter()
                .filter(|(k, _)| k == "cursor")
                .count(),
            1,
            "{link}"
        );
        pages.push(app.get(&link, &partner.key).await);
        assert!(pages.len() <= 3, "more pages than customers");
    }

    // Assert
    let all: Vec<String> = pages.iter().flat_map(names).collect();
    assert_eq!(all, ["客户 1", "客户 2", "客户 3", "客户 4", "客户 5"]);
}

#[tokio::test]
async fn paging_is_stable_while_customers_are_added() {
    // Arrange
    let app = spawn_app().await;
    let partner = app.create_partner("Stable").await;
    let mut existing = Vec::new();
    for n in 1..=4 {
        existing.push(
            app.create_customer(&partner, &format!("旧客户 {n}"))
                .await
                .id(),
        );
    }
    let first = list(&app, &partner.key, &[("limit", "2")]).await;

    // Act: three customers arrive while the client is between pages
    let mut added = Vec::new();
    for n in 1..=3 {
        added.push(
            app.create_customer(&partner, &format!("新客户 {n}"))
                .await
                .id(),
        );
    }
    let mut seen = ids(&first);
    let mut link = next_link(&first);
    while let Some(next) = link {
        let page = app.get(&next, &partner.key).await;
        seen.extend(ids(&page));
        link = next_link(&page);
        assert!(seen.len() <= 7, "paging does not end: {seen:?}");
    }

    // Assert
    let expected: Vec<Uuid> = existing.iter().chain(&added).copied().collect();
    assert_eq!(
        seen, expected,
        "no duplicates, no gaps, new ones at the end"
    );
    assert_eq!(seen.iter().collect::<HashSet<_>>().len(), seen.len());
}

#[tokio::test]
async fn a_cursor_keeps_working_after_the_customer_it_points_at_is_deleted() {
    // Arrange
    let app = spawn_app().await;
    let partner = app.create_partner("Deleted anchor").await;
    let mut created = Vec::new();
    for n in 1..=4 {
        created.push(
            app.create_customer(&partner, &format!("客户 {n}"))
                .await
                .id(),
        );
    }
    let first = list(&app, &partner.key, &[("limit", "2")]).await;
    let deleted = app.delete(&customer_path(created[1]), &partner.key).await;
    assert_eq!(deleted.status, 204);

    // Act
    let second = app
        .get(&next_link(&first).expect("a next page"), &partner.key)
        .await;

    // Assert
    assert_eq!(ids(&second), created[2..4]);
}

// ---------------------------------------------------------------------------------------------
// Update
// ---------------------------------------------------------------------------------------------

#[tokio::test]
async fn an_update_without_if_match_is_428() {
    // Arrange
    let app = spawn_app().await;
    let partner = app.create_partner("No If-Match").await;
    let customer = app.create_customer(&partner, "上海云启科技有限公司").await;
    let path = customer_path(customer.id());

    // Act
    let answer = app
        .patch(
            &path,
            &partner.key,
            None,
            &json!({"support_plan": "premium"}),
        )
        .await;

    // Assert
    answer.problem(428, "if_match_required");
    let after = app.get(&path, &partner.key).await;
    assert_eq!(after.body, customer.body);
}

#[tokio::test]
async fn an_update_with_the_current_etag_changes_only_the_fields_sent() {
    // Arrange
    let app = spawn_app().await;
    let partner = app.create_partner("Update").await;
    let customer = app.create_customer(&partner, "上海云启科技有限公司").await;
    let path = customer_path(customer.id());
    let changes = json!({"company_name": "上海云启数字科技有限公司", "support_plan": "premium", "country": "MO"});

    // Act
    let answer = app
        .patch(&path, &partner.key, Some(&customer.etag()), &changes)
        .await;

    // Assert
    assert_eq!(answer.status, 200, "{}", answer.body);
    assert_eq!(answer.etag(), "\"2\"");
    let updated = &answer.body;
    assert_eq!(updated["version"], 2);
    assert_eq!(updated["company_name"], "上海云启数字科技有限公司");
    assert_eq!(updated["support_plan"], "premium");
    assert_eq!(updated["country"], "MO");
    for unchanged in [
        "id",
        "partner_id",
        "domain",
        "tenant_id",
        "primary_contact",
        "created_at",
    ] {
        assert_eq!(
            updated[unchanged], customer.body[unchanged],
            "{unchanged} is unchanged"
        );
    }
    assert!(timestamp(&updated["updated_at"]) >= timestamp(&customer.body["updated_at"]));
    let read = app.get(&path, &partner.key).await;
    assert_eq!(read.body, answer.body);
    assert_eq!(read.etag(), "\"2\"");
}

#[tokio::test]
async fn an_update_normalises_like_a_create() {
    // Arrange
    let app = spawn_app().await;
    let partner = app.create_partner("Normalise").await;
    let customer = app.create_customer(&partner, "上海云启科技有限公司").await;
    let changes = json!({"domain": "YunQi.Partner.OnMSChina.CN", "company_name": "  北京云启  "});

    // Act
    let answer = app
        .patch(
            &customer_path(customer.id()),
            &partner.key,
            Some("\"1\""),
            &changes,
        )
        .await;

    // Assert
    assert_eq!(answer.status, 200, "{}", answer.body);
    assert_eq!(answer.body["domain"], "yunqi.partner.onmschina.cn");
    assert_eq!(answer.body["company_name"], "北京云启");
}

#[tokio::test]
async fn an_update_replaces_the_whole_primary_contact() {
    // Arrange
    let app = spawn_app().await;
    let partner = app.create_partner("Contact").await;
    let customer = app.create_customer(&partner, "上海云启科技有限公司").await;
    assert_eq!(customer.body["primary_contact"]["phone"], "+862155550100");
    let path = customer_path(customer.id());

    // Act
    let without_phone = app
        .patch(
            &path,
            &partner.key,
            Some("\"1\""),
            &json!({"primary_contact": {"name": "李雷", "email": "li.lei@yunqi.cn"}}),
        )
        .await;
    let with_phone = app
        .patch(
            &path,
            &partner.key,
            Some("\"2\""),
            &json!({"primary_contact": {"name": "韩梅梅", "email": "han.meimei@yunqi.cn", "phone": "+86 10-5555.0100"}}),
        )
        .await;

    // Assert
    assert_eq!(without_phone.status, 200, "{}", without_phone.body);
    assert_eq!(
        without_phone.body["primary_contact"],
        json!({"name": "李雷", "email": "li.lei@yunqi.cn", "phone": null})
    );
    assert_eq!(with_phone.status, 200, "{}", with_phone.body);
    assert_eq!(
        with_phone.body["primary_contact"],
        json!({"name": "韩梅梅", "email": "han.meimei@yunqi.cn", "phone": "+861055550100"})
    );
    assert_eq!(with_phone.etag(), "\"3\"");
}

#[tokio::test]
async fn an_update_with_a_stale_if_match_is_412_and_changes_nothing() {
    // Arrange
    let app = spawn_app().await;
    let partner = app.create_partner("Stale").await;
    let customer = app.create_customer(&partner, "上海云启科技有限公司").await;
    let path = customer_path(customer.id());
    let first = app
        .patch(
            &path,
            &partner.key,
            Some("\"1\""),
            &json!({"support_plan": "premium"}),
        )
        .await;
    assert_eq!(first.status, 200, "{}", first.body);

    // Act: a second client still holding version 1
    let stale = app
        .patch(
            &path,
            &partner.key,
            Some("\"1\""),
            &json!({"company_name": "过时的名字"}),
        )
        .await;
    let future = app
        .patch(
            &path,
            &partner.key,
            Some("\"3\""),
            &json!({"company_name": "过时的名字"}),
        )
        .await;

    // Assert
    stale.problem(412, "stale_version");
    future.problem(412, "stale_version");
    let after = app.get(&path, &partner.key).await;
    assert_eq!(after.body, first.body);
    assert_eq!(after.etag(), "\"2\"");
}

#[tokio::test]
async fn a_malformed_if_match_matches_nothing_and_changes_nothing() {
    // Arrange
    let app = spawn_app().await;
    let partner = app.create_partner("Malformed If-Match").await;
    let customer = app.create_customer(&partner, "上海云启科技有限公司").await;
    let path = customer_path(customer.id());

    for tag in ["1", "two", "W/\"1\"", ""] {
        // Act
        let patched = app
            .patch(
                &path,
                &partner.key,
                Some(tag),
                &json!({"support_plan": "premium"}),
            )
            .await;
        let deleted = delete_if_match(&app, &path, &partner.key, tag).await;

        // Assert
        patched.problem(412, "stale_version");
        deleted.problem(412, "stale_version");
    }
    let after = app.get(&path, &partner.key).await;
    assert_eq!(after.body, customer.body, "nothing changed");
}

#[tokio::test]
async fn if_match_star_or_a_list_including_the_current_tag_updates() {
    // Arrange
    let app = spawn_app().await;
    let partner = app.create_partner("Star").await;
    let customer = app.create_customer(&partner, "上海云启科技有限公司").await;
    let path = customer_path(customer.id());

    // Act
    let star = app
        .patch(
            &path,
            &partner.key,
            Some("*"),
            &json!({"support_plan": "premium"}),
        )
        .await;
    let listed = app
        .patch(
            &path,
            &partner.key,
            Some("\"1\", \"2\""),
            &json!({"support_plan": "standard"}),
        )
        .await;

    // Assert
    assert_eq!(star.status, 200, "{}", star.body);
    assert_eq!(star.etag(), "\"2\"");
    assert_eq!(listed.status, 200, "{}", listed.body);
    assert_eq!(listed.etag(), "\"3\"");
    assert_eq!(listed.body["support_plan"], "standard");
}

#[tokio::test]
async fn null_fields_in_an_update_keep_their_value() {
    // Arrange
    let app = spawn_app().await;
    let partner = app.create_partner("Null update").await;
    let customer = app.create_customer(&partner, "上海云启科技有限公司").await;
    let path = customer_path(customer.id());
    let changes = json!({"company_name": null, "domain": null, "country": null, "primary_contact": null, "support_plan": "premium"});

    // Act
    let answer = app
        .patch(&path, &partner.key, Some("\"1\""), &changes)
        .await;

    // Assert
    assert_eq!(answer.status, 200, "{}", answer.body);
    assert_eq!(answer.body["support_plan"], "premium");
    for kept in ["company_name", "domain", "country", "primary_contact"] {
        assert_eq!(
            answer.body[kept], customer.body[kept],
            "{kept} keeps its value"
        );
    }
}

#[tokio::test]
async fn the_tenant_cannot_be_changed() {
    // Arrange
    let app = spawn_app().await;
    let partner = app.create_partner("Tenant fixed").await;
    let customer = app.create_customer(&partner, "上海云启科技有限公司").await;
    let path = customer_path(customer.id());

    // Act
    let answer = app
        .patch(
            &path,
            &partner.key,
            Some("\"1\""),
            &json!({"tenant_id": Uuid::new_v4()}),
        )
        .await;

    // Assert
    answer.problem(422, "validation_failed");
    assert_eq!(
        field_codes(&answer),
        pairs(&[("tenant_id", "unknown_field")])
    );
    let after = app.get(&path, &partner.key).await;
    assert_eq!(after.body, customer.body);
    assert_eq!(after.etag(), "\"1\"");
}

#[tokio::test]
async fn an_invalid_update_lists_every_bad_field_and_changes_nothing() {
    // Arrange
    let app = spawn_app().await;
    let partner = app.create_partner("Invalid update").await;
    let customer = app.create_customer(&partner, "上海云启科技有限公司").await;
    let path = customer_path(customer.id());
    let changes = json!({
        "company_name": "",
        "domain": "bad domain",
        "country": "XX",
        "primary_contact": {"name": "李雷", "email": "not-an-email"}
    });

    // Act
    let invalid = app
        .patch(&path, &partner.key, Some("\"1\""), &changes)
        .await;
    let wrong_type = app
        .patch(
            &path,
            &partner.key,
            Some("\"1\""),
            &json!({"support_plan": "gold"}),
        )
        .await;
    let malformed = app
        .send(
            app.request(Method::PATCH, &path, &partner.key)
                .header("If-Match", "\"1\"")
                .header("Content-Type", "application/json")
                .body(r#"{"a":"#),
        )
        .await;
    let not_json = app
        .send(
            app.request(Method::PATCH, &path, &partner.key)
                .header("If-Match", "\"1\"")
                .header("Content-Type", "text/plain")
                .body(r#"{"support_plan":"premium"}"#),
        )
        .await;

    // Assert
    invalid.problem(422, "validation_failed");
    assert_eq!(
        field_codes(&invalid),
        pairs(&[
            ("company_name", "length"),
            ("country", "invalid_country"),
            ("domain", "invalid_domain"),
            ("primary_contact.email", "invalid_email"),
        ])
    );
    wrong_type.problem(422, "validation_failed");
    assert_eq!(wrong_type.error_fields(), ["support_plan"]);
    malformed.problem(400, "malformed_json");
    not_json.problem(415, "unsupported_media_type");
    let after = app.get(&path, &partner.key).await;
    assert_eq!(after.body, customer.body, "nothing changed");
    assert_eq!(after.etag(), "\"1\"", "the version stays");
}

#[tokio::test]
async fn updating_a_customer_that_does_not_exist_is_404() {
    // Arrange
    let app = spawn_app().await;
    let partner = app.create_partner("Ghost").await;

    // Act
    let answer = app
        .patch(
            &customer_path(Uuid::now_v7()),
            &partner.key,
            Some("*"),
            &json!({"support_plan": "premium"}),
        )
        .await;

    // Assert
    answer.problem(404, "not_found");
}

// ---------------------------------------------------------------------------------------------
// Concurrency
// ---------------------------------------------------------------------------------------------

#[tokio::test]
async fn of_ten_concurrent_updates_with_the_same_if_match_exactly_one_wins() {
    // Arrange
    let app = spawn_app().await;
    let partner = app.create_partner("Race").await;
    let customer = app.create_customer(&partner, "上海云启科技有限公司").await;
    let url = app.url(&customer_path(customer.id()));

    // Act
    let racers: Vec<_> = (0..10usize)
        .map(|n| {
            let client = app.client.clone();
            let (url, key) = (url.clone(), partner.key.clone());
            tokio::spawn(async move {
                let response = client
                    .patch(url)
                    .bearer_auth(key)
                    .header("If-Match", "\"1\"")
                    .json(&json!({"company_name": format!("赛跑者 {n}")}))
                    .send()
                    .await
                    .expect("the request is sent");
                (n, Answer::read(response).await)
            })
        })
        .collect();
    let mut results = Vec::new();
    for racer in racers {
        results.push(racer.await.expect("the task completes"));
    }

    // Assert
    let winners: Vec<&(usize, Answer)> = results.iter().filter(|(_, a)| a.status == 200).collect();
    assert_eq!(
        winners.len(),
        1,
        "statuses: {:?}",
        results.iter().map(|(_, a)| a.status).collect::<Vec<_>>()
    );
    for (_, answer) in results.iter().filter(|(_, a)| a.status != 200) {
        answer.problem(412, "stale_version");
    }
    let (winner, won) = winners[0];
    assert_eq!(won.etag(), "\"2\"");
    let after = app.get(&customer_path(customer.id()), &partner.key).await;
    assert_eq!(after.etag(), "\"2\"");
    assert_eq!(after.body["version"], 2);
    assert_eq!(
        after.body["company_name"],
        format!("赛跑者 {winner}"),
        "the winner's change, no other"
    );
}

// ---------------------------------------------------------------------------------------------
// Delete
// ---------------------------------------------------------------------------------------------

#[tokio::test]
async fn a_deleted_customer_is_gone() {
    // Arrange
    let app = spawn_app().await;
    let partner = app.create_partner("Delete").await;
    let operator = app.operator_key().await;
    let customer = app.create_customer(&partner, "上海云启科技有限公司").await;
    let kept = app.create_customer(&partner, "北京数据有限公司").await;
    let path = customer_path(customer.id());

    // Act
    let deleted = app.delete(&path, &partner.key).await;

    // Assert
    assert_eq!(deleted.status, 204);
    assert_eq!(deleted.body, Value::Null, "no body");
    app.get(&path, &partner.key).await.problem(404, "not_found");
    app.get(&path, &operator).await.problem(404, "not_found");
    app.delete(&path, &partner.key)
        .await
        .problem(404, "not_found");
    assert_eq!(ids(&list(&app, &partner.key, &[]).await), [kept.id()]);
}

#[tokio::test]
async fn a_delete_with_a_stale_if_match_is_412_and_keeps_the_customer() {
    // Arrange
    let app = spawn_app().await;
    let partner = app.create_partner("Stale delete").await;
    let customer = app.create_customer(&partner, "上海云启科技有限公司").await;
    let path = customer_path(customer.id());
    let updated = app
        .patch(
            &path,
            &partner.key,
            Some("\"1\""),
            &json!({"support_plan": "premium"}),
        )
        .await;
    assert_eq!(updated.status, 200, "{}", updated.body);

    // Act
    let stale = delete_if_match(&app, &path, &partner.key, "\"1\"").await;
    let still_there = app.get(&path, &partner.key).await;
    let current = delete_if_match(&app, &path, &partner.key, "\"2\"").await;

    // Assert
    stale.problem(412, "stale_version");
    assert_eq!(still_there.status, 200);
    assert_eq!(still_there.body, updated.body);
    assert_eq!(current.status, 204, "{}", current.body);
    app.get(&path, &partner.key).await.problem(404, "not_found");
}

// ---------------------------------------------------------------------------------------------
// Path parameters
// ---------------------------------------------------------------------------------------------

#[tokio::test]
async fn a_malformed_customer_id_is_400_invalid_path_parameter() {
    // Arrange
    let app = spawn_app().await;
    let partner = app.create_partner("Bad path").await;
    let operator = app.operator_key().await;
    let path = "/v1/customers/not-a-uuid";

    // Act
    let answers = [
        app.get(path, &partner.key).await,
        app.get(path, &operator).await,
        app.patch(
            path,
            &partner.key,
            Some("\"1\""),
            &json!({"support_plan": "premium"}),
        )
        .await,
        app.delete(path, &partner.key).await,
    ];

    // Assert
    for answer in &answers {
        answer.problem(400, "invalid_path_parameter");
        assert_eq!(answer.body["errors"][0]["field"], "id");
        assert_eq!(answer.body["errors"][0]["code"], "invalid_uuid");
        assert_eq!(answer.body["instance"], path);
    }
}

#[tokio::test]
async fn an_empty_patch_is_not_a_new_version() {
    // Arrange
    let app = spawn_app().await;
    let partner = app.create_partner("Empty patch").await;
    let customer = app.create_customer(&partner, "北京数智医疗集团").await;
    let path = customer_path(customer.id());

    // Act
    let patched = app
        .patch(&path, &partner.key, Some("\"1\""), &json!({}))
        .await;

    // Assert
    assert_eq!(patched.status, 200, "{}", patched.body);
    assert_eq!(patched.etag(), "\"1\"");
    assert_eq!(
        patched.body, customer.body,
        "nothing changed, not even updated_at"
    );
}

#[tokio::test]
async fn wrong_types_unknown_fields_and_broken_rules_are_reported_together() {
    // Arrange
    let app = spawn_app().await;
    let partner = app.create_partner("All at once").await;
    let body = json!({
        "company_name": 5,
        "domain": "not a domain",
        "tenant_id": "not-a-uuid",
        "support_plan": "gold",
        "nickname": "x",
        "primary_contact": {"name": "", "email": 7, "pager": "123"}
    });

    // Act
    let answer = app.post(CUSTOMERS, &partner.key, &body).await;

    // Assert
    answer.problem(422, "validation_failed");
    assert_eq!(
        field_codes(&answer),
        pairs(&[
            ("company_name", "invalid_type"),
            ("domain", "invalid_domain"),
            ("nickname", "unknown_field"),
            ("primary_contact.email", "invalid_type"),
            ("primary_contact.name", "length"),
            ("primary_contact.pager", "unknown_field"),
            ("support_plan", "invalid_value"),
            ("tenant_id", "invalid_type"),
        ])
    );
}
