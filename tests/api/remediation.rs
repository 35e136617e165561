//! Remediation under `/v1/partners/{id}`: a partner's escalation quality over 90 days, and the
//! remediation plans 21Vianet requests, which the partner acknowledges and 21Vianet completes;
//! a plan left unanswered past its date costs the partner its good standing.

use chrono::{Duration, FixedOffset, NaiveDate, Utc};
use escalade::config::ServeSettings;
use reqwest::Method;
use serde_json::{Value, json};
use uuid::Uuid;

use crate::helpers::{
    Answer, ESCALATIONS, EscalationFixture, TestApp, TestPartner, spawn_app, spawn_app_with,
    timestamp,
};

// ---------------------------------------------------------------------------------------------
// Helpers local to this module
// ---------------------------------------------------------------------------------------------

fn quality_path(partner_id: Uuid) -> String {
    format!("/v1/partners/{partner_id}/escalation-quality")
}

fn plans_path(partner_id: Uuid) -> String {
    format!("/v1/partners/{partner_id}/remediation-plans")
}

fn plan_path(partner_id: Uuid, plan_id: Uuid) -> String {
    format!("{}/{plan_id}", plans_path(partner_id))
}

/// Today in Beijing, where `respond_by` dates are meant.
fn today_in_beijing() -> NaiveDate {
    Utc::now()
        .with_timezone(&FixedOffset::east_opt(8 * 3600).unwrap())
        .date_naive()
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
    let answer = app
        .post(&plans_path(partner.id), staff_key, &plan_body(respond_by))
        .await;
    assert_eq!(answer.status, 201, "{}", answer.body);
    answer
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

/// Makes `plan` due yesterday (Beijing time), as if its date had passed.
async fn make_overdue(app: &TestApp, plan: &Answer) {
    let yesterday = today_in_beijing() - Duration::days(1);
    let changed = app
        .execute_sql(
            "UPDATE remediation_plans SET respond_by = $1 WHERE id = $2",
            vec![yesterday.into(), plan.id().into()],
        )
        .await;
    assert_eq!(changed, 1);
}

/// Submits one escalation per category for the fixture's customer; returns the answers.
async fn escalate(app: &TestApp, fixture: &EscalationFixture, categories: &[&str]) -> Vec<Answer> {
    let mut answers = Vec::new();
    for category in categories {
        let mut body = fixture.body.clone();
        body["category"] = json!(category);
        answers.push(app.submit_escalation(&fixture.partner.key, &body).await);
    }
    answers
}

/// Rejects the submitted escalation `escalation` as `operator`.
async fn reject(app: &TestApp, operator: &str, escalation: &Answer, misescalation: bool) {
    let answer = app
        .transition(
            operator,
            escalation.id(),
            &escalation.etag(),
            &json!({"to": "rejected", "misescalation": misescalation, "reason": "不属于 21Vianet 的支持范围。"}),
        )
        .await;
    assert_eq!(answer.status, 200, "{}", answer.body);
}

// ---------------------------------------------------------------------------------------------
// Escalation quality
// ---------------------------------------------------------------------------------------------

#[tokio::test]
async fn the_partner_itself_operators_and_admins_read_escalation_quality() {
    // Arrange
    let app = spawn_app().await;
    let fixture = app.escalation_fixture("standard").await;
    let operator = app.operator_key().await;

    for key in [&fixture.partner.key, &operator, &app.admin_key] {
        // Act
        let answer = app.get(&quality_path(fixture.partner.id), key).await;

        // Assert
        assert_eq!(answer.status, 200, "{}", answer.body);
        let quality = &answer.body;
        assert_eq!(quality["partner_id"], json!(fixture.partner.id));
        assert_eq!(quality["window_days"], 90);
        let since = timestamp(&quality["since"]);
        let expected = Utc::now() - Duration::days(90);
        assert!(
            (since - expected).num_seconds().abs() < 60,
            "{since} vs {expected}"
        );
        assert_eq!(quality["escalations"], 0);
        assert_eq!(quality["misescalations"], 0);
        assert_eq!(quality["rate"], 0.0);
        assert_eq!(quality["threshold"], 0.25);
        assert_eq!(quality["min_escalations"], 8);
        assert_eq!(quality["exceeds_threshold"], false);
    }
}

#[tokio::test]
async fn another_partners_quality_is_404() {
    // Arrange
    let app = spawn_app().await;
    let fixture = app.escalation_fixture("standard").await;
    let other = app.create_partner("Nosy partner").await;
    let operator = app.operator_key().await;

    // Act
    let foreign = app.get(&quality_path(fixture.partner.id), &other.key).await;
    let unknown = app.get(&quality_path(Uuid::now_v7()), &operator).await;

    // Assert
    foreign.problem(404, "not_found");
    unknown.problem(404, "not_found");
}

#[tokio::test]
async fn quality_counts_escalations_and_misescalations_over_90_days() {
    // Arrange: four escalations, one rejected as a misescalation, one rejected otherwise
    let app = spawn_app().await;
    let fixture = app.escalation_fixture("standard").await;
    let operator = app.operator_key().await;
    let answers = escalate(
        &app,
        &fixture,
        &[
            "service_unavailable",
            "product_bug",
            "billing_dispute",
            "network_disruption",
        ],
    )
    .await;
    reject(&app, &operator, &answers[0], true).await;
    reject(&app, &operator, &answers[1], false).await;

    // Act
    let answer = app
        .get(&quality_path(fixture.partner.id), &fixture.partner.key)
        .await;

    // Assert
    assert_eq!(answer.status, 200, "{}", answer.body);
    assert_eq!(answer.body["escalations"], 4);
    assert_eq!(answer.body["misescalations"], 1);
    assert_eq!(answer.body["rate"], 0.25);
    assert_eq!(
        answer.body["exceeds_threshold"], false,
        "4 escalations are too few to judge by default"
    );
}

#[tokio::test]
async fn escalations_older_than_90_days_do_not_count() {
    // Arrange
    let app = spawn_app().await;
    let fixture = app.escalation_fixture("standard").await;
    let operator = app.operator_key().await;
    let answers = escalate(&app, &fixture, &["service_unavailable", "product_bug"]).await;
    reject(&app, &operator, &answers[0], true).await;
    app.execute_sql(
        "UPDATE escalations SET created_at = $1 WHERE id = $2",
        vec![
            (Utc::now() - Duration::days(91)).into(),
            answers[0].id().into(),
        ],
    )
    .await;

    // Act
    let answer = app.get(&quality_path(fixture.partner.id), &operator).await;

    // Assert
    assert_eq!(answer.body["escalations"], 1);
    assert_eq!(answer.body["misescalations"], 0);
    assert_eq!(answer.body["rate"], 0.0);
}

#[tokio::test]
async fn the_threshold_and_minimum_come_from_the_configuration() {
    // Arrange: at least 2 escalations, threshold 50 %
    let app = spawn_app_with(ServeSettings {
        misescalation_threshold: 0.5,
        misescalation_min_escalations: 2,
        ..ServeSettings::default()
    })
    .await;
    let fixture = app.escalation_fixture("standard").await;
    let operator = app.operator_key().await;
    let answers = escalate(&app, &fixture, &["service_unavailable"]).await;
    reject(&app, &operator, &answers[0], true).await;

    // Act
    let one = app.get(&quality_path(fixture.partner.id), &operator).await;
    escalate(&app, &fixture, &["product_bug"]).await;
    let two = app.get(&quality_path(fixture.partner.id), &operator).await;
    escalate(&app, &fixture, &["billing_dispute"]).await;
    let three = app.get(&quality_path(fixture.partner.id), &operator).await;

    // Assert
    assert_eq!(one.body["threshold"], 0.5);
    assert_eq!(one.body["min_escalations"], 2);
    assert_eq!(one.body["rate"], 1.0);
    assert_eq!(one.body["exceeds_threshold"], false, "one is too few");
    assert_eq!(two.body["escalations"], 2);
    assert_eq!(two.body["rate"], 0.5);
    assert_eq!(
        two.body["exceeds_threshold"], true,
        "50 % of 2 is on the line"
    );
    assert_eq!(three.body["rate"], 0.3333);
    assert_eq!(three.body["exceeds_threshold"], false);
}

// ---------------------------------------------------------------------------------------------
// Remediation plans
// ---------------------------------------------------------------------------------------------

#[tokio::test]
async fn an_operator_requests_a_remediation_plan() {
    // Arrange
    let app = spawn_app().await;
    let partner = app.create_partner("云桥科技").await;
    let operator = app.operator_key().await;
    let respond_by = today_in_beijing() + Duration::days(14);

    // Act
    let answer = app
        .post(&plans_path(partner.id), &operator, &plan_body(respond_by))
        .await;

    // Assert
    assert_eq!(answer.status, 201, "{}", answer.body);
    let id = answer.id();
    assert_eq!(
        answer.header("location"),
        Some(plan_path(partner.id, id).as_str())
    );
    assert_eq!(answer.etag(), "\"1\"");
    let plan = &answer.body;
    assert_eq!(plan["partner_id"], json!(partner.id));
    assert_eq!(plan["status"], "requested");
    assert_eq!(plan["respond_by"], json!(respond_by));
    assert_eq!(plan["overdue"], false);
    assert!(plan["acknowledged_at"].is_null());
    assert!(plan["completed_at"].is_null());
    assert_eq!(plan["version"], 1);
    let read = app.get(&plan_path(partner.id, id), &partner.key).await;
    assert_eq!(read.status, 200, "{}", read.body);
    assert_eq!(read.body, answer.body);
    assert_eq!(read.etag(), "\"1\"");
}

#[tokio::test]
async fn an_admin_may_request_a_plan_due_today() {
    // Arrange
    let app = spawn_app().await;
    let partner = app.create_partner("云桥科技").await;

    // Act
    let answer = request_plan(&app, &app.admin_key, &partner, today_in_beijing()).await;

    // Assert
    assert_eq!(answer.body["overdue"], false, "due today is not overdue");
}

#[tokio::test]
async fn a_plan_cannot_be_due_in_the_past_or_lack_a_reason() {
    // Arrange
    let app = spawn_app().await;
    let partner = app.create_partner("云桥科技").await;
    let operator = app.operator_key().await;
    let yesterday = today_in_beijing() - Duration::days(1);

    // Act
    let past = app
        .post(&plans_path(partner.id), &operator, &plan_body(yesterday))
        .await;
    let empty = app
        .post(&plans_path(partner.id), &operator, &json!({}))
        .await;
    let malformed = app
        .post(
            &plans_path(partner.id),
            &operator,
            &json!({"reason": "", "respond_by": "next week"}),
        )
        .await;

    // Assert
    past.problem(422, "validation_failed");
    assert_eq!(past.error_fields(), ["respond_by"]);
    empty.problem(422, "validation_failed");
    assert_eq!(empty.error_fields(), ["reason", "respond_by"]);
    malformed.problem(422, "validation_failed");
    assert_eq!(malformed.error_fields(), ["reason", "respond_by"]);
    let listed = app.get(&plans_path(partner.id), &operator).await;
    assert!(listed.items().is_empty());
}

#[tokio::test]
async fn a_partner_cannot_request_a_plan() {
    // Arrange
    let app = spawn_app().await;
    let partner = app.create_partner("云桥科技").await;

    // Act
    let answer = app
        .post(
            &plans_path(partner.id),
            &partner.key,
            &plan_body(today_in_beijing() + Duration::days(7)),
        )
        .await;

    // Assert
    answer.problem(403, "forbidden");
}

#[tokio::test]
async fn a_plan_for_an_unknown_partner_is_404() {
    // Arrange
    let app = spawn_app().await;
    let operator = app.operator_key().await;

    // Act
    let answer = app
        .post(
            &plans_path(Uuid::now_v7()),
            &operator,
            &plan_body(today_in_beijing() + Duration::days(7)),
        )
        .await;

    // Assert
    answer.problem(404, "not_found");
}

#[tokio::test]
async fn the_partner_acknowledges_and_the_operator_completes() {
    // Arrange
    let app = spawn_app().await;
    let partner = app.create_partner("云桥科技").await;
    let operator = app.operator_key().await;
    let requested = request_plan(
        &app,
        &operator,
        &partner,
        today_in_beijing() + Duration::days(7),
    )
    .await;

    // Act
    let acknowledged = act_on_plan(&app, &partner.key, &requested, "acknowledge", None).await;
    let completed = act_on_plan(
        &app,
        &operator,
        &acknowledged,
        "complete",
        Some(&acknowledged.etag()),
    )
    .await;

    // Assert
    assert_eq!(acknowledged.status, 200, "{}", acknowledged.body);
    assert_eq!(acknowledged.body["status"], "acknowledged");
    assert!(acknowledged.body["acknowledged_at"].is_string());
    assert_eq!(acknowledged.etag(), "\"2\"");
    assert_eq!(completed.status, 200, "{}", completed.body);
    assert_eq!(completed.body["status"], "completed");
    assert!(completed.body["completed_at"].is_string());
    assert_eq!(
        completed.body["acknowledged_at"],
        acknowledged.body["acknowledged_at"]
    );
    assert_eq!(completed.etag(), "\"3\"");
}

#[tokio::test]
async fn each_side_may_only_make_its_own_move() {
    // Arrange
    let app = spawn_app().await;
    let partner = app.create_partner("云桥科技").await;
    let operator = app.operator_key().await;
    let requested = request_plan(
        &app,
        &operator,
        &partner,
        today_in_beijing() + Duration::days(7),
    )
    .await;

    // Act
    let operator_acknowledges = act_on_plan(&app, &operator, &requested, "acknowledge", None).await;
    let admin_acknowledges =
        act_on_plan(&app, &app.admin_key, &requested, "acknowledge", None).await;
    let partner_completes = act_on_plan(&app, &partner.key, &requested, "complete", None).await;

    // Assert
    operator_acknowledges.problem(403, "forbidden");
    admin_acknowledges.problem(403, "forbidden");
    partner_completes.problem(403, "forbidden");
    let read = app
        .get(&plan_path(partner.id, requested.id()), &operator)
        .await;
    assert_eq!(read.body["status"], "requested");
}

#[tokio::test]
async fn plans_move_one_way_only() {
    // Arrange
    let app = spawn_app().await;
    let partner = app.create_partner("云桥科技").await;
    let operator = app.operator_key().await;
    let requested = request_plan(
        &app,
        &operator,
        &partner,
        today_in_beijing() + Duration::days(7),
    )
    .await;

    // Act
    let completed_early = act_on_plan(&app, &operator, &requested, "complete", None).await;
    let acknowledged = act_on_plan(&app, &partner.key, &requested, "acknowledge", None).await;
    let acknowledged_again = act_on_plan(&app, &partner.key, &requested, "acknowledge", None).await;
    let completed = act_on_plan(&app, &operator, &requested, "complete", None).await;
    let completed_again = act_on_plan(&app, &operator, &requested, "complete", None).await;

    // Assert
    completed_early.problem(409, "invalid_transition");
    assert_eq!(acknowledged.status, 200, "{}", acknowledged.body);
    acknowledged_again.problem(409, "invalid_transition");
    assert_eq!(completed.status, 200, "{}", completed.body);
    let problem = completed_again.problem(409, "invalid_transition");
    assert!(problem["detail"].as_str().unwrap().contains("final"));
}

#[tokio::test]
async fn a_stale_if_match_on_a_plan_is_412() {
    // Arrange
    let app = spawn_app().await;
    let partner = app.create_partner("云桥科技").await;
    let operator = app.operator_key().await;
    let requested = request_plan(
        &app,
        &operator,
        &partner,
        today_in_beijing() + Duration::days(7),
    )
    .await;
    let acknowledged = act_on_plan(&app, &partner.key, &requested, "acknowledge", None).await;
    assert_eq!(acknowledged.status, 200, "{}", acknowledged.body);

    // Act
    let stale = act_on_plan(&app, &operator, &acknowledged, "complete", Some("\"1\"")).await;

    // Assert
    stale.problem(412, "stale_version");
    let read = app
        .get(&plan_path(partner.id, requested.id()), &operator)
        .await;
    assert_eq!(read.body["status"], "acknowledged");
}

#[tokio::test]
async fn plans_are_listed_oldest_first_to_the_partner_and_to_staff_only() {
    // Arrange
    let app = spawn_app().await;
    let partner = app.create_partner("云桥科技").await;
    let other = app.create_partner("Nosy partner").await;
    let operator = app.operator_key().await;
    let first = request_plan(
        &app,
        &operator,
        &partner,
        today_in_beijing() + Duration::days(7),
    )
    .await;
    let second = request_plan(
        &app,
        &app.admin_key,
        &partner,
        today_in_beijing() + Duration::days(30),
    )
    .await;
    request_plan(
        &app,
        &operator,
        &other,
        today_in_beijing() + Duration::days(7),
    )
    .await;

    // Act
    let by_partner = app.get(&plans_path(partner.id), &partner.key).await;
    let by_operator = app.get(&plans_path(partner.id), &operator).await;
    let paged = app
        .get_query(&plans_path(partner.id), &operator, &[("limit", "1")])
        .await;
    let foreign_list = app.get(&plans_path(partner.id), &other.key).await;
    let foreign_plan = app
        .get(&plan_path(partner.id, first.id()), &other.key)
        .await;
    let wrong_partner = app.get(&plan_path(other.id, first.id()), &other.key).await;
    let foreign_acknowledge = act_on_plan(&app, &other.key, &first, "acknowledge", None).await;

    // Assert
    assert_eq!(by_partner.item_ids(), [first.id(), second.id()]);
    assert_eq!(by_operator.item_ids(), [first.id(), second.id()]);
    assert_eq!(paged.item_ids(), [first.id()]);
    assert!(paged.next_link().is_some());
    foreign_list.problem(404, "not_found");
    foreign_plan.problem(404, "not_found");
    wrong_partner.problem(404, "not_found");
    foreign_acknowledge.problem(404, "not_found");
}

// ---------------------------------------------------------------------------------------------
// Good standing
// ---------------------------------------------------------------------------------------------

#[tokio::test]
async fn an_overdue_plan_fails_new_escalations_until_acknowledged() {
    // Arrange
    let app = spawn_app().await;
    let fixture = app.escalation_fixture("standard").await;
    let operator = app.operator_key().await;
    let plan = request_plan(&app, &operator, &fixture.partner, today_in_beijing()).await;
    make_overdue(&app, &plan).await;
    let overdue = app
        .get(
            &plan_path(fixture.partner.id, plan.id()),
            &fixture.partner.key,
        )
        .await;

    // Act
    let refused = app
        .post(ESCALATIONS, &fixture.partner.key, &fixture.body)
        .await;
    let checklist = app
        .post(
            &format!("{ESCALATIONS}/validate"),
            &fixture.partner.key,
            &fixture.body,
        )
        .await;
    let acknowledged = act_on_plan(&app, &fixture.partner.key, &overdue, "acknowledge", None).await;
    let accepted = app
        .post(ESCALATIONS, &fixture.partner.key, &fixture.body)
        .await;

    // Assert
    assert_eq!(overdue.body["overdue"], true);
    refused.problem(422, "criteria_not_met");
    assert_eq!(refused.violations(), ["partner_in_good_standing"]);
    assert!(
        refused.body["violations"][0]["message"]
            .as_str()
            .unwrap()
            .contains("remediation plan")
    );
    assert_eq!(checklist.body["eligible"], false);
    let standing = checklist.body["checks"]
        .as_array()
        .unwrap()
        .iter()
        .find(|c| c["criterion"] == "partner_in_good_standing")
        .unwrap();
    assert_eq!(standing["outcome"], "failed");
    assert_eq!(acknowledged.status, 200, "{}", acknowledged.body);
    assert_eq!(acknowledged.body["overdue"], false);
    assert_eq!(accepted.status, 201, "{}", accepted.body);
}

#[tokio::test]
async fn a_plan_not_yet_due_leaves_the_partner_in_good_standing() {
    // Arrange
    let app = spawn_app().await;
    let fixture = app.escalation_fixture("standard").await;
    let operator = app.operator_key().await;
    request_plan(&app, &operator, &fixture.partner, today_in_beijing()).await;

    // Act
    let answer = app
        .post(ESCALATIONS, &fixture.partner.key, &fixture.body)
        .await;

    // Assert
    assert_eq!(answer.status, 201, "{}", answer.body);
}

#[tokio::test]
async fn another_partners_overdue_plan_does_not_count() {
    // Arrange
    let app = spawn_app().await;
    let fixture = app.escalation_fixture("standard").await;
    let other = app.create_partner("Late partner").await;
    let operator = app.operator_key().await;
    let plan = request_plan(&app, &operator, &other, today_in_beijing()).await;
    make_overdue(&app, &plan).await;

    // Act
    let answer = app
        .post(ESCALATIONS, &fixture.partner.key, &fixture.body)
        .await;

    // Assert
    assert_eq!(answer.status, 201, "{}", answer.body);
}
