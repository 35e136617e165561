//! `POST /v1/escalations/{id}/transitions`: the whole lifecycle table through HTTP (every status
//! × every target × every role), the data each move needs and records, reopening, `If-Match`
//! and the audit trail. Concurrent moves and creates are in `escalations_concurrency`.

use chrono::{Duration, Utc};
use serde_json::{Value, json};

use crate::escalations::audit_trail;
use crate::helpers::{Answer, engineer, escalation_body, escalation_path, timestamp};
use crate::world::World;

const STATUSES: [&str; 7] = [
    "submitted",
    "in_progress",
    "awaiting_partner",
    "resolved",
    "closed",
    "rejected",
    "withdrawn",
];

/// Every move the lifecycle allows, and for which side (`operator` stands for operators and
/// admins), as DESIGN.md describes it.
const MOVES: [(&str, &str, &str); 12] = [
    ("submitted", "in_progress", "operator"),
    ("submitted", "rejected", "operator"),
    ("submitted", "withdrawn", "partner"),
    ("in_progress", "awaiting_partner", "operator"),
    ("in_progress", "resolved", "operator"),
    ("in_progress", "rejected", "operator"),
    ("awaiting_partner", "in_progress", "operator"),
    ("awaiting_partner", "in_progress", "partner"),
    ("awaiting_partner", "resolved", "operator"),
    ("resolved", "in_progress", "partner"),
    ("resolved", "closed", "operator"),
    ("resolved", "closed", "partner"),
];

/// Each role, and the side it moves for.
const ROLES: [(&str, &str); 3] = [
    ("partner", "partner"),
    ("operator", "operator"),
    ("admin", "operator"),
];

