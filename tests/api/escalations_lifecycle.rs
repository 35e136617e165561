//! `POST /v1/escalations/{id}/transitions`: the whole lifecycle table through HTTP (every status
//! × every target × every role), the data each move needs and records, `If-Match` and the audit
//! trail. Concurrent moves and creates are in `escalations_concurrency`.

use chrono::{Duration, Utc};
use serde_json::{Value, json};
use uuid::Uuid;

use crate::helpers::{
    Answer, EscalationFixture, TestApp, engineer, escalation_body, escalation_path, spawn_app,
    timestamp,
};

// ---------------------------------------------------------------------------------------------
// Helpers local to this module
// ---------------------------------------------------------------------------------------------

/// The statuses a move may name as `to`: every status but `submitted`, which nothing returns
/// to (the API sketch in DESIGN.md lists these six).
const TARGETS: [&str; 6] = [
    "in_progress",
    "awaiting_partner",
    "resolved",
    "closed",
    "rejected",
    "withdrawn",
];

/// Who moves an escalation: 21Vianet's side (operators and admins) or the partner.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum Side {
    Operator,
    Partner,
}

/// Every move the lifecycle allows, and for which side, as DESIGN.md describes it.
const MOVES: [(&str, &str, Side); 12] = [
    ("submitted", "in_progress", Side::Operator),
    ("submitted", "rejected", Side::Operator),
    ("submitted", "withdrawn", Side::Partner),
    ("in_progress", "awaiting_partner", Side::Operator),
    ("in_progress", "resolved", Side::Operator),
    ("in_progress", "rejected", Side::Operator),
    ("awaiting_partner", "in_progress", Side::Operator),
    ("awaiting_partner", "in_progress", Side::Partner),
    ("awaiting_partner", "resolved", Side::Operator),
    ("resolved", "in_progress", Side::Partner),
    ("resolved", "closed", Side::Operator),
    ("resolved", "closed", Side::Partner),
];

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum Role {
    Partner,
    Operator,
    Admin,
}

impl Role {
    const ALL: [Role; 3] = [Role::Partner, Role::Operator, Role::Admin];

    fn side(self) -> Side {
        match self {
            Role::Partner => Side::Partner,
            Role::Operator | Role::Admin => Side::Operator,
        }
    }

    fn name(self) -> &'static str {
        match self {
            Role::Partner => "partner",
            Role::Operator => "operator",
            Role::Admin => "admin",
        }
    }
}

/// One partner's escalations, and a key for every role.
struct Desk {
    fixture: EscalationFixture,
    operator: String,
    admin: String,
}

impl Desk {
    async fn new(app: &TestApp) -> Self {
        Desk {
            fixture: app.escalation_fixture("premium").await,
            operator: app.operator_key().await,
            admin: app.admin_key.clone(),
        }
    }

    fn partner(&self) -> &str {
        &self.fixture.partner.key
    }

    fn key(&self, role: Role) -> &str {
        match role {
            Role::Partner => self.partner(),
            Role::Operator => &self.operator,
            Role::Admin => &self.admin,
        }
    }
}

/// The body of a move from `from` to `to`, with what that move needs.
fn move_body(from: &str, to: &str) -> Value {
    match (from, to) {
        ("submitted", "in_progress") => json!({"to": to, "engineer": engineer()}),
        (_, "resolved") => json!({"to": to, "reason": "已在服务端修复传输规则，邮件恢复投递。"}),
        (_, "rejected") => {
            json!({"to": to, "misescalation": false, "reason": "问题不属于 21Vianet 的支持范围。"})
        }
        _ => json!({"to": to}),
    }
}

/// Moves the escalation `current` to `to` as `key`; asserts 200 and returns the answer.
async fn advance(app: &TestApp, key: &str, current: &Answer, to: &str) -> Answer {
    let from = current.body["status"].as_str().unwrap();
    let answer = app
        .transition(key, current.id(), &current.etag(), &move_body(from, to))
        .await;
    assert_eq!(answer.status, 200, "{from} -> {to}: {}", answer.body);
    answer
}

