//! `GET /v1/customers/{customer_id}/services/{service_key}/self-help`: step 3 of the partner
//! procedure as data — the admin center, self-help resources, open incidents on the service and
//! the customer's subscription, with advice naming the escalation criteria that would fail.

use serde_json::{Value, json};
use uuid::Uuid;

use crate::helpers::{Answer, TestApp, TestPartner, incident_body, spawn_app};

// ---------------------------------------------------------------------------------------------
// Helpers local to this module
// ---------------------------------------------------------------------------------------------

fn self_help_path(customer_id: Uuid, service_key: &str) -> String {
    format!("/v1/customers/{customer_id}/services/{service_key}/self-help")
}

/// A partner with one customer; returns both and the customer's id.
async fn partner_with_customer(app: &TestApp) -> (TestPartner, Uuid) {
    let partner = app.create_partner("世纪互联合作伙伴").await;
    let customer = app.create_customer(&partner, "上海云启科技有限公司").await;
    (partner, customer.id())
}

/// Reads the self-help as `key`, asserting 200.
async fn self_help(app: &TestApp, key: &str, customer_id: Uuid, service_key: &str) -> Answer {
    let answer = app
        .get(&self_help_path(customer_id, service_key), key)
        .await;
    assert_eq!(answer.status, 200, "{}", answer.body);
    answer
}

/// The criteria the advice names, in order.
fn criteria(answer: &Answer) -> Vec<&str> {
    answer.body["advice"]
        .as_array()
        .expect("an advice list")
        .iter()
        .map(|advice| advice["criterion"].as_str().expect("a criterion"))
        .collect()
}

/// The message of the advice about `criterion`.
#[track_caller]
fn advice_message<'a>(answer: &'a Answer, criterion: &str) -> &'a str {
    answer.body["advice"]
        .as_array()
        .expect("an advice list")
        .iter()
        .find(|advice| advice["criterion"] == criterion)
        .and_then(|advice| advice["message"].as_str())
        .unwrap_or_else(|| panic!("no advice about {criterion}: {}", answer.body))
}

/// The ids of the active incidents listed.
fn incident_ids(answer: &Answer) -> Vec<Uuid> {
    answer.body["active_incidents"]
        .as_array()
        .expect("an active_incidents list")
        .iter()
        .map(|incident| {
            incident["id"]
                .as_str()
                .and_then(|id| id.parse().ok())
                .expect("an id")
        })
        .collect()
}

/// Adds a marketplace product run by Contoso Software, as an operator.
async fn marketplace_product(app: &TestApp) -> Answer {
    let operator = app.operator_key().await;
    let answer = app
        .post(
            "/v1/services",
            &operator,
            &json!({
                "key": "contoso-backup",
                "name": "Contoso Backup for Microsoft 365",
                "operated_by": "Contoso Software",
                "first_party": false,
                "admin_center_url": "https://backup.contoso.cn/admin",
                "support_hours": "business_hours",
                "self_help": [{"title": "Contoso Backup help center", "url": "https://help.contoso.cn/backup"}],
                "categories": ["service_unavailable", "product_bug"]
            }),
        )
        .await;
    assert_eq!(answer.status, 201, "{}", answer.body);
    answer
}

// ---------------------------------------------------------------------------------------------
// What self-help gathers
// ---------------------------------------------------------------------------------------------

#[tokio::test]
async fn self_help_gathers_the_admin_center_resources_and_subscription() {
    // Arrange
    let app = spawn_app().await;
    let (partner, customer_id) = partner_with_customer(&app).await;
    let subscription = app
        .create_subscription(&partner, customer_id, "azure", "active")
        .await;
    let azure = app.get("/v1/services/azure", &partner.key).await;

    // Act
    let answer = self_help(&app, &partner.key, customer_id, "azure").await;

    // Assert
    let body = &answer.body;
    assert_eq!(body["customer_id"], json!(customer_id));
    assert_eq!(body["admin_center_url"], "https://portal.azure.cn");
    assert_eq!(body["self_help"], azure.body["self_help"]);
    assert!(!body["self_help"].as_array().unwrap().is_empty());
    assert_eq!(body["service"], azure.body);
    assert_eq!(body["active_incidents"], json!([]));
    assert_eq!(body["subscription"], subscription.body);
    assert_eq!(body["advice"], json!([]), "nothing stands in the way");
}

