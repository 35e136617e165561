//! `/v1/services`: the catalog partners escalate about — the six services 21Vianet operates in
//! China, shipped as seed data, and marketplace products operators add; everyone reads it, staff
//! write it.

use serde_json::{Value, json};

use crate::helpers::{Answer, TestApp, spawn_app};

const SERVICES: &str = "/v1/services";

/// The seeded services in catalog order, with their China-cloud admin centers.
const SEEDED: [(&str, &str); 6] = [
    (
        "microsoft-365",
        "https://portal.partner.microsoftonline.cn/AdminPortal",
    ),
    ("azure", "https://portal.azure.cn"),
    (
        "dynamics-365",
        "https://admin.powerplatform.partner.microsoftonline.cn",
    ),
    ("power-bi", "https://app.powerbi.cn"),
    ("power-apps", "https://make.powerapps.cn"),
    ("power-automate", "https://make.powerautomate.cn"),
];

/// The categories 21Vianet handles, in the order the seed lists them.
const ESCALATABLE: [&str; 6] = [
    "service_unavailable",
    "undocumented_defect",
    "product_bug",
    "network_disruption",
    "regional_multi_tenant_issue",
    "billing_dispute",
];

// ---------------------------------------------------------------------------------------------
// Helpers local to this module
// ---------------------------------------------------------------------------------------------

fn service_path(key: &str) -> String {
    format!("{SERVICES}/{key}")
}

/// A valid marketplace product with this key.
fn marketplace_body(key: &str) -> Value {
    json!({
        "key": key,
        "name": "Contoso Backup for Microsoft 365",
        "operated_by": "Contoso Software",
        "first_party": false,
        "admin_center_url": "https://backup.contoso.cn/admin",
        "support_hours": "business_hours",
        "self_help": [{"title": "Contoso Backup help center", "url": "https://help.contoso.cn/backup"}],
        "categories": ["service_unavailable", "product_bug"]
    })
}

/// Creates a service from `body` as `key`, asserting 201.
async fn create(app: &TestApp, key: &str, body: &Value) -> Answer {
    let answer = app.post(SERVICES, key, body).await;
    assert_eq!(answer.status, 201, "{}", answer.body);
    answer
}

/// The keys of a 200 list answer, in order.
#[track_caller]
fn keys(answer: &Answer) -> Vec<String> {
    answer
        .items()
        .iter()
        .map(|service| service["key"].as_str().expect("a key").to_owned())
        .collect()
}

