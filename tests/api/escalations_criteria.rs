//! The 21Vianet escalation criteria about who escalates what, through `POST /v1/escalations`:
//! the customer (another partner's is 404), the partner's own tenant, the service, the
//! subscription, the category, the severity and the partner's standing. Each failing alone is
//! 422 `criteria_not_met` naming exactly that criterion; several failing are all listed. What the
//! partner must have done and said is in `escalations_diligence`, duplicates in
//! `escalations_duplicates`.

use escalade::domain::{
    CompanyName, CountryCode, DisplayName, DomainName, EmailAddress, SupportPlan,
};
use escalade::store::customers::{self, Contact, NewCustomer};
use serde_json::{Value, json};
use uuid::Uuid;

use crate::helpers::{
    ESCALATIONS, TestApp, TestPartner, assert_refused, escalation_body, incident_body, spawn_app,
    violation_message,
};

// ---------------------------------------------------------------------------------------------
// Helpers local to this module
// ---------------------------------------------------------------------------------------------

/// A service `key` in the catalog, created by an operator.
async fn create_service(
    app: &TestApp,
    key: &str,
    operated_by: &str,
    first_party: bool,
    categories: Value,
) {
    let operator = app.operator_key().await;
    let answer = app
        .post(
            "/v1/services",
            &operator,
            &json!({
                "key": key,
                "name": format!("{key} service"),
                "operated_by": operated_by,
                "first_party": first_party,
                "admin_center_url": "https://admin.example.cn",
                "support_hours": "business_hours",
                "categories": categories
            }),
        )
        .await;
    assert_eq!(answer.status, 201, "{}", answer.body);
}

/// Suspends or reactivates `partner` as the admin.
async fn set_partner_status(app: &TestApp, partner: &TestPartner, status: &str) {
    let path = format!("/v1/partners/{}", partner.id);
    let current = app.get(&path, &app.admin_key).await;
    assert_eq!(current.status, 200, "{}", current.body);
    let answer = app
        .patch(
            &path,
            &app.admin_key,
            Some(&current.etag()),
            &json!({"status": status}),
        )
        .await;
    assert_eq!(answer.status, 200, "{}", answer.body);
}

// ---------------------------------------------------------------------------------------------
// customer_relationship: 404, not 422
// ---------------------------------------------------------------------------------------------

#[tokio::test]
async fn another_partners_customer_is_404() {
    // Arrange
    let app = spawn_app().await;
    let fixture = app.escalation_fixture("standard").await;
    let other = app.create_partner("Other partner").await;
    let mut also_bad = fixture.body.clone();
    also_bad["category"] = json!("how_to");

    for body in [&fixture.body, &also_bad] {
        // Act
        let answer = app.post(ESCALATIONS, &other.key, body).await;

        // Assert
        answer.problem(404, "not_found");
        assert!(answer.body.get("violations").is_none());
    }
    assert!(
        app.get(ESCALATIONS, &app.admin_key)
            .await
            .items()
            .is_empty()
    );
}

#[tokio::test]
async fn an_unknown_customer_is_404() {
    // Arrange
    let app = spawn_app().await;
    let partner = app.create_partner("Unknown customer").await;

    // Act
    let answer = app
        .post(ESCALATIONS, &partner.key, &escalation_body(Uuid::now_v7()))
        .await;

    // Assert
    answer.problem(404, "not_found");
}

// ---------------------------------------------------------------------------------------------
// not_partner_tenant
// ---------------------------------------------------------------------------------------------

