//! One customer tenant, several partners: as in Partner Center, a directory tenant may have a
//! relationship with more than one CSP partner. Each partner's customer, escalations and quality
//! stay its own, and nothing tells one partner about the other.

use migration::{Migrator, MigratorTrait};
use serde_json::json;
use uuid::Uuid;

use crate::helpers::{ESCALATIONS, escalation_body, escalation_path, spawn_app};
use crate::migrations::pending;

#[tokio::test]
async fn two_partners_of_one_tenant_escalate_without_seeing_each_other() {
    // Arrange
    let app = spawn_app().await;
    let tenant = Uuid::new_v4();
    let first = app.create_partner("First").await;
    let second = app.create_partner("Second").await;
    let operator = app.operator_key().await;
    let first_customer = app
        .create_escalatable_customer_of(&first, "standard", tenant)
        .await;
    let second_customer = app
        .create_escalatable_customer_of(&second, "standard", tenant)
        .await;

    // Act: the same problem, from both partners.
    let from_first = app
        .submit_escalation(&first.key, &escalation_body(first_customer))
        .await;
    let from_second = app
        .post(ESCALATIONS, &second.key, &escalation_body(second_customer))
        .await;

    // Assert: the duplicate rule is per partner's customer, not per tenant.
    assert_eq!(from_second.status, 201, "{}", from_second.body);
    assert_ne!(from_first.body["number"], from_second.body["number"]);
    for (partner, own, other) in [
        (&first, &from_first, &from_second),
        (&second, &from_second, &from_first),
    ] {
        assert_eq!(
            app.get(ESCALATIONS, &partner.key).await.item_ids(),
            [own.id()]
        );
        app.get(&escalation_path(other.id()), &partner.key)
            .await
            .problem(404, "not_found");
        let quality = app
            .get(
                &format!("/v1/partners/{}/escalation-quality", partner.id),
                &partner.key,
            )
            .await;
        assert_eq!(quality.status, 200, "{}", quality.body);
        assert_eq!(quality.body["escalations"], 1, "{}", quality.body);
    }
    let queue = app.get(ESCALATIONS, &operator).await;
    let partners: Vec<&serde_json::Value> = queue
        .items()
        .iter()
        .map(|item| &item["partner_id"])
        .collect();
    assert_eq!(partners.len(), 2);
    assert!(partners.contains(&&json!(first.id)) && partners.contains(&&json!(second.id)));
}

#[tokio::test]
async fn going_back_to_global_tenants_is_refused_while_two_partners_share_one() {
    // Arrange
    let app = spawn_app().await;
    let tenant = Uuid::new_v4();
    for name in ["First", "Second"] {
        let partner = app.create_partner(name).await;
        app.create_escalatable_customer_of(&partner, "standard", tenant)
            .await;
    }
    let later = Migrator::migrations().len() - PER_PARTNER_TENANTS - 1;
    Migrator::down(&app.db, Some(later as u32))
        .await
        .expect("the later migrations roll back");

    // Act: roll back the migration that made tenants unique per partner.
    let rolled_back = Migrator::down(&app.db, Some(1)).await;

    // Assert: refused, and nothing changed.
    assert!(rolled_back.is_err());
    assert_eq!(pending(&app.db).await, later);
    Migrator::up(&app.db, None).await.expect("up again");
    assert_eq!(
        app.get("/v1/customers", &app.admin_key).await.items().len(),
        2
    );
}

/// The position of the migration that made tenants unique per partner.
const PER_PARTNER_TENANTS: usize = 10;
