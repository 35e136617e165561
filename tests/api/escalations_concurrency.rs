//! Escalations under concurrency: moves racing from one version, creates racing for numbers on
//! one instance and on two instances over one database, and creates racing on the same problem.

use serde_json::{Value, json};

use crate::helpers::{
    Answer, ESCALATIONS, EscalationFixture, TestApp, escalation_body, escalation_path,
    send_concurrently, spawn_app,
};

/// A partner ready to escalate, and an operator.
struct Desk {
    fixture: EscalationFixture,
    operator: String,
}

impl Desk {
    async fn new(app: &TestApp) -> Self {
        Desk {
            fixture: app.escalation_fixture("standard").await,
            operator: app.operator_key().await,
        }
    }

    fn partner(&self) -> &str {
        &self.fixture.partner.key
    }
}

/// The audit trail of escalation `id`, oldest first.
async fn events(app: &TestApp, key: &str, id: uuid::Uuid) -> Vec<Value> {
    app.get(&format!("{}/events", escalation_path(id)), key)
        .await
        .items()
        .clone()
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn of_ten_concurrent_moves_from_one_version_exactly_one_wins() {
    // Arrange
    let app = spawn_app().await;
    let desk = Desk::new(&app).await;
    let created = app
        .submit_escalation(desk.partner(), &desk.fixture.body)
        .await;
    let path = format!("{}/transitions", escalation_path(created.id()));
    let requests = (0..10)
        .map(|i| {
            app.request(reqwest::Method::POST, &path, &desk.operator)
                .header("If-Match", "\"1\"")
                .json(&json!({"to": "in_progress", "engineer": {"name": format!("工程师{i}"), "email": format!("engineer{i}@oe.21vianet.com")}}))
        })
        .collect();

    // Act
    let answers = send_concurrently(requests).await;

    // Assert
    let statuses: Vec<u16> = answers.iter().map(|a| a.status).collect();
    assert_eq!(
        statuses.iter().filter(|s| **s == 200).count(),
        1,
        "{statuses:?}"
    );
    assert_eq!(
        statuses.iter().filter(|s| **s == 412).count(),
        9,
        "{statuses:?}"
    );
    let winner = answers.iter().find(|a| a.status == 200).unwrap();
    assert_eq!(winner.etag(), "\"2\"");
    let read = app
        .get(&escalation_path(created.id()), &desk.operator)
        .await;
    assert_eq!(read.body["engineer"], winner.body["engineer"]);
    let trail = events(&app, &desk.operator, created.id()).await;
    assert_eq!(trail.len(), 2, "one move, one event");
}

/// `count` escalatable customers of the fixture's partner, and a valid body for each.
async fn bodies_for_new_customers(app: &TestApp, desk: &Desk, count: usize) -> Vec<Value> {
    let mut bodies = Vec::with_capacity(count);
    for _ in 0..count {
        let customer_id = app
            .create_escalatable_customer(&desk.fixture.partner, "standard")
            .await;
        bodies.push(escalation_body(customer_id));
    }
    bodies
}

/// Asserts every answer is 201 and their numbers are distinct and contiguous from
/// ESC-000001.
#[track_caller]
fn assert_contiguous_numbers(answers: &[Answer]) {
    let mut numbers: Vec<u32> = answers
        .iter()
        .map(|answer| {
            assert_eq!(answer.status, 201, "{}", answer.body);
            let number = answer.body["number"].as_str().unwrap();
            number
                .strip_prefix("ESC-")
                .and_then(|digits| digits.parse().ok())
                .unwrap_or_else(|| panic!("{number}"))
        })
        .collect();
    numbers.sort_unstable();
    let expected: Vec<u32> = (1..=answers.len() as u32).collect();
    assert_eq!(numbers, expected);
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn twenty_concurrent_creates_get_twenty_contiguous_numbers() {
    // Arrange
    let app = spawn_app().await;
    let desk = Desk::new(&app).await;
    let bodies = bodies_for_new_customers(&app, &desk, 20).await;
    let requests = bodies
        .iter()
        .map(|body| {
            app.request(reqwest::Method::POST, ESCALATIONS, desk.partner())
                .json(body)
        })
        .collect();

    // Act
    let answers = send_concurrently(requests).await;

    // Assert
    assert_contiguous_numbers(&answers);
    let listed = app
        .get_query(ESCALATIONS, &desk.operator, &[("limit", "100")])
        .await;
    assert_eq!(listed.items().len(), 20);
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn two_instances_on_one_database_number_escalations_without_gaps_or_repeats() {
    // Arrange
    let app = spawn_app().await;
    let sibling = app.spawn_sibling();
    assert_ne!(app.address, sibling.address);
    let desk = Desk::new(&app).await;
    let bodies = bodies_for_new_customers(&app, &desk, 20).await;
    let requests = bodies
        .iter()
        .enumerate()
        .map(|(i, body)| {
            let instance = if i % 2 == 0 { &app } else { &sibling };
            instance
                .request(reqwest::Method::POST, ESCALATIONS, desk.partner())
                .json(body)
        })
        .collect();

    // Act
    let answers = send_concurrently(requests).await;

    // Assert
    assert_contiguous_numbers(&answers);
    let first = answers[1].id();
    let read = app.get(&escalation_path(first), desk.partner()).await;
    assert_eq!(
        read.body, answers[1].body,
        "one instance reads what the other wrote"
    );
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn of_ten_concurrent_creates_of_the_same_problem_exactly_one_is_accepted() {
    // Arrange
    let app = spawn_app().await;
    let desk = Desk::new(&app).await;
    let requests = (0..10)
        .map(|_| {
            app.request(reqwest::Method::POST, ESCALATIONS, desk.partner())
                .json(&desk.fixture.body)
        })
        .collect();

    // Act
    let answers = send_concurrently(requests).await;

    // Assert
    let created: Vec<&Answer> = answers.iter().filter(|a| a.status == 201).collect();
    assert_eq!(
        created.len(),
        1,
        "{:?}",
        answers.iter().map(|a| a.status).collect::<Vec<_>>()
    );
    let winner = created[0];
    for answer in answers.iter().filter(|a| a.status != 201) {
        let problem = answer.problem(409, "duplicate_escalation");
        assert_eq!(problem["duplicate_of"]["id"], json!(winner.id()));
        assert_eq!(problem["duplicate_of"]["number"], winner.body["number"]);
    }
    assert_eq!(
        app.get(ESCALATIONS, desk.partner()).await.item_ids(),
        [winner.id()]
    );
}
