//! `/v1/escalations/{id}/notes`: the partner and 21Vianet exchange notes that are never edited,
//! each one also an event of the audit trail.

use reqwest::Method;
use serde_json::{Value, json};
use uuid::Uuid;

use crate::helpers::{escalation_path, notes_path};
use crate::world::World;

impl World {
    /// `text` noted on escalation `id` as `key`, answered.
    async fn note(&self, key: &str, id: Uuid, text: &str) -> crate::helpers::Answer {
        let note = json!({ "text": text });
        self.app.post(&notes_path(id), key, &note).await
    }

    /// The events of escalation `id` as `key`, oldest first.
    async fn events(&self, key: &str, id: Uuid) -> Vec<Value> {
        let path = format!("{}/events", escalation_path(id));
        self.app.get(&path, key).await.items().clone()
    }
}

#[tokio::test]
async fn the_partner_and_operators_add_notes_listed_oldest_first_each_an_event() {
    // Arrange
    let world = World::new().await;
    let id = world.submit().await.id();
    let (partner, operator, admin) = (world.key(), &world.operator, &world.app.admin_key);

    // Act
    let asked = world
        .note(operator, id, "请提供一封退信的完整邮件头。")
        .await;
    let answered = world
        .note(
            partner,
            id,
            "  已附上退信邮件头，见附件 bounce-0924.eml。\n",
        )
        .await;
    let forwarded = world.note(admin, id, "已转交二线。").await;

    // Assert
    for (answer, role) in [
        (&asked, "operator"),
        (&answered, "partner"),
        (&forwarded, "admin"),
    ] {
        assert_eq!(answer.status, 201, "{}", answer.body);
        assert_eq!(answer.header("location"), Some(notes_path(id).as_str()));
        assert_eq!(answer.body["escalation_id"], json!(id));
        assert_eq!(answer.body["author_role"], role);
        assert!(answer.body["created_at"].is_string());
    }
    let text = "已附上退信邮件头，见附件 bounce-0924.eml。";
    assert_eq!(answered.body["text"], text);
    for key in [partner, operator] {
        let listed = world.app.get(&notes_path(id), key).await;
        assert_eq!(
            listed.item_ids(),
            [asked.id(), answered.id(), forwarded.id()]
        );
        assert_eq!(listed.items()[0], asked.body);
    }
    let after = world.escalation(partner, id).await;
    let why = "only the operator's first note changes the escalation: it is the first response";
    assert_eq!(after.etag(), "\"2\"", "{why}");
    assert_eq!(
        after.body["sla"]["first_response_at"],
        asked.body["created_at"]
    );
    let events = world.events(operator, id).await;
    let kinds: Vec<&str> = events.iter().map(|e| e["kind"].as_str().unwrap()).collect();
    assert_eq!(kinds, ["created", "note_added", "note_added", "note_added"]);
    for (event, (note, role)) in events[1..].iter().zip([
        (&asked, "operator"),
        (&answered, "partner"),
        (&forwarded, "admin"),
    ]) {
        assert_eq!(event["actor"]["role"], role);
        assert_eq!(event["after"]["note_id"], note.body["id"]);
        assert_eq!(event["after"]["text"], note.body["text"]);
    }
}

#[tokio::test]
async fn notes_are_append_only_and_an_empty_one_is_422() {
    // Arrange
    let world = World::new().await;
    let id = world.submit().await.id();
    let path = notes_path(id);
    assert_eq!(world.note(world.key(), id, "原文。").await.status, 201);

    // Act
    let edits = [Method::PATCH, Method::DELETE, Method::PUT].map(|method| {
        let request = world.app.request(method, &path, world.key());
        request.json(&json!({"text": "改过的。"}))
    });
    let mut refused_edits = Vec::new();
    for edit in edits {
        refused_edits.push(world.app.send(edit).await);
    }
    let mut refused_notes = Vec::new();
    for body in [
        json!({"text": ""}),
        json!({"text": "   "}),
        json!({}),
        json!({"text": 5}),
    ] {
        refused_notes.push((world.app.post(&path, world.key(), &body).await, body));
    }

    // Assert
    for answer in refused_edits {
        answer.problem(405, "method_not_allowed");
        assert_eq!(answer.header("allow"), Some("GET, HEAD, POST"));
    }
    for (answer, body) in refused_notes {
        answer.problem(422, "validation_failed");
        assert_eq!(answer.error_fields(), ["text"], "{body}");
    }
    let listed = world.app.get(&path, world.key()).await;
    assert_eq!(listed.strings("text"), ["原文。"]);
    let events = world.events(world.key(), id).await;
    assert_eq!(events.len(), 2, "created, the one note");
}
