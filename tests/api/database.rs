//! When the database goes away, answers are a clean 503, never a hang or a panic.

use std::time::{Duration, Instant};

use crate::helpers::{Answer, spawn_app};

#[tokio::test]
async fn an_unreachable_database_is_a_503_problem_and_readyz_says_so() {
    let app = spawn_app().await;
    let partner = app.create_partner("Sabotaged").await;

    // Sabotage: closing the pool makes every acquire fail, as a dead database would.
    app.db.clone().close().await.unwrap();
    let started = Instant::now();
    let customers = app.get("/v1/customers", &partner.key).await;
    let ready = Answer::read(app.client.get(app.url("/readyz")).send().await.unwrap()).await;
    let health = Answer::read(app.client.get(app.url("/healthz")).send().await.unwrap()).await;

    customers.problem(503, "database_unavailable");
    assert!(customers.header("retry-after").is_some());
    ready.problem(503, "database_unavailable");
    assert_eq!(
        health.status, 200,
        "liveness does not depend on the database"
    );
    assert!(
        started.elapsed() < Duration::from_secs(15),
        "answered promptly"
    );
    let text = customers.body.to_string().to_lowercase();
    for leak in ["sqlx", "pool", "select", "sqlite", "postgres"] {
        assert!(!text.contains(leak), "the problem leaks `{leak}`: {text}");
    }
}