/// A fresh escalation (of a fresh customer, so it never duplicates another) brought to
/// `status` through allowed moves; returns the last answer.
async fn escalation_in(app: &TestApp, desk: &Desk, status: &str) -> Answer {
    let customer_id = app
        .create_escalatable_customer(&desk.fixture.partner, "standard")
        .await;
    let created = app
        .submit_escalation(desk.partner(), &escalation_body(customer_id))
        .await;
    let op = desk.operator.as_str();
    match status {
        "submitted" => created,
        "in_progress" => advance(app, op, &created, "in_progress").await,
        "awaiting_partner" => {
            let started = advance(app, op, &created, "in_progress").await;
            advance(app, op, &started, "awaiting_partner").await
        }
        "resolved" => {
            let started = advance(app, op, &created, "in_progress").await;
            advance(app, op, &started, "resolved").await
        }
        "closed" => {
            let started = advance(app, op, &created, "in_progress").await;
            let resolved = advance(app, op, &started, "resolved").await;
            advance(app, op, &resolved, "closed").await
        }
        "rejected" => advance(app, op, &created, "rejected").await,
        "withdrawn" => advance(app, desk.partner(), &created, "withdrawn").await,
        other => panic!("no way to reach {other}"),
    }
}

/// The audit trail of escalation `id`, oldest first.
async fn events(app: &TestApp, key: &str, id: Uuid) -> Vec<Value> {
    app.get(&format!("{}/events", escalation_path(id)), key)
        .await
        .items()
        .clone()
}

/// Whether `answer` is the problem `status`/`code`; what is wrong with it otherwise.
fn problem_mismatch(answer: &Answer, status: u16, code: &str) -> Option<String> {
    let content_type = answer.header("content-type");
    (answer.status != status
        || answer.body["code"] != code
        || content_type != Some("application/problem+json"))
    .then(|| {
        format!(
            "expected {status} {code}, got {} {content_type:?} {}",
            answer.status, answer.body
        )
    })
}

/// What is wrong with an allowed move from `from` to `to` by `role`, made on `fresh`.
async fn allowed_move_mismatch(
    app: &TestApp,
    desk: &Desk,
    fresh: &Answer,
    to: &str,
    role: Role,
) -> Option<String> {
    let from = fresh.body["status"].as_str().unwrap();
    let key = desk.key(role);
    let version = fresh.body["version"].as_i64().unwrap();
    let answer = app
        .transition(key, fresh.id(), &fresh.etag(), &move_body(from, to))
        .await;
    if answer.status != 200 {
        return Some(format!(
            "expected 200, got {} {}",
            answer.status, answer.body
        ));
    }
    let new_tag = format!("\"{}\"", version + 1);
    if answer.body["status"] != to
        || answer.body["version"] != version + 1
        || answer.header("etag") != Some(new_tag.as_str())
    {
        return Some(format!(
            "expected {to} at version {} with ETag {new_tag}, got {:?} {}",
            version + 1,
            answer.header("etag"),
            answer.body
        ));
    }
    let trail = events(app, key, fresh.id()).await;
    let last = trail.last().unwrap();
    (last["kind"] != "status_changed"
        || last["before"]["status"] != from
        || last["after"]["status"] != to
        || last["actor"]["role"] != role.name())
    .then(|| {
        format!(
            "expected a status_changed event by {}, got {last}",
            role.name()
        )
    })
}

