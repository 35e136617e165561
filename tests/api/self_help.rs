//! `GET /v1/customers/{customer_id}/services/{service_key}/self-help`: step 3 of the partner
//! procedure as data — the admin center, self-help resources, open incidents on the service and
//! the customer's subscription, with advice naming the escalation criteria that would fail.

use serde_json::{Value, json};
use uuid::Uuid;

use crate::helpers::{Answer, TestApp, incident_body, uuid};
use crate::services::{SEEDED, marketplace_body};
use crate::world::World;

fn self_help_path(customer_id: Uuid, service_key: &str) -> String {
    format!("/v1/customers/{customer_id}/services/{service_key}/self-help")
}

/// Reads the self-help as `key`, asserting 200.
async fn self_help(app: &TestApp, key: &str, customer_id: Uuid, service_key: &str) -> Answer {
    let answer = app
        .get(&self_help_path(customer_id, service_key), key)
        .await;
    assert_eq!(answer.status, 200, "{service_key}: {}", answer.body);
    answer
}

/// Asserts the advice names exactly these criteria, in order, each message starting with its
/// text.
#[track_caller]
fn assert_advice(answer: &Answer, expected: &[(&str, &str)]) {
    let advice = answer.body["advice"].as_array().expect("an advice list");
    let criterion = |advice: &Value| advice["criterion"].as_str().unwrap_or_default().to_owned();
    let criteria: Vec<String> = advice.iter().map(criterion).collect();
    let expected_criteria: Vec<&str> = expected.iter().map(|(criterion, _)| *criterion).collect();
    assert_eq!(criteria, expected_criteria, "{}", answer.body);
    for (advice, (_, start)) in advice.iter().zip(expected) {
        let message = advice["message"].as_str().unwrap_or_default();
        assert!(message.starts_with(start), "{start}: {}", answer.body);
    }
}

/// The ids of the active incidents listed.
fn incident_ids(answer: &Answer) -> Vec<Uuid> {
    let incidents = answer.body["active_incidents"].as_array();
    let incidents = incidents.expect("an active_incidents list");
    incidents
        .iter()
        .map(|incident| uuid(&incident["id"]))
        .collect()
}

#[tokio::test]
async fn self_help_gathers_the_admin_center_resources_and_subscription_for_every_role() {
    // Arrange
    let world = World::new().await;
    let (app, partner, customer_id) = (&world.app, &world.partner, world.customer_id);
    let subscription = app
        .create_subscription(partner, customer_id, "azure", "active")
        .await;
    let azure = app.get("/v1/services/azure", &partner.key).await;

    // Act
    let answer = self_help(app, &partner.key, customer_id, "azure").await;
    let by_operator = self_help(app, &world.operator, customer_id, "azure").await;
    let by_admin = self_help(app, &app.admin_key, customer_id, "azure").await;

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
    let why = "operators read any customer's";
    assert_eq!(by_operator.body, answer.body, "{why}");
    assert_eq!(by_admin.body, answer.body, "admins read any customer's");
    // Azure's is read above; every other seeded service's too.
    for (service_key, url) in SEEDED.into_iter().filter(|(key, _)| *key != "azure") {
        let answer = self_help(app, &partner.key, customer_id, service_key).await;
        assert_eq!(answer.body["admin_center_url"], url, "{service_key}");
        assert_eq!(answer.body["service"]["key"], service_key);
        let resources = answer.body["self_help"].as_array().unwrap();
        assert!(!resources.is_empty(), "{service_key}");
    }
}

#[tokio::test]
async fn only_an_active_subscription_of_this_customer_to_this_service_goes_unadvised() {
    // Arrange: the world's customer has an active Microsoft 365 subscription.
    let world = World::new().await;
    let (app, partner, customer_id) = (&world.app, &world.partner, world.customer_id);
    let subscribe = async |service_key: &str, status: &str| {
        app.create_subscription(partner, customer_id, service_key, status)
            .await
    };
    let pending = subscribe("azure", "pending").await;
    let power_bi = subscribe("power-bi", "active").await;
    let suspended = app.move_subscription(partner, &power_bi, "suspended").await;
    let deleted = subscribe("power-apps", "active").await;
    app.move_subscription(partner, &deleted, "deleted").await;
    let other_customer = app.create_customer(partner, "深圳海岸网络有限公司").await;
    let other_customer = other_customer.id();
    app.create_subscription(partner, other_customer, "power-automate", "active")
        .await;
    let none = "the customer has no subscription";

    for (label, service_key, subscription, advice) in [
        ("none, though others", "dynamics-365", Value::Null, none),
        (
            "pending",
            "azure",
            pending.body,
            "the customer's subscription is pending",
        ),
        (
            "suspended",
            "power-bi",
            suspended.body,
            "the customer's subscription is suspended",
        ),
        ("deleted counts as none", "power-apps", Value::Null, none),
        ("another customer's", "power-automate", Value::Null, none),
    ] {
        // Act
        let answer = self_help(app, &partner.key, customer_id, service_key).await;

        // Assert
        assert_eq!(answer.body["subscription"], subscription, "{label}");
        assert_advice(&answer, &[("active_subscription", advice)]);
    }
    let second = subscribe("power-apps", "active").await;
    let resubscribed = self_help(app, &partner.key, customer_id, "power-apps").await;
    assert_eq!(resubscribed.body["subscription"], second.body);
    assert_advice(&resubscribed, &[]);
}