fn seeded_keys() -> Vec<String> {
    SEEDED.iter().map(|(key, _)| key.to_string()).collect()
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

/// Asserts one seeded service is as 21Vianet operates it.
#[track_caller]
fn assert_seeded(service: &Value, key: &str, admin_center_url: &str) {
    assert_eq!(service["key"], key, "{service}");
    assert_eq!(service["operated_by"], "21Vianet", "{service}");
    assert_eq!(service["first_party"], true, "{service}");
    assert_eq!(service["admin_center_url"], admin_center_url, "{service}");
    assert_eq!(service["support_hours"], "24x7", "{service}");
    assert_eq!(service["categories"], json!(ESCALATABLE), "{service}");
    assert!(
        service["name"]
            .as_str()
            .is_some_and(|name| name.ends_with("operated by 21Vianet")),
        "{service}"
    );
    let self_help = service["self_help"].as_array().expect("a self_help list");
    assert!(!self_help.is_empty(), "{service}");
    for link in self_help {
        assert!(
            link["title"].as_str().is_some_and(|t| !t.is_empty()),
            "{link}"
        );
        assert!(
            link["url"]
                .as_str()
                .is_some_and(|u| u.starts_with("https://")),
            "{link}"
        );
    }
}

// ---------------------------------------------------------------------------------------------
// The seeded catalog
// ---------------------------------------------------------------------------------------------

#[tokio::test]
async fn the_six_seeded_services_are_listed_to_every_role() {
    // Arrange
    let app = spawn_app().await;
    let partner = app.create_partner("世纪互联合作伙伴").await;
    let operator = app.operator_key().await;

    for key in [&app.admin_key, &operator, &partner.key] {
        // Act
        let answer = app.get(SERVICES, key).await;

        // Assert
        assert_eq!(keys(&answer), seeded_keys());
        assert_eq!(answer.body["next_cursor"], Value::Null);
        assert_eq!(answer.header("link"), None);
        for (service, (key, url)) in answer.items().iter().zip(SEEDED) {
            assert_seeded(service, key, url);
        }
    }
}

#[tokio::test]
async fn the_seeded_admin_centers_are_on_the_china_cloud() {
    // Arrange
    let app = spawn_app().await;
    let partner = app.create_partner("世纪互联合作伙伴").await;

    // Act
    let answer = app.get(SERVICES, &partner.key).await;

    // Assert
    for service in answer.items() {
        let url = service["admin_center_url"].as_str().expect("a URL");
        let host = url
            .strip_prefix("https://")
            .and_then(|rest| rest.split('/').next())
            .expect("an https URL");
        assert!(host.ends_with(".cn"), "{url} is not a China-cloud host");
    }
}

#[tokio::test]
async fn every_seeded_service_is_read_by_its_key_by_every_role() {
    // Arrange
    let app = spawn_app().await;
    let partner = app.create_partner("世纪互联合作伙伴").await;
    let operator = app.operator_key().await;

    for (key, url) in SEEDED {
        for caller in [&app.admin_key, &operator, &partner.key] {
            // Act
            let answer = app.get(&service_path(key), caller).await;

            // Assert
            assert_eq!(answer.status, 200, "{key}: {}", answer.body);
            assert_eq!(answer.etag(), "\"1\"");
            assert_eq!(answer.body["version"], 1);
            assert_seeded(&answer.body, key, url);
        }
    }
}

#[tokio::test]
async fn azure_points_to_the_azure_china_portal() {
    // Arrange
    let app = spawn_app().await;
    let partner = app.create_partner("世纪互联合作伙伴").await;

    // Act
    let answer = app.get(&service_path("azure"), &partner.key).await;

    // Assert
    assert_eq!(answer.status, 200, "{}", answer.body);
    assert_eq!(answer.body["name"], "Azure operated by 21Vianet");
    assert_eq!(answer.body["admin_center_url"], "https://portal.azure.cn");
    assert!(
        answer.body["self_help"]
            .as_array()
            .unwrap()
            .iter()
            .any(|link| link["url"] == "https://docs.azure.cn/zh-cn/"),
        "{}",
        answer.body
    );
}

#[tokio::test]
async fn an_unknown_service_key_is_404() {
    // Arrange
    let app = spawn_app().await;
    let partner = app.create_partner("世纪互联合作伙伴").await;

    for key in ["contoso-backup", "Azure", "power_bi"] {
        // Act
        let answer = app.get(&service_path(key), &partner.key).await;

        // Assert
        answer.problem(404, "not_found");
    }
}

#[tokio::test]
async fn reading_the_catalog_needs_a_key() {
    // Arrange
    let app = spawn_app().await;

    // Act
    let list = app.get(SERVICES, "not-a-key").await;
    let one = app.get(&service_path("azure"), "not-a-key").await;

    // Assert
    list.problem(401, "unauthorized");
    one.problem(401, "unauthorized");
}

// ---------------------------------------------------------------------------------------------
// Create
// ---------------------------------------------------------------------------------------------

#[tokio::test]
async fn an_operator_adds_a_marketplace_product() {
    // Arrange
    let app = spawn_app().await;
    let operator = app.operator_key().await;
    let body = marketplace_body("contoso-backup");

    // Act
    let answer = app.post(SERVICES, &operator, &body).await;

    // Assert
    assert_eq!(answer.status, 201, "{}", answer.body);
    assert_eq!(
        answer.header("location"),
        Some("/v1/services/contoso-backup")
    );
    assert_eq!(answer.etag(), "\"1\"");
    assert_eq!(answer.id().get_version_num(), 7, "ids are UUID v7");
    let service = &answer.body;
    for field in [
        "key",
        "name",
        "operated_by",
        "first_party",
        "admin_center_url",
        "support_hours",
        "categories",
    ] {
        assert_eq!(service[field], body[field], "{field}");
    }
    assert_eq!(
        service["self_help"],
        json!([{"title": "Contoso Backup help center", "title_zh": null, "url": "https://help.contoso.cn/backup"}]),
        "a resource without a Chinese title says so"
    );
    assert_eq!(service["name_zh"], Value::Null);
    assert_eq!(service["first_party"], false);
    assert_eq!(service["version"], 1);
    assert_eq!(service["created_at"], service["updated_at"]);
}

#[tokio::test]
async fn an_admin_adds_a_marketplace_product_too() {
    // Arrange
    let app = spawn_app().await;

    // Act
    let answer = app
        .post(SERVICES, &app.admin_key, &marketplace_body("fabrikam-crm"))
        .await;

    // Assert
    assert_eq!(answer.status, 201, "{}", answer.body);
    assert_eq!(answer.header("location"), Some("/v1/services/fabrikam-crm"));
    assert_eq!(answer.etag(), "\"1\"");
}

#[tokio::test]
async fn the_location_of_a_new_service_reads_it_back_for_a_partner() {
    // Arrange
    let app = spawn_app().await;
    let operator = app.operator_key().await;
    let partner = app.create_partner("世纪互联合作伙伴").await;
    let created = create(&app, &operator, &marketplace_body("contoso-backup")).await;

    // Act
    let read = app
        .get(created.header("location").unwrap(), &partner.key)
        .await;

    // Assert
    assert_eq!(read.status, 200, "{}", read.body);
    assert_eq!(read.body, created.body);
    assert_eq!(read.etag(), created.etag());
    let listed = app.get(SERVICES, &partner.key).await;
    let mut expected = seeded_keys();
    expected.push("contoso-backup".to_owned());
    assert_eq!(keys(&listed), expected, "new services come after the seed");
}

#[tokio::test]
async fn self_help_defaults_to_an_empty_list() {
    // Arrange
    let app = spawn_app().await;
    let mut body = marketplace_body("contoso-backup");
    body.as_object_mut().unwrap().remove("self_help");

    // Act
    let answer = app.post(SERVICES, &app.admin_key, &body).await;

    // Assert
    assert_eq!(answer.status, 201, "{}", answer.body);
    assert_eq!(answer.body["self_help"], json!([]));
}

#[tokio::test]
async fn a_partner_cannot_add_a_service() {
    // Arrange
    let app = spawn_app().await;
    let partner = app.create_partner("世纪互联合作伙伴").await;

    // Act
    let answer = app
        .post(SERVICES, &partner.key, &marketplace_body("contoso-backup"))
        .await;

    // Assert
    answer.problem(403, "forbidden");
    app.get(&service_path("contoso-backup"), &app.admin_key)
        .await
        .problem(404, "not_found");
}

#[tokio::test]
async fn a_key_already_in_the_catalog_is_409_naming_key() {
    // Arrange
    let app = spawn_app().await;
    let operator = app.operator_key().await;
    create(&app, &operator, &marketplace_body("contoso-backup")).await;

    for key in ["azure", "contoso-backup"] {
        // Act
        let answer = app.post(SERVICES, &operator, &marketplace_body(key)).await;

        // Assert
        answer.problem(409, "already_exists");
        assert_eq!(answer.error_fields(), ["key"], "{key}");
    }
    let azure = app.get(&service_path("azure"), &operator).await;
    assert_eq!(
        azure.body["operated_by"], "21Vianet",
        "the seed is untouched"
    );
}

#[tokio::test]
async fn every_invalid_field_is_listed_at_once() {
    // Arrange
    let app = spawn_app().await;
    let body = json!({
        "key": "Power_BI",
        "name": "Power BI Premium",
        "operated_by": "21Vianet",
        "first_party": true,
        "admin_center_url": "http://app.powerbi.cn",
        "support_hours": "always",
        "self_help": [
            {"title": "Power BI admin portal", "url": "ftp://app.powerbi.cn/admin-portal"},
            {"title": "", "url": "https://app.powerbi.cn"}
        ],
        "categories": []
    });

    // Act
    let answer = app.post(SERVICES, &app.admin_key, &body).await;

    // Assert
    answer.problem(422, "validation_failed");
    assert_eq!(
        field_codes(&answer),
        pairs(&[
            ("admin_center_url", "invalid_url"),
            ("categories", "length"),
            ("key", "invalid_service_key"),
            ("self_help[0].url", "invalid_url"),
            ("self_help[1].title", "length"),
            ("support_hours", "invalid_value"),
        ])
    );
}

#[tokio::test]
async fn a_category_listed_twice_is_duplicate() {
    // Arrange
    let app = spawn_app().await;
    let mut body = marketplace_body("contoso-backup");
    body["categories"] = json!(["product_bug", "service_unavailable", "product_bug"]);

    // Act
    let answer = app.post(SERVICES, &app.admin_key, &body).await;

    // Assert
    answer.problem(422, "validation_failed");
    assert_eq!(field_codes(&answer), pairs(&[("categories", "duplicate")]));
}

#[tokio::test]
async fn an_unknown_category_is_refused() {
    // Arrange
    let app = spawn_app().await;
    let mut body = marketplace_body("contoso-backup");
    body["categories"] = json!(["product_bug", "coffee_machine_broken"]);

    // Act
    let answer = app.post(SERVICES, &app.admin_key, &body).await;

    // Assert
    answer.problem(422, "validation_failed");
    let fields = answer.error_fields();
    assert_eq!(fields.len(), 1, "{}", answer.body);
    assert!(fields[0].starts_with("categories"), "{}", answer.body);
    assert_eq!(answer.body["errors"][0]["code"], "invalid_value");
}

#[tokio::test]
async fn an_unknown_category_is_listed_with_the_other_bad_fields() {
    // Arrange
    let app = spawn_app().await;
    let body = json!({
        "key": "Power_BI",
        "name": "Power BI Premium",
        "operated_by": "21Vianet",
        "first_party": true,
        "admin_center_url": "http://app.powerbi.cn",
        "support_hours": "always",
        "self_help": [{"title": "Power BI admin portal", "url": "ftp://app.powerbi.cn"}],
        "categories": ["product_bug", "coffee_machine_broken"]
    });

    // Act
    let answer = app.post(SERVICES, &app.admin_key, &body).await;

    // Assert
    answer.problem(422, "validation_failed");
    let fields = answer.error_fields();
    for expected in [
        "admin_center_url",
        "key",
        "self_help[0].url",
        "support_hours",
    ] {
        assert!(
            fields.iter().any(|field| field == expected),
            "{expected} is not reported alongside the unknown category: {}",
            answer.body
        );
    }
    assert!(
        fields.iter().any(|field| field.starts_with("categories")),
        "{}",
        answer.body
    );
}

#[tokio::test]
async fn missing_required_fields_are_all_listed() {
    // Arrange
    let app = spawn_app().await;

    // Act
    let answer = app.post(SERVICES, &app.admin_key, &json!({})).await;

    // Assert
    answer.problem(422, "validation_failed");
    assert_eq!(
        answer.error_fields(),
        [
            "admin_center_url",
            "categories",
            "first_party",
            "key",
            "name",
            "operated_by",
            "support_hours"
        ]
    );
}

// ---------------------------------------------------------------------------------------------
// Update
// ---------------------------------------------------------------------------------------------

#[tokio::test]
async fn an_update_without_if_match_is_428() {
    // Arrange
    let app = spawn_app().await;
    let operator = app.operator_key().await;

    // Act
    let answer = app
        .patch(
            &service_path("azure"),
            &operator,
            None,
            &json!({"support_hours": "business_hours"}),
        )
        .await;

    // Assert
    answer.problem(428, "if_match_required");
    let azure = app.get(&service_path("azure"), &operator).await;
    assert_eq!(azure.body["support_hours"], "24x7");
    assert_eq!(azure.etag(), "\"1\"");
}

#[tokio::test]
async fn an_update_with_the_current_etag_changes_the_service_and_its_etag() {
    // Arrange
    let app = spawn_app().await;
    let operator = app.operator_key().await;
    let before = app.get(&service_path("azure"), &operator).await;

    // Act
    let answer = app
        .patch(
            &service_path("azure"),
            &operator,
            Some(&before.etag()),
            &json!({"support_hours": "business_hours", "name": "Azure 由世纪互联运营"}),
        )
        .await;

    // Assert
    assert_eq!(answer.status, 200, "{}", answer.body);
    assert_eq!(answer.etag(), "\"2\"");
    assert_eq!(answer.body["version"], 2);
    assert_eq!(answer.body["support_hours"], "business_hours");
    assert_eq!(answer.body["name"], "Azure 由世纪互联运营");
    for kept in [
        "key",
        "operated_by",
        "first_party",
        "admin_center_url",
        "self_help",
        "categories",
        "created_at",
    ] {
        assert_eq!(answer.body[kept], before.body[kept], "{kept}");
    }
    assert_ne!(answer.body["updated_at"], before.body["updated_at"]);
    let read = app.get(&service_path("azure"), &operator).await;
    assert_eq!(read.body, answer.body);
    assert_eq!(read.etag(), "\"2\"");
}

#[tokio::test]
async fn a_stale_if_match_is_412() {
    // Arrange
    let app = spawn_app().await;
    let operator = app.operator_key().await;
    let first = app
        .patch(
            &service_path("power-bi"),
            &operator,
            Some("\"1\""),
            &json!({"support_hours": "business_hours"}),
        )
        .await;
    assert_eq!(first.status, 200, "{}", first.body);

    // Act
    let stale = app
        .patch(
            &service_path("power-bi"),
            &app.admin_key,
            Some("\"1\""),
            &json!({"support_hours": "24x7"}),
        )
        .await;

    // Assert
    stale.problem(412, "stale_version");
    let read = app.get(&service_path("power-bi"), &operator).await;
    assert_eq!(read.body["support_hours"], "business_hours");
    assert_eq!(read.etag(), "\"2\"");
}

#[tokio::test]
async fn an_admin_updates_a_marketplace_product_created_by_an_operator() {
    // Arrange
    let app = spawn_app().await;
    let operator = app.operator_key().await;
    let created = create(&app, &operator, &marketplace_body("contoso-backup")).await;

    // Act
    let answer = app
        .patch(
            &service_path("contoso-backup"),
            &app.admin_key,
            Some(&created.etag()),
            &json!({"operated_by": "Contoso Software (China)", "admin_center_url": "https://admin.contoso.cn"}),
        )
        .await;

    // Assert
    assert_eq!(answer.status, 200, "{}", answer.body);
    assert_eq!(answer.body["operated_by"], "Contoso Software (China)");
    assert_eq!(answer.body["admin_center_url"], "https://admin.contoso.cn");
    assert_eq!(answer.etag(), "\"2\"");
}

#[tokio::test]
async fn lists_are_replaced_whole() {
    // Arrange
    let app = spawn_app().await;
    let operator = app.operator_key().await;
    let mut body = marketplace_body("contoso-backup");
    body["self_help"] = json!([
        {"title": "Help center", "url": "https://help.contoso.cn"},
        {"title": "Status page", "url": "https://status.contoso.cn"}
    ]);
    body["categories"] = json!(["service_unavailable", "product_bug", "billing_dispute"]);
    let created = create(&app, &operator, &body).await;

    // Act
    let answer = app
        .patch(
            &service_path("contoso-backup"),
            &operator,
            Some(&created.etag()),
            &json!({
                "self_help": [{"title": "新版帮助中心", "url": "https://help.contoso.cn/zh-cn/"}],
                "categories": ["billing_dispute"]
            }),
        )
        .await;

    // Assert
    assert_eq!(answer.status, 200, "{}", answer.body);
    assert_eq!(
        answer.body["self_help"],
        json!([{"title": "新版帮助中心", "title_zh": null, "url": "https://help.contoso.cn/zh-cn/"}])
    );
    assert_eq!(answer.body["categories"], json!(["billing_dispute"]));
    let emptied = app
        .patch(
            &service_path("contoso-backup"),
            &operator,
            Some(&answer.etag()),
            &json!({"self_help": []}),
        )
        .await;
    assert_eq!(emptied.status, 200, "{}", emptied.body);
    assert_eq!(emptied.body["self_help"], json!([]));
    assert_eq!(emptied.body["categories"], json!(["billing_dispute"]));
}

#[tokio::test]
async fn the_key_cannot_be_changed() {
    // Arrange
    let app = spawn_app().await;
    let operator = app.operator_key().await;

    // Act
    let answer = app
        .patch(
            &service_path("azure"),
            &operator,
            Some("\"1\""),
            &json!({"key": "azure-china"}),
        )
        .await;

    // Assert
    answer.problem(422, "validation_failed");
    assert_eq!(field_codes(&answer), pairs(&[("key", "unknown_field")]));
    let azure = app.get(&service_path("azure"), &operator).await;
    assert_eq!(azure.status, 200);
    assert_eq!(azure.etag(), "\"1\"");
    app.get(&service_path("azure-china"), &operator)
        .await
        .problem(404, "not_found");
}

#[tokio::test]
async fn an_update_is_validated_like_a_create() {
    // Arrange
    let app = spawn_app().await;
    let operator = app.operator_key().await;

    // Act
    let answer = app
        .patch(
            &service_path("azure"),
            &operator,
            Some("\"1\""),
            &json!({
                "admin_center_url": "http://portal.azure.cn",
                "support_hours": "weekends",
                "categories": [],
                "self_help": [
                    {"title": "Azure docs", "url": "https://docs.azure.cn"},
                    {"title": "Azure status", "url": "https://status azure.cn"}
                ]
            }),
        )
        .await;

    // Assert
    answer.problem(422, "validation_failed");
    assert_eq!(
        field_codes(&answer),
        pairs(&[
            ("admin_center_url", "invalid_url"),
            ("categories", "length"),
            ("self_help[1].url", "invalid_url"),
            ("support_hours", "invalid_value"),
        ])
    );
    let duplicate = app
        .patch(
            &service_path("azure"),
            &operator,
            Some("\"1\""),
            &json!({"categories": ["product_bug", "product_bug"]}),
        )
        .await;
    duplicate.problem(422, "validation_failed");
    assert_eq!(
        field_codes(&duplicate),
        pairs(&[("categories", "duplicate")])
    );
    let azure = app.get(&service_path("azure"), &operator).await;
    assert_eq!(azure.etag(), "\"1\"", "refused updates change nothing");
}

#[tokio::test]
async fn a_partner_cannot_update_a_service() {
    // Arrange
    let app = spawn_app().await;
    let partner = app.create_partner("世纪互联合作伙伴").await;

    // Act
    let answer = app
        .patch(
            &service_path("azure"),
            &partner.key,
            Some("\"1\""),
            &json!({"admin_center_url": "https://phishing.example.cn"}),
        )
        .await;

    // Assert
    answer.problem(403, "forbidden");
    let azure = app.get(&service_path("azure"), &partner.key).await;
    assert_eq!(azure.body["admin_center_url"], "https://portal.azure.cn");
    assert_eq!(azure.etag(), "\"1\"");
}

#[tokio::test]
async fn updating_an_unknown_service_is_404() {
    // Arrange
    let app = spawn_app().await;
    let operator = app.operator_key().await;

    // Act
    let answer = app
        .patch(
            &service_path("contoso-backup"),
            &operator,
            Some("\"1\""),
            &json!({"name": "Contoso"}),
        )
        .await;

    // Assert
    answer.problem(404, "not_found");
}

// ---------------------------------------------------------------------------------------------
// List filters and pagination
// ---------------------------------------------------------------------------------------------

#[tokio::test]
async fn the_list_filters_on_first_party_and_operated_by() {
    // Arrange
    let app = spawn_app().await;
    let operator = app.operator_key().await;
    let partner = app.create_partner("世纪互联合作伙伴").await;
    create(&app, &operator, &marketplace_body("contoso-backup")).await;
    let mut fabrikam = marketplace_body("fabrikam-crm");
    fabrikam["operated_by"] = json!("Fabrikam");
    create(&app, &operator, &fabrikam).await;

    let list =
        async |params: &[(&str, &str)]| keys(&app.get_query(SERVICES, &partner.key, params).await);

    // Act / Assert
    assert_eq!(
        list(&[("first_party", "false")]).await,
        ["contoso-backup", "fabrikam-crm"]
    );
    assert_eq!(list(&[("first_party", "true")]).await, seeded_keys());
    assert_eq!(list(&[("operated_by", "21Vianet")]).await, seeded_keys());
    assert_eq!(
        list(&[("operated_by", "Contoso Software")]).await,
        ["contoso-backup"]
    );
    assert_eq!(
        list(&[("first_party", "false"), ("operated_by", "Fabrikam")]).await,
        ["fabrikam-crm"]
    );
    assert!(
        list(&[("first_party", "true"), ("operated_by", "Fabrikam")])
            .await
            .is_empty()
    );
    assert!(list(&[("operated_by", "Nobody")]).await.is_empty());
}

#[tokio::test]
async fn the_catalog_pages_with_limit_and_cursor() {
    // Arrange
    let app = spawn_app().await;
    let operator = app.operator_key().await;
    create(&app, &operator, &marketplace_body("contoso-backup")).await;
    create(&app, &operator, &marketplace_body("fabrikam-crm")).await;
    let mut everything = seeded_keys();
    everything.extend(["contoso-backup".to_owned(), "fabrikam-crm".to_owned()]);

    // Act
    let first = app.get_query(SERVICES, &operator, &[("limit", "3")]).await;
    let cursor = first.body["next_cursor"].as_str().expect("a next_cursor");
    let link = first.next_link().expect("a Link to the next page");
    let second = app.get(&link, &operator).await;
    let cursor2 = second.body["next_cursor"].as_str().expect("a next_cursor");
    let third = app
        .get_query(SERVICES, &operator, &[("limit", "3"), ("cursor", cursor2)])
        .await;

    // Assert
    assert_eq!(keys(&first), everything[..3]);
    assert!(link.contains("limit=3") && link.contains(cursor), "{link}");
    assert_eq!(keys(&second), everything[3..6]);
    assert_eq!(keys(&third), everything[6..]);
    assert_eq!(third.body["next_cursor"], Value::Null);
    assert_eq!(third.next_link(), None);
}

#[tokio::test]
async fn bad_list_parameters_are_400_invalid_query() {
    // Arrange
    let app = spawn_app().await;
    let operator = app.operator_key().await;

    for params in [
        &[("limit", "0")][..],
        &[("limit", "101")],
        &[("cursor", "not-a-cursor")],
        &[("first_party", "maybe")],
        &[("colour", "blue")],
    ] {
        // Act
        let answer = app.get_query(SERVICES, &operator, params).await;

        // Assert
        answer.problem(400, "invalid_query");
    }
}
