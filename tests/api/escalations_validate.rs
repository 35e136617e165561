//! `POST /v1/escalations/validate`: the dry run that shows the partner every criterion's outcome
//! as it types, and writes nothing.

use serde_json::{Value, json};

use crate::customers::edited;
use crate::escalations::VALIDATE;
use crate::helpers::{Answer, ESCALATIONS};
use crate::world::World;

/// The twelve criteria, in the order of the table in DESIGN.md.
const CRITERIA: [&str; 12] = [
    "customer_relationship",
    "not_partner_tenant",
    "service_escalatable",
    "active_subscription",
    "escalatable_category",
    "reason_given",
    "partner_troubleshooting",
    "no_active_incident",
    "severity_entitlement",
    "contact_complete",
    "no_duplicate",
    "partner_in_good_standing",
];

/// Asserts a 200 dry run judging the twelve criteria in order, each passed or failed with a
/// message, eligible exactly when none failed; returns the criteria that failed.
#[track_caller]
fn failed_criteria(answer: &Answer, label: &str) -> Vec<String> {
    assert_eq!(answer.status, 200, "{label}: {}", answer.body);
    let checks = answer.body["checks"].as_array().expect("checks");
    let criteria: Vec<&str> = checks
        .iter()
        .map(|c| c["criterion"].as_str().unwrap())
        .collect();
    assert_eq!(criteria, CRITERIA, "{label}");
    for check in checks {
        let outcome = &check["outcome"];
        assert!(
            outcome == "passed" || outcome == "failed",
            "{label}: {check}"
        );
        let message = check["message"].as_str();
        assert!(message.is_some_and(|m| !m.is_empty()), "{label}: {check}");
    }
    let failed: Vec<String> = checks
        .iter()
        .filter(|c| c["outcome"] == "failed")
        .map(|c| c["criterion"].as_str().unwrap().to_owned())
        .collect();
    assert_eq!(answer.body["eligible"], failed.is_empty(), "{label}");
    failed
}

/// The message of `criterion` in a dry run.
#[track_caller]
fn message<'a>(answer: &'a Answer, criterion: &str) -> &'a str {
    let checks = answer.body["checks"].as_array().expect("checks");
    let check = checks.iter().find(|c| c["criterion"] == criterion);
    check
        .and_then(|c| c["message"].as_str())
        .expect("the criterion's message")
}

#[tokio::test]
async fn the_dry_run_shows_every_criterions_outcome_and_writes_nothing() {
    // Arrange
    let world = World::new().await;
    let (app, key) = (&world.app, world.key());
    let other = app.create_partner("Other partner").await;
    let bad: Value = edited(
        world.body.clone(),
        &[
            ("category", json!("how_to")),
            ("severity", json!("critical")),
            ("troubleshooting.admin_center_attempted", json!(false)),
        ],
    );

    // Act
    let mut good = Vec::new();
    for _ in 0..3 {
        good.push(app.post(VALIDATE, key, &world.body).await);
    }
    let failing = app.post(VALIDATE, key, &bad).await;
    let foreign = app.post(VALIDATE, &other.key, &world.body).await;
    let listed = [
        world.escalations().await,
        app.get(ESCALATIONS, &app.admin_key).await,
    ];
    let open = world.submit().await;
    let duplicate = app.post(VALIDATE, key, &world.body).await;

    // Assert
    for answer in &good {
        assert!(failed_criteria(answer, "a good body").is_empty());
    }
    assert_eq!(
        failed_criteria(&failing, "a bad body"),
        [
            "escalatable_category",
            "partner_troubleshooting",
            "severity_entitlement"
        ]
    );
    assert!(message(&failing, "partner_troubleshooting").contains("admin center"));
    let criterion = "customer_relationship";
    assert_eq!(failed_criteria(&foreign, "another partner's")[0], criterion);
    assert!(
        !message(&foreign, "customer_relationship").contains(&world.customer_id.to_string()),
        "nothing of the other partner's customer is revealed"
    );
    for list in listed {
        assert!(list.items().is_empty(), "nothing was written");
    }
    assert_eq!(open.body["number"], "ESC-000001", "no number was consumed");
    assert_eq!(failed_criteria(&duplicate, "a duplicate"), ["no_duplicate"]);
    let number = open.body["number"].as_str().unwrap();
    assert!(message(&duplicate, "no_duplicate").contains(number));
}
