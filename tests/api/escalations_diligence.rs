//! The 21Vianet escalation criteria about what the partner must have done and said, through
//! `POST /v1/escalations`: a reason and a real justification, its own troubleshooting, no open
//! incident it has not explained, and a complete contact. Each failing alone is 422
//! `criteria_not_met` naming exactly that criterion, with a message saying what is missing.

use chrono::{Duration, Utc};
use serde_json::{Value, json};

use crate::customers::{edited, without};
use crate::helpers::{ESCALATIONS, assert_refused, incident_body, violation_message};
use crate::world::World;

/// Each case fails exactly one criterion, and its message says what is missing; a reason given
/// twice or unknown, or a malformed contact, is a field error instead.
#[tokio::test]
async fn each_missing_piece_of_diligence_fails_its_criterion_saying_what_is_missing() {
    // Arrange
    let world = World::new().await;
    let set = |field: &str, value: Value| edited(world.body.clone(), &[(field, value)]);
    let leave_out = |field: &str| without(world.body.clone(), &[field]);
    let nineteen: String = "需要服务端日志才能定位原因我们无权访问"
        .chars()
        .take(19)
        .collect();
    assert_eq!(nineteen.chars().count(), 19);
    let padding = "无法解决无法解决无法解决无法解决无法解决无法解决";
    let spaced = format!("日志{}日志", " ".repeat(30));
    let (tried, steps) = (
        "troubleshooting.admin_center_attempted",
        "troubleshooting.steps",
    );
    let checked = "troubleshooting.service_health_checked_at";
    let (now, hour) = (Utc::now(), Duration::hours(1));
    let nothing_done = json!({"admin_center_attempted": false, "steps": []});
    let mut cases: Vec<(&str, Value, &str, Vec<&str>)> = Vec::new();
    for (label, body) in [
        ("no reasons", set("reasons", json!([]))),
        ("reasons left out", leave_out("reasons")),
        ("justification left out", leave_out("justification")),
        ("justification null", set("justification", json!(null))),
        ("justification blank", set("justification", json!("     "))),
        ("19 characters", set("justification", json!(nineteen))),
        ("padding", set("justification", json!(padding))),
        ("padded with spaces", set("justification", json!(spaced))),
    ] {
        cases.push((label, body, "reason_given", vec![]));
    }
    for (label, body, hints) in [
        (
            "center not tried",
            set(tried, json!(false)),
            vec!["admin center"],
        ),
        ("center not said", leave_out(tried), vec!["admin center"]),
        ("no steps", set(steps, json!([])), vec!["step"]),
        ("steps left out", leave_out(steps), vec!["step"]),
        (
            "checked 25 hours ago",
            set(checked, json!(now - hour * 25)),
            vec!["24 hours"],
        ),
        (
            "checked in the future",
            set(checked, json!(now + hour)),
            vec!["future"],
        ),
        ("never checked", leave_out(checked), vec!["service health"]),
        (
            "nothing done, all in one message",
            set("troubleshooting", nothing_done),
            vec!["admin center", "step", "service health"],
        ),
    ] {
        cases.push((label, body, "partner_troubleshooting", hints));
    }
    for (field, hint) in [
        ("contact.first_name", "first_name"),
        ("contact.last_name", "last_name"),
        ("contact.email", "email"),
        (
            "contact.preferred_contact_method",
            "preferred_contact_method",
        ),
        ("contact.phone", "phone"), // contact by phone, with no number
    ] {
        cases.push((field, leave_out(field), "contact_complete", vec![hint]));
    }

    for (label, body, criterion, hints) in cases {
        // Act
        let answer = assert_refused(&world.app, &world.partner, &body, &[criterion]).await;

        // Assert
        let message = violation_message(&answer, criterion);
        for hint in hints {
            assert!(message.contains(hint), "{label}: {hint}: {}", answer.body);
        }
    }
    let malformed_contact = [
        ("contact.phone", json!("call me")),
        ("contact.preferred_contact_method", json!("pigeon")),
    ];
    for (label, body, fields) in [
        (
            "a reason twice",
            set("reasons", json!(["lacks_training", "lacks_training"])),
            &[("reasons", "duplicate")][..],
        ),
        (
            "an unknown reason",
            set("reasons", json!(["lacks_patience"])),
            &[("reasons[0]", "invalid_value")],
        ),
        (
            "a malformed contact",
            edited(world.body.clone(), &malformed_contact),
            &[
                ("contact.phone", "invalid_phone"),
                ("contact.preferred_contact_method", "invalid_value"),
            ],
        ),
    ] {
        // Act
        let answer = world.app.post(ESCALATIONS, world.key(), &body).await;

        // Assert
        answer.case_refused(label, 422, "validation_failed", fields);
    }
    assert!(world.escalations().await.items().is_empty());
}