#[tokio::test]
async fn open_incidents_on_the_service_are_listed_and_advised_until_resolved() {
    // Arrange: the world's customer has an active Microsoft 365 subscription.
    let world = World::new().await;
    let (app, partner, customer_id) = (&world.app, &world.partner, world.customer_id);
    let operator = &world.operator;
    for service_key in ["azure", "power-bi"] {
        app.create_subscription(partner, customer_id, service_key, "active")
            .await;
    }
    let open = async |body: Value| app.create_incident(operator, &body).await;
    let investigating = open(incident_body("azure")).await;
    let mut body = incident_body("azure");
    body["status"] = json!("mitigating");
    let mitigating = open(body).await;
    let resolved = open(incident_body("azure")).await;
    app.move_incident(operator, &resolved, "resolved").await;
    let m365 = open(incident_body("microsoft-365")).await;
    let text = json!({"text": "正在调查华北 2 区域的虚拟机故障。"});
    let updates = format!("/v1/service-incidents/{}/updates", investigating.id());
    let update = app.created(&updates, operator, &text).await;

    // Act
    let read =
        async |service_key: &str| self_help(app, &partner.key, customer_id, service_key).await;
    let azure = read("azure").await;
    let microsoft_365 = read("microsoft-365").await;
    let power_bi = read("power-bi").await;
    app.move_incident(operator, &m365, "resolved").await;
    let microsoft_365_after = read("microsoft-365").await;

    // Assert
    assert_eq!(
        incident_ids(&azure),
        [investigating.id(), mitigating.id()],
        "oldest first; neither the resolved one nor another service's"
    );
    let why = "incidents come with their updates";
    assert_eq!(azure.body["active_incidents"][0], update.body, "{why}");
    assert_advice(&azure, &[("no_active_incident", "2 incidents are open")]);
    assert_eq!(incident_ids(&microsoft_365), [m365.id()]);
    assert_advice(
        &microsoft_365,
        &[("no_active_incident", "1 incident is open")],
    );
    let why = "another service's";
    assert_eq!(power_bi.body["active_incidents"], json!([]), "{why}");
    assert_advice(&power_bi, &[]);
    assert_eq!(microsoft_365_after.body["active_incidents"], json!([]));
    assert_advice(&microsoft_365_after, &[]);
}

#[tokio::test]
async fn a_marketplace_product_is_advised_to_go_to_its_publisher_with_any_other_obstacle() {
    // Arrange
    let world = World::new().await;
    let (app, partner, subscribed) = (&world.app, &world.partner, world.customer_id);
    let body = marketplace_body("contoso-backup");
    let product = app.created("/v1/services", &world.operator, &body).await;
    app.create_subscription(partner, subscribed, "contoso-backup", "active")
        .await;
    let unsubscribed = app
        .create_customer(partner, "深圳海岸网络有限公司")
        .await
        .id();

    // Act
    let alone = self_help(app, &partner.key, subscribed, "contoso-backup").await;
    let incident = incident_body("contoso-backup");
    app.create_incident(&world.operator, &incident).await;
    let with_all = self_help(app, &partner.key, unsubscribed, "contoso-backup").await;

    // Assert
    assert_eq!(alone.body["service"], product.body);
    let url = "https://backup.contoso.cn/admin";
    assert_eq!(alone.body["admin_center_url"], url);
    assert_eq!(alone.body["self_help"], product.body["self_help"]);
    let publisher = "this service is run by Contoso Software";
    assert_advice(&alone, &[("service_escalatable", publisher)]);
    assert_advice(
        &with_all,
        &[
            ("service_escalatable", publisher),
            ("active_subscription", "the customer has no subscription"),
            ("no_active_incident", "1 incident is open"),
        ],
    );
}

#[tokio::test]
async fn another_partners_or_an_unknown_customer_or_service_is_404_and_a_bad_id_400() {
    // Arrange
    let world = World::new().await;
    let (app, customer_id, own) = (&world.app, world.customer_id, world.key());
    let intruder = app.create_partner("另一家合作伙伴").await;

    // Act
    let foreign = app
        .get(&self_help_path(customer_id, "azure"), &intruder.key)
        .await;
    let missing = app
        .get(&self_help_path(Uuid::now_v7(), "azure"), &intruder.key)
        .await;
    let unknown = app
        .get(&self_help_path(customer_id, "contoso-backup"), own)
        .await;
    let wrong_case = app.get(&self_help_path(customer_id, "Azure"), own).await;
    let malformed = "/v1/customers/not-a-uuid/services/azure/self-help";
    let malformed = app.get(malformed, own).await;

    // Assert
    for (label, answer) in [
        ("another partner's customer", &foreign),
        ("an unknown customer", &missing),
        ("a service not in the catalog", &unknown),
        ("a service key in the wrong case", &wrong_case),
    ] {
        answer.case_refused(label, 404, "not_found", &[]);
    }
    let bad_id = [("customer_id", "invalid_uuid")];
    malformed.case_refused("malformed", 400, "invalid_path_parameter", &bad_id);
    let why = "another partner's customer looks exactly like a missing one";
    assert_eq!(foreign.body["detail"], missing.body["detail"], "{why}");
}
