//! The event feed: every event a partner may see, oldest first, resumable after any event,
//! filtered by type; another partner's events never shown; a cursor past retention is 410.
//!
//! On PostgreSQL the feed shows an event once every transaction older than it has ended, and
//! other tests' transactions run beside these: reads wait (briefly) for what they expect.

use std::time::Duration;

use chrono::Utc;
use escalade::config::ServeSettings;
use escalade::entity::webhook_event;
use sea_orm::EntityTrait;
use serde_json::{Value, json};
use uuid::Uuid;

use crate::faults::eventually_within;
use crate::helpers::{Answer, TestApp, incident_body, spawn_app, spawn_app_with};

const EVENTS: &str = "/v1/events";

/// A page of the feed as `key`, once it holds at least `count` events (waiting up to 10 s).
pub(crate) async fn feed_page(
    app: &TestApp,
    key: &str,
    params: &[(&str, &str)],
    count: usize,
) -> Answer {
    let what = format!("{count} event(s) in the feed with {params:?}");
    eventually_within(Duration::from_secs(10), &what, async || {
        let page = app.get_query(EVENTS, key, params).await;
        (page.items().len() >= count).then_some(page)
    })
    .await
}

/// A partner's escalation, a partner note on it, and an operator taking it up: three events.
async fn three_events(app: &TestApp) -> (String, Uuid) {
    let fixture = app.escalation_fixture("standard").await;
    let key = fixture.partner.key.clone();
    let escalation = app.submit_escalation(&key, &fixture.body).await;
    let id = escalation.id();
    app.add_note(&key, id, "客户补充了退信截图。").await;
    let operator = app.operator_key().await;
    app.start_work(&operator, id, &escalation.etag()).await;
    (key, id)
}

/// An event id written `days` ago.
pub(crate) fn id_from_days_ago(days: i64) -> Uuid {
    let then = Utc::now() - chrono::Duration::days(days);
    let seconds = u64::try_from(then.timestamp()).unwrap();
    let timestamp =
        uuid::Timestamp::from_unix(uuid::NoContext, seconds, then.timestamp_subsec_nanos());
    Uuid::new_v7(timestamp)
}

#[tokio::test]
async fn the_feed_serves_events_oldest_first_resumes_after_any_and_refuses_what_it_cannot_serve() {
    // Arrange
    let app = spawn_app().await;
    let (key, id) = three_events(&app).await;

    // Act
    let all = feed_page(&app, &key, &[], 3).await;

    // Assert
    let kinds = [
        "escalation.created",
        "escalation.note_added",
        "escalation.status_changed",
    ];
    assert_eq!(all.strings("type"), kinds);
    assert_eq!(all.body["has_more"], false);
    assert_eq!(all.body["next_after"], all.body["items"][2]["id"]);
    assert_eq!(all.body["items"][0]["data"]["escalation"]["id"], json!(id));
    let number = &all.body["items"][0]["data"]["escalation"]["number"];
    assert_eq!(number, "ESC-000001", "the number drawn as it was written");
    let escalation = &all.body["items"][2]["data"]["escalation"];
    assert_eq!(escalation["status"], "in_progress");
    let all_ids = all.strings("id");

    // Page by page, each resuming after the last.
    let mut seen = Vec::new();
    let mut after: Option<String> = None;
    loop {
        let mut params = vec![("limit", "1")];
        if let Some(after) = &after {
            params.push(("after", after));
        }
        let page = feed_page(&app, &key, &params, 0).await;
        seen.extend(page.strings("id"));
        after = page.body["next_after"].as_str().map(str::to_owned);
        if page.body["has_more"] == false {
            break;
        }
    }
    assert_eq!(seen, all_ids);
    assert_eq!(after.as_deref(), Some(all_ids[2].as_str()));

    // From the middle; and past the end, an empty page that keeps the position.
    let rest = feed_page(&app, &key, &[("after", &all_ids[0])], 2).await;
    assert_eq!(rest.strings("id"), all_ids[1..]);
    let end = feed_page(&app, &key, &[("after", &all_ids[2])], 0).await;
    assert_eq!(end.body["items"], json!([]));
    assert_eq!(end.body["next_after"], json!(all_ids[2]));
    assert_eq!(end.body["has_more"], false);

    // By type, one or several.
    let notes = [("type", "escalation.note_added")];
    let notes = feed_page(&app, &key, &notes, 1).await;
    assert_eq!(notes.strings("type"), ["escalation.note_added"]);
    let two = [("type", "escalation.created,escalation.status_changed")];
    let two = feed_page(&app, &key, &two, 2).await;
    assert_eq!(two.strings("type"), [kinds[0], kinds[2]]);

    // What it cannot serve.
    let operator = app.operator_key().await;
    for (params, field) in [
        (vec![("type", "escalation.exploded")], "type"),
        (vec![("type", "escalation.created,")], "type"),
        (vec![("after", "not-an-id")], "after"),
        (vec![("limit", "0")], "limit"),
        (vec![("limit", "101")], "limit"),
        (vec![("cursor", "AAAA")], "cursor"),
    ] {
        let answer = app.get_query(EVENTS, &operator, &params).await;
        answer.problem(400, "invalid_query");
        assert_eq!(answer.error_fields(), [field], "{params:?}");
    }
    app.get(EVENTS, "not-a-key")
        .await
        .problem(401, "unauthorized");
    let unknown = Uuid::now_v7().to_string();
    let unknown = app
        .get_query(EVENTS, &operator, &[("after", &unknown)])
        .await;
    unknown.problem(404, "not_found");

    // A cursor past retention is 410 before housekeeping deletes its event.
    let aged = id_from_days_ago(31);
    app.execute_sql(
        "UPDATE webhook_events SET id = $1 WHERE id = $2",
        vec![aged.into(), all_ids[0].parse::<Uuid>().unwrap().into()],
    )
    .await;
    let expired = app
        .get_query(EVENTS, &key, &[("after", &aged.to_string())])
        .await;
    expired.problem(410, "events_expired");
    let kept = webhook_event::Entity::find_by_id(aged)
        .one(&app.db)
        .await
        .unwrap();
    assert!(kept.is_some(), "the event is still stored");
}