#[tokio::test]
async fn a_real_justification_and_a_recent_or_slightly_early_health_check_pass() {
    // Arrange: Chinese characters count one each
    let world = World::new().await;
    let twenty = "需要服务端日志才能定位原因我们无权访问它";
    assert_eq!(twenty.chars().count(), 20);
    let every_reason = json!([
        "lacks_training",
        "lacks_documentation",
        "lacks_support_tools"
    ]);
    let checked = |category: &str, at: chrono::DateTime<Utc>| {
        let check = [
            ("category", json!(category)),
            ("troubleshooting.service_health_checked_at", json!(at)),
        ];
        edited(world.body.clone(), &check)
    };
    let justified = [("justification", json!(twenty)), ("reasons", every_reason)];

    for (label, body) in [
        (
            "twenty characters, eight different",
            edited(world.body.clone(), &justified),
        ),
        (
            "checked 23 hours ago",
            checked("product_bug", Utc::now() - Duration::hours(23)),
        ),
        (
            "checked 2 minutes ahead",
            checked("billing_dispute", Utc::now() + Duration::minutes(2)),
        ),
    ] {
        // Act
        let answer = world.app.post(ESCALATIONS, world.key(), &body).await;

        // Assert
        assert_eq!(answer.status, 201, "{label}: {}", answer.body);
        assert_eq!(answer.body["reasons"], body["reasons"], "{label}");
    }
}

/// Open and mitigating incidents on the escalated service block, unless the partner names each
/// as unrelated; resolved ones and those on other services do not count.
#[tokio::test]
async fn an_open_incident_on_the_service_blocks_escalation_unless_named_unrelated() {
    // Arrange
    let world = World::new().await;
    let (app, partner, operator) = (&world.app, &world.partner, &world.operator);
    let on_m365 = incident_body("microsoft-365");
    let resolved = app.create_incident(operator, &on_m365).await;
    app.move_incident(operator, &resolved, "resolved").await;
    app.create_incident(operator, &incident_body("azure")).await;
    let other_category = edited(world.body.clone(), &[("category", json!("product_bug"))]);
    let unrelated = |ids: Value| edited(world.body.clone(), &[("unrelated_incident_ids", ids)]);

    // Act & Assert: none open on the service
    app.created(ESCALATIONS, world.key(), &other_category).await;

    // Act & Assert: one open, then mitigating
    let first = app.create_incident(operator, &on_m365).await;
    let refused = assert_refused(app, partner, &world.body, &["no_active_incident"]).await;
    let message = violation_message(&refused, "no_active_incident");
    assert!(message.contains(&first.id().to_string()), "{message}");
    app.move_incident(operator, &first, "mitigating").await;
    assert_refused(app, partner, &world.body, &["no_active_incident"]).await;

    // Act & Assert: two, one named as unrelated, then both
    let second = app.create_incident(operator, &on_m365).await;
    let only_one = unrelated(json!([first.id()]));
    let refused = assert_refused(app, partner, &only_one, &["no_active_incident"]).await;
    let both = app
        .post(
            ESCALATIONS,
            world.key(),
            &unrelated(json!([first.id(), second.id()])),
        )
        .await;
    let message = violation_message(&refused, "no_active_incident");
    assert!(message.contains(&second.id().to_string()), "{message}");
    assert!(!message.contains(&first.id().to_string()), "{message}");
    assert_eq!(both.status, 201, "{}", both.body);
    let named = &both.body["unrelated_incident_ids"];
    assert_eq!(named, &json!([first.id(), second.id()]));
}
