//! `/v1/escalations/{id}/notes`: the partner and 21Vianet exchange notes that are never edited,
//! each one also an event of the audit trail.

use reqwest::Method;
use serde_json::{Value, json};
use uuid::Uuid;

use crate::helpers::{TestApp, escalation_path, spawn_app};

fn notes_path(id: Uuid) -> String {
    format!("{}/notes", escalation_path(id))
}

/// The events of escalation `id` as `key`, oldest first.
async fn events(app: &TestApp, key: &str, id: Uuid) -> Vec<Value> {
    app.get(&format!("{}/events", escalation_path(id)), key)
        .await
        .items()
        .clone()
}

// ---------------------------------------------------------------------------------------------
// Notes
// ---------------------------------------------------------------------------------------------

#[tokio::test]
async fn the_partner_and_operators_add_notes_listed_oldest_first() {
    // Arrange
    let app = spawn_app().await;
    let fixture = app.escalation_fixture("standard").await;
    let escalation = app
        .submit_escalation(&fixture.partner.key, &fixture.body)
        .await;
    let id = escalation.id();
    let operator = app.operator_key().await;

    // Act
    let asked = app
        .post(
            &notes_path(id),
            &operator,
            &json!({"text": "请提供一封退信的完整邮件头。"}),
        )
        .await;
    let answered = app
        .post(
            &notes_path(id),
            &fixture.partner.key,
            &json!({"text": "  已附上退信邮件头，见附件 bounce-0924.eml。\n"}),
        )
        .await;
    let admin = app
        .post(
            &notes_path(id),
            &app.admin_key,
            &json!({"text": "已转交二线。"}),
        )
        .await;

    // Assert
    for answer in [&asked, &answered, &admin] {
        assert_eq!(answer.status, 201, "{}", answer.body);
        assert_eq!(answer.header("location"), Some(notes_path(id).as_str()));
        assert_eq!(answer.body["escalation_id"], json!(id));
        assert!(answer.body["created_at"].is_string());
    }
    assert_eq!(asked.body["author_role"], "operator");
    assert_eq!(answered.body["author_role"], "partner");
    assert_eq!(
        answered.body["text"],
        "已附上退信邮件头，见附件 bounce-0924.eml。"
    );
    assert_eq!(admin.body["author_role"], "admin");
    for key in [&fixture.partner.key, &operator] {
        let listed = app.get(&notes_path(id), key).await;
        assert_eq!(listed.item_ids(), [asked.id(), answered.id(), admin.id()]);
        assert_eq!(listed.items()[0], asked.body);
    }
    let after = app.get(&escalation_path(id), &fixture.partner.key).await;
    assert_eq!(
        after.etag(),
        "\"2\"",
        "only the operator's first note changes the escalation: it is the first response"
    );
    assert_eq!(
        after.body["sla"]["first_response_at"],
        asked.body["created_at"]
    );
}

#[tokio::test]
async fn each_note_adds_a_note_added_event() {
    // Arrange
    let app = spawn_app().await;
    let fixture = app.escalation_fixture("standard").await;
    let escalation = app
        .submit_escalation(&fixture.partner.key, &fixture.body)
        .await;
    let id = escalation.id();
    let operator = app.operator_key().await;

    // Act
    let first = app
        .post(
            &notes_path(id),
            &operator,
            &json!({"text": "请提供邮件头。"}),
        )
        .await;
    let second = app
        .post(
            &notes_path(id),
            &fixture.partner.key,
            &json!({"text": "已提供。"}),
        )
        .await;

    // Assert
    let events = events(&app, &operator, id).await;
    let kinds: Vec<&str> = events.iter().map(|e| e["kind"].as_str().unwrap()).collect();
    assert_eq!(kinds, ["created", "note_added", "note_added"]);
    assert_eq!(events[1]["actor"]["role"], "operator");
    assert_eq!(events[1]["after"]["note_id"], first.body["id"]);
    assert_eq!(events[1]["after"]["text"], "请提供邮件头。");
    assert_eq!(events[2]["actor"]["role"], "partner");
    assert_eq!(events[2]["after"]["note_id"], second.body["id"]);
}

#[tokio::test]
async fn notes_are_append_only() {
    // Arrange
    let app = spawn_app().await;
    let fixture = app.escalation_fixture("standard").await;
    let escalation = app
        .submit_escalation(&fixture.partner.key, &fixture.body)
        .await;
    let path = notes_path(escalation.id());
    app.post(&path, &fixture.partner.key, &json!({"text": "原文。"}))
        .await;

    for method in [Method::PATCH, Method::DELETE, Method::PUT] {
        // Act
        let answer = app
            .send(
                app.request(method.clone(), &path, &fixture.partner.key)
                    .json(&json!({"text": "改过的。"})),
            )
            .await;

        // Assert
        answer.problem(405, "method_not_allowed");
        assert_eq!(answer.header("allow"), Some("GET, HEAD, POST"), "{method}");
    }
    let listed = app.get(&path, &fixture.partner.key).await;
    assert_eq!(listed.items().len(), 1);
    assert_eq!(listed.items()[0]["text"], "原文。");
}

#[tokio::test]
async fn an_empty_note_is_422() {
    // Arrange
    let app = spawn_app().await;
    let fixture = app.escalation_fixture("standard").await;
    let escalation = app
        .submit_escalation(&fixture.partner.key, &fixture.body)
        .await;
    let path = notes_path(escalation.id());

    for body in [
        json!({"text": ""}),
        json!({"text": "   "}),
        json!({}),
        json!({"text": 5}),
    ] {
        // Act
        let answer = app.post(&path, &fixture.partner.key, &body).await;

        // Assert
        answer.problem(422, "validation_failed");
        assert_eq!(answer.error_fields(), ["text"], "{body}");
    }
    assert!(
        app.get(&path, &fixture.partner.key)
            .await
            .items()
            .is_empty()
    );
    assert_eq!(
        events(&app, &fixture.partner.key, escalation.id())
            .await
            .len(),
        1
    );
}