#[tokio::test]
async fn partners_see_their_own_and_everyones_events_and_operators_all() {
    // Arrange
    let app = spawn_app().await;
    let (first, _) = three_events(&app).await;
    let (second, _) = three_events(&app).await;
    let operator = app.operator_key().await;
    app.create_incident(&operator, &incident_body("microsoft-365"))
        .await;

    // Act
    let of_first = feed_page(&app, &first, &[], 4).await;
    let of_second = feed_page(&app, &second, &[], 4).await;
    let everything = feed_page(&app, &operator, &[], 7).await;

    // Assert
    let kinds = [
        "escalation.created",
        "escalation.note_added",
        "escalation.status_changed",
        "service_incident.created",
    ];
    assert_eq!(of_first.strings("type"), kinds);
    assert_eq!(of_second.strings("type"), of_first.strings("type"));
    let (firsts, seconds) = (of_first.strings("id"), of_second.strings("id"));
    assert_eq!(seconds[3], firsts[3], "one event for everyone");
    for id in &firsts[..3] {
        assert!(!seconds.contains(id), "the first partner's {id}");
    }
    assert_eq!(everything.items().len(), 7);
    // Another partner's event is no position to resume from: as if it did not exist.
    let foreign = app
        .get_query(EVENTS, &second, &[("after", &firsts[0])])
        .await;
    foreign.problem(404, "not_found");
}

#[tokio::test]
async fn events_past_retention_are_deleted_and_their_cursors_are_410() {
    // Arrange
    let app = spawn_app_with(ServeSettings {
        housekeeping_interval_secs: 1,
        ..ServeSettings::default()
    })
    .await;
    let (key, _) = three_events(&app).await;
    let oldest = feed_page(&app, &key, &[], 3).await.strings("id")[0].clone();

    // Act: the first event, as if written 31 days ago.
    let aged = id_from_days_ago(31);
    let then = Utc::now() - chrono::Duration::days(31);
    let oldest: Uuid = oldest.parse().unwrap();
    let aging = "UPDATE webhook_events SET id = $1, created_at = $2 WHERE id = $3";
    let changed = app
        .execute_sql(aging, vec![aged.into(), then.into(), oldest.into()])
        .await;

    // Assert
    assert_eq!(changed, 1);
    let what = "housekeeping to delete the event past retention";
    eventually_within(Duration::from_secs(10), what, async || {
        let page = app.get(EVENTS, &key).await;
        (page.items().len() == 2).then_some(())
    })
    .await;
    for cursor in [aged, id_from_days_ago(45)] {
        let gone = app
            .get_query(EVENTS, &key, &[("after", &cursor.to_string())])
            .await;
        gone.problem(410, "events_expired");
        let detail = gone.body["detail"].as_str().unwrap();
        assert!(detail.contains("30"), "{}", gone.body);
    }
    let path = format!("{EVENTS}?after={aged}");
    let chinese = app.get_in(&path, &key, "zh-CN").await;
    let detail = chinese.body["detail"].as_str().unwrap();
    assert!(detail.contains("保留"), "{}", chinese.body);
}

/// Each event's `data` holds what the document says events of its type hold: the component its
/// `type` maps to names `data`'s schema, whose properties are exactly the keys sent.
#[tokio::test]
async fn every_event_carries_the_data_the_spec_gives_its_type() {
    // Arrange
    let app = spawn_app().await;
    let (key, _) = three_events(&app).await;
    let operator = app.operator_key().await;
    app.create_incident(&operator, &incident_body("microsoft-365"))
        .await;
    let spec = app.get_anonymously("/openapi.json").await.body;
    let schemas = &spec["components"]["schemas"];
    let mapping = &schemas["FeedEvent"]["discriminator"]["mapping"];
    let component = |reference: &Value| {
        let name = reference.as_str().unwrap().rsplit('/').next().unwrap();
        schemas[name].clone()
    };

    // Act
    let feed = feed_page(&app, &key, &[], 4).await;

    // Assert
    for event in feed.items() {
        let event_type = event["type"].as_str().unwrap();
        let schema = component(&mapping[event_type]);
        assert_eq!(schema["properties"]["type"]["enum"], json!([event_type]));
        let data = component(&schema["properties"]["data"]["$ref"]);
        let mut declared: Vec<&String> = data["properties"].as_object().unwrap().keys().collect();
        let mut sent: Vec<&String> = event["data"].as_object().unwrap().keys().collect();
        declared.sort();
        sent.sort();
        assert_eq!(sent, declared, "{event_type}");
    }
    let webhook = &spec["webhooks"]["escalation.created"]["post"]["requestBody"];
    let body = &webhook["content"]["application/json"]["schema"]["$ref"];
    assert_eq!(
        body, &mapping["escalation.created"],
        "webhooks carry the same events"
    );
}