#[tokio::test]
async fn every_seeded_service_has_its_own_admin_center() {
    // Arrange
    let app = spawn_app().await;
    let (partner, customer_id) = partner_with_customer(&app).await;

    for (service_key, url) in [
        (
            "microsoft-365",
            "https://portal.partner.microsoftonline.cn/AdminPortal",
        ),
        (
            "dynamics-365",
            "https://admin.powerplatform.partner.microsoftonline.cn",
        ),
        ("power-bi", "https://app.powerbi.cn"),
        ("power-apps", "https://make.powerapps.cn"),
        ("power-automate", "https://make.powerautomate.cn"),
    ] {
        // Act
        let answer = self_help(&app, &partner.key, customer_id, service_key).await;

        // Assert
        assert_eq!(answer.body["admin_center_url"], url, "{service_key}");
        assert_eq!(answer.body["service"]["key"], service_key);
        assert!(
            !answer.body["self_help"].as_array().unwrap().is_empty(),
            "{service_key}"
        );
    }
}

#[tokio::test]
async fn without_a_subscription_it_is_null_and_advice_names_active_subscription() {
    // Arrange
    let app = spawn_app().await;
    let (partner, customer_id) = partner_with_customer(&app).await;
    app.create_subscription(&partner, customer_id, "microsoft-365", "active")
        .await;

    // Act
    let answer = self_help(&app, &partner.key, customer_id, "azure").await;

    // Assert
    assert_eq!(answer.body["subscription"], Value::Null);
    assert_eq!(criteria(&answer), ["active_subscription"]);
    assert!(
        advice_message(&answer, "active_subscription").contains("no subscription"),
        "{}",
        answer.body
    );
}

#[tokio::test]
async fn a_pending_or_suspended_subscription_is_shown_and_advised_against() {
    // Arrange
    let app = spawn_app().await;
    let (partner, customer_id) = partner_with_customer(&app).await;
    let pending = app
        .create_subscription(&partner, customer_id, "azure", "pending")
        .await;
    let active = app
        .create_subscription(&partner, customer_id, "power-bi", "active")
        .await;
    let suspended = app.move_subscription(&partner, &active, "suspended").await;

    for (service_key, subscription, status) in [
        ("azure", &pending, "pending"),
        ("power-bi", &suspended, "suspended"),
    ] {
        // Act
        let answer = self_help(&app, &partner.key, customer_id, service_key).await;

        // Assert
        assert_eq!(answer.body["subscription"], subscription.body);
        assert_eq!(criteria(&answer), ["active_subscription"], "{status}");
        assert!(
            advice_message(&answer, "active_subscription").contains(status),
            "{}",
            answer.body
        );
    }
}

#[tokio::test]
async fn a_deleted_subscription_counts_as_none_and_a_new_one_is_shown() {
    // Arrange
    let app = spawn_app().await;
    let (partner, customer_id) = partner_with_customer(&app).await;
    let first = app
        .create_subscription(&partner, customer_id, "azure", "active")
        .await;
    app.move_subscription(&partner, &first, "deleted").await;

    // Act
    let after_delete = self_help(&app, &partner.key, customer_id, "azure").await;
    let second = app
        .create_subscription(&partner, customer_id, "azure", "active")
        .await;
    let after_resubscribe = self_help(&app, &partner.key, customer_id, "azure").await;

    // Assert
    assert_eq!(after_delete.body["subscription"], Value::Null);
    assert_eq!(criteria(&after_delete), ["active_subscription"]);
    assert_eq!(after_resubscribe.body["subscription"], second.body);
    assert!(criteria(&after_resubscribe).is_empty());
}

#[tokio::test]
async fn another_customers_subscription_is_not_shown() {
    // Arrange
    let app = spawn_app().await;
    let (partner, customer_id) = partner_with_customer(&app).await;
    let other_customer = app
        .create_customer(&partner, "深圳海岸网络有限公司")
        .await
        .id();
    app.create_subscription(&partner, other_customer, "azure", "active")
        .await;

    // Act
    let answer = self_help(&app, &partner.key, customer_id, "azure").await;

    // Assert
    assert_eq!(answer.body["subscription"], Value::Null);
    assert_eq!(criteria(&answer), ["active_subscription"]);
}

