//! `/v1/services`: the catalog partners escalate about — the six services 21Vianet operates in
//! China, shipped as seed data, and marketplace products operators add; everyone reads it, staff
//! write it.

use reqwest::Method;
use serde_json::{Value, json};

use crate::helpers::spawn_app;

const SERVICES: &str = "/v1/services";

/// The seeded services in catalog order, with their China-cloud admin centers.
pub(crate) const SEEDED: [(&str, &str); 6] = [
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
pub(crate) const ESCALATABLE: [&str; 6] = [
    "service_unavailable",
    "undocumented_defect",
    "product_bug",
    "network_disruption",
    "regional_multi_tenant_issue",
    "billing_dispute",
];

fn service_path(key: &str) -> String {
    format!("{SERVICES}/{key}")
}

fn seeded_keys() -> Vec<&'static str> {
    SEEDED.iter().map(|(key, _)| *key).collect()
}

/// A valid marketplace product with this key, run by Contoso Software.
pub(crate) fn marketplace_body(key: &str) -> Value {
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

/// The refusals a table row most often expects, as (status, code).
pub(crate) const NOT_FOUND: (u16, &str) = (404, "not_found");
pub(crate) const FORBIDDEN: (u16, &str) = (403, "forbidden");

/// Asserts one seeded service is as 21Vianet operates it, its admin center on the China cloud.
#[track_caller]
fn assert_seeded(service: &Value, key: &str, admin_center_url: &str) {
    assert_eq!(service["key"], key, "{service}");
    assert_eq!(service["operated_by"], "21Vianet", "{service}");
    assert_eq!(service["first_party"], true, "{service}");
    assert_eq!(service["admin_center_url"], admin_center_url, "{service}");
    let url = service["admin_center_url"].as_str().unwrap_or_default();
    let host = url
        .strip_prefix("https://")
        .and_then(|url| url.split('/').next());
    assert!(
        host.is_some_and(|host| host.ends_with(".cn")),
        "{url} is not on the China cloud"
    );
    assert_eq!(service["support_hours"], "24x7", "{service}");
    assert_eq!(service["categories"], json!(ESCALATABLE), "{service}");
    let name = service["name"].as_str().unwrap_or_default();
    assert!(name.ends_with("operated by 21Vianet"), "{service}");
    let self_help = service["self_help"].as_array().expect("a self_help list");
    assert!(!self_help.is_empty(), "{service}");
    for link in self_help {
        let (title, url) = (link["title"].as_str(), link["url"].as_str());
        assert!(title.is_some_and(|title| !title.is_empty()), "{link}");
        assert!(url.is_some_and(|url| url.starts_with("https://")), "{link}");
    }
}

#[tokio::test]
async fn every_role_lists_and_reads_the_six_seeded_services_as_21vianet_runs_them() {
    // Arrange
    let app = spawn_app().await;
    let partner = app.create_partner("世纪互联合作伙伴").await;
    let operator = app.operator_key().await;

    for (role, caller) in [
        ("admin", &app.admin_key),
        ("operator", &operator),
        ("partner", &partner.key),
    ] {
        // Act
        let list = app.get(SERVICES, caller).await;
        let mut read = Vec::new();
        for (key, _) in SEEDED {
            read.push(app.get(&service_path(key), caller).await);
        }

        // Assert
        assert_eq!(list.strings("key"), seeded_keys(), "{role}");
        assert_eq!(list.body["next_cursor"], Value::Null, "{role}");
        assert_eq!(list.header("link"), None, "{role}");
        for (service, (key, url)) in list.items().iter().zip(SEEDED) {
            assert_seeded(service, key, url);
        }
        for (answer, (key, url)) in read.iter().zip(SEEDED) {
            assert_eq!(answer.status, 200, "{role} {key}: {}", answer.body);
            assert_eq!(answer.etag(), "\"1\"", "{role} {key}");
            assert_eq!(answer.body["version"], 1, "{role} {key}");
            assert_seeded(&answer.body, key, url);
        }
    }
    let azure = app.get(&service_path("azure"), &partner.key).await;
    assert_eq!(azure.body["name"], "Azure operated by 21Vianet");
    let links = azure.body["self_help"].as_array().unwrap();
    let docs = "https://docs.azure.cn/zh-cn/";
    assert!(
        links.iter().any(|link| link["url"] == docs),
        "{}",
        azure.body
    );
}

#[tokio::test]
async fn staff_add_marketplace_products_listed_after_the_seed_under_keys_not_taken() {
    // Arrange
    let app = spawn_app().await;
    let operator = app.operator_key().await;
    let partner = app.create_partner("世纪互联合作伙伴").await;
    let body = marketplace_body("contoso-backup");
    let mut without_self_help = marketplace_body("fabrikam-crm");
    let fields = without_self_help.as_object_mut().unwrap();
    fields.remove("self_help");

    // Act
    let by_operator = app.post(SERVICES, &operator, &body).await;
    let by_admin = app.post(SERVICES, &app.admin_key, &without_self_help).await;
    let read = app.get(&service_path("contoso-backup"), &partner.key).await;
    let seeded_again = app
        .post(SERVICES, &operator, &marketplace_body("azure"))
        .await;
    let added_again = app.post(SERVICES, &operator, &body).await;

    // Assert
    let created = &by_operator;
    assert_eq!(created.status, 201, "{}", created.body);
    let location = created.header("location");
    assert_eq!(location, Some("/v1/services/contoso-backup"));
    assert_eq!(created.etag(), "\"1\"");
    assert_eq!(created.id().get_version_num(), 7, "ids are UUID v7");
    let mut expected = body.clone();
    // A resource without a Chinese title says so.
    expected["self_help"][0]["title_zh"] = Value::Null;
    for (field, value) in expected.as_object().unwrap() {
        assert_eq!(&created.body[field], value, "{field}");
    }
    assert_eq!(created.body["name_zh"], Value::Null);
    assert_eq!(created.body["version"], 1);
    assert_eq!(created.body["created_at"], created.body["updated_at"]);
    assert_eq!(by_admin.status, 201, "{}", by_admin.body);
    let location = by_admin.header("location");
    assert_eq!(location, Some("/v1/services/fabrikam-crm"));
    assert_eq!(by_admin.etag(), "\"1\"");
    assert_eq!(by_admin.body["self_help"], json!([]), "the default");
    assert_eq!(read.status, 200, "{}", read.body);
    assert_eq!(read.body, created.body, "partners read it back");
    assert_eq!(read.etag(), created.etag());
    let taken = [("key", "taken")];
    seeded_again.case_refused("azure", 409, "already_exists", &taken);
    added_again.case_refused("contoso-backup", 409, "already_exists", &taken);
    let listed = app.get(SERVICES, &partner.key).await;
    let mut keys = seeded_keys();
    keys.extend(["contoso-backup", "fabrikam-crm"]);
    assert_eq!(listed.strings("key"), keys, "after the seed");
    let azure = app.get(&service_path("azure"), &operator).await;
    let why = "the seed is untouched";
    assert_eq!(azure.body["operated_by"], "21Vianet", "{why}");
}

#[tokio::test]
async fn an_invalid_service_is_422_listing_every_bad_field() {
    // Arrange
    let app = spawn_app().await;
    let every_field_wrong = json!({
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
    let categories = ["product_bug", "coffee_machine_broken"];
    let mut unknown_category_too = every_field_wrong.clone();
    unknown_category_too["categories"] = json!(categories);
    let with_categories = |categories: &[&str]| {
        let mut body = marketplace_body("contoso-backup");
        body["categories"] = json!(categories);
        body
    };
    let twice = with_categories(&["product_bug", "service_unavailable", "product_bug"]);
    let wrong = [
        ("admin_center_url", "invalid_url"),
        ("key", "invalid_service_key"),
        ("self_help[0].url", "invalid_url"),
        ("self_help[1].title", "length"),
        ("support_hours", "invalid_value"),
    ];
    let (empty, unknown) = (("categories", "length"), ("categories[1]", "invalid_value"));
    let required = [
        "admin_center_url",
        "categories",
        "first_party",
        "key",
        "name",
        "operated_by",
        "support_hours",
    ]
    .map(|field| (field, "required"));

    for (label, body, fields) in [
        (
            "every field wrong",
            every_field_wrong,
            [&wrong[..], &[empty]].concat(),
        ),
        ("a category twice", twice, vec![("categories", "duplicate")]),
        (
            "an unknown category",
            with_categories(&categories),
            vec![unknown],
        ),
        (
            "with other bad fields",
            unknown_category_too,
            [&wrong[..], &[unknown]].concat(),
        ),
        ("nothing", json!({}), required.to_vec()),
    ] {
        // Act
        let answer = app.post(SERVICES, &app.admin_key, &body).await;

        // Assert
        answer.case_refused(label, 422, "validation_failed", &fields);
    }
    let listed = app.get(SERVICES, &app.admin_key).await;
    assert_eq!(listed.strings("key"), seeded_keys(), "nothing was written");
}

#[tokio::test]
async fn refused_requests_leave_the_catalog_as_it_was() {
    // Arrange
    let app = spawn_app().await;
    let operator = app.operator_key().await;
    let partner = app.create_partner("世纪互联合作伙伴").await;
    let (own, staff, nobody) = (partner.key.as_str(), operator.as_str(), "not-a-key");
    let contoso = "contoso-backup";
    let get = |path: &str, key: &str| app.request(Method::GET, path, key);
    let read = |service: &str, key: &str| get(&service_path(service), key);
    let post = |key: &str| {
        let request = app.request(Method::POST, SERVICES, key);
        request.json(&marketplace_body("contoso-backup"))
    };
    let change = json!({
        "admin_center_url": "https://phishing.example.cn",
        "support_hours": "business_hours"
    });
    let untagged = |service: &str, key: &str| {
        let request = app.request(Method::PATCH, &service_path(service), key);
        request.json(&change)
    };
    let patch = |service: &str, key: &str| untagged(service, key).header("If-Match", "\"1\"");
    let (unauthorized, untagged_refused) = ((401, "unauthorized"), (428, "if_match_required"));

    for (label, request, (status, code)) in [
        ("an unknown key", read(contoso, own), NOT_FOUND),
        ("a key in the wrong case", read("Azure", own), NOT_FOUND),
        ("a key with _", read("power_bi", own), NOT_FOUND),
        ("listing without a key", get(SERVICES, nobody), unauthorized),
        ("reading without a key", read("azure", nobody), unauthorized),
        ("a partner adds", post(own), FORBIDDEN),
        ("a partner updates", patch("azure", own), FORBIDDEN),
        ("no If-Match", untagged("azure", staff), untagged_refused),
        ("updating an unknown key", patch(contoso, staff), NOT_FOUND),
    ] {
        // Act
        let answer = app.send(request).await;

        // Assert
        answer.case_refused(label, status, code, &[]);
    }
    let azure = app.get(&service_path("azure"), staff).await;
    assert_eq!(azure.body["support_hours"], "24x7");
    assert_eq!(azure.body["admin_center_url"], "https://portal.azure.cn");
    assert_eq!(azure.etag(), "\"1\"");
    let added = app.get(&service_path(contoso), &app.admin_key).await;
    added.problem(404, "not_found");
}

#[tokio::test]
async fn an_update_with_the_current_version_changes_the_service_and_a_stale_one_is_412() {
    // Arrange
    let app = spawn_app().await;
    let operator = app.operator_key().await;
    let path = service_path("azure");
    let before = app.get(&path, &operator).await;
    let change = json!({"support_hours": "business_hours", "name": "Azure 由世纪互联运营"});
    let back = json!({"support_hours": "24x7"});

    // Act
    let answer = app
        .patch(&path, &operator, Some(&before.etag()), &change)
        .await;
    let stale = app.patch(&path, &app.admin_key, Some("\"1\""), &back).await;

    // Assert
    assert_eq!(answer.status, 200, "{}", answer.body);
    assert_eq!(answer.etag(), "\"2\"");
    assert_eq!(answer.body["version"], 2);
    assert_eq!(answer.body["support_hours"], "business_hours");
    assert_eq!(answer.body["name"], "Azure 由世纪互联运营");
    assert_ne!(answer.body["updated_at"], before.body["updated_at"]);
    let changed = ["support_hours", "name", "version", "updated_at"];
    for (field, value) in before.body.as_object().unwrap() {
        if !changed.contains(&field.as_str()) {
            assert_eq!(&answer.body[field], value, "{field} is kept");
        }
    }
    stale.problem(412, "stale_version");
    let read = app.get(&path, &operator).await;
    assert_eq!(read.body, answer.body, "the stale update wrote nothing");
    assert_eq!(read.etag(), "\"2\"");
}

#[tokio::test]
async fn an_admin_replaces_the_lists_of_an_operators_product_whole() {
    // Arrange
    let app = spawn_app().await;
    let operator = app.operator_key().await;
    let mut body = marketplace_body("contoso-backup");
    body["self_help"] = json!([
        {"title": "Help center", "url": "https://help.contoso.cn"},
        {"title": "Status page", "url": "https://status.contoso.cn"}
    ]);
    body["categories"] = json!(["service_unavailable", "product_bug", "billing_dispute"]);
    let created = app.created(SERVICES, &operator, &body).await;
    let path = service_path("contoso-backup");
    let resource = json!({"title": "新版帮助中心", "url": "https://help.contoso.cn/zh-cn/"});
    let change = json!({
        "operated_by": "Contoso Software (China)",
        "admin_center_url": "https://admin.contoso.cn",
        "self_help": [resource],
        "categories": ["billing_dispute"]
    });
    let empty = json!({"self_help": []});

    // Act
    let replaced = app
        .patch(&path, &app.admin_key, Some(&created.etag()), &change)
        .await;
    let emptied = app
        .patch(&path, &operator, Some(&replaced.etag()), &empty)
        .await;

    // Assert
    assert_eq!(replaced.status, 200, "{}", replaced.body);
    assert_eq!(replaced.etag(), "\"2\"");
    let mut expected = change.clone();
    expected["self_help"][0]["title_zh"] = Value::Null;
    for (field, value) in expected.as_object().unwrap() {
        assert_eq!(&replaced.body[field], value, "{field}");
    }
    assert_eq!(emptied.status, 200, "{}", emptied.body);
    assert_eq!(emptied.body["self_help"], json!([]));
    assert_eq!(emptied.body["categories"], json!(["billing_dispute"]));
}

#[tokio::test]
async fn an_update_is_validated_like_a_create_and_the_key_is_fixed() {
    // Arrange
    let app = spawn_app().await;
    let operator = app.operator_key().await;
    let path = service_path("azure");
    let every_field_wrong = json!({
        "admin_center_url": "http://portal.azure.cn",
        "support_hours": "weekends",
        "categories": [],
        "self_help": [
            {"title": "Azure docs", "url": "https://docs.azure.cn"},
            {"title": "Azure status", "url": "https://status azure.cn"}
        ]
    });
    let wrong = [
        ("admin_center_url", "invalid_url"),
        ("categories", "length"),
        ("self_help[1].url", "invalid_url"),
        ("support_hours", "invalid_value"),
    ];
    let (new_key, twice) = (
        json!({"key": "azure-china"}),
        json!({"categories": ["product_bug", "product_bug"]}),
    );

    for (label, change, fields) in [
        ("a new key", new_key, &[("key", "unknown_field")][..]),
        ("a category twice", twice, &[("categories", "duplicate")]),
        ("every field wrong", every_field_wrong, &wrong),
    ] {
        // Act
        let answer = app.patch(&path, &operator, Some("\"1\""), &change).await;

        // Assert
        answer.case_refused(label, 422, "validation_failed", fields);
    }
    let azure = app.get(&path, &operator).await;
    assert_eq!(azure.status, 200);
    assert_eq!(azure.etag(), "\"1\"", "refused updates change nothing");
    let renamed = app.get(&service_path("azure-china"), &operator).await;
    renamed.problem(404, "not_found");
}

#[tokio::test]
async fn the_catalog_filters_pages_and_refuses_bad_parameters() {
    // Arrange
    let app = spawn_app().await;
    let operator = app.operator_key().await;
    let partner = app.create_partner("世纪互联合作伙伴").await;
    app.created(SERVICES, &operator, &marketplace_body("contoso-backup"))
        .await;
    let mut fabrikam = marketplace_body("fabrikam-crm");
    fabrikam["operated_by"] = json!("Fabrikam");
    app.created(SERVICES, &operator, &fabrikam).await;
    let (seeded, products) = (seeded_keys(), ["contoso-backup", "fabrikam-crm"]);
    let everything = [&seeded[..], &products].concat();
    let list = async |query: &str, key: &str| app.get(&format!("{SERVICES}?{query}"), key).await;

    // Act / Assert
    for (query, expected) in [
        ("first_party=false", &products[..]),
        ("first_party=true", &seeded),
        ("operated_by=21Vianet", &seeded),
        ("operated_by=Contoso%20Software", &products[..1]),
        ("first_party=false&operated_by=Fabrikam", &products[1..]),
        ("first_party=true&operated_by=Fabrikam", &[]),
        ("operated_by=Nobody", &[]),
    ] {
        let answer = list(query, &partner.key).await;
        assert_eq!(answer.strings("key"), expected, "{query}");
    }
    let first = list("limit=3", &operator).await;
    let cursor = first.body["next_cursor"].as_str().expect("a next_cursor");
    let link = first.next_link().expect("a Link to the next page");
    assert!(link.contains("limit=3") && link.contains(cursor), "{link}");
    let second = app.get(&link, &operator).await;
    let cursor = second.body["next_cursor"].as_str().expect("a next_cursor");
    let params = [("limit", "3"), ("cursor", cursor)];
    let third = app.get_query(SERVICES, &operator, &params).await;
    assert_eq!(first.strings("key"), everything[..3]);
    assert_eq!(second.strings("key"), everything[3..6]);
    assert_eq!(third.strings("key"), everything[6..]);
    assert_eq!(third.body["next_cursor"], Value::Null);
    assert_eq!(third.next_link(), None);
    for (query, field) in [
        ("limit=0", ("limit", "range")),
        ("limit=101", ("limit", "range")),
        ("cursor=not-a-cursor", ("cursor", "invalid_cursor")),
        ("first_party=maybe", ("first_party", "invalid_type")),
        ("colour=blue", ("colour", "unknown_field")),
    ] {
        let answer = list(query, &operator).await;
        answer.case_refused(query, 400, "invalid_query", &[field]);
    }
}
