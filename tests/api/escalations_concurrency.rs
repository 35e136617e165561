//! Escalations under concurrency: creates of the same problem and moves from one version racing
//! on one escalation, and creates racing for numbers on one instance and on two instances over
//! one database.

use reqwest::Method;
use serde_json::json;

use crate::escalations::audit_trail;
use crate::helpers::{Answer, ESCALATIONS, escalation_body, escalation_path, send_concurrently};
use crate::world::World;

/// Asserts every answer is 201 and their numbers are distinct and contiguous from `first`.
#[track_caller]
fn assert_contiguous_numbers(answers: &[Answer], first: u32) {
    let mut numbers: Vec<u32> = answers
        .iter()
        .map(|answer| {
            assert_eq!(answer.status, 201, "{}", answer.body);
            let number = answer.body["number"].as_str().unwrap();
            let digits = number.strip_prefix("ESC-");
            digits
                .and_then(|digits| digits.parse().ok())
                .unwrap_or_else(|| panic!("{number}"))
        })
        .collect();
    numbers.sort_unstable();
    let expected: Vec<u32> = (first..first + answers.len() as u32).collect();
    assert_eq!(numbers, expected);
}

/// The statuses of `answers`, and how many of them are `status`.
fn count(answers: &[Answer], status: u16) -> (usize, Vec<u16>) {
    let statuses: Vec<u16> = answers.iter().map(|a| a.status).collect();
    (statuses.iter().filter(|s| **s == status).count(), statuses)
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn of_ten_concurrent_creates_or_moves_on_one_escalation_exactly_one_wins() {
    // Arrange
    let world = World::new().await;
    let (app, operator) = (&world.app, &world.operator);
    let creates = (0..10)
        .map(|_| {
            let request = app.request(Method::POST, ESCALATIONS, world.key());
            request.json(&world.body)
        })
        .collect();

    // Act & Assert: ten creates of the same problem
    let created = send_concurrently(creates).await;
    let (accepted, statuses) = count(&created, 201);
    assert_eq!(accepted, 1, "{statuses:?}");
    let winner = created.iter().find(|a| a.status == 201).unwrap();
    for answer in created.iter().filter(|a| a.status != 201) {
        let problem = answer.problem(409, "duplicate_escalation");
        assert_eq!(problem["duplicate_of"]["id"], json!(winner.id()));
        assert_eq!(problem["duplicate_of"]["number"], winner.body["number"]);
    }
    assert_eq!(world.escalations().await.item_ids(), [winner.id()]);

    // Act & Assert: ten moves from its first version
    let path = format!("{}/transitions", escalation_path(winner.id()));
    let moves = (0..10)
        .map(|i| {
            let engineer = json!({"name": format!("工程师{i}"), "email": format!("engineer{i}@oe.21vianet.com")});
            let request = app.request(Method::POST, &path, operator);
            let request = request.header("If-Match", "\"1\"");
            request.json(&json!({"to": "in_progress", "engineer": engineer}))
        })
        .collect();
    let moved = send_concurrently(moves).await;
    let (won, statuses) = count(&moved, 200);
    assert_eq!(won, 1, "{statuses:?}");
    assert_eq!(count(&moved, 412).0, 9, "{statuses:?}");
    let mover = moved.iter().find(|a| a.status == 200).unwrap();
    assert_eq!(mover.etag(), "\"2\"");
    let read = world.escalation(operator, winner.id()).await;
    assert_eq!(read.body["engineer"], mover.body["engineer"]);
    let trail = audit_trail(app, operator, winner.id()).await;
    assert_eq!(trail.len(), 2, "one move, one event");
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn concurrent_creates_on_one_instance_or_two_get_contiguous_numbers() {
    // Arrange: forty customers, so no escalation duplicates another
    let world = World::new().await;
    let (app, key) = (&world.app, world.key());
    let sibling = app.spawn_sibling();
    assert_ne!(app.address, sibling.address);
    let mut bodies = Vec::new();
    for _ in 0..40 {
        let customer_id = app
            .create_escalatable_customer(&world.partner, "standard")
            .await;
        bodies.push(escalation_body(customer_id));
    }
    let (first, second) = bodies.split_at(20);
    let on_one = first
        .iter()
        .map(|body| app.request(Method::POST, ESCALATIONS, key).json(body))
        .collect();
    let on_two = second
        .iter()
        .enumerate()
        .map(|(i, body)| {
            let instance = if i % 2 == 0 { app } else { &sibling };
            instance.request(Method::POST, ESCALATIONS, key).json(body)
        })
        .collect();

    // Act
    let first = send_concurrently(on_one).await;
    let second = send_concurrently(on_two).await;

    // Assert
    assert_contiguous_numbers(&first, 1);
    assert_contiguous_numbers(&second, 21);
    let listed = app
        .get_query(ESCALATIONS, &world.operator, &[("limit", "100")])
        .await;
    assert_eq!(listed.items().len(), 40);
    let read = app.get(&escalation_path(second[1].id()), key).await;
    let why = "one instance reads what the other wrote";
    assert_eq!(read.body, second[1].body, "{why}");
}
