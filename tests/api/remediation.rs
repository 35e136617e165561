//! Remediation under `/v1/partners/{id}`: a partner's escalation quality over 90 days, and the
//! remediation plans 21Vianet requests, which the partner acknowledges and 21Vianet completes;
//! a plan left unanswered past its date costs the partner its good standing.

use chrono::{Duration, FixedOffset, NaiveDate, Utc};
use escalade::config::ServeSettings;
use reqwest::Method;
use serde_json::{Value, json};
use uuid::Uuid;

use crate::customers::Fields;
use crate::escalations::{VALIDATE, rated};
use crate::helpers::{
    Answer, ESCALATIONS, TestApp, TestPartner, assert_refused, timestamp, violation_message,
};
use crate::world::World;

fn quality_path(partner_id: Uuid) -> String {
    format!("/v1/partners/{partner_id}/escalation-quality")
}

fn plans_path(partner_id: Uuid) -> String {
    format!("/v1/partners/{partner_id}/remediation-plans")
}

fn plan_path(partner_id: Uuid, plan_id: Uuid) -> String {
    format!("{}/{plan_id}", plans_path(partner_id))
}

/// The day `days` from today in Beijing, where `respond_by` dates are meant.
fn in_days(days: i64) -> NaiveDate {
    let beijing = FixedOffset::east_opt(8 * 3600).unwrap();
    Utc::now().with_timezone(&beijing).date_naive() + Duration::days(days)
}

fn plan_body(respond_by: NaiveDate) -> Value {
    json!({
        "reason": "过去 90 天内多个升级属于合作伙伴自行处理的范畴（操作指导类问题）。",
        "respond_by": respond_by
    })
}

/// Requests a plan for `partner` due `respond_by`, as `staff_key`; asserts 201.
async fn request_plan(
    app: &TestApp,
    staff_key: &str,
    partner: &TestPartner,
    respond_by: NaiveDate,
) -> Answer {
    let body = plan_body(respond_by);
    app.created(&plans_path(partner.id), staff_key, &body).await
}

/// `POST {plan}/{action}` (acknowledge or complete) as `key`, with `If-Match` when given.
async fn act_on_plan(
    app: &TestApp,
    key: &str,
    plan: &Answer,
    action: &str,
    if_match: Option<&str>,
) -> Answer {
    let partner_id: Uuid = plan.body["partner_id"].as_str().unwrap().parse().unwrap();
    let path = format!("{}/{action}", plan_path(partner_id, plan.id()));
    let mut request = app.request(Method::POST, &path, key);
    if let Some(tag) = if_match {
        request = request.header("If-Match", tag);
    }
    app.send(request).await
}

/// Runs one statement that must change exactly one row.
async fn change_one(app: &TestApp, sql: &str, values: Vec<sea_orm::Value>) {
    assert_eq!(app.execute_sql(sql, values).await, 1, "{sql}");
}

/// Makes `plan` due yesterday (Beijing time), as if its date had passed.
async fn make_overdue(app: &TestApp, plan: &Answer) {
    let sql = "UPDATE remediation_plans SET respond_by = $1 WHERE id = $2";
    change_one(app, sql, vec![in_days(-1).into(), plan.id().into()]).await;
}

/// Submits one escalation per category for the world's customer; returns the answers.
async fn escalate(world: &World, categories: &[&str]) -> Vec<Answer> {
    let mut answers = Vec::new();
    for category in categories {
        let body = rated(&world.body, "moderate", category);
        answers.push(world.app.submit_escalation(world.key(), &body).await);
    }
    answers
}

/// Rejects the submitted escalation `escalation` as the world's operator.
async fn reject(world: &World, escalation: &Answer, misescalation: bool) {
    let reason = "不属于 21Vianet 的支持范围。";
    let body = json!({"to": "rejected", "misescalation": misescalation, "reason": reason});
    let (id, etag) = (escalation.id(), escalation.etag());
    let operator = &world.operator;
    let answer = world.app.transition(operator, id, &etag, &body).await;
    assert_eq!(answer.status, 200, "{}", answer.body);
}

// ---------------------------------------------------------------------------------------------
// Escalation quality
// ---------------------------------------------------------------------------------------------