#[tokio::test]
async fn the_partners_own_tenant_is_not_covered() {
    // Arrange: the API refuses such a customer, so it is written through the store
    let app = spawn_app().await;
    let partner = app.create_partner("云桥科技").await;
    let own = customers::create(
        &app.db,
        partner.id,
        NewCustomer {
            company_name: CompanyName::parse("云桥科技（自有租户）").unwrap(),
            domain: DomainName::parse("cloudbridge.partner.onmschina.cn").unwrap(),
            tenant_id: partner.tenant_id,
            country: CountryCode::parse("CN").unwrap(),
            support_plan: SupportPlan::Standard,
            primary_contact: Contact {
                name: DisplayName::parse("张伟").unwrap(),
                email: EmailAddress::parse("zhang.wei@cloudbridge.cn").unwrap(),
                phone: None,
            },
        },
    )
    .await
    .expect("the customer is stored");
    app.create_subscription(&partner, own.id, "microsoft-365", "active")
        .await;

    // Act
    let answer = assert_refused(
        &app,
        &partner,
        &escalation_body(own.id),
        &["not_partner_tenant"],
    )
    .await;

    // Assert
    assert!(violation_message(&answer, "not_partner_tenant").contains("own tenant"));
}

// ---------------------------------------------------------------------------------------------
// service_escalatable
// ---------------------------------------------------------------------------------------------

#[tokio::test]
async fn a_marketplace_service_goes_to_its_publisher() {
    // Arrange
    let app = spawn_app().await;
    let fixture = app.escalation_fixture("standard").await;
    let categories = json!(["service_unavailable", "product_bug"]);
    create_service(
        &app,
        "contoso-backup",
        "Contoso Software",
        false,
        categories.clone(),
    )
    .await;
    create_service(&app, "vianet-addon", "21Vianet", false, categories.clone()).await;
    create_service(&app, "fabrikam-mail", "Fabrikam", true, categories).await;

    for key in ["contoso-backup", "vianet-addon", "fabrikam-mail"] {
        app.create_subscription(&fixture.partner, fixture.customer_id, key, "active")
            .await;
        let body = fixture.edited(|body| body["service_key"] = json!(key));

        // Act
        let answer = assert_refused(&app, &fixture.partner, &body, &["service_escalatable"]).await;

        // Assert
        assert!(
            violation_message(&answer, "service_escalatable").contains("publisher"),
            "{key}: {}",
            answer.body
        );
    }
}

#[tokio::test]
async fn a_service_not_in_the_catalog_is_not_escalatable() {
    // Arrange
    let app = spawn_app().await;
    let fixture = app.escalation_fixture("standard").await;
    let body = fixture.edited(|body| body["service_key"] = json!("no-such-service"));

    // Act
    let answer = assert_refused(
        &app,
        &fixture.partner,
        &body,
        &["service_escalatable", "active_subscription"],
    )
    .await;

    // Assert
    assert!(violation_message(&answer, "service_escalatable").contains("catalog"));
}

// ---------------------------------------------------------------------------------------------
// active_subscription
// ---------------------------------------------------------------------------------------------

#[tokio::test]
async fn a_customer_without_a_subscription_to_the_service_is_refused() {
    // Arrange
    let app = spawn_app().await;
    let fixture = app.escalation_fixture("standard").await;
    let body = fixture.edited(|body| body["service_key"] = json!("azure"));

    // Act
    let answer = assert_refused(&app, &fixture.partner, &body, &["active_subscription"]).await;

    // Assert
    assert!(violation_message(&answer, "active_subscription").contains("no subscription"));
}

#[tokio::test]
async fn a_pending_subscription_is_not_active() {
    // Arrange
    let app = spawn_app().await;
    let fixture = app.escalation_fixture("standard").await;
    app.create_subscription(&fixture.partner, fixture.customer_id, "azure", "pending")
        .await;
    let body = fixture.edited(|body| body["service_key"] = json!("azure"));

    // Act
    let answer = assert_refused(&app, &fixture.partner, &body, &["active_subscription"]).await;

    // Assert
    assert!(violation_message(&answer, "active_subscription").contains("pending"));
}

#[tokio::test]
async fn a_suspended_subscription_is_not_active() {
    // Arrange
    let app = spawn_app().await;
    let fixture = app.escalation_fixture("standard").await;
    let subscription = app
        .create_subscription(&fixture.partner, fixture.customer_id, "azure", "active")
        .await;
    app.move_subscription(&fixture.partner, &subscription, "suspended")
        .await;
    let body = fixture.edited(|body| body["service_key"] = json!("azure"));

    // Act
    let answer = assert_refused(&app, &fixture.partner, &body, &["active_subscription"]).await;

    // Assert
    assert!(violation_message(&answer, "active_subscription").contains("suspended"));
}

