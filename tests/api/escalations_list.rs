//! `GET /v1/escalations`: a partner's history (newest first) and 21Vianet's triage queue
//! (earliest first response due first), its filters, and pages in both orders.

use chrono::{Duration, Utc};
use serde_json::json;
use uuid::Uuid;

use crate::helpers::{
    Answer, ESCALATIONS, EscalationFixture, TestApp, TestPartner, escalation_path, spawn_app,
    timestamp,
};

/// Query parameters.
type Query<'a> = Vec<(&'a str, &'a str)>;

/// Submits `body` with `severity` and `category` changed; asserts 201.
async fn submit_as(
    app: &TestApp,
    partner: &TestPartner,
    body: &serde_json::Value,
    severity: &str,
    category: &str,
) -> Answer {
    let mut body = body.clone();
    body["severity"] = json!(severity);
    body["category"] = json!(category);
    app.submit_escalation(&partner.key, &body).await
}

// ---------------------------------------------------------------------------------------------
// List: a partner's history and the triage queue
// ---------------------------------------------------------------------------------------------

/// A premium customer's three escalations, created minimal, critical, moderate; returns the
/// fixture and the answers in that order.
async fn three_severities(app: &TestApp) -> (EscalationFixture, [Answer; 3]) {
    let fixture = app.escalation_fixture("premium").await;
    let minimal = submit_as(
        app,
        &fixture.partner,
        &fixture.body,
        "minimal",
        "undocumented_defect",
    )
    .await;
    let critical = submit_as(
        app,
        &fixture.partner,
        &fixture.body,
        "critical",
        "service_unavailable",
    )
    .await;
    let moderate = submit_as(
        app,
        &fixture.partner,
        &fixture.body,
        "moderate",
        "product_bug",
    )
    .await;
    (fixture, [minimal, critical, moderate])
}

#[tokio::test]
async fn a_partner_lists_its_escalations_newest_first() {
    // Arrange
    let app = spawn_app().await;
    let (fixture, [minimal, critical, moderate]) = three_severities(&app).await;

    // Act
    let answer = app.get(ESCALATIONS, &fixture.partner.key).await;

    // Assert
    assert_eq!(
        answer.item_ids(),
        [moderate.id(), critical.id(), minimal.id()]
    );
    assert!(answer.body["next_cursor"].is_null());
    assert!(answer.next_link().is_none());
}

#[tokio::test]
async fn operators_list_the_triage_queue_earliest_due_first() {
    // Arrange
    let app = spawn_app().await;
    let (fixture, [minimal, critical, moderate]) = three_severities(&app).await;
    let operator = app.operator_key().await;

    for key in [&operator, &app.admin_key] {
        // Act
        let answer = app.get(ESCALATIONS, key).await;

        // Assert
        assert_eq!(
            answer.item_ids(),
            [critical.id(), moderate.id(), minimal.id()]
        );
        let due: Vec<_> = answer
            .items()
            .iter()
            .map(|e| timestamp(&e["sla"]["response_due_at"]))
            .collect();
        assert!(due.windows(2).all(|w| w[0] <= w[1]), "{due:?}");
    }
    let newest = app
        .get_query(ESCALATIONS, &operator, &[("order", "newest")])
        .await;
    assert_eq!(
        newest.item_ids(),
        [moderate.id(), critical.id(), minimal.id()]
    );
    let due_for_partner = app
        .get_query(ESCALATIONS, &fixture.partner.key, &[("order", "due")])
        .await;
    assert_eq!(
        due_for_partner.item_ids(),
        [critical.id(), moderate.id(), minimal.id()]
    );
}

