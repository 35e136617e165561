//! The physical limit escalade is measured against: raw actix-web and sqlx doing the least SQL
//! each measured request needs, with the same pool of connections, over the same database.
//!
//! * `GET /healthz`: a static answer (the framework's ceiling).
//! * `GET /escalations/{id}`: one `SELECT` of the escalation's row, as JSON.
//! * `POST /escalations`: the body read as JSON, then one `INSERT … RETURNING *` in a
//!   transaction, as JSON. No authentication, no criteria, no audit trail, no outbox.
//!
//! `baseline --database-url URL --bind ADDR --partner-id UUID [--db-max-connections N]`

use std::str::FromStr;
use std::sync::atomic::{AtomicI64, Ordering};
use std::time::Duration;

use actix_web::{App, HttpResponse, HttpServer, get, post, web};
use chrono::{DateTime, Utc};
use serde::{Deserialize, Serialize};
use sqlx::postgres::PgPoolOptions;
use sqlx::sqlite::{SqliteConnectOptions, SqliteJournalMode, SqlitePoolOptions, SqliteSynchronous};
use sqlx::types::Json;
use sqlx::{PgPool, SqlitePool};
use uuid::Uuid;

/// An escalation row, every column.
#[derive(Debug, Serialize, sqlx::FromRow)]
struct Escalation {
    id: Uuid,
    seq: i64,
    number: String,
    partner_id: Uuid,
    customer_id: Uuid,
    service_key: String,
    category: String,
    severity: String,
    title: String,
    description: String,
    business_impact: String,
    problem_started_at: DateTime<Utc>,
    reasons: Json<serde_json::Value>,
    justification: Option<String>,
    troubleshooting: Json<serde_json::Value>,
    unrelated_incident_ids: Json<serde_json::Value>,
    contact: Json<serde_json::Value>,
    contact_language: String,
    status: String,
    engineer: Option<Json<serde_json::Value>>,
    response_due_at: DateTime<Utc>,
    first_response_at: Option<DateTime<Utc>>,
    resolution: Option<String>,
    resolved_at: Option<DateTime<Utc>>,
    misescalation: bool,
    rejection_reason: Option<String>,
    version: i32,
    created_at: DateTime<Utc>,
    updated_at: DateTime<Utc>,
}

/// The body of a submission, as escalade takes it; only read, not judged.
#[derive(Debug, Deserialize)]
struct Submission {
    customer_id: Uuid,
    service_key: String,
    category: String,
    severity: String,
    title: String,
    description: String,
    business_impact: String,
    problem_started_at: DateTime<Utc>,
    #[serde(default)]
    reasons: serde_json::Value,
    justification: Option<String>,
    troubleshooting: serde_json::Value,
    #[serde(default)]
    unrelated_incident_ids: serde_json::Value,
    contact: serde_json::Value,
}

enum Pool {
    Postgres(PgPool),
    Sqlite(SqlitePool),
}

struct State {
    pool: Pool,
    /// The statements, with the database's placeholders.
    select: &'static str,
    insert: &'static str,
    partner_id: Uuid,
    /// Numbers of its own, below escalade's (negative), so both can write one table.
    next_seq: AtomicI64,
}

const SELECT: &str = "SELECT * FROM escalations WHERE id = $1";

const INSERT: &str = "INSERT INTO escalations (id, seq, number, partner_id, customer_id, service_key, \
    category, severity, title, description, business_impact, problem_started_at, reasons, \
    justification, troubleshooting, unrelated_incident_ids, contact, contact_language, status, \
    engineer, response_due_at, first_response_at, resolution, resolved_at, misescalation, \
    rejection_reason, version, created_at, updated_at) VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9, \
    $10, $11, $12, $13, $14, $15, $16, $17, 'zh-Hans', 'submitted', NULL, $18, NULL, NULL, NULL, \
    false, NULL, 1, $19, $19) RETURNING *";

#[get("/healthz")]
async fn healthz() -> HttpResponse {
    HttpResponse::Ok().json(serde_json::json!({"status": "ok"}))
}

#[get("/escalations/{id}")]
async fn get_escalation(state: web::Data<State>, id: web::Path<Uuid>) -> HttpResponse {
    let found = match &state.pool {
        Pool::Postgres(pool) => {
            sqlx::query_as::<_, Escalation>(state.select)
                .bind(*id)
                .fetch_optional(pool)
                .await
        }
        Pool::Sqlite(pool) => {
            sqlx::query_as::<_, Escalation>(state.select)
                .bind(*id)
                .fetch_optional(pool)
                .await
        }
    };
    match found {
        Ok(Some(row)) => HttpResponse::Ok().json(row),
        Ok(None) => HttpResponse::NotFound().finish(),
        Err(err) => HttpResponse::InternalServerError().body(err.to_string()),
    }
}