/// Tries every target as every role from `from`: allowed moves succeed (each on a fresh
/// escalation) with a new ETag and a `status_changed` event; moves for the other side are 403;
/// moves nobody may make are 409 naming the possible ones. Refused moves change nothing. Every
/// cell of the table is tried before the test fails, and every wrong one is reported.
async fn every_move_from(from: &str) {
    let app = spawn_app().await;
    let desk = Desk::new(&app).await;
    let shared = escalation_in(&app, &desk, from).await;
    let shared_events = events(&app, &desk.admin, shared.id()).await.len();
    let possible: Vec<String> = MOVES
        .iter()
        .filter(|(f, _, _)| *f == from)
        .map(|(_, to, side)| {
            let side = if *side == Side::Operator {
                "operator"
            } else {
                "partner"
            };
            format!("{to} ({side})")
        })
        .collect();
    let mut wrong: Vec<String> = Vec::new();

    for to in TARGETS {
        for role in Role::ALL {
            let allowed = MOVES.contains(&(from, to, role.side()));
            let for_the_other_side = MOVES
                .iter()
                .any(|(f, t, side)| *f == from && *t == to && *side != role.side());
            let mismatch = if allowed {
                let fresh = escalation_in(&app, &desk, from).await;
                allowed_move_mismatch(&app, &desk, &fresh, to, role).await
            } else {
                let answer = app
                    .transition(
                        desk.key(role),
                        shared.id(),
                        &shared.etag(),
                        &move_body(from, to),
                    )
                    .await;
                if for_the_other_side {
                    problem_mismatch(&answer, 403, "forbidden")
                } else {
                    problem_mismatch(&answer, 409, "invalid_transition").or_else(|| {
                        let detail = answer.body["detail"].as_str().unwrap_or_default();
                        let names_all =
                            possible.iter().all(|named| detail.contains(named.as_str()));
                        let names_none = !possible.is_empty() || detail.contains("final");
                        (!names_all || !names_none)
                            .then(|| format!("the detail does not name {possible:?}: {detail}"))
                    })
                }
            };
            if let Some(mismatch) = mismatch {
                wrong.push(format!("{from} -> {to} by {}: {mismatch}", role.name()));
            }
        }
    }
    assert!(
        wrong.is_empty(),
        "{} wrong:\n{}",
        wrong.len(),
        wrong.join("\n")
    );
    let after = app.get(&escalation_path(shared.id()), &desk.admin).await;
    assert_eq!(after.body, shared.body, "refused moves changed nothing");
    assert_eq!(
        events(&app, &desk.admin, shared.id()).await.len(),
        shared_events,
        "refused moves are not events"
    );
}

// ---------------------------------------------------------------------------------------------
// The lifecycle table
// ---------------------------------------------------------------------------------------------

#[tokio::test]
async fn every_move_from_submitted_is_allowed_or_refused_as_the_table_says() {
    every_move_from("submitted").await;
}

#[tokio::test]
async fn every_move_from_in_progress_is_allowed_or_refused_as_the_table_says() {
    every_move_from("in_progress").await;
}

#[tokio::test]
async fn every_move_from_awaiting_partner_is_allowed_or_refused_as_the_table_says() {
    every_move_from("awaiting_partner").await;
}

#[tokio::test]
async fn every_move_from_resolved_is_allowed_or_refused_as_the_table_says() {
    every_move_from("resolved").await;
}

#[tokio::test]
async fn nothing_moves_a_closed_escalation() {
    every_move_from("closed").await;
}

#[tokio::test]
async fn nothing_moves_a_rejected_escalation() {
    every_move_from("rejected").await;
}

#[tokio::test]
async fn nothing_moves_a_withdrawn_escalation() {
    every_move_from("withdrawn").await;
}

// ---------------------------------------------------------------------------------------------
// What moves need and record
// ---------------------------------------------------------------------------------------------

#[tokio::test]
async fn starting_work_needs_an_engineer_and_records_the_first_response() {
    // Arrange
    let app = spawn_app().await;
    let desk = Desk::new(&app).await;
    let created = escalation_in(&app, &desk, "submitted").await;

    // Act
    let without = app
        .transition(
            &desk.operator,
            created.id(),
            "\"1\"",
            &json!({"to": "in_progress"}),
        )
        .await;
    let incomplete = app
        .transition(
            &desk.operator,
            created.id(),
            "\"1\"",
            &json!({"to": "in_progress", "engineer": {"name": "李娜"}}),
        )
        .await;
    let before = Utc::now();
    let started = app
        .transition(
            &desk.operator,
            created.id(),
            "\"1\"",
            &json!({"to": "in_progress", "engineer": engineer()}),
        )
        .await;
    let after = Utc::now();

    // Assert
    without.problem(422, "validation_failed");
    assert_eq!(without.error_fields(), ["engineer"]);
    incomplete.problem(422, "validation_failed");
    assert_eq!(incomplete.error_fields(), ["engineer.email"]);
    assert_eq!(started.status, 200, "{}", started.body);
    assert_eq!(started.etag(), "\"2\"", "refused attempts made no version");
    assert_eq!(
        started.body["engineer"],
        json!({"name": "李娜", "email": "li.na@oe.21vianet.com", "phone": "+861055550123"})
    );
    let first_response = timestamp(&started.body["sla"]["first_response_at"]);
    assert!(
        before - Duration::seconds(1) <= first_response
            && first_response <= after + Duration::seconds(1),
        "{first_response} not in [{before}, {after}]"
    );
    assert_eq!(started.body["sla"]["breached"], false);
    let trail = events(&app, &desk.operator, created.id()).await;
    assert_eq!(trail.len(), 2);
    assert!(trail[1]["before"]["engineer"].is_null());
    assert_eq!(trail[1]["after"]["engineer"], started.body["engineer"]);
}