#[tokio::test]
async fn the_partner_and_staff_read_its_misescalations_over_the_last_90_days() {
    // Arrange
    let world = World::new().await;
    let app = &world.app;
    let path = quality_path(world.partner.id);
    let other = app.create_partner("Nosy partner").await;
    let readers = [
        ("the partner itself", world.key()),
        ("an operator", &world.operator),
        ("an admin", &app.admin_key),
    ];

    // Act: before any escalation
    let mut empty = Vec::new();
    for (label, key) in readers {
        empty.push((label, app.get(&path, key).await));
    }
    let foreign = app.get(&path, &other.key).await;
    let unknown_path = quality_path(Uuid::now_v7());
    let unknown = app.get(&unknown_path, &world.operator).await;

    // Act: four escalations, one rejected as a misescalation, one rejected otherwise; and a
    // misescalation 91 days old
    let answers = escalate(
        &world,
        &[
            "service_unavailable",
            "product_bug",
            "billing_dispute",
            "network_disruption",
            "undocumented_defect",
        ],
    )
    .await;
    reject(&world, &answers[0], true).await;
    reject(&world, &answers[1], false).await;
    reject(&world, &answers[4], true).await;
    let long_ago = Utc::now() - Duration::days(91);
    let sql = "UPDATE escalations SET created_at = $1 WHERE id = $2";
    change_one(app, sql, vec![long_ago.into(), answers[4].id().into()]).await;
    let counted = app.get(&path, world.key()).await;

    // Assert
    for (label, answer) in empty {
        assert_eq!(answer.status, 200, "{label}: {}", answer.body);
        let since = timestamp(&answer.body["since"]);
        let expected = Utc::now() - Duration::days(90);
        let off = (since - expected).num_seconds().abs();
        assert!(off < 60, "{label}: {since} vs {expected}");
        answer.holds(
            label,
            &[
                ("partner_id", json!(world.partner.id)),
                ("window_days", json!(90)),
                ("escalations", json!(0)),
                ("misescalations", json!(0)),
                ("rate", json!(0.0)),
                ("threshold", json!(0.25)),
                ("min_escalations", json!(8)),
                ("exceeds_threshold", json!(false)),
            ],
        );
    }
    foreign.problem(404, "not_found");
    unknown.problem(404, "not_found");
    assert_eq!(counted.status, 200, "{}", counted.body);
    let expected = [
        ("escalations", json!(4)),
        ("misescalations", json!(1)),
        ("rate", json!(0.25)),
        // 4 escalations are too few to judge by default.
        ("exceeds_threshold", json!(false)),
    ];
    counted.holds("the last 90 days", &expected);
}

#[tokio::test]
async fn the_threshold_and_minimum_come_from_the_configuration() {
    // Arrange: at least 2 escalations, threshold 50 %
    let world = World::with(ServeSettings {
        misescalation_threshold: 0.5,
        misescalation_min_escalations: 2,
        ..ServeSettings::default()
    })
    .await;
    let path = quality_path(world.partner.id);
    let quality = async || world.app.get(&path, &world.operator).await;
    let answers = escalate(&world, &["service_unavailable"]).await;
    reject(&world, &answers[0], true).await;

    // Act
    let one = quality().await;
    escalate(&world, &["product_bug"]).await;
    let two = quality().await;
    escalate(&world, &["billing_dispute"]).await;
    let three = quality().await;

    // Assert
    assert_eq!(one.body["threshold"], 0.5);
    assert_eq!(one.body["min_escalations"], 2);
    assert_eq!(one.body["rate"], 1.0);
    assert_eq!(one.body["exceeds_threshold"], false, "one is too few");
    assert_eq!(two.body["escalations"], 2);
    assert_eq!(two.body["rate"], 0.5);
    let why = "50 % of 2 is on the line";
    assert_eq!(two.body["exceeds_threshold"], true, "{why}");
    assert_eq!(three.body["rate"], 0.3333);
    assert_eq!(three.body["exceeds_threshold"], false);
}

// ---------------------------------------------------------------------------------------------
// Remediation plans
// ---------------------------------------------------------------------------------------------

