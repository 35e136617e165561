//! escalade at scale on PostgreSQL: a fresh database loaded with one partner's 1 M customers and
//! 1 M escalations, then every list read at page 1 and at page 10,000 and prefix searches timed
//! through escalade's own store functions, each list's statement shown with `EXPLAIN (ANALYZE,
//! BUFFERS)`, first under PostgreSQL's default plan caching and then with
//! `plan_cache_mode = force_generic_plan` (what a server switches to by itself after repeated
//! executions of a prepared statement).
//!
//! `bench-scale [--database-url URL] [--rows 1000000] [--keep]`, the URL of a server's maintenance
//! database defaulting to `BENCH_POSTGRES_URL`, then `postgres://postgres@127.0.0.1:5432/postgres`.

use std::sync::{Arc, Mutex};
use std::time::{Duration, Instant};

use chrono::Utc;
use escalade::config::DatabaseSettings;
use escalade::domain::Scope;
use escalade::domain::search::SearchText;
use escalade::store::customers::{self, CustomerFilter};
use escalade::store::escalations::{self, EscalationFilter, Order};
use escalade::store::{PageRequest, connect, migrate};
use sea_orm::{ConnectionTrait, DatabaseConnection, Statement};
use uuid::Uuid;

const PAGE: u64 = 25;
const DEEP_PAGE: u64 = 10_000;
const REPEATS: usize = 21;
const SEARCHES: usize = 200;

fn argument(name: &str) -> Option<String> {
    let mut args = std::env::args();
    args.position(|arg| arg == name)?;
    args.next()
}

fn settings(url: &str) -> DatabaseSettings {
    DatabaseSettings {
        database_url: Some(url.to_owned()),
        db_max_connections: 4,
        db_timeout_secs: 30,
        slow_statement_ms: 60_000,
        statement_timeout_ms: 0,
    }
}

async fn execute(db: &DatabaseConnection, sql: &str) {
    db.execute_unprepared(sql)
        .await
        .unwrap_or_else(|err| panic!("{err}: {sql}"));
}

/// Loads `rows` customers of one partner and as many escalations, one per customer, in bulk.
async fn load(db: &DatabaseConnection, partner_id: Uuid, rows: u64) {
    // UUID v7-shaped ids that grow with `i`, as escalade's own do.
    let id = |table_bits: &str| {
        format!(
            "(lpad(to_hex(1764547200000 + i), 12, '0') || '7{table_bits}' || '8000' || lpad(to_hex(i), 12, '0'))::uuid"
        )
    };
    execute(db, &format!(
        "INSERT INTO partners (id, name, mpn_id, tenant_id, country, status, version, created_at, updated_at) \
         VALUES ('{partner_id}', '云桥科技（规模测试）', '7000001', gen_random_uuid(), 'CN', 'active', 1, now(), now())"
    )).await;
    execute(db, &format!(
        "INSERT INTO customers (id, partner_id, company_name, company_name_key, domain, tenant_id, country, \
           support_plan, contact_name, contact_email, contact_phone, version, created_at, updated_at) \
         SELECT {}, '{partner_id}', \
           (ARRAY['上海', '北京', '深圳', 'Contoso', 'Fabrikam'])[1 + i % 5] || ' 客户 ' || lpad(i::text, 7, '0'), \
           lower((ARRAY['上海', '北京', '深圳', 'Contoso', 'Fabrikam'])[1 + i % 5] || ' 客户 ' || lpad(i::text, 7, '0')), \
           'c' || i || '.partner.onmschina.cn', gen_random_uuid(), 'CN', \
           CASE WHEN i % 10 = 0 THEN 'premium' ELSE 'standard' END, '王芳', 'wang.fang@example.cn', NULL, 1, now(), now() \
         FROM generate_series(1, {rows}) AS i",
        id("000")
    )).await;
    execute(db, &format!(
        "INSERT INTO escalations (id, seq, number, partner_id, customer_id, service_key, category, severity, \
           title, description, business_impact, problem_started_at, reasons, justification, troubleshooting, \
           unrelated_incident_ids, contact, contact_language, status, engineer, response_due_at, \
           first_response_at, resolution, resolved_at, misescalation, rejection_reason, version, created_at, updated_at) \
         SELECT {}, i, 'ESC-' || lpad(i::text, 7, '0'), '{partner_id}', {}, \
           (ARRAY['microsoft-365', 'azure', 'dynamics-365', 'power-bi', 'power-apps', 'power-automate'])[1 + i % 6], \
           'service_unavailable', (ARRAY['critical', 'moderate', 'minimal'])[1 + i % 3], \
           'Exchange Online 邮件无法投递到外部域', '自 09:10 起，全部用户发往外部域的邮件停留在队列中。', \
           '300 名员工无法与客户和供应商通信。', now() - interval '1 day', '[\"lacks_support_tools\"]', \
           '合作伙伴无权访问传输日志。', \
           '{{\"service_health_checked_at\": \"2026-11-24T01:40:00Z\", \"admin_center_attempted\": true, \"steps\": [\"诊断\"]}}', \
           '[]', '{{\"first_name\": \"伟\", \"last_name\": \"张\", \"email\": \"zhang.wei@cloudbridge.cn\", \
             \"phone\": \"+861055550199\", \"preferred_contact_method\": \"phone\", \"preferred_language\": \"zh-Hans\", \
             \"time_zone\": \"Asia/Shanghai\", \"available_24x7\": true}}', 'zh-Hans', \
           CASE WHEN i % 20 = 0 THEN 'submitted' WHEN i % 20 = 1 THEN 'in_progress' ELSE 'closed' END, NULL, \
           timestamp '2026-01-01 00:00:00+00' + (i % 500000) * interval '1 minute', NULL, NULL, NULL, false, NULL, 1, \
           now(), now() \
         FROM generate_series(1, {rows}) AS i",
        id("001"),
        id("000")
    )).await;
    execute(
        db,
        &format!("SELECT setval('escalation_numbers', {rows} + 1, false)"),
    )
    .await;
    execute(db, "ANALYZE").await;
}