#[tokio::test]
async fn the_first_response_is_kept_when_work_resumes() {
    // Arrange
    let app = spawn_app().await;
    let desk = Desk::new(&app).await;
    let waiting = escalation_in(&app, &desk, "awaiting_partner").await;
    let first_response = waiting.body["sla"]["first_response_at"].clone();
    assert!(first_response.is_string());

    // Act
    let answered = advance(&app, desk.partner(), &waiting, "in_progress").await;
    let waiting_again = advance(&app, &desk.operator, &answered, "awaiting_partner").await;
    let resumed = advance(&app, &desk.operator, &waiting_again, "in_progress").await;

    // Assert
    for answer in [&answered, &resumed] {
        assert_eq!(answer.body["sla"]["first_response_at"], first_response);
        assert_eq!(answer.body["engineer"], waiting.body["engineer"]);
    }
}

#[tokio::test]
async fn an_engineer_is_assigned_only_when_an_operator_starts_work() {
    // Arrange
    let app = spawn_app().await;
    let desk = Desk::new(&app).await;
    let in_progress = escalation_in(&app, &desk, "in_progress").await;
    let resolved = escalation_in(&app, &desk, "resolved").await;

    // Act
    let to_waiting = app
        .transition(
            &desk.operator,
            in_progress.id(),
            &in_progress.etag(),
            &json!({"to": "awaiting_partner", "engineer": engineer()}),
        )
        .await;
    let reopened = app
        .transition(
            desk.partner(),
            resolved.id(),
            &resolved.etag(),
            &json!({"to": "in_progress", "engineer": engineer()}),
        )
        .await;

    // Assert
    for answer in [&to_waiting, &reopened] {
        answer.problem(422, "validation_failed");
        assert_eq!(answer.error_fields(), ["engineer"]);
    }
}

#[tokio::test]
async fn resolving_needs_a_resolution_and_records_it() {
    // Arrange
    let app = spawn_app().await;
    let desk = Desk::new(&app).await;
    let started = escalation_in(&app, &desk, "in_progress").await;

    // Act
    let without = app
        .transition(
            &desk.operator,
            started.id(),
            &started.etag(),
            &json!({"to": "resolved"}),
        )
        .await;
    let blank = app
        .transition(
            &desk.operator,
            started.id(),
            &started.etag(),
            &json!({"to": "resolved", "reason": "   "}),
        )
        .await;
    let before = Utc::now();
    let resolved = app
        .transition(
            &desk.operator,
            started.id(),
            &started.etag(),
            &json!({"to": "resolved", "reason": "已在服务端修复传输规则。"}),
        )
        .await;

    // Assert
    for answer in [&without, &blank] {
        answer.problem(422, "validation_failed");
        assert_eq!(answer.error_fields(), ["reason"]);
    }
    assert_eq!(resolved.status, 200, "{}", resolved.body);
    assert_eq!(resolved.body["resolution"], "已在服务端修复传输规则。");
    let resolved_at = timestamp(&resolved.body["resolved_at"]);
    assert!(
        resolved_at >= before - Duration::seconds(1),
        "{resolved_at}"
    );
    let trail = events(&app, desk.partner(), started.id()).await;
    assert_eq!(
        trail.last().unwrap()["after"]["reason"],
        "已在服务端修复传输规则。"
    );
}