// ---------------------------------------------------------------------------------------------
// Incidents
// ---------------------------------------------------------------------------------------------

#[tokio::test]
async fn only_open_incidents_on_that_service_are_listed() {
    // Arrange
    let app = spawn_app().await;
    let operator = app.operator_key().await;
    let (partner, customer_id) = partner_with_customer(&app).await;
    app.create_subscription(&partner, customer_id, "azure", "active")
        .await;
    let investigating = app
        .create_incident(&operator, &incident_body("azure"))
        .await;
    let mut body = incident_body("azure");
    body["status"] = json!("mitigating");
    let mitigating = app.create_incident(&operator, &body).await;
    let resolved = app
        .create_incident(&operator, &incident_body("azure"))
        .await;
    app.move_incident(&operator, &resolved, "resolved").await;
    app.create_incident(&operator, &incident_body("microsoft-365"))
        .await;
    let update = app
        .post(
            &format!("/v1/service-incidents/{}/updates", investigating.id()),
            &operator,
            &json!({"text": "正在调查华北 2 区域的虚拟机故障。"}),
        )
        .await;
    assert_eq!(update.status, 201, "{}", update.body);

    // Act
    let answer = self_help(&app, &partner.key, customer_id, "azure").await;

    // Assert
    assert_eq!(
        incident_ids(&answer),
        [investigating.id(), mitigating.id()],
        "oldest first; neither the resolved one nor another service's"
    );
    assert_eq!(
        answer.body["active_incidents"][0], update.body,
        "incidents come with their updates"
    );
    assert_eq!(criteria(&answer), ["no_active_incident"]);
    assert!(
        advice_message(&answer, "no_active_incident").starts_with("2 incidents are open"),
        "{}",
        answer.body
    );
}

#[tokio::test]
async fn one_open_incident_is_advised_in_the_singular() {
    // Arrange
    let app = spawn_app().await;
    let operator = app.operator_key().await;
    let (partner, customer_id) = partner_with_customer(&app).await;
    app.create_subscription(&partner, customer_id, "microsoft-365", "active")
        .await;
    app.create_incident(&operator, &incident_body("microsoft-365"))
        .await;

    // Act
    let answer = self_help(&app, &partner.key, customer_id, "microsoft-365").await;

    // Assert
    assert_eq!(criteria(&answer), ["no_active_incident"]);
    assert!(
        advice_message(&answer, "no_active_incident").starts_with("1 incident is open"),
        "{}",
        answer.body
    );
}

#[tokio::test]
async fn an_incident_on_another_service_changes_nothing() {
    // Arrange
    let app = spawn_app().await;
    let operator = app.operator_key().await;
    let (partner, customer_id) = partner_with_customer(&app).await;
    app.create_subscription(&partner, customer_id, "power-bi", "active")
        .await;
    app.create_incident(&operator, &incident_body("azure"))
        .await;

    // Act
    let answer = self_help(&app, &partner.key, customer_id, "power-bi").await;

    // Assert
    assert_eq!(answer.body["active_incidents"], json!([]));
    assert!(criteria(&answer).is_empty(), "{}", answer.body);
}

#[tokio::test]
async fn the_advice_goes_once_the_incident_is_resolved() {
    // Arrange
    let app = spawn_app().await;
    let operator = app.operator_key().await;
    let (partner, customer_id) = partner_with_customer(&app).await;
    app.create_subscription(&partner, customer_id, "azure", "active")
        .await;
    let incident = app
        .create_incident(&operator, &incident_body("azure"))
        .await;
    let during = self_help(&app, &partner.key, customer_id, "azure").await;

    // Act
    app.move_incident(&operator, &incident, "resolved").await;
    let after = self_help(&app, &partner.key, customer_id, "azure").await;

    // Assert
    assert_eq!(criteria(&during), ["no_active_incident"]);
    assert_eq!(after.body["active_incidents"], json!([]));
    assert!(criteria(&after).is_empty(), "{}", after.body);
}