/// The statements a store call sends, as the metric callback sees them.
#[derive(Clone, Default)]
struct Captured(Arc<Mutex<Vec<Statement>>>);

impl Captured {
    fn take(&self) -> Vec<Statement> {
        std::mem::take(&mut *self.0.lock().unwrap())
    }
}

async fn connect_capturing(url: &str, captured: &Captured) -> DatabaseConnection {
    let mut db = connect(&settings(url)).await.expect("connects");
    let sink = captured.clone();
    db.set_metric_callback(move |info| sink.0.lock().unwrap().push(info.statement.clone()));
    db
}

/// The median and 95th percentile of `samples`, in milliseconds.
fn summary(mut samples: Vec<Duration>) -> (f64, f64) {
    samples.sort();
    let at =
        |q: f64| samples[((samples.len() - 1) as f64 * q).round() as usize].as_secs_f64() * 1000.0;
    (at(0.5), at(0.95))
}

/// The id at `offset` in a list's order: the cursor that starts the page after it.
async fn cursor_at(db: &DatabaseConnection, sql: &str) -> Uuid {
    let row = db
        .query_one_raw(Statement::from_string(
            db.get_database_backend(),
            sql.to_owned(),
        ))
        .await
        .expect("the cursor query runs")
        .expect("a row at that offset");
    row.try_get("", "id").expect("an id")
}

struct List {
    name: &'static str,
    /// The id before page 10,000, in the list's order.
    cursor_sql: String,
}

async fn read(db: &DatabaseConnection, list: &str, partner_id: Uuid, after: Option<Uuid>) -> usize {
    let page = PageRequest { limit: PAGE, after };
    let customer_page = |filter| async move {
        let listed = customers::list(db, Scope::Partner(partner_id), filter, page).await;
        listed.expect("lists").items.len()
    };
    let escalation_page = |scope, order| async move {
        let filter = EscalationFilter::default();
        let listed = escalations::list(db, scope, filter, order, page, Utc::now()).await;
        listed.expect("lists").items.len()
    };
    match list {
        "customers" => customer_page(CustomerFilter::default()).await,
        "escalations, newest first" => {
            escalation_page(Scope::Partner(partner_id), Order::Newest).await
        }
        "customers starting with «c» (name or domain)" => {
            let q = Some(SearchText::parse("co").expect("a search"));
            customer_page(CustomerFilter {
                q,
                ..CustomerFilter::default()
            })
            .await
        }
        "triage queue, earliest due first" => escalation_page(Scope::All, Order::Due).await,
        _ => unreachable!(),
    }
}

