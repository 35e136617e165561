//! The `no_duplicate` criterion: one open escalation per customer, service and category. A
//! second is 409 `duplicate_escalation` pointing to the open one; another category, service or
//! customer is fine, and so is the same problem once the first is no longer open.

use serde_json::json;

use crate::helpers::{ESCALATIONS, escalation_body, escalation_path, spawn_app};

// ---------------------------------------------------------------------------------------------
// no_duplicate: 409 pointing to the open escalation
// ---------------------------------------------------------------------------------------------

#[tokio::test]
async fn a_second_open_escalation_for_the_same_problem_is_409_pointing_to_the_first() {
    // Arrange
    let app = spawn_app().await;
    let fixture = app.escalation_fixture("standard").await;
    let first = app
        .submit_escalation(&fixture.partner.key, &fixture.body)
        .await;
    let mut again = fixture.body.clone();
    again["title"] = json!("邮件仍然无法投递");
    again["severity"] = json!("minimal");

    // Act
    let answer = app.post(ESCALATIONS, &fixture.partner.key, &again).await;

    // Assert
    let problem = answer.problem(409, "duplicate_escalation");
    assert_eq!(problem["duplicate_of"]["id"], json!(first.id()));
    assert_eq!(problem["duplicate_of"]["number"], first.body["number"]);
    assert_eq!(
        problem["duplicate_of"]["href"],
        json!(escalation_path(first.id()))
    );
    assert!(
        problem["detail"]
            .as_str()
            .unwrap()
            .contains(first.body["number"].as_str().unwrap())
    );
    assert_eq!(
        app.get(ESCALATIONS, &fixture.partner.key).await.item_ids(),
        [first.id()]
    );
}

#[tokio::test]
async fn another_category_service_or_customer_is_not_a_duplicate() {
    // Arrange
    let app = spawn_app().await;
    let fixture = app.escalation_fixture("standard").await;
    app.submit_escalation(&fixture.partner.key, &fixture.body)
        .await;
    app.create_subscription(&fixture.partner, fixture.customer_id, "azure", "active")
        .await;
    let second_customer = app
        .create_escalatable_customer(&fixture.partner, "standard")
        .await;

    // Act
    let other_category = app
        .post(
            ESCALATIONS,
            &fixture.partner.key,
            &fixture.edited(|b| b["category"] = json!("product_bug")),
        )
        .await;
    let other_service = app
        .post(
            ESCALATIONS,
            &fixture.partner.key,
            &fixture.edited(|b| b["service_key"] = json!("azure")),
        )
        .await;
    let other_customer = app
        .post(
            ESCALATIONS,
            &fixture.partner.key,
            &escalation_body(second_customer),
        )
        .await;

    // Assert
    for answer in [&other_category, &other_service, &other_customer] {
        assert_eq!(answer.status, 201, "{}", answer.body);
    }
}

#[tokio::test]
async fn once_the_first_is_withdrawn_a_new_one_is_accepted() {
    // Arrange
    let app = spawn_app().await;
    let fixture = app.escalation_fixture("standard").await;
    let first = app
        .submit_escalation(&fixture.partner.key, &fixture.body)
        .await;
    let withdrawn = app
        .transition(
            &fixture.partner.key,
            first.id(),
            &first.etag(),
            &json!({"to": "withdrawn"}),
        )
        .await;
    assert_eq!(withdrawn.status, 200, "{}", withdrawn.body);

    // Act
    let answer = app
        .post(ESCALATIONS, &fixture.partner.key, &fixture.body)
        .await;

    // Assert
    assert_eq!(answer.status, 201, "{}", answer.body);
    assert_eq!(answer.body["number"], "ESC-000002");
}

#[tokio::test]
async fn an_escalation_in_progress_or_awaiting_the_partner_is_still_open() {
    // Arrange
    let app = spawn_app().await;
    let fixture = app.escalation_fixture("standard").await;
    let first = app
        .submit_escalation(&fixture.partner.key, &fixture.body)
        .await;
    let operator = app.operator_key().await;
    let started = app
        .transition(
            &operator,
            first.id(),
            "\"1\"",
            &json!({"to": "in_progress", "engineer": {"name": "李娜", "email": "li.na@oe.21vianet.com"}}),
        )
        .await;
    assert_eq!(started.status, 200, "{}", started.body);

    // Act
    let while_in_progress = app
        .post(ESCALATIONS, &fixture.partner.key, &fixture.body)
        .await;
    let waiting = app
        .transition(
            &operator,
            first.id(),
            &started.etag(),
            &json!({"to": "awaiting_partner"}),
        )
        .await;
    assert_eq!(waiting.status, 200, "{}", waiting.body);
    let while_awaiting = app
        .post(ESCALATIONS, &fixture.partner.key, &fixture.body)
        .await;
    let resolved = app
        .transition(
            &operator,
            first.id(),
            &waiting.etag(),
            &json!({"to": "resolved", "reason": "已修复传输规则。"}),
        )
        .await;
    assert_eq!(resolved.status, 200, "{}", resolved.body);
    let after_resolution = app
        .post(ESCALATIONS, &fixture.partner.key, &fixture.body)
        .await;

    // Assert
    while_in_progress.problem(409, "duplicate_escalation");
    while_awaiting.problem(409, "duplicate_escalation");
    assert_eq!(while_awaiting.body["duplicate_of"]["id"], json!(first.id()));
    assert_eq!(
        after_resolution.status, 201,
        "a resolved escalation is no longer open: {}",
        after_resolution.body
    );
}