#[tokio::test]
async fn a_deleted_subscription_is_no_subscription() {
    // Arrange
    let app = spawn_app().await;
    let fixture = app.escalation_fixture("standard").await;
    let subscription = app
        .create_subscription(&fixture.partner, fixture.customer_id, "azure", "active")
        .await;
    app.move_subscription(&fixture.partner, &subscription, "deleted")
        .await;
    let body = fixture.edited(|body| body["service_key"] = json!("azure"));

    // Act & Assert
    assert_refused(&app, &fixture.partner, &body, &["active_subscription"]).await;
}

// ---------------------------------------------------------------------------------------------
// escalatable_category
// ---------------------------------------------------------------------------------------------

#[tokio::test]
async fn partner_owned_work_is_not_escalated() {
    // Arrange
    let app = spawn_app().await;
    let fixture = app.escalation_fixture("standard").await;

    for category in [
        "how_to",
        "account_setup",
        "software_configuration",
        "client_connectivity",
        "service_update_question",
        "performance_within_partner_control",
    ] {
        let body = fixture.edited(|body| body["category"] = json!(category));

        // Act
        let answer = assert_refused(&app, &fixture.partner, &body, &["escalatable_category"]).await;

        // Assert
        assert!(
            violation_message(&answer, "escalatable_category").contains(category),
            "{}",
            answer.body
        );
    }
}

#[tokio::test]
async fn every_category_21vianet_handles_is_accepted() {
    // Arrange
    let app = spawn_app().await;
    let fixture = app.escalation_fixture("standard").await;

    for category in [
        "service_unavailable",
        "undocumented_defect",
        "product_bug",
        "network_disruption",
        "regional_multi_tenant_issue",
        "billing_dispute",
    ] {
        let body = fixture.edited(|body| body["category"] = json!(category));

        // Act
        let answer = app.post(ESCALATIONS, &fixture.partner.key, &body).await;

        // Assert
        assert_eq!(answer.status, 201, "{category}: {}", answer.body);
        assert_eq!(answer.body["category"], category);
    }
}

#[tokio::test]
async fn a_category_the_service_does_not_accept_is_refused() {
    // Arrange: a first-party service that accepts only service_unavailable
    let app = spawn_app().await;
    let fixture = app.escalation_fixture("standard").await;
    create_service(
        &app,
        "azure-stack-hub",
        "21Vianet",
        true,
        json!(["service_unavailable"]),
    )
    .await;
    app.create_subscription(
        &fixture.partner,
        fixture.customer_id,
        "azure-stack-hub",
        "active",
    )
    .await;
    let body = fixture.edited(|body| {
        body["service_key"] = json!("azure-stack-hub");
        body["category"] = json!("billing_dispute");
    });

    // Act
    let answer = assert_refused(&app, &fixture.partner, &body, &["escalatable_category"]).await;

    // Assert
    assert!(violation_message(&answer, "escalatable_category").contains("does not accept"));
    let accepted = fixture.edited(|body| body["service_key"] = json!("azure-stack-hub"));
    app.submit_escalation(&fixture.partner.key, &accepted).await;
}

// ---------------------------------------------------------------------------------------------
// severity_entitlement
// ---------------------------------------------------------------------------------------------

#[tokio::test]
async fn critical_is_for_premium_customers_only() {
    // Arrange
    let app = spawn_app().await;
    let fixture = app.escalation_fixture("standard").await;
    let body = fixture.edited(|body| body["severity"] = json!("critical"));

    // Act
    let answer = assert_refused(&app, &fixture.partner, &body, &["severity_entitlement"]).await;

    // Assert
    assert!(violation_message(&answer, "severity_entitlement").contains("premium"));
}