fn key_of<'a>(world: &'a World, role: &str) -> &'a str {
    match role {
        "partner" => world.key(),
        "operator" => &world.operator,
        _ => &world.app.admin_key,
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

/// The move `body` of the escalation `current` (an answer carrying it and its ETag), as `key`.
async fn attempt(world: &World, key: &str, current: &Answer, body: &Value) -> Answer {
    let (id, etag) = (current.id(), current.etag());
    world.app.transition(key, id, &etag, body).await
}

/// Moves the escalation `current` to `to` as `key`; asserts 200 and returns the answer.
async fn advance(world: &World, key: &str, current: &Answer, to: &str) -> Answer {
    let from = current.body["status"].as_str().unwrap();
    let answer = attempt(world, key, current, &move_body(from, to)).await;
    assert_eq!(answer.status, 200, "{from} -> {to}: {}", answer.body);
    answer
}

/// A fresh escalation (of a fresh customer, so it never duplicates another) brought to
/// `status` through allowed moves; returns the last answer.
async fn escalation_in(world: &World, status: &str) -> Answer {
    let customer_id = world
        .app
        .create_escalatable_customer(&world.partner, "standard")
        .await;
    let body = escalation_body(customer_id);
    let mut current = world.app.submit_escalation(world.key(), &body).await;
    let route: &[&str] = match status {
        "submitted" => &[],
        "in_progress" => &["in_progress"],
        "awaiting_partner" => &["in_progress", "awaiting_partner"],
        "resolved" => &["in_progress", "resolved"],
        "closed" => &["in_progress", "resolved", "closed"],
        "rejected" => &["rejected"],
        "withdrawn" => &["withdrawn"],
        other => panic!("no way to reach {other}"),
    };
    for to in route {
        let key = if *to == "withdrawn" {
            world.key()
        } else {
            &world.operator
        };
        current = advance(world, key, &current, to).await;
    }
    current
}

/// What is wrong with `answer` if it is not the problem `status`/`code`.
fn problem_mismatch(answer: &Answer, status: u16, code: &str) -> Option<String> {
    let content_type = answer.header("content-type");
    (answer.status != status
        || answer.body["code"] != code
        || content_type != Some("application/problem+json"))
    .then(|| {
        let (got, body) = (answer.status, &answer.body);
        format!("expected {status} {code}, got {got} {content_type:?} {body}")
    })
}

/// What is wrong with `role`'s move to `to` from the status of `shared`. An allowed move, made
/// on a fresh escalation, gives the next version and ETag and a `status_changed` event by the
/// role; a move for the other side is 403; a move nobody may make is 409 naming the possible
/// ones (or saying the status is final).
async fn move_mismatch(
    world: &World,
    shared: &Answer,
    to: &str,
    (role, side): (&str, &str),
) -> Option<String> {
    let from = shared.body["status"].as_str().unwrap();
    let (key, body) = (key_of(world, role), move_body(from, to));
    if !MOVES.contains(&(from, to, side)) {
        let answer = attempt(world, key, shared, &body).await;
        if MOVES.iter().any(|(f, t, _)| (*f, *t) == (from, to)) {
            return problem_mismatch(&answer, 403, "forbidden");
        }
        let possible: Vec<String> = MOVES
            .iter()
            .filter(|(f, _, _)| *f == from)
            .map(|(_, to, side)| format!("{to} ({side})"))
            .collect();
        return problem_mismatch(&answer, 409, "invalid_transition").or_else(|| {
            let detail = answer.body["detail"].as_str().unwrap_or_default();
            let names_all = possible.iter().all(|named| detail.contains(named.as_str()));
            let final_said = !possible.is_empty() || detail.contains("final");
            let missing = format!("the detail does not name {possible:?}: {detail}");
            (!names_all || !final_said).then_some(missing)
        });
    }
    let fresh = escalation_in(world, from).await;
    let answer = attempt(world, key, &fresh, &body).await;
    let version = fresh.body["version"].as_i64().unwrap() + 1;
    let tag = format!("\"{version}\"");
    if (answer.status, answer.header("etag")) != (200, Some(tag.as_str()))
        || answer.body["status"] != to
        || answer.body["version"] != version
    {
        let (status, etag, body) = (answer.status, answer.header("etag"), &answer.body);
        return Some(format!(
            "expected 200, {to}, version {tag}: {status} {etag:?} {body}"
        ));
    }
    let trail = audit_trail(&world.app, key, fresh.id()).await;
    let last = trail.last().unwrap();
    let event = (
        &last["kind"],
        &last["before"]["status"],
        &last["after"]["status"],
    );
    let expected = (&json!("status_changed"), &json!(from), &json!(to));
    (event != expected || last["actor"]["role"] != role)
        .then(|| format!("expected a status_changed event by {role}, got {last}"))
}

/// Sets the resolution time of `escalation` to `days` ago.
async fn resolved_days_ago(world: &World, escalation: &Answer, days: i64) {
    let resolved_at = Utc::now() - Duration::days(days);
    let sql = "UPDATE escalations SET resolved_at = $1 WHERE id = $2";
    let values = vec![resolved_at.into(), escalation.id().into()];
    assert_eq!(world.app.execute_sql(sql, values).await, 1);
}

// ---------------------------------------------------------------------------------------------
// The lifecycle table
// ---------------------------------------------------------------------------------------------

/// Every target (`submitted` too, which nothing returns to) as every role from every status;
/// refused moves change nothing and are no events. Every cell is tried before the test fails,
/// and every wrong one is reported.
#[tokio::test]
async fn every_move_from_every_status_is_allowed_or_refused_as_the_table_says() {
    // Arrange
    let world = World::new().await;
    let admin = &world.app.admin_key;
    let mut wrong: Vec<String> = Vec::new();

    for from in STATUSES {
        let shared = escalation_in(&world, from).await;
        let events = audit_trail(&world.app, admin, shared.id()).await.len();

        for to in STATUSES {
            for role in ROLES {
                // Act & Assert
                if let Some(mismatch) = move_mismatch(&world, &shared, to, role).await {
                    wrong.push(format!("{from} -> {to} by {}: {mismatch}", role.0));
                }
            }
        }
        let after = world.escalation(admin, shared.id()).await;
        if after.body != shared.body {
            wrong.push(format!("{from}: refused moves changed {}", after.body));
        }
        if audit_trail(&world.app, admin, shared.id()).await.len() != events {
            wrong.push(format!("{from}: refused moves are events"));
        }
    }
    let (count, wrong) = (wrong.len(), wrong.join("\n"));
    assert!(wrong.is_empty(), "{count} wrong:\n{wrong}");
}

// ---------------------------------------------------------------------------------------------
// What moves need and record
// ---------------------------------------------------------------------------------------------

/// Each case is refused naming its one field; the partner makes the move from `resolved`, an
/// operator the others.
#[tokio::test]
async fn a_move_lacking_what_it_needs_or_carrying_what_it_may_not_is_422_and_changes_nothing() {
    // Arrange
    let world = World::new().await;
    let submitted = escalation_in(&world, "submitted").await;
    let started = escalation_in(&world, "in_progress").await;
    let resolved = escalation_in(&world, "resolved").await;
    let (partner, operator) = (world.key(), world.operator.as_str());
    let reason = "问题不属于 21Vianet 的支持范围。";
    let engineer = engineer();
    let (required, invalid, wrong_type) = ("required", "invalid_value", "invalid_type");
    let (unknown, not_allowed) = ("unknown_field", "not_allowed");
    let cases = [
        (
            &submitted,
            operator,
            vec![
                ("no target", json!({}), ("to", required)),
                (
                    "an unknown target",
                    json!({"to": "reopened"}),
                    ("to", invalid),
                ),
                ("a target not text", json!({"to": 3}), ("to", wrong_type)),
                (
                    "an unknown field",
                    json!({"to": "withdrawn", "why": "changed my mind"}),
                    ("why", unknown),
                ),
                (
                    "no engineer",
                    json!({"to": "in_progress"}),
                    ("engineer", required),
                ),
                (
                    "an engineer without an e-mail",
                    json!({"to": "in_progress", "engineer": {"name": "李娜"}}),
                    ("engineer.email", required),
                ),
                (
                    "an engineer as text",
                    json!({"to": "in_progress", "engineer": "李娜"}),
                    ("engineer", wrong_type),
                ),
                (
                    "a reason not text",
                    json!({"to": "resolved", "reason": 42}),
                    ("reason", wrong_type),
                ),
                (
                    "rejected without misescalation",
                    json!({"to": "rejected", "reason": "操作指导类问题。"}),
                    ("misescalation", required),
                ),
                (
                    "rejected without a reason",
                    json!({"to": "rejected", "misescalation": true}),
                    ("reason", required),
                ),
                (
                    "misescalation not a boolean",
                    json!({"to": "rejected", "misescalation": "yes", "reason": reason}),
                    ("misescalation", wrong_type),
                ),
            ],
        ),
        (
            &started,
            operator,
            vec![
                (
                    "an engineer when waiting",
                    json!({"to": "awaiting_partner", "engineer": engineer}),
                    ("engineer", not_allowed),
                ),
                (
                    "resolved without a reason",
                    json!({"to": "resolved"}),
                    ("reason", required),
                ),
                (
                    "resolved with a blank reason",
                    json!({"to": "resolved", "reason": "   "}),
                    ("reason", "length"),
                ),
                (
                    "misescalation when not rejecting",
                    json!({"to": "awaiting_partner", "misescalation": true}),
                    ("misescalation", not_allowed),
                ),
            ],
        ),
        (
            &resolved,
            partner,
            vec![(
                "an engineer when reopening",
                json!({"to": "in_progress", "engineer": engineer}),
                ("engineer", not_allowed),
            )],
        ),
    ];

    for (escalation, key, rows) in &cases {
        for (label, body, field) in rows {
            // Act
            let answer = attempt(&world, key, escalation, body).await;

            // Assert
            answer.case_refused(label, 422, "validation_failed", &[*field]);
        }
    }
    for escalation in [&submitted, &started, &resolved] {
        let read = world.escalation(operator, escalation.id()).await;
        assert_eq!(read.body, escalation.body, "nothing changed");
    }
}

#[tokio::test]
async fn moves_record_the_engineer_first_response_resolution_and_misescalation() {
    // Arrange
    let world = World::new().await;
    let (partner, operator) = (world.key(), world.operator.as_str());
    let submitted = escalation_in(&world, "submitted").await;
    let to_reject = escalation_in(&world, "submitted").await;
    let to_decline = escalation_in(&world, "in_progress").await;
    let misescalation = "这是操作指导类问题，属于合作伙伴的工作。";
    let reject = json!({"to": "rejected", "misescalation": true, "reason": misescalation});
    let decline = json!({"to": "rejected", "misescalation": false, "reason": "客户已取消该服务。"});

    // Act
    let before = Utc::now();
    let started = advance(&world, operator, &submitted, "in_progress").await;
    let after = Utc::now();
    let waiting = advance(&world, operator, &started, "awaiting_partner").await;
    let answered = advance(&world, partner, &waiting, "in_progress").await;
    let waiting_again = advance(&world, operator, &answered, "awaiting_partner").await;
    let resumed = advance(&world, operator, &waiting_again, "in_progress").await;
    let resolving = Utc::now();
    let resolved = advance(&world, operator, &resumed, "resolved").await;
    let rejected = attempt(&world, operator, &to_reject, &reject).await;
    let declined = attempt(&world, &world.app.admin_key, &to_decline, &decline).await;

    // Assert
    let engineer =
        json!({"name": "李娜", "email": "li.na@oe.21vianet.com", "phone": "+861055550123"});
    assert_eq!(started.body["engineer"], engineer);
    let first_response = &started.body["sla"]["first_response_at"];
    let (at, second) = (timestamp(first_response), Duration::seconds(1));
    assert!(
        before - second <= at && at <= after + second,
        "{at} not in [{before}, {after}]"
    );
    assert_eq!(started.body["sla"]["breached"], false);
    let trail = audit_trail(&world.app, partner, submitted.id()).await;
    assert!(trail[1]["before"]["engineer"].is_null());
    assert_eq!(trail[1]["after"]["engineer"], engineer);
    for answer in [&answered, &resumed] {
        let kept = &answer.body["sla"]["first_response_at"];
        assert_eq!(kept, first_response, "kept when work resumes");
        assert_eq!(answer.body["engineer"], engineer);
    }
    let resolution = &move_body("in_progress", "resolved")["reason"];
    assert_eq!(&resolved.body["resolution"], resolution);
    let resolved_at = timestamp(&resolved.body["resolved_at"]);
    assert!(resolved_at >= resolving - second, "{resolved_at}");
    assert_eq!(trail.len(), 7);
    assert_eq!(&trail[6]["after"]["reason"], resolution);
    assert_eq!(rejected.status, 200, "{}", rejected.body);
    assert_eq!(rejected.body["status"], "rejected");
    let recorded = json!({ "reason": misescalation });
    assert_eq!(rejected.body["misescalation"], recorded);
    let read = world.escalation(partner, to_reject.id()).await;
    assert_eq!(read.body["misescalation"], recorded);
    let trail = audit_trail(&world.app, partner, to_reject.id()).await;
    assert_eq!(trail.last().unwrap()["after"]["misescalation"], true);
    assert_eq!(declined.status, 200, "{}", declined.body);
    let none = &declined.body["misescalation"];
    assert!(none.is_null(), "not a misescalation: {}", declined.body);
}

// ---------------------------------------------------------------------------------------------
// Reopening
// ---------------------------------------------------------------------------------------------

#[tokio::test]
async fn a_partner_reopens_within_14_days_unless_a_newer_escalation_is_open() {
    // Arrange: resolved 13 and 15 days ago; and the same problem escalated again once resolved
    let world = World::new().await;
    let partner = world.key();
    let recent = escalation_in(&world, "resolved").await;
    resolved_days_ago(&world, &recent, 13).await;
    let old = escalation_in(&world, "resolved").await;
    resolved_days_ago(&world, &old, 15).await;
    let first = world.in_progress().await;
    let first = advance(&world, &world.operator, &first, "resolved").await;
    let second = world.submit().await;
    let reopen = json!({"to": "in_progress", "reason": "问题在部分邮箱上再次出现。"});
    let (to_in_progress, to_closed) = (json!({"to": "in_progress"}), json!({"to": "closed"}));

    // Act
    let reopened = attempt(&world, partner, &recent, &reopen).await;
    let too_late = attempt(&world, partner, &old, &to_in_progress).await;
    let closed = attempt(&world, partner, &old, &to_closed).await;
    let duplicate = attempt(&world, partner, &first, &to_in_progress).await;

    // Assert
    assert_eq!(reopened.status, 200, "{}", reopened.body);
    assert_eq!(reopened.body["status"], "in_progress");
    assert!(reopened.body["resolved_at"].is_null());
    assert_eq!(reopened.body["engineer"], recent.body["engineer"]);
    let trail = audit_trail(&world.app, partner, recent.id()).await;
    let last = trail.last().unwrap();
    let statuses = (&last["before"]["status"], &last["after"]["status"]);
    assert_eq!(statuses, (&json!("resolved"), &json!("in_progress")));
    assert_eq!(last["actor"]["role"], "partner");
    let problem = too_late.problem(409, "reopen_window_closed");
    assert!(problem["detail"].as_str().unwrap().contains("14 days"));
    assert_eq!(closed.status, 200, "closing stays possible");
    let problem = duplicate.problem(409, "duplicate_escalation");
    assert_eq!(problem["duplicate_of"]["id"], json!(second.id()));
    assert_eq!(problem["duplicate_of"]["number"], second.body["number"]);
    let still = world.escalation(partner, first.id()).await;
    assert_eq!(still.body["status"], "resolved");
    assert_eq!(still.etag(), first.etag());
}

// ---------------------------------------------------------------------------------------------
// If-Match
// ---------------------------------------------------------------------------------------------

#[tokio::test]
async fn a_move_needs_an_if_match_naming_the_current_version() {
    // Arrange
    let world = World::new().await;
    let (app, operator) = (&world.app, world.operator.as_str());
    let submitted = escalation_in(&world, "submitted").await;
    let started = escalation_in(&world, "in_progress").await;
    assert_eq!(started.etag(), "\"2\"");
    let path = format!("{}/transitions", escalation_path(submitted.id()));
    let withdraw = app.request(reqwest::Method::POST, &path, world.key());
    let to_waiting = json!({"to": "awaiting_partner"});
    let id = started.id();

    // Act
    let without = app.send(withdraw.json(&json!({"to": "withdrawn"}))).await;
    let mut stale = Vec::new();
    for tag in ["\"1\"", "W/\"2\"", "\"3\"", "nonsense"] {
        stale.push((tag, app.transition(operator, id, tag, &to_waiting).await));
    }
    let unchanged = world.escalation(operator, id).await;
    let listed = app
        .transition(operator, id, "\"1\", \"2\"", &to_waiting)
        .await;
    let any = app
        .transition(operator, id, "*", &json!({"to": "in_progress"}))
        .await;

    // Assert
    without.problem(428, "if_match_required");
    let read = world.escalation(world.key(), submitted.id()).await;
    assert_eq!(read.body["status"], "submitted");
    for (tag, answer) in stale {
        answer.case_refused(tag, 412, "stale_version", &[]);
    }
    assert_eq!(unchanged.body, started.body, "nothing changed");
    assert_eq!(listed.status, 200, "a list naming the current tag matches");
    assert_eq!(any.status, 200, "* matches the current version");
    assert_eq!(any.etag(), "\"4\"");
}

// ---------------------------------------------------------------------------------------------
// The audit trail
// ---------------------------------------------------------------------------------------------

#[tokio::test]
async fn every_move_is_an_event_with_before_after_and_the_actor_paged_oldest_first() {
    // Arrange
    let world = World::new().await;
    let (app, partner) = (&world.app, world.key());
    let created = world.submit().await;
    let path = [
        ("operator", "in_progress"),
        ("operator", "awaiting_partner"),
        ("partner", "in_progress"),
        ("admin", "resolved"),
        ("partner", "in_progress"),
        ("operator", "resolved"),
        ("partner", "closed"),
    ];

    // Act
    let mut current = created;
    for (role, to) in path {
        current = advance(&world, key_of(&world, role), &current, to).await;
    }
    let events = format!("{}/events", escalation_path(current.id()));
    let first = app.get_query(&events, partner, &[("limit", "4")]).await;
    let second = app
        .get(&first.next_link().expect("a next page"), partner)
        .await;

    // Assert
    let trail = audit_trail(app, partner, current.id()).await;
    assert_eq!(trail.len(), 1 + path.len());
    assert_eq!(trail[0]["kind"], "created");
    let mut from = "submitted";
    for ((role, to), event) in path.iter().zip(&trail[1..]) {
        assert_eq!(event["kind"], "status_changed", "{event}");
        assert_eq!(event["before"]["status"], from, "{event}");
        assert_eq!(event["after"]["status"], *to, "{event}");
        assert_eq!(event["actor"]["role"], *role, "{event}");
        assert!(event["actor"]["key_id"].is_string(), "{event}");
        from = to;
    }
    let times: Vec<_> = trail.iter().map(|e| timestamp(&e["at"])).collect();
    assert!(times.windows(2).all(|w| w[0] <= w[1]), "{times:?}");
    assert_eq!(current.body["version"], 1 + path.len());
    assert_eq!(current.body["status"], "closed");
    assert_eq!(first.items()[..], trail[..4], "the first page");
    assert_eq!(second.items()[..], trail[4..], "the second page");
    assert!(second.next_link().is_none());
}
