//! The 21Vianet escalation criteria about who escalates what, through `POST /v1/escalations`:
//! the customer (another partner's is 404), the partner's own tenant, the service, the
//! subscription, the category, the severity and the partner's standing. Each failing alone is
//! 422 `criteria_not_met` naming exactly that criterion; several failing are all listed. What the
//! partner must have done and said is in `escalations_diligence`, duplicates in
//! `escalations_duplicates`.

use escalade::domain::{
    CompanyName, CountryCode, DisplayName, DomainName, EmailAddress, SupportPlan,
};
use escalade::store::WriteGate;
use escalade::store::customers::{self, Contact, NewCustomer};
use serde_json::{Value, json};
use uuid::Uuid;

use crate::customers::{edited, without};
use crate::escalations::premium_body;
use crate::helpers::{
    ESCALATIONS, assert_refused, escalation_body, incident_body, violation_message,
};
use crate::services::ESCALATABLE;
use crate::world::World;

/// The categories that are the partner's own work.
const PARTNER_OWNED: [&str; 6] = [
    "how_to",
    "account_setup",
    "software_configuration",
    "client_connectivity",
    "service_update_question",
    "performance_within_partner_control",
];

/// Adds service `key` to the catalog as an operator: run by `operated_by`, first party or not,
/// taking escalations of `categories`.
async fn add_service(
    world: &World,
    key: &str,
    operated_by: &str,
    first_party: bool,
    categories: &[&str],
) {
    let service = json!({
        "key": key,
        "name": format!("{key} service"),
        "operated_by": operated_by,
        "first_party": first_party,
        "admin_center_url": "https://admin.example.cn",
        "support_hours": "business_hours",
        "categories": categories
    });
    let (app, operator) = (&world.app, &world.operator);
    app.created("/v1/services", operator, &service).await;
}