/// Binds the insert's values, in order, on a query of any database.
macro_rules! insert {
    ($state:expr, $body:expr, $now:expr, $executor:expr) => {{
        let seq = $state.next_seq.fetch_sub(1, Ordering::Relaxed);
        sqlx::query_as::<_, Escalation>($state.insert)
            .bind(Uuid::now_v7())
            .bind(seq)
            .bind(format!("B{}", -seq))
            .bind($state.partner_id)
            .bind($body.customer_id)
            .bind($body.service_key)
            .bind($body.category)
            .bind($body.severity)
            .bind($body.title)
            .bind($body.description)
            .bind($body.business_impact)
            .bind($body.problem_started_at)
            .bind(Json($body.reasons))
            .bind($body.justification)
            .bind(Json($body.troubleshooting))
            .bind(Json($body.unrelated_incident_ids))
            .bind(Json($body.contact))
            .bind($now + chrono::Duration::hours(4))
            .bind($now)
            .fetch_one($executor)
            .await
    }};
}

#[post("/escalations")]
async fn create_escalation(state: web::Data<State>, body: web::Json<Submission>) -> HttpResponse {
    let body = body.into_inner();
    let now = Utc::now();
    let created = match &state.pool {
        Pool::Postgres(pool) => {
            async {
                let mut txn = pool.begin().await?;
                let row = insert!(state, body, now, &mut *txn)?;
                txn.commit().await?;
                Ok::<_, sqlx::Error>(row)
            }
            .await
        }
        Pool::Sqlite(pool) => {
            async {
                let mut txn = pool.begin().await?;
                let row = insert!(state, body, now, &mut *txn)?;
                txn.commit().await?;
                Ok::<_, sqlx::Error>(row)
            }
            .await
        }
    };
    match created {
        Ok(row) => HttpResponse::Created().json(row),
        Err(err) => HttpResponse::InternalServerError().body(err.to_string()),
    }
}

fn argument(name: &str) -> Option<String> {
    let mut args = std::env::args();
    args.position(|arg| arg == name)?;
    args.next()
}

#[actix_web::main]
async fn main() -> std::io::Result<()> {
    let required = |name: &str| {
        argument(name).unwrap_or_else(|| {
            eprintln!("baseline: {name} is required");
            std::process::exit(2)
        })
    };
    let url = required("--database-url");
    let bind = required("--bind");
    let partner_id: Uuid = required("--partner-id").parse().expect("a UUID");
    let connections: u32 =
        argument("--db-max-connections").map_or(10, |n| n.parse().expect("a number"));
    let timeout = Duration::from_secs(5);
    let sqlite = url.starts_with("sqlite:");
    // SQLite numbers its parameters `?1`, PostgreSQL `$1`.
    let placeholders = |sql: &'static str| -> &'static str {
        if sqlite {
            Box::leak(sql.replace('$', "?").into_boxed_str())
        } else {
            sql
        }
    };
    let pool = if sqlite {
        // As escalade opens SQLite: WAL, normal synchronous, foreign keys, busy timeout.
        let options = SqliteConnectOptions::from_str(&url)
            .expect("a SQLite URL")
            .journal_mode(SqliteJournalMode::Wal)
            .synchronous(SqliteSynchronous::Normal)
            .foreign_keys(true)
            .busy_timeout(timeout);
        let pool = SqlitePoolOptions::new()
            .max_connections(connections)
            .acquire_timeout(timeout)
            .connect_with(options)
            .await
            .expect("the database opens");
        Pool::Sqlite(pool)
    } else {
        let pool = PgPoolOptions::new()
            .max_connections(connections)
            .acquire_timeout(timeout)
            .connect(&url)
            .await
            .expect("the database opens");
        Pool::Postgres(pool)
    };
    let state = web::Data::new(State {
        pool,
        select: placeholders(SELECT),
        insert: placeholders(INSERT),
        partner_id,
        next_seq: AtomicI64::new(-1),
    });
    eprintln!("baseline: listening on http://{bind}");
    HttpServer::new(move || {
        App::new()
            .app_data(state.clone())
            .service(healthz)
            .service(get_escalation)
            .service(create_escalation)
    })
    .bind(bind)?
    .run()
    .await
}