#[tokio::test]
async fn rejecting_needs_misescalation_and_a_reason() {
    // Arrange
    let app = spawn_app().await;
    let desk = Desk::new(&app).await;
    let created = escalation_in(&app, &desk, "submitted").await;
    let id = created.id();

    // Act
    let no_flag = app
        .transition(
            &desk.operator,
            id,
            "\"1\"",
            &json!({"to": "rejected", "reason": "操作指导类问题。"}),
        )
        .await;
    let no_reason = app
        .transition(
            &desk.operator,
            id,
            "\"1\"",
            &json!({"to": "rejected", "misescalation": true}),
        )
        .await;
    let rejected = app
        .transition(
            &desk.operator,
            id,
            "\"1\"",
            &json!({"to": "rejected", "misescalation": true, "reason": "这是操作指导类问题，属于合作伙伴的工作。"}),
        )
        .await;

    // Assert
    no_flag.problem(422, "validation_failed");
    assert_eq!(no_flag.error_fields(), ["misescalation"]);
    no_reason.problem(422, "validation_failed");
    assert_eq!(no_reason.error_fields(), ["reason"]);
    assert_eq!(rejected.status, 200, "{}", rejected.body);
    assert_eq!(rejected.body["status"], "rejected");
    assert_eq!(
        rejected.body["misescalation"],
        json!({"reason": "这是操作指导类问题，属于合作伙伴的工作。"})
    );
    let read = app.get(&escalation_path(id), desk.partner()).await;
    assert_eq!(read.body["misescalation"], rejected.body["misescalation"]);
    let trail = events(&app, desk.partner(), id).await;
    assert_eq!(trail.last().unwrap()["after"]["misescalation"], true);
}

#[tokio::test]
async fn a_rejection_that_is_not_a_misescalation_shows_none() {
    // Arrange
    let app = spawn_app().await;
    let desk = Desk::new(&app).await;
    let started = escalation_in(&app, &desk, "in_progress").await;

    // Act
    let rejected = app
        .transition(
            &desk.admin,
            started.id(),
            &started.etag(),
            &json!({"to": "rejected", "misescalation": false, "reason": "客户已取消该服务。"}),
        )
        .await;

    // Assert
    assert_eq!(rejected.status, 200, "{}", rejected.body);
    assert!(
        rejected.body["misescalation"].is_null(),
        "{}",
        rejected.body
    );
}

#[tokio::test]
async fn misescalation_is_given_only_when_rejecting() {
    // Arrange
    let app = spawn_app().await;
    let desk = Desk::new(&app).await;
    let started = escalation_in(&app, &desk, "in_progress").await;

    // Act
    let answer = app
        .transition(
            &desk.operator,
            started.id(),
            &started.etag(),
            &json!({"to": "awaiting_partner", "misescalation": true}),
        )
        .await;

    // Assert
    answer.problem(422, "validation_failed");
    assert_eq!(answer.error_fields(), ["misescalation"]);
}

#[tokio::test]
async fn a_bad_transition_body_is_422_naming_the_field() {
    // Arrange
    let app = spawn_app().await;
    let desk = Desk::new(&app).await;
    let created = escalation_in(&app, &desk, "submitted").await;
    let reason = "问题不属于 21Vianet 的支持范围。";
    let cases = [
        (json!({}), "to"),
        (json!({"to": "reopened"}), "to"),
        (json!({"to": 3}), "to"),
        (json!({"to": "withdrawn", "why": "changed my mind"}), "why"),
        (
            json!({"to": "rejected", "misescalation": "yes", "reason": reason}),
            "misescalation",
        ),
        (json!({"to": "resolved", "reason": 42}), "reason"),
        (json!({"to": "in_progress", "engineer": "李娜"}), "engineer"),
    ];
    let mut wrong = Vec::new();

    for (body, field) in cases {
        // Act
        let answer = app
            .transition(&desk.operator, created.id(), "\"1\"", &body)
            .await;

        // Assert
        let fields = answer.error_fields();
        if answer.status != 422
            || answer.body["code"] != "validation_failed"
            || fields.len() != 1
            || !fields[0].starts_with(field)
        {
            wrong.push(format!(
                "{body}: expected 422 naming {field}, got {}",
                answer.body
            ));
        }
    }
    assert!(wrong.is_empty(), "{}", wrong.join("\n"));
    let read = app
        .get(&escalation_path(created.id()), desk.partner())
        .await;
    assert_eq!(read.body, created.body, "nothing changed");
}

#[tokio::test]
async fn moving_back_to_submitted_is_409_naming_the_possible_moves() {
    // Arrange: nothing returns to submitted
    let app = spawn_app().await;
    let desk = Desk::new(&app).await;
    let created = escalation_in(&app, &desk, "in_progress").await;

    // Act
    let answer = app
        .transition(
            &desk.operator,
            created.id(),
            &created.etag(),
            &json!({"to": "submitted"}),
        )
        .await;

    // Assert
    answer.problem(409, "invalid_transition");
    let detail = answer.body["detail"].as_str().unwrap();
    for possible in ["awaiting_partner", "resolved", "rejected"] {
        assert!(detail.contains(possible), "{detail}");
    }
}