#[tokio::test]
async fn the_list_filters_by_status_severity_service_partner_and_customer() {
    // Arrange
    let app = spawn_app().await;
    let (fixture, [minimal, critical, moderate]) = three_severities(&app).await;
    let other = app.escalation_fixture("standard").await;
    let elsewhere = app.submit_escalation(&other.partner.key, &other.body).await;
    app.create_subscription(&fixture.partner, fixture.customer_id, "azure", "active")
        .await;
    let mut azure_body = fixture.body.clone();
    azure_body["service_key"] = json!("azure");
    let azure = app
        .submit_escalation(&fixture.partner.key, &azure_body)
        .await;
    let operator = app.operator_key().await;
    let withdrawn = app
        .transition(
            &fixture.partner.key,
            minimal.id(),
            "\"1\"",
            &json!({"to": "withdrawn"}),
        )
        .await;
    assert_eq!(withdrawn.status, 200, "{}", withdrawn.body);
    let partner_id = fixture.partner.id.to_string();
    let customer_id = other.customer_id.to_string();
    let cases: Vec<(Query, Vec<Uuid>)> = vec![
        (vec![("status", "withdrawn")], vec![minimal.id()]),
        (
            vec![("status", "submitted"), ("order", "newest")],
            vec![azure.id(), elsewhere.id(), moderate.id(), critical.id()],
        ),
        (vec![("severity", "critical")], vec![critical.id()]),
        (vec![("service", "azure")], vec![azure.id()]),
        (
            vec![("partner_id", &partner_id), ("order", "newest")],
            vec![azure.id(), moderate.id(), critical.id(), minimal.id()],
        ),
        (vec![("customer_id", &customer_id)], vec![elsewhere.id()]),
        (
            vec![("severity", "moderate"), ("service", "microsoft-365")],
            vec![moderate.id(), elsewhere.id()],
        ),
        (vec![("status", "closed")], vec![]),
    ];

    for (params, expected) in cases {
        // Act
        let answer = app.get_query(ESCALATIONS, &operator, &params).await;

        // Assert
        let mut ids = answer.item_ids();
        let mut expected = expected.clone();
        if !params.iter().any(|(k, _)| *k == "order") {
            ids.sort();
            expected.sort();
        }
        assert_eq!(ids, expected, "{params:?}");
    }
}

#[tokio::test]
async fn the_list_filters_by_breach_and_due_time() {
    // Arrange
    let app = spawn_app().await;
    let (_fixture, [minimal, critical, moderate]) = three_severities(&app).await;
    let overdue = Utc::now() - Duration::minutes(30);
    let changed = app
        .execute_sql(
            "UPDATE escalations SET response_due_at = $1 WHERE id = $2",
            vec![overdue.into(), moderate.id().into()],
        )
        .await;
    assert_eq!(changed, 1);
    let operator = app.operator_key().await;
    let in_three_hours = (Utc::now() + Duration::hours(3)).to_rfc3339();

    // Act
    let breached = app
        .get_query(ESCALATIONS, &operator, &[("breached", "true")])
        .await;
    let not_breached = app
        .get_query(ESCALATIONS, &operator, &[("breached", "false")])
        .await;
    let due_soon = app
        .get_query(ESCALATIONS, &operator, &[("due_before", &in_three_hours)])
        .await;

    // Assert
    assert_eq!(breached.item_ids(), [moderate.id()]);
    assert_eq!(breached.items()[0]["sla"]["breached"], true);
    assert_eq!(not_breached.item_ids(), [critical.id(), minimal.id()]);
    assert!(
        not_breached
            .items()
            .iter()
            .all(|e| e["sla"]["breached"] == false)
    );
    assert_eq!(due_soon.item_ids(), [moderate.id(), critical.id()]);
    let read = app.get(&escalation_path(moderate.id()), &operator).await;
    assert_eq!(read.body["sla"]["breached"], true);
}

#[tokio::test]
async fn a_late_first_response_stays_breached() {
    // Arrange: due in the past, then an operator starts work
    let app = spawn_app().await;
    let fixture = app.escalation_fixture("standard").await;
    let escalation = app
        .submit_escalation(&fixture.partner.key, &fixture.body)
        .await;
    app.execute_sql(
        "UPDATE escalations SET response_due_at = $1 WHERE id = $2",
        vec![
            (Utc::now() - Duration::hours(1)).into(),
            escalation.id().into(),
        ],
    )
    .await;
    let operator = app.operator_key().await;

    // Act
    let started = app
        .transition(
            &operator,
            escalation.id(),
            "\"1\"",
            &json!({"to": "in_progress", "engineer": {"name": "李娜", "email": "li.na@oe.21vianet.com"}}),
        )
        .await;

    // Assert
    assert_eq!(started.status, 200, "{}", started.body);
    assert_eq!(started.body["sla"]["breached"], true);
    let breached = app
        .get_query(ESCALATIONS, &operator, &[("breached", "true")])
        .await;
    assert_eq!(breached.item_ids(), [escalation.id()]);
}

