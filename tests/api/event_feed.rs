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

use crate::helpers::{TestApp, incident_body, spawn_app, spawn_app_with};

/// A page of the feed as `key`, once it holds at least `count` events (waiting up to 10 s).
async fn feed_page(app: &TestApp, key: &str, params: &[(&str, &str)], count: usize) -> Value {
    let mut body = Value::Null;
    for _ in 0..100 {
        let answer = app.get_query("/v1/events", key, params).await;
        assert_eq!(answer.status, 200, "{}", answer.body);
        body = answer.body;
        if body["items"].as_array().unwrap().len() >= count {
            break;
        }
        tokio::time::sleep(Duration::from_millis(100)).await;
    }
    body
}

fn types(page: &Value) -> Vec<&str> {
    page["items"]
        .as_array()
        .unwrap()
        .iter()
        .map(|item| item["type"].as_str().unwrap())
        .collect()
}

fn ids(page: &Value) -> Vec<String> {
    page["items"]
        .as_array()
        .unwrap()
        .iter()
        .map(|item| item["id"].as_str().unwrap().to_owned())
        .collect()
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

#[tokio::test]
async fn the_feed_serves_events_oldest_first_and_resumes_after_any_of_them() {
    let app = spawn_app().await;
    let (key, id) = three_events(&app).await;

    let all = feed_page(&app, &key, &[], 3).await;
    assert_eq!(
        types(&all),
        [
            "escalation.created",
            "escalation.note_added",
            "escalation.status_changed"
        ]
    );
    assert_eq!(all["has_more"], false);
    assert_eq!(all["next_after"], all["items"][2]["id"]);
    assert_eq!(all["items"][0]["data"]["escalation"]["id"], json!(id));
    assert_eq!(
        all["items"][2]["data"]["escalation"]["status"],
        "in_progress"
    );
    let all_ids = ids(&all);

    // Page by page, each resuming after the last.
    let mut seen = Vec::new();
    let mut after: Option<String> = None;
    loop {
        let mut params = vec![("limit", "1")];
        if let Some(after) = &after {
            params.push(("after", after));
        }
        let page = feed_page(&app, &key, &params, 0).await;
        seen.extend(ids(&page));
        after = page["next_after"].as_str().map(str::to_owned);
        if page["has_more"] == false {
            break;
        }
    }
    assert_eq!(seen, all_ids);
    assert_eq!(after.as_deref(), Some(all_ids[2].as_str()));

    // From the middle; and past the end, an empty page that keeps the position.
    let rest = feed_page(&app, &key, &[("after", &all_ids[0])], 2).await;
    assert_eq!(ids(&rest), all_ids[1..]);
    let end = feed_page(&app, &key, &[("after", &all_ids[2])], 0).await;
    assert_eq!(end["items"], json!([]));
    assert_eq!(end["next_after"], json!(all_ids[2]));
    assert_eq!(end["has_more"], false);

    // By type, one or several.
    let notes = feed_page(&app, &key, &[("type", "escalation.note_added")], 1).await;
    assert_eq!(types(&notes), ["escalation.note_added"]);
    let two = feed_page(
        &app,
        &key,
        &[("type", "escalation.created,escalation.status_changed")],
        2,
    )
    .await;
    assert_eq!(
        types(&two),
        ["escalation.created", "escalation.status_changed"]
    );
}

#[tokio::test]
async fn partners_see_their_own_and_everyones_events_and_operators_all() {
    let app = spawn_app().await;
    let (first, _) = three_events(&app).await;
    let (second, _) = three_events(&app).await;
    let operator = app.operator_key().await;
    let incident = app
        .create_incident(&operator, &incident_body("microsoft-365"))
        .await;
    assert_eq!(incident.status, 201, "{}", incident.body);

    let of_first = feed_page(&app, &first, &[], 4).await;
    let of_second = feed_page(&app, &second, &[], 4).await;
    assert_eq!(
        types(&of_first),
        [
            "escalation.created",
            "escalation.note_added",
            "escalation.status_changed",
            "service_incident.created"
        ]
    );
    assert_eq!(types(&of_second), types(&of_first));
    let shared = &of_first["items"][3]["id"];
    assert_eq!(
        &of_second["items"][3]["id"], shared,
        "one event for everyone"
    );
    for item in of_first["items"].as_array().unwrap().iter().take(3) {
        assert!(
            !ids(&of_second).contains(&item["id"].as_str().unwrap().to_owned()),
            "the second partner never sees the first's {item}"
        );
    }

    let everything = feed_page(&app, &operator, &[], 7).await;
    assert_eq!(everything["items"].as_array().unwrap().len(), 7);

    // Another partner's event is no position to resume from: as if it did not exist.
    let foreign = of_first["items"][0]["id"].as_str().unwrap();
    app.get_query("/v1/events", &second, &[("after", foreign)])
        .await
        .problem(404, "not_found");
}

#[tokio::test]
async fn bad_queries_are_refused_with_the_field_named() {
    let app = spawn_app().await;
    let key = app.operator_key().await;
    let now = Uuid::now_v7().to_string();
    for (params, field) in [
        (vec![("type", "escalation.exploded")], "type"),
        (vec![("type", "escalation.created,")], "type"),
        (vec![("after", "not-an-id")], "after"),
        (vec![("limit", "0")], "limit"),
        (vec![("limit", "101")], "limit"),
        (vec![("cursor", "AAAA")], "cursor"),
    ] {
        let answer = app.get_query("/v1/events", &key, &params).await;
        answer.problem(400, "invalid_query");
        assert_eq!(
            answer.error_fields(),
            [field],
            "{params:?}: {}",
            answer.body
        );
    }
    app.get("/v1/events", "not-a-key")
        .await
        .problem(401, "unauthorized");
    app.get_query("/v1/events", &key, &[("after", now.as_str())])
        .await
        .problem(404, "not_found");
}

/// An event id written `days` ago.
fn id_from_days_ago(days: i64) -> Uuid {
    let then = Utc::now() - chrono::Duration::days(days);
    let timestamp = uuid::Timestamp::from_unix(
        uuid::NoContext,
        u64::try_from(then.timestamp()).unwrap(),
        then.timestamp_subsec_nanos(),
    );
    Uuid::new_v7(timestamp)
}

#[tokio::test]
async fn events_past_retention_are_deleted_and_their_cursors_are_410() {
    let app = spawn_app_with(ServeSettings {
        housekeeping_interval_secs: 1,
        ..ServeSettings::default()
    })
    .await;
    let (key, _) = three_events(&app).await;
    let page = feed_page(&app, &key, &[], 3).await;
    let oldest = page["items"][0]["id"].as_str().unwrap().to_owned();

    // The first event, as if written 31 days ago.
    let aged = id_from_days_ago(31);
    let changed = app
        .execute_sql(
            "UPDATE webhook_events SET id = $1, created_at = $2 WHERE id = $3",
            vec![
                aged.into(),
                (Utc::now() - chrono::Duration::days(31)).into(),
                oldest.parse::<Uuid>().unwrap().into(),
            ],
        )
        .await;
    assert_eq!(changed, 1);
    let mut remaining = 3;
    for _ in 0..50 {
        remaining = feed_page(&app, &key, &[], 0).await["items"]
            .as_array()
            .unwrap()
            .len();
        if remaining == 2 {
            break;
        }
        tokio::time::sleep(Duration::from_millis(100)).await;
    }
    assert_eq!(
        remaining, 2,
        "housekeeping deleted the event past retention"
    );

    for cursor in [aged, id_from_days_ago(45)] {
        let gone = app
            .get_query("/v1/events", &key, &[("after", &cursor.to_string())])
            .await;
        gone.problem(410, "events_expired");
        assert!(
            gone.body["detail"].as_str().unwrap().contains("30"),
            "{}",
            gone.body
        );
    }
    let chinese = app
        .send(
            app.request(
                reqwest::Method::GET,
                &format!("/v1/events?after={aged}"),
                &key,
            )
            .header("Accept-Language", "zh-CN"),
        )
        .await;
    assert!(
        chinese.body["detail"].as_str().unwrap().contains("保留"),
        "{}",
        chinese.body
    );
}

#[tokio::test]
async fn a_cursor_past_retention_is_410_before_housekeeping_deletes_its_event() {
    let app = spawn_app().await;
    let (key, _) = three_events(&app).await;
    let page = feed_page(&app, &key, &[], 3).await;
    let oldest = page["items"][0]["id"].as_str().unwrap().to_owned();
    let aged = id_from_days_ago(31);
    app.execute_sql(
        "UPDATE webhook_events SET id = $1 WHERE id = $2",
        vec![aged.into(), oldest.parse::<Uuid>().unwrap().into()],
    )
    .await;

    app.get_query("/v1/events", &key, &[("after", &aged.to_string())])
        .await
        .problem(410, "events_expired");
    let kept = webhook_event::Entity::find_by_id(aged)
        .one(&app.db)
        .await
        .unwrap();
    assert!(
        kept.is_some(),
        "the event is still stored, yet its cursor is gone"
    );
}