/// A customer on the partner's own tenant with an active Microsoft 365 subscription, written
/// through the store: the API refuses such a customer.
async fn own_tenant_customer(world: &World) -> Uuid {
    let (app, partner) = (&world.app, &world.partner);
    let own = customers::create(
        &app.db,
        &WriteGate::for_database(&app.db),
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
    app.create_subscription(partner, own.id, "microsoft-365", "active")
        .await;
    own.id
}

/// Suspends or reactivates the partner, as the admin.
async fn set_partner_status(world: &World, status: &str) {
    let (app, path) = (&world.app, format!("/v1/partners/{}", world.partner.id));
    let current = app.read_ok(&path, &app.admin_key).await;
    let change = json!({ "status": status });
    let tag = current.etag();
    let answer = app.patch(&path, &app.admin_key, Some(&tag), &change).await;
    assert_eq!(answer.status, 200, "{}", answer.body);
}

#[tokio::test]
async fn another_partners_or_an_unknown_customer_is_404_not_a_criterion() {
    // Arrange
    let world = World::new().await;
    let other = world.app.create_partner("Other partner").await;
    let partner_owned = edited(world.body.clone(), &[("category", json!("how_to"))]);

    for (label, key, body) in [
        ("another partner's", other.key.as_str(), world.body.clone()),
        ("another's, partner-owned", &other.key, partner_owned),
        ("unknown", world.key(), escalation_body(Uuid::now_v7())),
    ] {
        // Act
        let answer = world.app.post(ESCALATIONS, key, &body).await;

        // Assert
        answer.case_refused(label, 404, "not_found", &[]);
        assert!(answer.body.get("violations").is_none(), "{label}");
    }
    let everyone = world.app.get(ESCALATIONS, &world.app.admin_key).await;
    assert!(everyone.items().is_empty());
}

/// Each case fails exactly one criterion (a service not in the catalog has no subscription
/// either), and its message says why.
#[tokio::test]
async fn each_criterion_failing_alone_is_422_naming_it_and_saying_why() {
    // Arrange
    let world = World::new().await;
    let (app, partner) = (&world.app, &world.partner);
    let subscribe = async |service: &str, status: &str| {
        let customer_id = world.customer_id;
        app.create_subscription(partner, customer_id, service, status)
            .await
    };
    let (both, only) = (
        ["service_unavailable", "product_bug"],
        ["service_unavailable"],
    );
    for (key, operated_by, first_party, categories) in [
        ("contoso-backup", "Contoso Software", false, &both[..]),
        ("vianet-addon", "21Vianet", false, &both),
        ("fabrikam-mail", "Fabrikam", true, &both),
        ("azure-stack-hub", "21Vianet", true, &only),
    ] {
        add_service(&world, key, operated_by, first_party, categories).await;
        subscribe(key, "active").await;
    }
    subscribe("power-bi", "pending").await;
    for (service, status) in [("dynamics-365", "suspended"), ("power-apps", "deleted")] {
        let active = subscribe(service, "active").await;
        app.move_subscription(partner, &active, status).await;
    }
    let critical = [("severity", json!("critical"))];
    let premium = edited(premium_body(&world).await, &critical);
    let by_email = [("contact.preferred_contact_method", json!("email"))];
    let body = |edits: &[(&str, Value)]| edited(world.body.clone(), edits);
    let not_accepted = [
        ("service_key", json!("azure-stack-hub")),
        ("category", json!("billing_dispute")),
    ];
    let severity = "severity_entitlement";
    let mut cases: Vec<(&str, Value, Vec<&str>, &str)> = vec![
        (
            "own tenant",
            escalation_body(own_tenant_customer(&world).await),
            vec!["not_partner_tenant"],
            "own tenant",
        ),
        (
            "not in the catalog",
            body(&[("service_key", json!("no-such-service"))]),
            vec!["service_escalatable", "active_subscription"],
            "catalog",
        ),
        (
            "not accepted by the service",
            body(&not_accepted),
            vec!["escalatable_category"],
            "does not accept",
        ),
        (
            "critical, standard customer",
            body(&critical),
            vec![severity],
            "premium",
        ),
        (
            "critical, contact not 24x7",
            edited(premium.clone(), &[("contact.available_24x7", json!(false))]),
            vec![severity],
            "24x7",
        ),
        (
            // Contact by e-mail is complete, but critical needs a phone.
            "critical, no phone",
            without(edited(premium, &by_email), &["contact.phone"]),
            vec![severity],
            "phone",
        ),
    ];
    for (service, criterion, why) in [
        ("contoso-backup", "service_escalatable", "publisher"), // a marketplace product
        ("vianet-addon", "service_escalatable", "publisher"),   // 21Vianet's, not first party
        ("fabrikam-mail", "service_escalatable", "publisher"),  // first party, not 21Vianet's
        ("azure", "active_subscription", "no subscription"),
        ("power-bi", "active_subscription", "pending"),
        ("dynamics-365", "active_subscription", "suspended"),
        ("power-apps", "active_subscription", "no subscription"), // deleted
    ] {
        let about = body(&[("service_key", json!(service))]);
        cases.push((service, about, vec![criterion], why));
    }
    for owned in PARTNER_OWNED {
        let category = body(&[("category", json!(owned))]);
        cases.push((owned, category, vec!["escalatable_category"], owned));
    }

    for (label, body, criteria, why) in cases {
        // Act
        let answer = assert_refused(app, partner, &body, &criteria).await;

        // Assert
        let message = violation_message(&answer, criteria[0]);
        assert!(message.contains(why), "{label}: {}", answer.body);
    }
    set_partner_status(&world, "suspended").await;
    let standing = ["partner_in_good_standing"];
    let refused = assert_refused(app, partner, &world.body, &standing).await;
    assert!(violation_message(&refused, standing[0]).contains("suspended"));
    set_partner_status(&world, "active").await;
    world.submit().await;
}

#[tokio::test]
async fn every_category_21vianet_handles_and_critical_when_entitled_are_accepted() {
    // Arrange: a first-party service that accepts only service_unavailable, a premium customer
    let world = World::new().await;
    let (app, partner) = (&world.app, &world.partner);
    let only = ["service_unavailable"];
    add_service(&world, "azure-stack-hub", "21Vianet", true, &only).await;
    let customer_id = world.customer_id;
    app.create_subscription(partner, customer_id, "azure-stack-hub", "active")
        .await;
    let critical = edited(
        premium_body(&world).await,
        &[("severity", json!("critical"))],
    );
    let body = |field: &str, value: &str| edited(world.body.clone(), &[(field, json!(value))]);
    let mut cases = vec![
        (
            "the service's only category",
            body("service_key", "azure-stack-hub"),
            "service_key",
        ),
        ("critical, premium, 24x7 by phone", critical, "severity"),
    ];
    for category in ESCALATABLE {
        cases.push((category, body("category", category), "category"));
    }

    for (label, body, field) in cases {
        // Act
        let answer = app.post(ESCALATIONS, world.key(), &body).await;

        // Assert
        assert_eq!(answer.status, 201, "{label}: {}", answer.body);
        assert_eq!(answer.body[field], body[field], "{label}");
    }
}

#[tokio::test]
async fn every_failed_criterion_is_listed_in_the_table_order() {
    // Arrange: one open escalation; then an incident on its service
    let world = World::new().await;
    let (app, partner) = (&world.app, &world.partner);
    world.submit().await;
    let duplicate = edited(world.body.clone(), &[("reasons", json!([]))]);
    let many_wrong = edited(
        world.body.clone(),
        &[
            ("category", json!("how_to")),
            ("severity", json!("critical")),
            ("reasons", json!([])),
            ("troubleshooting.admin_center_attempted", json!(false)),
        ],
    );
    let many_wrong = without(many_wrong, &["contact.last_name"]);
    let incident = incident_body("microsoft-365");

    // Act & Assert
    assert_refused(app, partner, &duplicate, &["reason_given", "no_duplicate"]).await;
    app.create_incident(&world.operator, &incident).await;
    assert_refused(
        app,
        partner,
        &many_wrong,
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