/// Follows `limit=1` pages from `params` by `next_cursor` and by `Link`; both must agree.
async fn page_through(app: &TestApp, key: &str, params: &[(&str, &str)]) -> Vec<Uuid> {
    let mut query: Vec<(&str, String)> = params.iter().map(|(k, v)| (*k, v.to_string())).collect();
    query.push(("limit", "1".to_owned()));
    let borrowed: Vec<(&str, &str)> = query.iter().map(|(k, v)| (*k, v.as_str())).collect();
    let mut page = app.get_query(ESCALATIONS, key, &borrowed).await;
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
        let mut next: Vec<(&str, &str)> = borrowed.clone();
        next.push(("cursor", &cursor));
        let by_query = app.get_query(ESCALATIONS, key, &next).await;
        let by_link = app.get(&link, key).await;
        assert_eq!(by_query.body, by_link.body, "{link}");
        page = by_link;
        assert!(by_cursor.len() < 20, "pages never end");
    }
    by_cursor
}

#[tokio::test]
async fn pages_of_one_follow_the_cursor_in_both_orders() {
    // Arrange
    let app = spawn_app().await;
    let (fixture, [minimal, critical, moderate]) = three_severities(&app).await;
    let operator = app.operator_key().await;

    // Act
    let newest = page_through(&app, &fixture.partner.key, &[]).await;
    let due = page_through(&app, &operator, &[]).await;
    let due_for_partner = page_through(&app, &fixture.partner.key, &[("order", "due")]).await;
    let newest_for_operator = page_through(&app, &operator, &[("order", "newest")]).await;

    // Assert
    assert_eq!(newest, [moderate.id(), critical.id(), minimal.id()]);
    assert_eq!(newest_for_operator, newest);
    assert_eq!(due, [critical.id(), moderate.id(), minimal.id()]);
    assert_eq!(due_for_partner, due);
}

#[tokio::test]
async fn pages_in_due_order_keep_escalations_due_at_the_same_time() {
    // Arrange: three escalations due at exactly the same moment
    let app = spawn_app().await;
    let (_fixture, answers) = three_severities(&app).await;
    let same = Utc::now() + Duration::hours(5);
    for answer in &answers {
        app.execute_sql(
            "UPDATE escalations SET response_due_at = $1 WHERE id = $2",
            vec![same.into(), answer.id().into()],
        )
        .await;
    }
    let operator = app.operator_key().await;

    // Act
    let due = page_through(&app, &operator, &[]).await;

    // Assert: ties are broken by id, each exactly once
    let mut expected: Vec<Uuid> = answers.iter().map(Answer::id).collect();
    expected.sort();
    assert_eq!(due, expected);
}

#[tokio::test]
async fn a_bad_list_query_is_400_naming_the_parameter() {
    // Arrange
    let app = spawn_app().await;
    let operator = app.operator_key().await;
    let cases: [(&str, &str); 10] = [
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
    ];

    for (name, value) in cases {
        // Act
        let answer = app
            .get_query(ESCALATIONS, &operator, &[(name, value)])
            .await;

        // Assert
        answer.problem(400, "invalid_query");
        assert_eq!(answer.error_fields(), [name], "{name}={value}");
    }
    let cursor = app
        .get_query(ESCALATIONS, &operator, &[("cursor", "not a cursor")])
        .await;
    cursor.problem(400, "invalid_query");
    let limit = app
        .get_query(ESCALATIONS, &operator, &[("limit", "101")])
        .await;
    limit.problem(400, "invalid_query");
}