// ---------------------------------------------------------------------------------------------
// Marketplace products
// ---------------------------------------------------------------------------------------------

#[tokio::test]
async fn a_marketplace_product_is_advised_to_go_to_its_publisher() {
    // Arrange
    let app = spawn_app().await;
    let (partner, customer_id) = partner_with_customer(&app).await;
    let product = marketplace_product(&app).await;
    app.create_subscription(&partner, customer_id, "contoso-backup", "active")
        .await;

    // Act
    let answer = self_help(&app, &partner.key, customer_id, "contoso-backup").await;

    // Assert
    assert_eq!(answer.body["service"], product.body);
    assert_eq!(
        answer.body["admin_center_url"],
        "https://backup.contoso.cn/admin"
    );
    assert_eq!(answer.body["self_help"], product.body["self_help"]);
    assert_eq!(criteria(&answer), ["service_escalatable"]);
    assert!(
        advice_message(&answer, "service_escalatable").contains("Contoso Software"),
        "{}",
        answer.body
    );
}

#[tokio::test]
async fn every_known_obstacle_is_advised_at_once() {
    // Arrange
    let app = spawn_app().await;
    let operator = app.operator_key().await;
    let (partner, customer_id) = partner_with_customer(&app).await;
    marketplace_product(&app).await;
    app.create_incident(&operator, &incident_body("contoso-backup"))
        .await;

    // Act
    let answer = self_help(&app, &partner.key, customer_id, "contoso-backup").await;

    // Assert
    assert_eq!(
        criteria(&answer),
        [
            "service_escalatable",
            "active_subscription",
            "no_active_incident"
        ]
    );
}

// ---------------------------------------------------------------------------------------------
// Who may read it
// ---------------------------------------------------------------------------------------------

#[tokio::test]
async fn another_partners_customer_is_404() {
    // Arrange
    let app = spawn_app().await;
    let (owner, customer_id) = partner_with_customer(&app).await;
    app.create_subscription(&owner, customer_id, "azure", "active")
        .await;
    let intruder = app.create_partner("另一家合作伙伴").await;

    // Act
    let foreign = app
        .get(&self_help_path(customer_id, "azure"), &intruder.key)
        .await;
    let missing = app
        .get(&self_help_path(Uuid::now_v7(), "azure"), &intruder.key)
        .await;

    // Assert
    foreign.problem(404, "not_found");
    missing.problem(404, "not_found");
    assert_eq!(
        foreign.body["detail"], missing.body["detail"],
        "another partner's customer looks exactly like a missing one"
    );
}

#[tokio::test]
async fn an_unknown_service_is_404() {
    // Arrange
    let app = spawn_app().await;
    let (partner, customer_id) = partner_with_customer(&app).await;

    for service_key in ["contoso-backup", "Azure"] {
        // Act
        let answer = app
            .get(&self_help_path(customer_id, service_key), &partner.key)
            .await;

        // Assert
        answer.problem(404, "not_found");
    }
}

#[tokio::test]
async fn a_malformed_customer_id_is_400() {
    // Arrange
    let app = spawn_app().await;
    let partner = app.create_partner("世纪互联合作伙伴").await;

    // Act
    let answer = app
        .get(
            "/v1/customers/not-a-uuid/services/azure/self-help",
            &partner.key,
        )
        .await;

    // Assert
    answer.problem(400, "invalid_path_parameter");
    assert_eq!(answer.error_fields(), ["customer_id"]);
}

#[tokio::test]
async fn operators_and_admins_read_any_customers_self_help() {
    // Arrange
    let app = spawn_app().await;
    let operator = app.operator_key().await;
    let (partner, customer_id) = partner_with_customer(&app).await;
    app.create_subscription(&partner, customer_id, "azure", "active")
        .await;

    for key in [&operator, &app.admin_key] {
        // Act
        let answer = self_help(&app, key, customer_id, "azure").await;

        // Assert
        assert_eq!(answer.body["customer_id"], json!(customer_id));
        assert_eq!(answer.body["subscription"]["status"], "active");
        assert!(criteria(&answer).is_empty(), "{}", answer.body);
    }
}