async fn measure(url: &str, partner_id: Uuid, lists: &[List], cursors: &[Uuid], label: &str) {
    let captured = Captured::default();
    let db = connect_capturing(url, &captured).await;
    println!("\n### {label}\n");
    println!(
        "| list | page 1 median | page 1 p95 | page {DEEP_PAGE} median | page {DEEP_PAGE} p95 | ratio (medians) |"
    );
    println!("|---|---:|---:|---:|---:|---:|");
    let mut plans = Vec::new();
    for (list, cursor) in lists.iter().zip(cursors) {
        let mut results = Vec::new();
        for after in [None, Some(*cursor)] {
            let mut samples = Vec::with_capacity(REPEATS);
            for _ in 0..REPEATS {
                let started = Instant::now();
                let items = read(&db, list.name, partner_id, after).await;
                samples.push(started.elapsed());
                assert_eq!(items as u64, PAGE, "{}: a full page", list.name);
            }
            results.push(summary(samples));
        }
        let statements = captured.take();
        let deep = statements.last().expect("a statement").clone();
        plans.push((list.name, deep));
        let ((first_median, first_p95), (deep_median, deep_p95)) = (results[0], results[1]);
        println!(
            "| {} | {first_median:.2} ms | {first_p95:.2} ms | {deep_median:.2} ms | {deep_p95:.2} ms | **{:.2}×** |",
            list.name,
            deep_median / first_median
        );
    }
    // Prefix searches: a company name's first characters, or a domain's.
    let mut samples = Vec::with_capacity(SEARCHES);
    for n in 0..SEARCHES {
        let q = match n % 4 {
            0 => format!("c{}", 1 + n * 4999 % 999_999),
            1 => "上海 客户 0".to_owned() + &format!("{:02}", n % 100),
            2 => "contoso".to_owned(),
            _ => format!("fabrikam 客户 {:04}", n * 37 % 10_000),
        };
        let filter = CustomerFilter {
            q: Some(SearchText::parse(&q).expect("a search")),
            ..CustomerFilter::default()
        };
        let started = Instant::now();
        customers::list(
            &db,
            Scope::Partner(partner_id),
            filter,
            PageRequest {
                limit: PAGE,
                after: None,
            },
        )
        .await
        .expect("searches");
        samples.push(started.elapsed());
    }
    let search_plan = captured.take().pop().expect("a search statement");
    let (median, p95) = summary(samples);
    println!("\nprefix search ({SEARCHES} searches): median {median:.2} ms, p95 **{p95:.2} ms**");
    plans.push(("prefix search", search_plan));
    for (name, statement) in plans {
        let explain = Statement::from_sql_and_values(
            db.get_database_backend(),
            format!("EXPLAIN (ANALYZE, BUFFERS, COSTS OFF) {}", statement.sql),
            statement.values.map(|values| values.0).unwrap_or_default(),
        );
        let rows = db.query_all_raw(explain).await.expect("explains");
        println!(
            "\n{name} — page {DEEP_PAGE} (for the prefix searches: the last one); the plan EXPLAIN shows for \
             the values bound\n```\n{}\n```",
            statement.sql
        );
        println!("```");
        for row in rows {
            let line: String = row.try_get_by_index(0).expect("a plan line");
            println!("{line}");
        }
        println!("```");
    }
    db.close().await.ok();
}

#[tokio::main]
async fn main() {
    let admin = argument("--database-url")
        .or_else(|| std::env::var("BENCH_POSTGRES_URL").ok())
        .unwrap_or_else(|| "postgres://postgres@127.0.0.1:5432/postgres".to_owned());
    let rows: u64 = argument("--rows").map_or(1_000_000, |n| n.parse().expect("a number"));
    let keep = std::env::args().any(|arg| arg == "--keep");
    let name = format!("escalade_scale_{}", std::process::id());
    let maintenance = connect(&settings(&admin))
        .await
        .expect("connects to the server");
    execute(&maintenance, &format!("CREATE DATABASE {name}")).await;
    let url = format!(
        "{}/{name}",
        admin.rsplit_once('/').expect("a database URL").0
    );
    let db = connect(&settings(&url)).await.expect("connects");
    migrate(&db).await.expect("migrates");
    let partner_id = Uuid::now_v7();
    let started = Instant::now();
    load(&db, partner_id, rows).await;
    println!("## escalade at scale — {rows} customers, {rows} escalations, one partner");
    println!(
        "\nloaded in {:.0} s; one page is {PAGE} rows, page {DEEP_PAGE} starts {} rows deep",
        started.elapsed().as_secs_f64(),
        (DEEP_PAGE - 1) * PAGE
    );
    let deep = (DEEP_PAGE - 1) * PAGE - 1;
    let lists = [
        List {
            name: "customers",
            cursor_sql: format!(
                "SELECT id FROM customers WHERE partner_id = '{partner_id}' ORDER BY id OFFSET {deep} LIMIT 1"
            ),
        },
        List {
            name: "escalations, newest first",
            cursor_sql: format!(
                "SELECT id FROM escalations WHERE partner_id = '{partner_id}' ORDER BY id DESC OFFSET {deep} LIMIT 1"
            ),
        },
        List {
            name: "customers starting with «c» (name or domain)",
            cursor_sql: format!(
                "SELECT id FROM customers WHERE partner_id = '{partner_id}' ORDER BY \
                 CASE WHEN company_name_key LIKE 'c%' THEN company_name_key ELSE domain END COLLATE \"C\", id \
                 OFFSET {deep} LIMIT 1"
            ),
        },
        List {
            name: "triage queue, earliest due first",
            cursor_sql: format!(
                "SELECT id FROM escalations ORDER BY response_due_at, id OFFSET {deep} LIMIT 1"
            ),
        },
    ];
    let mut cursors = Vec::new();
    for list in &lists {
        cursors.push(cursor_at(&db, &list.cursor_sql).await);
    }
    measure(&url, partner_id, &lists, &cursors, "default plan caching").await;
    execute(
        &db,
        &format!("ALTER DATABASE {name} SET plan_cache_mode = force_generic_plan"),
    )
    .await;
    measure(
        &url,
        partner_id,
        &lists,
        &cursors,
        "plan_cache_mode = force_generic_plan",
    )
    .await;
    db.close().await.ok();
    if keep {
        eprintln!("bench-scale: kept database {name}");
    } else {
        execute(&maintenance, &format!("DROP DATABASE {name} WITH (FORCE)")).await;
    }
}