#[tokio::test]
async fn critical_needs_a_contact_available_24x7() {
    // Arrange
    let app = spawn_app().await;
    let fixture = app.escalation_fixture("premium").await;
    let body = fixture.edited(|body| {
        body["severity"] = json!("critical");
        body["contact"]["available_24x7"] = json!(false);
    });

    // Act
    let answer = assert_refused(&app, &fixture.partner, &body, &["severity_entitlement"]).await;

    // Assert
    assert!(violation_message(&answer, "severity_entitlement").contains("24x7"));
}

#[tokio::test]
async fn critical_needs_a_contact_reachable_by_phone() {
    // Arrange: contact by e-mail is complete, but critical needs a phone
    let app = spawn_app().await;
    let fixture = app.escalation_fixture("premium").await;
    let body = fixture.edited(|body| {
        body["severity"] = json!("critical");
        body["contact"]["preferred_contact_method"] = json!("email");
        body["contact"].as_object_mut().unwrap().remove("phone");
    });

    // Act
    let answer = assert_refused(&app, &fixture.partner, &body, &["severity_entitlement"]).await;

    // Assert
    assert!(violation_message(&answer, "severity_entitlement").contains("phone"));
}

#[tokio::test]
async fn critical_for_a_premium_customer_with_a_24x7_phone_contact_is_accepted() {
    // Arrange
    let app = spawn_app().await;
    let fixture = app.escalation_fixture("premium").await;
    let body = fixture.edited(|body| body["severity"] = json!("critical"));

    // Act
    let answer = app.post(ESCALATIONS, &fixture.partner.key, &body).await;

    // Assert
    assert_eq!(answer.status, 201, "{}", answer.body);
    assert_eq!(answer.body["severity"], "critical");
}

// ---------------------------------------------------------------------------------------------
// partner_in_good_standing
// ---------------------------------------------------------------------------------------------

#[tokio::test]
async fn a_suspended_partner_cannot_escalate_until_reactivated() {
    // Arrange
    let app = spawn_app().await;
    let fixture = app.escalation_fixture("standard").await;
    set_partner_status(&app, &fixture.partner, "suspended").await;

    // Act
    let refused = assert_refused(
        &app,
        &fixture.partner,
        &fixture.body,
        &["partner_in_good_standing"],
    )
    .await;
    set_partner_status(&app, &fixture.partner, "active").await;
    let accepted = app
        .post(ESCALATIONS, &fixture.partner.key, &fixture.body)
        .await;

    // Assert
    assert!(violation_message(&refused, "partner_in_good_standing").contains("suspended"));
    assert_eq!(accepted.status, 201, "{}", accepted.body);
}

// ---------------------------------------------------------------------------------------------
// Several at once
// ---------------------------------------------------------------------------------------------

#[tokio::test]
async fn every_failed_criterion_is_listed_in_the_table_order() {
    // Arrange
    let app = spawn_app().await;
    let fixture = app.escalation_fixture("standard").await;
    let operator = app.operator_key().await;
    app.create_incident(&operator, &incident_body("microsoft-365"))
        .await;
    let body = fixture.edited(|body| {
        body["category"] = json!("how_to");
        body["severity"] = json!("critical");
        body["reasons"] = json!([]);
        body["troubleshooting"]["admin_center_attempted"] = json!(false);
        body["contact"].as_object_mut().unwrap().remove("last_name");
    });

    // Act & Assert
    assert_refused(
        &app,
        &fixture.partner,
        &body,
        &[
            "escalatable_category",
            "reason_given",
            "partner_troubleshooting",
            "no_active_incident",
            "severity_entitlement",
            "contact_complete",
        ],
    )
    .await;
}

#[tokio::test]
async fn a_duplicate_with_other_failures_is_422_listing_no_duplicate_too() {
    // Arrange
    let app = spawn_app().await;
    let fixture = app.escalation_fixture("standard").await;
    app.submit_escalation(&fixture.partner.key, &fixture.body)
        .await;
    let body = fixture.edited(|body| body["reasons"] = json!([]));

    // Act & Assert
    assert_refused(
        &app,
        &fixture.partner,
        &body,
        &["reason_given", "no_duplicate"],
    )
    .await;
}