#[tokio::test]
async fn staff_request_plans_that_the_partner_and_staff_list_oldest_first() {
    // Arrange
    let world = World::new().await;
    let (app, partner, operator) = (&world.app, &world.partner, world.operator.as_str());
    let other = app.create_partner("Nosy partner").await;
    let path = plans_path(partner.id);
    let malformed = json!({"reason": "", "respond_by": "next week"});
    let next_week = plan_body(in_days(7));

    // Act
    let requested = app.post(&path, operator, &plan_body(in_days(14))).await;
    let due_today = request_plan(app, &app.admin_key, partner, in_days(0)).await;
    let others = request_plan(app, operator, &other, in_days(7)).await;
    let (plan, unknown) = (
        plan_path(partner.id, requested.id()),
        plans_path(Uuid::now_v7()),
    );
    let misplaced = plan_path(other.id, requested.id());
    let refusals: [(&str, Answer, u16, &str, Fields); 5] = [
        (
            "due yesterday",
            app.post(&path, operator, &plan_body(in_days(-1))).await,
            422,
            "validation_failed",
            &[("respond_by", "in_the_past")],
        ),
        (
            "empty",
            app.post(&path, operator, &json!({})).await,
            422,
            "validation_failed",
            &[("reason", "required"), ("respond_by", "required")],
        ),
        (
            "malformed",
            app.post(&path, operator, &malformed).await,
            422,
            "validation_failed",
            &[("reason", "length"), ("respond_by", "invalid_type")],
        ),
        (
            "by the partner",
            app.post(&path, &partner.key, &next_week).await,
            403,
            "forbidden",
            &[],
        ),
        (
            "for an unknown partner",
            app.post(&unknown, operator, &next_week).await,
            404,
            "not_found",
            &[],
        ),
    ];
    let read = app.get(&plan, &partner.key).await;
    let lists = [
        app.get(&path, &partner.key).await,
        app.get(&path, operator).await,
    ];
    let paged = app.get_query(&path, operator, &[("limit", "1")]).await;
    let foreign = [
        ("another partner's list", app.get(&path, &other.key).await),
        ("another partner's plan", app.get(&plan, &other.key).await),
        (
            "under another partner",
            app.get(&misplaced, &other.key).await,
        ),
        (
            "acknowledged by another",
            act_on_plan(app, &other.key, &requested, "acknowledge", None).await,
        ),
    ];

    // Assert
    assert_eq!(requested.status, 201, "{}", requested.body);
    let id = requested.id();
    let location = plan_path(partner.id, id);
    assert_eq!(requested.header("location"), Some(location.as_str()));
    assert_eq!(requested.etag(), "\"1\"");
    requested.holds(
        "requested",
        &[
            ("partner_id", json!(partner.id)),
            ("status", json!("requested")),
            ("respond_by", json!(in_days(14))),
            ("overdue", json!(false)),
            ("acknowledged_at", Value::Null),
            ("completed_at", Value::Null),
            ("version", json!(1)),
        ],
    );
    assert_eq!(read.status, 200, "{}", read.body);
    assert_eq!(
        (read.etag(), read.body),
        ("\"1\"".to_owned(), requested.body.clone())
    );
    assert_eq!(due_today.body["overdue"], false, "due today is not overdue");
    for (label, answer, status, code, fields) in refusals {
        answer.case_refused(label, status, code, fields);
    }
    for list in lists {
        assert_eq!(list.item_ids(), [id, due_today.id()], "nothing else");
    }
    assert_eq!(paged.item_ids(), [id]);
    assert!(paged.next_link().is_some());
    for (label, answer) in foreign {
        answer.case_refused(label, 404, "not_found", &[]);
    }
    assert_eq!(others.body["partner_id"], json!(other.id));
}