#[tokio::test]
async fn a_partner_reopens_a_resolved_escalation_within_14_days() {
    // Arrange: resolved 13 days ago
    let app = spawn_app().await;
    let desk = Desk::new(&app).await;
    let resolved = escalation_in(&app, &desk, "resolved").await;
    let changed = app
        .execute_sql(
            "UPDATE escalations SET resolved_at = $1 WHERE id = $2",
            vec![
                (Utc::now() - Duration::days(13)).into(),
                resolved.id().into(),
            ],
        )
        .await;
    assert_eq!(changed, 1);

    // Act
    let reopened = app
        .transition(
            desk.partner(),
            resolved.id(),
            &resolved.etag(),
            &json!({"to": "in_progress", "reason": "问题在部分邮箱上再次出现。"}),
        )
        .await;

    // Assert
    assert_eq!(reopened.status, 200, "{}", reopened.body);
    assert_eq!(reopened.body["status"], "in_progress");
    assert!(reopened.body["resolved_at"].is_null());
    assert_eq!(reopened.body["engineer"], resolved.body["engineer"]);
    let trail = events(&app, desk.partner(), resolved.id()).await;
    let last = trail.last().unwrap();
    assert_eq!(
        (&last["before"]["status"], &last["after"]["status"]),
        (&json!("resolved"), &json!("in_progress"))
    );
    assert_eq!(last["actor"]["role"], "partner");
}

#[tokio::test]
async fn after_14_days_a_resolved_escalation_cannot_be_reopened() {
    // Arrange: resolved 15 days ago
    let app = spawn_app().await;
    let desk = Desk::new(&app).await;
    let resolved = escalation_in(&app, &desk, "resolved").await;
    app.execute_sql(
        "UPDATE escalations SET resolved_at = $1 WHERE id = $2",
        vec![
            (Utc::now() - Duration::days(15)).into(),
            resolved.id().into(),
        ],
    )
    .await;

    // Act
    let reopened = app
        .transition(
            desk.partner(),
            resolved.id(),
            &resolved.etag(),
            &json!({"to": "in_progress"}),
        )
        .await;
    let closed = app
        .transition(
            desk.partner(),
            resolved.id(),
            &resolved.etag(),
            &json!({"to": "closed"}),
        )
        .await;

    // Assert
    let problem = reopened.problem(409, "reopen_window_closed");
    assert!(problem["detail"].as_str().unwrap().contains("14 days"));
    assert_eq!(
        closed.status, 200,
        "closing stays possible: {}",
        closed.body
    );
}

#[tokio::test]
async fn reopening_while_a_newer_escalation_is_open_is_409_pointing_to_it() {
    // Arrange: the same problem escalated again after the first was resolved
    let app = spawn_app().await;
    let desk = Desk::new(&app).await;
    let body = desk.fixture.body.clone();
    let first = app.submit_escalation(desk.partner(), &body).await;
    let started = advance(&app, &desk.operator, &first, "in_progress").await;
    let resolved = advance(&app, &desk.operator, &started, "resolved").await;
    let second = app.submit_escalation(desk.partner(), &body).await;

    // Act
    let reopened = app
        .transition(
            desk.partner(),
            first.id(),
            &resolved.etag(),
            &json!({"to": "in_progress"}),
        )
        .await;

    // Assert
    let problem = reopened.problem(409, "duplicate_escalation");
    assert_eq!(problem["duplicate_of"]["id"], json!(second.id()));
    assert_eq!(problem["duplicate_of"]["number"], second.body["number"]);
    let still = app.get(&escalation_path(first.id()), desk.partner()).await;
    assert_eq!(still.body["status"], "resolved");
    assert_eq!(still.etag(), resolved.etag());
}

// ---------------------------------------------------------------------------------------------
// If-Match
// ---------------------------------------------------------------------------------------------

#[tokio::test]
async fn a_transition_without_if_match_is_428() {
    // Arrange
    let app = spawn_app().await;
    let desk = Desk::new(&app).await;
    let created = escalation_in(&app, &desk, "submitted").await;

    // Act
    let answer = app
        .send(
            app.request(
                reqwest::Method::POST,
                &format!("{}/transitions", escalation_path(created.id())),
                desk.partner(),
            )
            .json(&json!({"to": "withdrawn"})),
        )
        .await;

    // Assert
    answer.problem(428, "if_match_required");
    let read = app
        .get(&escalation_path(created.id()), desk.partner())
        .await;
    assert_eq!(read.body["status"], "submitted");
}

