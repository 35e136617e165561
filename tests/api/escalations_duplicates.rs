//! The `no_duplicate` criterion: one open escalation per customer, service and category. A
//! second is 409 `duplicate_escalation` pointing to the open one; another category, service or
//! customer is fine, and so is the same problem once the first is no longer open.

use serde_json::{Value, json};

use crate::customers::edited;
use crate::helpers::{Answer, ESCALATIONS, escalation_body, escalation_path};
use crate::world::World;

/// Asserts `answer` is 409 `duplicate_escalation` pointing to `open`.
#[track_caller]
fn assert_duplicate_of(answer: &Answer, open: &Answer, label: &str) {
    let problem = answer.problem(409, "duplicate_escalation");
    let number = open.body["number"].as_str().unwrap();
    let href = escalation_path(open.id());
    let expected = json!({"id": open.id(), "number": number, "href": href});
    assert_eq!(problem["duplicate_of"], expected, "{label}");
    let detail = problem["detail"].as_str().unwrap();
    assert!(detail.contains(number), "{label}: {detail}");
}

#[tokio::test]
async fn a_second_open_escalation_for_the_same_problem_is_409_pointing_to_the_first() {
    // Arrange
    let world = World::new().await;
    let app = &world.app;
    let first = world.submit().await;
    app.create_subscription(&world.partner, world.customer_id, "azure", "active")
        .await;
    let second_customer = app
        .create_escalatable_customer(&world.partner, "standard")
        .await;
    let again = [
        ("title", json!("邮件仍然无法投递")),
        ("severity", json!("minimal")),
    ];
    let body = |field: &str, value: &str| edited(world.body.clone(), &[(field, json!(value))]);

    // Act
    let duplicate = app
        .post(
            ESCALATIONS,
            world.key(),
            &edited(world.body.clone(), &again),
        )
        .await;
    let listed = world.escalations().await;
    let mut others = Vec::new();
    for (label, other) in [
        ("another category", body("category", "product_bug")),
        ("another service", body("service_key", "azure")),
        ("another customer", escalation_body(second_customer)),
    ] {
        others.push((label, app.post(ESCALATIONS, world.key(), &other).await));
    }

    // Assert
    assert_duplicate_of(&duplicate, &first, "again");
    assert_eq!(listed.item_ids(), [first.id()]);
    for (label, answer) in others {
        assert_eq!(answer.status, 201, "{label}: {}", answer.body);
    }
}

#[tokio::test]
async fn the_same_problem_is_a_duplicate_until_the_first_is_withdrawn_or_resolved() {
    // Arrange
    let world = World::new().await;
    let (app, partner, operator) = (&world.app, world.key(), &world.operator);
    let again = async || app.post(ESCALATIONS, partner, &world.body).await;
    let first = world.submit().await;
    let step = async |key: &str, current: &Answer, body: Value| {
        let moved = app
            .transition(key, current.id(), &current.etag(), &body)
            .await;
        assert_eq!(moved.status, 200, "{}", moved.body);
        moved
    };

    // Act & Assert: withdrawn
    step(partner, &first, json!({"to": "withdrawn"})).await;
    let second = again().await;
    assert_eq!(
        second.status, 201,
        "a withdrawn one is no longer open: {}",
        second.body
    );
    assert_eq!(second.body["number"], "ESC-000002");

    // Act & Assert: in progress, then awaiting the partner
    let started = app.start_work(operator, second.id(), "\"1\"").await;
    assert_duplicate_of(&again().await, &second, "in progress");
    let waiting = step(operator, &started, json!({"to": "awaiting_partner"})).await;
    assert_duplicate_of(&again().await, &second, "awaiting the partner");

    // Act & Assert: resolved
    step(
        operator,
        &waiting,
        json!({"to": "resolved", "reason": "已修复传输规则。"}),
    )
    .await;
    let third = again().await;
    assert_eq!(
        third.status, 201,
        "a resolved one is no longer open: {}",
        third.body
    );
}
