//! When the database goes away, answers are a clean 503, never a hang or a panic.

use std::time::{Duration, Instant};

use escalade::config::{DatabaseSettings, ServeSettings};
use sea_orm::{ConnectionTrait, DatabaseBackend};

use crate::helpers::{customer_body, spawn_app, spawn_app_over};

#[tokio::test]
async fn an_unreachable_database_is_a_503_problem_and_readyz_says_so() {
    let app = spawn_app().await;
    let partner = app.create_partner("Sabotaged").await;

    // Sabotage: closing the pool makes every acquire fail, as a dead database would.
    app.db.clone().close().await.unwrap();
    let started = Instant::now();
    let customers = app.get("/v1/customers", &partner.key).await;
    let ready = app.get_anonymously("/readyz").await;
    let health = app.get_anonymously("/healthz").await;

    customers.problem(503, "database_unavailable");
    assert!(customers.header("retry-after").is_some());
    ready.problem(503, "database_unavailable");
    let why = "liveness does not depend on the database";
    assert_eq!(health.status, 200, "{why}");
    let why = "answered promptly";
    assert!(started.elapsed() < Duration::from_secs(15), "{why}");
    let text = customers.body.to_string().to_lowercase();
    for leak in ["sqlx", "pool", "select", "sqlite", "postgres"] {
        assert!(!text.contains(leak), "the problem leaks `{leak}`: {text}");
    }
}

/// Another writer holds the database longer than a request may wait: on SQLite a connection in
/// `BEGIN EXCLUSIVE`, on PostgreSQL a transaction holding the customers table. The request is a
/// prompt 503 `database_busy` with `Retry-After`, writes nothing, and goes through once the
/// holder lets go.
#[tokio::test]
async fn a_database_held_by_another_writer_is_a_503_database_busy_and_nothing_is_written() {
    let app = spawn_app_over(ServeSettings::default(), |database| {
        database.db_timeout_secs = 1;
        database.statement_timeout_ms = 500;
    })
    .await;
    let partner = app.create_partner("Patient").await;
    let holder = escalade::store::connect(&DatabaseSettings {
        database_url: Some(app.database_url()),
        db_max_connections: 1,
        ..DatabaseSettings::default()
    })
    .await
    .unwrap();
    // One connection: every statement below runs on it, inside the transaction it opens.
    let hold: &[&str] = match holder.get_database_backend() {
        DatabaseBackend::Sqlite => &["BEGIN EXCLUSIVE"],
        _ => &["BEGIN", "LOCK TABLE customers IN EXCLUSIVE MODE"],
    };
    for statement in hold {
        holder.execute_unprepared(statement).await.unwrap();
    }

    let body = customer_body("上海锁等科技有限公司");
    let started = Instant::now();
    let refused = app.post("/v1/customers", &partner.key, &body).await;
    let took = started.elapsed();

    refused.problem(503, "database_busy");
    assert!(
        refused.header("retry-after").is_some(),
        "{:?}",
        refused.headers
    );
    assert!(took < Duration::from_secs(4), "answered promptly: {took:?}");
    let text = format!("{} {}", refused.body["title"], refused.body["detail"]).to_lowercase();
    for leak in ["lock", "sqlite", "postgres", "timeout", "customers"] {
        assert!(!text.contains(leak), "the problem leaks `{leak}`: {text}");
    }

    holder.execute_unprepared("ROLLBACK").await.unwrap();
    holder.close().await.ok();
    let listed = app.get("/v1/customers", &partner.key).await;
    let why = "the refused request wrote nothing";
    assert!(listed.items().is_empty(), "{why}");
    app.created("/v1/customers", &partner.key, &body).await;
}