#[tokio::test]
async fn a_stale_or_weak_if_match_is_412() {
    // Arrange
    let app = spawn_app().await;
    let desk = Desk::new(&app).await;
    let started = escalation_in(&app, &desk, "in_progress").await;
    assert_eq!(started.etag(), "\"2\"");

    for tag in ["\"1\"", "W/\"2\"", "\"3\"", "nonsense"] {
        // Act
        let answer = app
            .transition(
                &desk.operator,
                started.id(),
                tag,
                &json!({"to": "awaiting_partner"}),
            )
            .await;

        // Assert
        answer.problem(412, "stale_version");
    }
    let read = app
        .get(&escalation_path(started.id()), &desk.operator)
        .await;
    assert_eq!(read.body, started.body, "nothing changed");
    let listed = app
        .transition(
            &desk.operator,
            started.id(),
            "\"1\", \"2\"",
            &json!({"to": "awaiting_partner"}),
        )
        .await;
    assert_eq!(listed.status, 200, "a list naming the current tag matches");
    let any = app
        .transition(
            &desk.operator,
            started.id(),
            "*",
            &json!({"to": "in_progress"}),
        )
        .await;
    assert_eq!(any.status, 200, "* matches the current version");
    assert_eq!(any.etag(), "\"4\"");
}

// ---------------------------------------------------------------------------------------------
// The audit trail
// ---------------------------------------------------------------------------------------------

#[tokio::test]
async fn every_move_is_an_event_with_before_after_and_the_actor() {
    // Arrange
    let app = spawn_app().await;
    let desk = Desk::new(&app).await;
    let created = escalation_in(&app, &desk, "submitted").await;
    let path = [
        (Role::Operator, "in_progress"),
        (Role::Operator, "awaiting_partner"),
        (Role::Partner, "in_progress"),
        (Role::Admin, "resolved"),
        (Role::Partner, "in_progress"),
        (Role::Operator, "resolved"),
        (Role::Partner, "closed"),
    ];

    // Act
    let mut current = created;
    for (role, to) in path {
        current = advance(&app, desk.key(role), &current, to).await;
    }

    // Assert
    let trail = events(&app, desk.partner(), current.id()).await;
    assert_eq!(trail.len(), 1 + path.len());
    assert_eq!(trail[0]["kind"], "created");
    let mut from = "submitted";
    for ((role, to), event) in path.iter().zip(&trail[1..]) {
        assert_eq!(event["kind"], "status_changed", "{event}");
        assert_eq!(event["before"]["status"], from, "{event}");
        assert_eq!(event["after"]["status"], *to, "{event}");
        assert_eq!(event["actor"]["role"], role.name(), "{event}");
        assert!(event["actor"]["key_id"].is_string(), "{event}");
        from = to;
    }
    let times: Vec<_> = trail.iter().map(|e| timestamp(&e["at"])).collect();
    assert!(times.windows(2).all(|w| w[0] <= w[1]), "{times:?}");
    assert_eq!(current.body["version"], 1 + path.len());
    assert_eq!(current.body["status"], "closed");
}

#[tokio::test]
async fn the_trail_pages_oldest_first() {
    // Arrange
    let app = spawn_app().await;
    let desk = Desk::new(&app).await;
    let created = escalation_in(&app, &desk, "closed").await;
    let path = format!("{}/events", escalation_path(created.id()));

    // Act
    let first = app
        .get_query(&path, desk.partner(), &[("limit", "2")])
        .await;
    let link = first.next_link().expect("a next page");
    let second = app.get(&link, desk.partner()).await;

    // Assert
    let kinds = |answer: &Answer| -> Vec<String> {
        answer
            .items()
            .iter()
            .map(|e| format!("{}:{}", e["kind"], e["after"]["status"]))
            .collect()
    };
    assert_eq!(
        kinds(&first),
        [
            "\"created\":\"submitted\"",
            "\"status_changed\":\"in_progress\""
        ]
    );
    assert_eq!(
        kinds(&second),
        [
            "\"status_changed\":\"resolved\"",
            "\"status_changed\":\"closed\""
        ]
    );
    assert!(second.next_link().is_none());
}
