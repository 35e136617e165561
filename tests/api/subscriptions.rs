//! `/v1/customers/{customer_id}/subscriptions`: which services a partner's customer has, and in
//! what state — creating, the one-live-subscription rule, the status machine, who may do what,
//! filters and pages.

use serde_json::{Value, json};
use uuid::Uuid;

use crate::helpers::{
    Answer, TestApp, TestPartner, spawn_app, subscription_body, subscription_path,
};

// ---------------------------------------------------------------------------------------------
// Helpers local to this module
// ---------------------------------------------------------------------------------------------

fn subscriptions_path(customer_id: Uuid) -> String {
    format!("/v1/customers/{customer_id}/subscriptions")
}

/// A partner with one customer; returns both and the customer's id.
async fn partner_with_customer(app: &TestApp) -> (TestPartner, Uuid) {
    let partner = app.create_partner("世纪互联合作伙伴").await;
    let customer = app.create_customer(&partner, "上海云启科技有限公司").await;
    (partner, customer.id())
}

/// A fresh customer of `partner` with a subscription to Microsoft 365 brought to `status` through
/// allowed moves; returns the last answer (carrying the subscription and its ETag).
async fn subscription_in(app: &TestApp, partner: &TestPartner, status: &str) -> Answer {
    let customer_id = app
        .create_customer(partner, "北京星河贸易有限公司")
        .await
        .id();
    match status {
        "pending" => {
            app.create_subscription(partner, customer_id, "microsoft-365", "pending")
                .await
        }
        "active" => {
            app.create_subscription(partner, customer_id, "microsoft-365", "active")
                .await
        }
        "suspended" | "deleted" => {
            let active = app
                .create_subscription(partner, customer_id, "microsoft-365", "active")
                .await;
            app.move_subscription(partner, &active, status).await
        }
        other => panic!("no way to reach {other}"),
    }
}

