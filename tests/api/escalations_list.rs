//! `GET /v1/escalations`: a partner's history (newest first) and 21Vianet's triage queue
//! (earliest first response due first), its filters, and pages in both orders.

use chrono::{DateTime, Duration, Utc};
use serde_json::{Value, json};
use uuid::Uuid;

use crate::escalations::{premium_body, rated};
use crate::helpers::{Answer, ESCALATIONS, TestApp, timestamp};
use crate::world::World;

/// Query parameters.
type Query<'a> = &'a [(&'a str, &'a str)];

/// Three escalations of a premium customer of the world's partner, created minimal, critical,
/// moderate; returns them in that order.
async fn three_severities(world: &World) -> [Answer; 3] {
    let body = premium_body(world).await;
    let submit = async |severity: &str, category: &str| {
        let rated = rated(&body, severity, category);
        world.app.submit_escalation(world.key(), &rated).await
    };
    [
        submit("minimal", "undocumented_defect").await,
        submit("critical", "service_unavailable").await,
        submit("moderate", "product_bug").await,
    ]
}

/// When the first response to a listed escalation is due.
fn response_due(escalation: &Value) -> DateTime<Utc> {
    timestamp(&escalation["sla"]["response_due_at"])
}

/// Sets when the first response to `escalation` is due.
async fn due_at(app: &TestApp, escalation: &Answer, due: DateTime<Utc>) {
    let sql = "UPDATE escalations SET response_due_at = $1 WHERE id = $2";
    let values = vec![due.into(), escalation.id().into()];
    assert_eq!(app.execute_sql(sql, values).await, 1);
}

/// Follows `limit=1` pages from `params` by `next_cursor` and by `Link`; both must agree.
async fn page_through(app: &TestApp, key: &str, params: &[(&str, &str)]) -> Vec<Uuid> {
    let mut query = params.to_vec();
    query.push(("limit", "1"));
    let mut page = app.get_query(ESCALATIONS, key, &query).await;
    let mut by_cursor = Vec::new();
    loop {
        assert!(page.items().len() <= 1, "{}", page.body);
        by_cursor.extend(page.item_ids());
        let Some(cursor) = page.body["next_cursor"].as_str().map(str::to_owned) else {
            assert!(page.next_link().is_none());
            break;
        };
        let link = page.next_link().expect("a Link with the next_cursor");
        assert!(link.starts_with(ESCALATIONS), "{link}");
        let mut next = query.clone();
        next.push(("cursor", &cursor));
        let by_query = app.get_query(ESCALATIONS, key, &next).await;
        let by_link = app.get(&link, key).await;
        assert_eq!(by_query.body, by_link.body, "{link}");
        page = by_link;
        assert!(by_cursor.len() < 20, "pages never end");
    }
    by_cursor
}

/// The partner's history is newest first, staff's triage queue earliest due first (ties broken
/// by id), either on request; whole or in pages of one.
#[tokio::test]
async fn partners_list_newest_first_and_staff_earliest_due_first_whole_or_in_pages() {
    // Arrange
    let world = World::new().await;
    let (app, partner, operator) = (&world.app, world.key(), world.operator.as_str());
    let [minimal, critical, moderate] = three_severities(&world).await;
    let newest = [moderate.id(), critical.id(), minimal.id()];
    let due = [critical.id(), moderate.id(), minimal.id()];
    let (by_newest, by_due) = ([("order", "newest")], [("order", "due")]);

    for (label, key, params, expected) in [
        ("the partner's history", partner, &[][..], newest),
        ("the operator's queue", operator, &[], due),
        ("the admin's queue", &app.admin_key, &[], due),
        ("the partner, by due", partner, &by_due, due),
        ("the operator, newest", operator, &by_newest, newest),
    ] {
        // Act
        let whole = app.get_query(ESCALATIONS, key, params).await;
        let paged = page_through(app, key, params).await;

        // Assert
        assert_eq!(whole.item_ids(), expected, "{label}");
        assert!(whole.body["next_cursor"].is_null(), "{label}");
        assert!(whole.next_link().is_none(), "{label}");
        assert_eq!(paged, expected, "{label}, in pages of one");
        let dues: Vec<_> = whole.items().iter().map(response_due).collect();
        if expected == due {
            assert!(dues.windows(2).all(|w| w[0] <= w[1]), "{label}: {dues:?}");
        }
    }

    // Arrange: the three due at exactly the same moment
    let same = Utc::now() + Duration::hours(5);
    for escalation in [&minimal, &critical, &moderate] {
        due_at(app, escalation, same).await;
    }

    // Act
    let tied = page_through(app, operator, &[]).await;

    // Assert: ties are broken by id, each exactly once
    let mut by_id = newest.to_vec();
    by_id.sort();
    assert_eq!(tied, by_id);
}