#[tokio::test]
async fn the_partner_acknowledges_a_plan_and_staff_complete_it_one_way_only() {
    // Arrange: one plan moved with If-Match, one without
    let world = World::new().await;
    let (app, operator) = (&world.app, world.operator.as_str());
    let (partner, admin) = (world.key(), app.admin_key.as_str());
    let plan = request_plan(app, operator, &world.partner, in_days(7)).await;
    let other_plan = request_plan(app, operator, &world.partner, in_days(7)).await;
    let act = async |key: &str, plan: &Answer, action: &str| {
        act_on_plan(app, key, plan, action, None).await
    };
    let status = async || {
        let path = plan_path(world.partner.id, plan.id());
        app.get(&path, operator).await.body["status"].clone()
    };
    let (ack, complete) = ("acknowledge", "complete");

    // Act
    let refused = [
        ("an operator acknowledges", act(operator, &plan, ack).await),
        ("an admin acknowledges", act(admin, &plan, ack).await),
        ("the partner completes", act(partner, &plan, complete).await),
    ];
    let completed_early = act(operator, &plan, complete).await;
    let still_requested = status().await;
    let acknowledged = act(partner, &plan, ack).await;
    let acknowledged_again = act(partner, &plan, ack).await;
    let stale = act_on_plan(app, operator, &acknowledged, complete, Some("\"1\"")).await;
    let still_acknowledged = status().await;
    let tag = acknowledged.etag();
    let completed = act_on_plan(app, operator, &acknowledged, complete, Some(&tag)).await;
    let completed_again = act(operator, &plan, complete).await;
    let without_if_match = [
        act(partner, &other_plan, ack).await,
        act(operator, &other_plan, complete).await,
    ];

    // Assert
    for (label, answer) in refused {
        answer.case_refused(label, 403, "forbidden", &[]);
    }
    completed_early.problem(409, "invalid_transition");
    assert_eq!(still_requested, "requested");
    assert_eq!(acknowledged.status, 200, "{}", acknowledged.body);
    assert_eq!(acknowledged.body["status"], "acknowledged");
    assert!(acknowledged.body["acknowledged_at"].is_string());
    assert_eq!(acknowledged.etag(), "\"2\"");
    acknowledged_again.problem(409, "invalid_transition");
    stale.problem(412, "stale_version");
    assert_eq!(still_acknowledged, "acknowledged");
    assert_eq!(completed.status, 200, "{}", completed.body);
    assert_eq!(completed.body["status"], "completed");
    assert!(completed.body["completed_at"].is_string());
    let kept = &completed.body["acknowledged_at"];
    assert_eq!(kept, &acknowledged.body["acknowledged_at"]);
    assert_eq!(completed.etag(), "\"3\"");
    let problem = completed_again.problem(409, "invalid_transition");
    assert!(problem["detail"].as_str().unwrap().contains("final"));
    for answer in without_if_match {
        assert_eq!(answer.status, 200, "without If-Match: {}", answer.body);
    }
}

// ---------------------------------------------------------------------------------------------
// Good standing
// ---------------------------------------------------------------------------------------------

/// A plan due today, or another partner's overdue one, leaves the partner in good standing; its
/// own overdue plan fails new escalations until acknowledged.
#[tokio::test]
async fn an_overdue_plan_fails_the_partners_escalations_until_acknowledged() {
    // Arrange
    let world = World::new().await;
    let (app, key, operator) = (&world.app, world.key(), world.operator.as_str());
    let late = app.create_partner("Late partner").await;
    let late_plan = request_plan(app, operator, &late, in_days(0)).await;
    make_overdue(app, &late_plan).await;
    let plan = request_plan(app, operator, &world.partner, in_days(0)).await;

    // Act & Assert: due today, and another partner's overdue
    let body = rated(&world.body, "moderate", "product_bug");
    app.created(ESCALATIONS, key, &body).await;

    // Act: its own plan overdue
    make_overdue(app, &plan).await;
    let overdue = app.get(&plan_path(world.partner.id, plan.id()), key).await;
    let standing = ["partner_in_good_standing"];
    let refused = assert_refused(app, &world.partner, &world.body, &standing).await;
    let checklist = app.post(VALIDATE, key, &world.body).await;
    let acknowledged = act_on_plan(app, key, &overdue, "acknowledge", None).await;
    let accepted = app.post(ESCALATIONS, key, &world.body).await;

    // Assert
    assert_eq!(overdue.body["overdue"], true);
    let message = violation_message(&refused, standing[0]);
    assert!(message.contains("remediation plan"), "{message}");
    assert_eq!(checklist.body["eligible"], false);
    let checks = checklist.body["checks"].as_array().unwrap();
    let check = checks.iter().find(|c| c["criterion"] == standing[0]);
    assert_eq!(check.unwrap()["outcome"], "failed");
    assert_eq!(acknowledged.status, 200, "{}", acknowledged.body);
    assert_eq!(acknowledged.body["overdue"], false);
    assert_eq!(accepted.status, 201, "{}", accepted.body);
}