/// The path of the subscription an answer carries.
fn path_of(answer: &Answer) -> String {
    let customer_id: Uuid = answer.body["customer_id"]
        .as_str()
        .and_then(|id| id.parse().ok())
        .expect("a customer_id");
    subscription_path(customer_id, answer.id())
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

/// The service keys of a 200 list answer, in order.
#[track_caller]
fn service_keys(answer: &Answer) -> Vec<String> {
    answer
        .items()
        .iter()
        .map(|s| s["service_key"].as_str().expect("a service_key").to_owned())
        .collect()
}

// ---------------------------------------------------------------------------------------------
// Create
// ---------------------------------------------------------------------------------------------

#[tokio::test]
async fn a_partner_adds_a_subscription_for_its_own_customer() {
    // Arrange
    let app = spawn_app().await;
    let (partner, customer_id) = partner_with_customer(&app).await;
    let body = json!({
        "service_key": "microsoft-365",
        "offer_name": "Office 365 E3 (operated by 21Vianet)",
        "quantity": 250
    });

    // Act
    let answer = app
        .post(&subscriptions_path(customer_id), &partner.key, &body)
        .await;

    // Assert
    assert_eq!(answer.status, 201, "{}", answer.body);
    let id = answer.id();
    assert_eq!(
        answer.header("location"),
        Some(subscription_path(customer_id, id).as_str())
    );
    assert_eq!(answer.etag(), "\"1\"");
    assert_eq!(id.get_version_num(), 7, "ids are UUID v7");
    let subscription = &answer.body;
    assert_eq!(subscription["customer_id"], json!(customer_id));
    assert_eq!(subscription["service_key"], "microsoft-365");
    assert_eq!(
        subscription["offer_name"],
        "Office 365 E3 (operated by 21Vianet)"
    );
    assert_eq!(subscription["quantity"], 250);
    assert_eq!(
        subscription["status"], "active",
        "status defaults to active"
    );
    assert_eq!(subscription["version"], 1);
    assert!(
        subscription.get("partner_id").is_none(),
        "the partner is implied"
    );
    let read = app
        .get(answer.header("location").unwrap(), &partner.key)
        .await;
    assert_eq!(read.status, 200, "{}", read.body);
    assert_eq!(read.body, answer.body);
    assert_eq!(read.etag(), "\"1\"");
}

#[tokio::test]
async fn a_subscription_may_start_pending() {
    // Arrange
    let app = spawn_app().await;
    let (partner, customer_id) = partner_with_customer(&app).await;

    // Act
    let answer = app
        .post(
            &subscriptions_path(customer_id),
            &partner.key,
            &subscription_body("azure", "pending"),
        )
        .await;

    // Assert
    assert_eq!(answer.status, 201, "{}", answer.body);
    assert_eq!(answer.body["status"], "pending");
}

#[tokio::test]
async fn a_subscription_cannot_start_suspended_or_deleted() {
    // Arrange
    let app = spawn_app().await;
    let (partner, customer_id) = partner_with_customer(&app).await;

    for status in ["suspended", "deleted", "cancelled"] {
        // Act
        let answer = app
            .post(
                &subscriptions_path(customer_id),
                &partner.key,
                &subscription_body("azure", status),
            )
            .await;

        // Assert
        answer.problem(422, "validation_failed");
        assert_eq!(answer.error_fields(), ["status"], "{status}");
    }
    let list = app
        .get(&subscriptions_path(customer_id), &partner.key)
        .await;
    assert!(list.items().is_empty(), "nothing was written");
}

#[tokio::test]
async fn quantity_must_be_between_1_and_1000000() {
    // Arrange
    let app = spawn_app().await;
    let (partner, customer_id) = partner_with_customer(&app).await;

    for quantity in [json!(0), json!(1_000_001), json!(-5)] {
        let mut body = subscription_body("azure", "active");
        body["quantity"] = quantity.clone();

        // Act
        let answer = app
            .post(&subscriptions_path(customer_id), &partner.key, &body)
            .await;

        // Assert
        answer.problem(422, "validation_failed");
        assert_eq!(
            field_codes(&answer),
            [("quantity".to_owned(), "range".to_owned())],
            "{quantity}"
        );
    }
    for (service_key, quantity) in [("azure", 1), ("power-bi", 1_000_000)] {
        let mut body = subscription_body(service_key, "active");
        body["quantity"] = json!(quantity);
        let answer = app
            .post(&subscriptions_path(customer_id), &partner.key, &body)
            .await;
        assert_eq!(answer.status, 201, "{quantity}: {}", answer.body);
        assert_eq!(answer.body["quantity"], quantity);
    }
}

#[tokio::test]
async fn a_whole_number_written_as_a_float_is_read_as_an_integer() {
    // Arrange
    let app = spawn_app().await;
    let (partner, customer_id) = partner_with_customer(&app).await;
    let mut body = subscription_body("azure", "active");
    body["quantity"] = json!(250.0);

    // Act
    let answer = app
        .post(&subscriptions_path(customer_id), &partner.key, &body)
        .await;

    // Assert
    assert_eq!(answer.status, 201, "{}", answer.body);
    assert_eq!(answer.body["quantity"].as_i64(), Some(250));
}

#[tokio::test]
async fn a_fractional_or_textual_quantity_is_refused() {
    // Arrange
    let app = spawn_app().await;
    let (partner, customer_id) = partner_with_customer(&app).await;

    for quantity in [json!(2.5), json!("250")] {
        let mut body = subscription_body("azure", "active");
        body["quantity"] = quantity.clone();

        // Act
        let answer = app
            .post(&subscriptions_path(customer_id), &partner.key, &body)
            .await;

        // Assert
        answer.problem(422, "validation_failed");
        assert_eq!(answer.error_fields(), ["quantity"], "{quantity}");
    }
}

#[tokio::test]
async fn missing_and_malformed_fields_are_all_listed() {
    // Arrange
    let app = spawn_app().await;
    let (partner, customer_id) = partner_with_customer(&app).await;

    // Act
    let empty = app
        .post(&subscriptions_path(customer_id), &partner.key, &json!({}))
        .await;
    let malformed = app
        .post(
            &subscriptions_path(customer_id),
            &partner.key,
            &json!({"service_key": "Power_BI", "offer_name": "  ", "quantity": 0}),
        )
        .await;

    // Assert
    empty.problem(422, "validation_failed");
    assert_eq!(
        empty.error_fields(),
        ["offer_name", "quantity", "service_key"]
    );
    malformed.problem(422, "validation_failed");
    assert_eq!(
        field_codes(&malformed),
        [
            ("offer_name".to_owned(), "length".to_owned()),
            ("quantity".to_owned(), "range".to_owned()),
            ("service_key".to_owned(), "invalid_service_key".to_owned()),
        ]
    );
}

#[tokio::test]
async fn a_subscription_to_a_service_not_in_the_catalog_is_404() {
    // Arrange
    let app = spawn_app().await;
    let (partner, customer_id) = partner_with_customer(&app).await;

    // Act
    let answer = app
        .post(
            &subscriptions_path(customer_id),
            &partner.key,
            &subscription_body("contoso-backup", "active"),
        )
        .await;

    // Assert
    answer.problem(404, "not_found");
    let list = app
        .get(&subscriptions_path(customer_id), &partner.key)
        .await;
    assert!(list.items().is_empty());
}

#[tokio::test]
async fn a_partner_subscribes_its_customer_to_a_marketplace_product() {
    // Arrange
    let app = spawn_app().await;
    let (partner, customer_id) = partner_with_customer(&app).await;
    let operator = app.operator_key().await;
    let product = app
        .post(
            "/v1/services",
            &operator,
            &json!({
                "key": "contoso-backup", "name": "Contoso Backup", "operated_by": "Contoso Software",
                "first_party": false, "admin_center_url": "https://backup.contoso.cn",
                "support_hours": "business_hours", "categories": ["product_bug"]
            }),
        )
        .await;
    assert_eq!(product.status, 201, "{}", product.body);

    // Act
    let answer = app
        .post(
            &subscriptions_path(customer_id),
            &partner.key,
            &subscription_body("contoso-backup", "active"),
        )
        .await;

    // Assert
    assert_eq!(answer.status, 201, "{}", answer.body);
    assert_eq!(answer.body["service_key"], "contoso-backup");
}

// ---------------------------------------------------------------------------------------------
// One live subscription per customer and service
// ---------------------------------------------------------------------------------------------

#[tokio::test]
async fn a_second_live_subscription_to_the_same_service_is_409_naming_service_key() {
    // Arrange
    let app = spawn_app().await;
    let (partner, customer_id) = partner_with_customer(&app).await;
    app.create_subscription(&partner, customer_id, "azure", "active")
        .await;

    for status in ["active", "pending"] {
        // Act
        let answer = app
            .post(
                &subscriptions_path(customer_id),
                &partner.key,
                &subscription_body("azure", status),
            )
            .await;

        // Assert
        answer.problem(409, "already_exists");
        assert_eq!(answer.error_fields(), ["service_key"]);
    }
    let list = app
        .get(&subscriptions_path(customer_id), &partner.key)
        .await;
    assert_eq!(list.items().len(), 1);
}

#[tokio::test]
async fn a_pending_or_suspended_subscription_also_blocks_a_second_one() {
    // Arrange
    let app = spawn_app().await;
    let (partner, customer_id) = partner_with_customer(&app).await;
    app.create_subscription(&partner, customer_id, "azure", "pending")
        .await;
    let active = app
        .create_subscription(&partner, customer_id, "power-bi", "active")
        .await;
    app.move_subscription(&partner, &active, "suspended").await;

    for service_key in ["azure", "power-bi"] {
        // Act
        let answer = app
            .post(
                &subscriptions_path(customer_id),
                &partner.key,
                &subscription_body(service_key, "active"),
            )
            .await;

        // Assert
        answer.problem(409, "already_exists");
        assert_eq!(answer.error_fields(), ["service_key"], "{service_key}");
    }
}

#[tokio::test]
async fn other_services_and_other_customers_are_not_affected_by_the_rule() {
    // Arrange
    let app = spawn_app().await;
    let (partner, customer_id) = partner_with_customer(&app).await;
    let other_customer = app
        .create_customer(&partner, "深圳海岸网络有限公司")
        .await
        .id();
    app.create_subscription(&partner, customer_id, "azure", "active")
        .await;

    // Act
    let other_service = app
        .post(
            &subscriptions_path(customer_id),
            &partner.key,
            &subscription_body("microsoft-365", "active"),
        )
        .await;
    let same_service_other_customer = app
        .post(
            &subscriptions_path(other_customer),
            &partner.key,
            &subscription_body("azure", "active"),
        )
        .await;

    // Assert
    assert_eq!(other_service.status, 201, "{}", other_service.body);
    assert_eq!(
        same_service_other_customer.status, 201,
        "{}",
        same_service_other_customer.body
    );
}

#[tokio::test]
async fn a_service_can_be_subscribed_again_once_the_old_subscription_is_deleted() {
    // Arrange
    let app = spawn_app().await;
    let (partner, customer_id) = partner_with_customer(&app).await;
    let first = app
        .create_subscription(&partner, customer_id, "azure", "active")
        .await;
    app.move_subscription(&partner, &first, "deleted").await;

    // Act
    let again = app
        .post(
            &subscriptions_path(customer_id),
            &partner.key,
            &subscription_body("azure", "active"),
        )
        .await;

    // Assert
    assert_eq!(again.status, 201, "{}", again.body);
    assert_ne!(again.id(), first.id());
    let list = app
        .get(&subscriptions_path(customer_id), &partner.key)
        .await;
    let statuses: Vec<&Value> = list.items().iter().map(|s| &s["status"]).collect();
    assert_eq!(statuses, [&json!("deleted"), &json!("active")]);
    let third = app
        .post(
            &subscriptions_path(customer_id),
            &partner.key,
            &subscription_body("azure", "active"),
        )
        .await;
    third.problem(409, "already_exists");
}

// ---------------------------------------------------------------------------------------------
// Who may do what
// ---------------------------------------------------------------------------------------------

#[tokio::test]
async fn another_partners_customer_is_404_on_every_subscription_endpoint() {
    // Arrange
    let app = spawn_app().await;
    let (owner, customer_id) = partner_with_customer(&app).await;
    let subscription = app
        .create_subscription(&owner, customer_id, "azure", "active")
        .await;
    let intruder = app.create_partner("另一家合作伙伴").await;
    let path = subscription_path(customer_id, subscription.id());

    // Act
    let created = app
        .post(
            &subscriptions_path(customer_id),
            &intruder.key,
            &subscription_body("power-bi", "active"),
        )
        .await;
    let listed = app
        .get(&subscriptions_path(customer_id), &intruder.key)
        .await;
    let read = app.get(&path, &intruder.key).await;
    let patched = app
        .patch(
            &path,
            &intruder.key,
            Some("\"1\""),
            &json!({"status": "suspended"}),
        )
        .await;

    // Assert
    created.problem(404, "not_found");
    listed.problem(404, "not_found");
    read.problem(404, "not_found");
    patched.problem(404, "not_found");
    let unchanged = app.get(&path, &owner.key).await;
    assert_eq!(unchanged.body["status"], "active");
    assert_eq!(unchanged.etag(), "\"1\"");
    let owners_list = app.get(&subscriptions_path(customer_id), &owner.key).await;
    assert_eq!(service_keys(&owners_list), ["azure"]);
}

#[tokio::test]
async fn an_unknown_customer_is_404() {
    // Arrange
    let app = spawn_app().await;
    let partner = app.create_partner("世纪互联合作伙伴").await;
    let nobody = Uuid::now_v7();

    // Act
    let created = app
        .post(
            &subscriptions_path(nobody),
            &partner.key,
            &subscription_body("azure", "active"),
        )
        .await;
    let listed = app.get(&subscriptions_path(nobody), &app.admin_key).await;

    // Assert
    created.problem(404, "not_found");
    listed.problem(404, "not_found");
}

#[tokio::test]
async fn operators_and_admins_read_subscriptions_but_cannot_write_them() {
    // Arrange
    let app = spawn_app().await;
    let (partner, customer_id) = partner_with_customer(&app).await;
    let subscription = app
        .create_subscription(&partner, customer_id, "azure", "active")
        .await;
    let operator = app.operator_key().await;
    let path = subscription_path(customer_id, subscription.id());

    for key in [&operator, &app.admin_key] {
        // Act
        let listed = app.get(&subscriptions_path(customer_id), key).await;
        let read = app.get(&path, key).await;
        let created = app
            .post(
                &subscriptions_path(customer_id),
                key,
                &subscription_body("power-bi", "active"),
            )
            .await;
        let patched = app
            .patch(&path, key, Some("\"1\""), &json!({"status": "suspended"}))
            .await;

        // Assert
        assert_eq!(service_keys(&listed), ["azure"]);
        assert_eq!(read.status, 200, "{}", read.body);
        assert_eq!(read.body, subscription.body);
        created.problem(403, "forbidden");
        patched.problem(403, "forbidden");
    }
    let unchanged = app.get(&path, &partner.key).await;
    assert_eq!(unchanged.etag(), "\"1\"");
    assert_eq!(unchanged.body["status"], "active");
}

#[tokio::test]
async fn a_subscription_under_another_customers_path_is_404() {
    // Arrange
    let app = spawn_app().await;
    let (partner, customer_id) = partner_with_customer(&app).await;
    let other_customer = app
        .create_customer(&partner, "深圳海岸网络有限公司")
        .await
        .id();
    let subscription = app
        .create_subscription(&partner, customer_id, "azure", "active")
        .await;
    let wrong_path = subscription_path(other_customer, subscription.id());

    // Act
    let read = app.get(&wrong_path, &partner.key).await;
    let read_by_admin = app.get(&wrong_path, &app.admin_key).await;
    let patched = app
        .patch(
            &wrong_path,
            &partner.key,
            Some("\"1\""),
            &json!({"status": "deleted"}),
        )
        .await;
    let other_list = app
        .get(&subscriptions_path(other_customer), &partner.key)
        .await;

    // Assert
    read.problem(404, "not_found");
    read_by_admin.problem(404, "not_found");
    patched.problem(404, "not_found");
    assert!(other_list.items().is_empty());
    let unchanged = app
        .get(
            &subscription_path(customer_id, subscription.id()),
            &partner.key,
        )
        .await;
    assert_eq!(unchanged.body["status"], "active");
}

#[tokio::test]
async fn an_unknown_subscription_is_404() {
    // Arrange
    let app = spawn_app().await;
    let (partner, customer_id) = partner_with_customer(&app).await;
    let path = subscription_path(customer_id, Uuid::now_v7());

    // Act
    let read = app.get(&path, &partner.key).await;
    let patched = app
        .patch(&path, &partner.key, Some("\"1\""), &json!({"quantity": 3}))
        .await;

    // Assert
    read.problem(404, "not_found");
    patched.problem(404, "not_found");
}

// ---------------------------------------------------------------------------------------------
// The status machine
// ---------------------------------------------------------------------------------------------

#[tokio::test]
async fn every_allowed_status_move_succeeds() {
    // Arrange
    let app = spawn_app().await;
    let partner = app.create_partner("世纪互联合作伙伴").await;
    let moves = [
        ("pending", "active"),
        ("pending", "deleted"),
        ("active", "suspended"),
        ("active", "deleted"),
        ("suspended", "active"),
        ("suspended", "deleted"),
    ];

    for (from, to) in moves {
        let current = subscription_in(&app, &partner, from).await;
        assert_eq!(current.body["status"], from);
        let version = current.body["version"].as_i64().unwrap();

        // Act
        let answer = app
            .patch(
                &path_of(&current),
                &partner.key,
                Some(&current.etag()),
                &json!({"status": to}),
            )
            .await;

        // Assert
        assert_eq!(answer.status, 200, "{from} -> {to}: {}", answer.body);
        assert_eq!(answer.body["status"], to, "{from} -> {to}");
        assert_eq!(answer.body["version"], version + 1, "{from} -> {to}");
        assert_eq!(answer.etag(), format!("\"{}\"", version + 1));
        assert_ne!(answer.etag(), current.etag());
        let read = app.get(&path_of(&current), &partner.key).await;
        assert_eq!(read.body["status"], to, "{from} -> {to}");
    }
}

#[tokio::test]
async fn a_suspended_subscription_is_reactivated_and_suspended_again() {
    // Arrange
    let app = spawn_app().await;
    let partner = app.create_partner("世纪互联合作伙伴").await;
    let active = subscription_in(&app, &partner, "active").await;

    // Act
    let suspended = app.move_subscription(&partner, &active, "suspended").await;
    let reactivated = app.move_subscription(&partner, &suspended, "active").await;
    let suspended_again = app
        .move_subscription(&partner, &reactivated, "suspended")
        .await;

    // Assert
    assert_eq!(suspended_again.body["status"], "suspended");
    assert_eq!(suspended_again.etag(), "\"4\"");
}

#[tokio::test]
async fn refused_status_moves_are_409_naming_the_allowed_ones() {
    // Arrange
    let app = spawn_app().await;
    let partner = app.create_partner("世纪互联合作伙伴").await;
    let refused = [
        ("pending", "suspended", "active or deleted"),
        ("active", "pending", "suspended or deleted"),
        ("suspended", "pending", "active or deleted"),
        ("deleted", "active", "is final"),
        ("deleted", "pending", "is final"),
        ("deleted", "suspended", "is final"),
    ];

    for (from, to, allowed) in refused {
        let current = subscription_in(&app, &partner, from).await;

        // Act
        let answer = app
            .patch(
                &path_of(&current),
                &partner.key,
                Some(&current.etag()),
                &json!({"status": to}),
            )
            .await;

        // Assert
        let problem = answer.problem(409, "invalid_transition");
        assert_eq!(answer.error_fields(), ["status"], "{from} -> {to}");
        assert_eq!(problem["errors"][0]["code"], "invalid_transition");
        let message = problem["errors"][0]["message"].as_str().unwrap();
        assert!(
            message.contains(allowed),
            "{from} -> {to}: the allowed moves ({allowed}) are named: {problem}"
        );
        if from != "deleted" {
            let detail = problem["detail"].as_str().unwrap();
            assert!(
                detail.contains(from) && detail.contains(to) && detail.contains(allowed),
                "{from} -> {to}: {detail}"
            );
        }
        let read = app.get(&path_of(&current), &partner.key).await;
        assert_eq!(read.body["status"], from, "{from} -> {to}: unchanged");
        assert_eq!(read.etag(), current.etag(), "{from} -> {to}: unchanged");
    }
}

#[tokio::test]
async fn a_deleted_subscription_refuses_every_change() {
    // Arrange
    let app = spawn_app().await;
    let partner = app.create_partner("世纪互联合作伙伴").await;
    let deleted = subscription_in(&app, &partner, "deleted").await;

    for body in [
        json!({"offer_name": "Office 365 E5 (operated by 21Vianet)"}),
        json!({"quantity": 10}),
        json!({"status": "deleted"}),
    ] {
        // Act
        let answer = app
            .patch(
                &path_of(&deleted),
                &partner.key,
                Some(&deleted.etag()),
                &body,
            )
            .await;

        // Assert
        answer.problem(409, "invalid_transition");
        assert_eq!(answer.error_fields(), ["status"], "{body}");
    }
    let read = app.get(&path_of(&deleted), &partner.key).await;
    assert_eq!(read.body, deleted.body);
    assert_eq!(read.etag(), deleted.etag());
}

#[tokio::test]
async fn offer_name_and_quantity_change_without_a_status_move() {
    // Arrange
    let app = spawn_app().await;
    let partner = app.create_partner("世纪互联合作伙伴").await;
    let current = subscription_in(&app, &partner, "suspended").await;

    // Act
    let answer = app
        .patch(
            &path_of(&current),
            &partner.key,
            Some(&current.etag()),
            &json!({"offer_name": "Office 365 E5 (operated by 21Vianet)", "quantity": 300, "status": "suspended"}),
        )
        .await;

    // Assert
    assert_eq!(answer.status, 200, "{}", answer.body);
    assert_eq!(
        answer.body["offer_name"],
        "Office 365 E5 (operated by 21Vianet)"
    );
    assert_eq!(answer.body["quantity"], 300);
    assert_eq!(
        answer.body["status"], "suspended",
        "staying put is not a move"
    );
    assert_ne!(answer.etag(), current.etag());
}

#[tokio::test]
async fn an_update_is_validated() {
    // Arrange
    let app = spawn_app().await;
    let partner = app.create_partner("世纪互联合作伙伴").await;
    let current = subscription_in(&app, &partner, "active").await;

    // Act
    let answer = app
        .patch(
            &path_of(&current),
            &partner.key,
            Some(&current.etag()),
            &json!({"quantity": 0, "offer_name": "", "service_key": "azure", "status": "gone"}),
        )
        .await;

    // Assert
    answer.problem(422, "validation_failed");
    assert_eq!(
        answer.error_fields(),
        ["offer_name", "quantity", "service_key", "status"]
    );
    let read = app.get(&path_of(&current), &partner.key).await;
    assert_eq!(read.etag(), current.etag());
}

#[tokio::test]
async fn an_update_without_if_match_is_428_and_a_stale_one_412() {
    // Arrange
    let app = spawn_app().await;
    let partner = app.create_partner("世纪互联合作伙伴").await;
    let current = subscription_in(&app, &partner, "active").await;
    let path = path_of(&current);

    // Act
    let without = app
        .patch(&path, &partner.key, None, &json!({"status": "suspended"}))
        .await;
    let first = app
        .patch(
            &path,
            &partner.key,
            Some(&current.etag()),
            &json!({"quantity": 10}),
        )
        .await;
    let stale = app
        .patch(
            &path,
            &partner.key,
            Some(&current.etag()),
            &json!({"status": "suspended"}),
        )
        .await;

    // Assert
    without.problem(428, "if_match_required");
    assert_eq!(first.status, 200, "{}", first.body);
    stale.problem(412, "stale_version");
    let read = app.get(&path, &partner.key).await;
    assert_eq!(read.body["status"], "active");
    assert_eq!(read.body["quantity"], 10);
    assert_eq!(read.etag(), first.etag());
}

// ---------------------------------------------------------------------------------------------
// List filters and pagination
// ---------------------------------------------------------------------------------------------

#[tokio::test]
async fn the_list_filters_on_status_and_service_key() {
    // Arrange
    let app = spawn_app().await;
    let (partner, customer_id) = partner_with_customer(&app).await;
    app.create_subscription(&partner, customer_id, "microsoft-365", "active")
        .await;
    app.create_subscription(&partner, customer_id, "azure", "pending")
        .await;
    let power_bi = app
        .create_subscription(&partner, customer_id, "power-bi", "active")
        .await;
    app.move_subscription(&partner, &power_bi, "suspended")
        .await;
    let dynamics = app
        .create_subscription(&partner, customer_id, "dynamics-365", "active")
        .await;
    app.move_subscription(&partner, &dynamics, "deleted").await;
    let path = subscriptions_path(customer_id);
    let list = async |params: &[(&str, &str)]| {
        service_keys(&app.get_query(&path, &partner.key, params).await)
    };

    // Act / Assert
    assert_eq!(
        list(&[]).await,
        ["microsoft-365", "azure", "power-bi", "dynamics-365"]
    );
    assert_eq!(list(&[("status", "active")]).await, ["microsoft-365"]);
    assert_eq!(list(&[("status", "pending")]).await, ["azure"]);
    assert_eq!(list(&[("status", "suspended")]).await, ["power-bi"]);
    assert_eq!(list(&[("status", "deleted")]).await, ["dynamics-365"]);
    assert_eq!(list(&[("service_key", "azure")]).await, ["azure"]);
    assert_eq!(
        list(&[("service_key", "azure"), ("status", "pending")]).await,
        ["azure"]
    );
    assert!(
        list(&[("service_key", "azure"), ("status", "active")])
            .await
            .is_empty()
    );
    assert!(list(&[("service_key", "power-apps")]).await.is_empty());
}

#[tokio::test]
async fn bad_list_parameters_are_400_invalid_query() {
    // Arrange
    let app = spawn_app().await;
    let (partner, customer_id) = partner_with_customer(&app).await;
    let path = subscriptions_path(customer_id);

    for (params, field) in [
        (&[("status", "cancelled")][..], "status"),
        (&[("service_key", "Power_BI")], "service_key"),
        (&[("limit", "0")], "limit"),
        (&[("limit", "101")], "limit"),
        (&[("cursor", "nope")], "cursor"),
    ] {
        // Act
        let answer = app.get_query(&path, &partner.key, params).await;

        // Assert
        answer.problem(400, "invalid_query");
        assert_eq!(answer.error_fields(), [field], "{params:?}");
    }
}

#[tokio::test]
async fn the_list_pages_with_limit_and_cursor() {
    // Arrange
    let app = spawn_app().await;
    let (partner, customer_id) = partner_with_customer(&app).await;
    let services = [
        "microsoft-365",
        "azure",
        "dynamics-365",
        "power-bi",
        "power-apps",
    ];
    let mut created = Vec::new();
    for service_key in services {
        created.push(
            app.create_subscription(&partner, customer_id, service_key, "active")
                .await
                .id(),
        );
    }
    let path = subscriptions_path(customer_id);

    // Act
    let mut pages = Vec::new();
    let mut answer = app
        .get_query(&path, &partner.key, &[("limit", "2"), ("status", "active")])
        .await;
    loop {
        pages.push(answer.item_ids());
        let Some(next) = answer.body["next_cursor"].as_str() else {
            assert_eq!(answer.next_link(), None);
            break;
        };
        let link = answer.next_link().expect("a Link to the next page");
        assert!(
            link.contains("status=active") && link.contains(next),
            "{link}"
        );
        answer = app.get(&link, &partner.key).await;
    }

    // Assert
    assert_eq!(
        pages.iter().map(Vec::len).collect::<Vec<_>>(),
        [2, 2, 1],
        "{pages:?}"
    );
    assert_eq!(pages.concat(), created, "oldest first, each once");
}

// ---------------------------------------------------------------------------------------------
// Concurrency
// ---------------------------------------------------------------------------------------------

#[tokio::test]
async fn concurrent_creates_of_the_same_subscription_give_one_201_and_409s() {
    // Arrange
    let app = spawn_app().await;
    let (partner, customer_id) = partner_with_customer(&app).await;
    let url = app.url(&subscriptions_path(customer_id));

    // Act
    let mut tasks = Vec::new();
    for _ in 0..6 {
        let request = app
            .client
            .post(&url)
            .bearer_auth(&partner.key)
            .json(&subscription_body("azure", "active"));
        tasks.push(tokio::spawn(async move {
            Answer::read(request.send().await.expect("the request is sent")).await
        }));
    }
    let mut answers = Vec::new();
    for task in tasks {
        answers.push(task.await.expect("the request task completes"));
    }

    // Assert
    let statuses: Vec<u16> = answers.iter().map(|a| a.status).collect();
    assert_eq!(
        statuses.iter().filter(|s| **s == 201).count(),
        1,
        "{statuses:?}"
    );
    for refused in answers.iter().filter(|a| a.status != 201) {
        refused.problem(409, "already_exists");
        assert_eq!(refused.error_fields(), ["service_key"]);
    }
    let list = app
        .get(&subscriptions_path(customer_id), &partner.key)
        .await;
    assert_eq!(list.items().len(), 1);
}

/// `deleted` is final whatever `If-Match` says: a PATCH with `If-Match: *` that read the
/// subscription while it was still active must not write a new status over a deletion that
/// committed in between. Each round races one deletion against wildcard suspensions; the first
/// round that ends with a deleted subscription no longer deleted fails the test.
#[tokio::test]
async fn a_deletion_stays_final_against_concurrent_wildcard_updates() {
    // Arrange
    let app = spawn_app().await;
    let partner = app.create_partner("世纪互联合作伙伴").await;

    for round in 0..40 {
        let subscription = subscription_in(&app, &partner, "active").await;
        let url = app.url(&path_of(&subscription));

        // Act
        let mut tasks = Vec::new();
        for n in 0..6 {
            let (status, if_match) = if n == 0 {
                ("deleted", subscription.etag())
            } else {
                ("suspended", "*".to_owned())
            };
            let request = app
                .client
                .patch(&url)
                .bearer_auth(&partner.key)
                .header("If-Match", if_match)
                .json(&json!({"status": status}));
            tasks.push(tokio::spawn(async move {
                let answer = Answer::read(request.send().await.expect("the request is sent")).await;
                (status, answer)
            }));
        }
        let mut deletion_accepted = false;
        for task in tasks {
            let (status, answer) = task.await.expect("the request task completes");
            assert!(
                matches!(answer.status, 200 | 409 | 412),
                "{status}: {}",
                answer.body
            );
            deletion_accepted |= status == "deleted" && answer.status == 200;
        }

        // Assert
        let read = app.get(&path_of(&subscription), &partner.key).await;
        if deletion_accepted {
            assert_eq!(
                read.body["status"], "deleted",
                "round {round}: a deletion answered 200, then a wildcard PATCH moved the deleted \
                 subscription on: {}",
                read.body
            );
        }
    }
}