#[tokio::test]
async fn the_list_filters_by_status_severity_service_partner_and_customer_and_refuses_bad_ones() {
    // Arrange
    let world = World::new().await;
    let (app, partner, operator) = (&world.app, &world.partner, world.operator.as_str());
    let [minimal, critical, moderate] = three_severities(&world).await;
    let other = app.escalation_fixture("standard").await;
    let elsewhere = app.submit_escalation(&other.partner.key, &other.body).await;
    app.create_subscription(partner, world.customer_id, "azure", "active")
        .await;
    let azure = world
        .submit_edited(|body| body["service_key"] = json!("azure"))
        .await;
    let withdraw = json!({"to": "withdrawn"});
    let withdrawn = app
        .transition(&partner.key, minimal.id(), "\"1\"", &withdraw)
        .await;
    assert_eq!(withdrawn.status, 200, "{}", withdrawn.body);
    let (partner_id, customer_id) = (partner.id.to_string(), other.customer_id.to_string());
    let newest = ("order", "newest");
    let cases: [(Query, Vec<Uuid>); 8] = [
        (&[("status", "withdrawn")], vec![minimal.id()]),
        (
            &[("status", "submitted"), newest],
            vec![azure.id(), elsewhere.id(), moderate.id(), critical.id()],
        ),
        (&[("severity", "critical")], vec![critical.id()]),
        (&[("service", "azure")], vec![azure.id()]),
        (
            &[("partner_id", &partner_id), newest],
            vec![azure.id(), moderate.id(), critical.id(), minimal.id()],
        ),
        (&[("customer_id", &customer_id)], vec![elsewhere.id()]),
        (
            &[("severity", "moderate"), ("service", "microsoft-365")],
            vec![moderate.id(), elsewhere.id()],
        ),
        (&[("status", "closed")], vec![]),
    ];

    for (params, mut expected) in cases {
        // Act
        let answer = app.get_query(ESCALATIONS, operator, params).await;

        // Assert
        let mut ids = answer.item_ids();
        if !params.contains(&newest) {
            ids.sort();
            expected.sort();
        }
        assert_eq!(ids, expected, "{params:?}");
    }
    for (name, value) in [
        ("status", "open"),
        ("severity", "urgent"),
        ("service", "Microsoft 365"),
        ("partner_id", "nope"),
        ("customer_id", "42"),
        ("breached", "maybe"),
        ("due_before", "tomorrow"),
        ("order", "oldest"),
        ("limit", "0"),
        ("colour", "red"),
        ("cursor", "not a cursor"),
        ("limit", "101"),
    ] {
        // Act
        let answer = app.get_query(ESCALATIONS, operator, &[(name, value)]).await;

        // Assert
        answer.problem(400, "invalid_query");
        assert_eq!(answer.error_fields(), [name], "{name}={value}");
    }
}

/// An escalation past its due time is breached, and stays so once an operator starts work.
#[tokio::test]
async fn the_list_filters_by_breach_and_due_time_and_a_late_response_stays_breached() {
    // Arrange: the moderate one due half an hour ago
    let world = World::new().await;
    let (app, operator) = (&world.app, world.operator.as_str());
    let [minimal, critical, moderate] = three_severities(&world).await;
    due_at(app, &moderate, Utc::now() - Duration::minutes(30)).await;
    let in_three_hours = (Utc::now() + Duration::hours(3)).to_rfc3339();
    let filter = async |name: &str, value: &str| {
        app.get_query(ESCALATIONS, operator, &[(name, value)]).await
    };

    // Act
    let breached = filter("breached", "true").await;
    let not_breached = filter("breached", "false").await;
    let due_soon = filter("due_before", &in_three_hours).await;
    let read = world.escalation(operator, moderate.id()).await;
    let started = app.start_work(operator, moderate.id(), "\"1\"").await;
    let still_breached = filter("breached", "true").await;

    // Assert
    assert_eq!(breached.item_ids(), [moderate.id()]);
    assert_eq!(breached.items()[0]["sla"]["breached"], true);
    assert_eq!(not_breached.item_ids(), [critical.id(), minimal.id()]);
    let items = not_breached.items();
    assert!(items.iter().all(|e| e["sla"]["breached"] == false));
    assert_eq!(due_soon.item_ids(), [moderate.id(), critical.id()]);
    assert_eq!(read.body["sla"]["breached"], true);
    assert_eq!(started.body["sla"]["breached"], true, "responded late");
    assert_eq!(still_breached.item_ids(), [moderate.id()]);
}
