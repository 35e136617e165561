//! escalade at scale: a fresh database loaded with one partner's customers and as many
//! escalations (1 M each on PostgreSQL, 100 k on SQLite), then every list read at page 1 and at
//! a deep page, and searches timed through escalade's own store functions. On PostgreSQL each
//! statement is shown with `EXPLAIN (ANALYZE, BUFFERS)`, first under the default plan caching
//! and then with `plan_cache_mode = force_generic_plan` (what a server switches to by itself
//! after repeated executions of a prepared statement).
//!
//! The data looks like a partner's: Chinese company names that start with one of a dozen
//! cities and end with a legal form, brands of two characters, Latin names made of syllables,
//! and domains that repeat the name (星河 → `xinghe`, Contoso → `contoso`).
//!
//! `bench-scale [--database-url URL] [--rows N] [--keep]`, the URL of a PostgreSQL server's
//! maintenance database defaulting to `BENCH_POSTGRES_URL`, then
//! `postgres://postgres@127.0.0.1:5432/postgres`; `bench-scale --sqlite [--rows N]` for SQLite.

use std::sync::{Arc, Mutex};
use std::time::{Duration, Instant};

use chrono::Utc;
use escalade::config::DatabaseSettings;
use escalade::domain::Scope;
use escalade::domain::search::SearchText;
use escalade::entity::{customer, escalation};
use escalade::store::customers::{self, CustomerFilter};
use escalade::store::escalations::{self, EscalationFilter, Order};
use escalade::store::{PageRequest, connect};
use migration::{Migrator, MigratorTrait};
use sea_orm::sea_query::{Expr, Query, SelectStatement};
use sea_orm::{
    ConnectionTrait, DatabaseConnection, DbBackend, EntityTrait, ExprTrait, IntoActiveModel,
    Statement,
};
use serde_json::json;
use uuid::Uuid;

const PAGE: u64 = 25;
const REPEATS: usize = 21;
/// Each query of a search class is read this many times, page 1 and the page after it.
const SEARCH_ROUNDS: usize = 3;

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

// ---------------------------------------------------------------------------------------------
// The data
// ---------------------------------------------------------------------------------------------

const CITIES: [(&str, &str); 12] = [
    ("上海", "shanghai"),
    ("北京", "beijing"),
    ("深圳", "shenzhen"),
    ("广州", "guangzhou"),
    ("杭州", "hangzhou"),
    ("成都", "chengdu"),
    ("南京", "nanjing"),
    ("武汉", "wuhan"),
    ("西安", "xian"),
    ("苏州", "suzhou"),
    ("天津", "tianjin"),
    ("重庆", "chongqing"),
];

/// Characters brands are made of, two at a time, with their pinyin.
const BRAND_CHARACTERS: [(&str, &str); 40] = [
    ("星", "xing"),
    ("河", "he"),
    ("云", "yun"),
    ("启", "qi"),
    ("华", "hua"),
    ("信", "xin"),
    ("天", "tian"),
    ("成", "cheng"),
    ("瑞", "rui"),
    ("丰", "feng"),
    ("恒", "heng"),
    ("通", "tong"),
    ("博", "bo"),
    ("远", "yuan"),
    ("中", "zhong"),
    ("科", "ke"),
    ("金", "jin"),
    ("桥", "qiao"),
    ("宏", "hong"),
    ("达", "da"),
    ("新", "xin"),
    ("海", "hai"),
    ("明", "ming"),
    ("光", "guang"),
    ("东", "dong"),
    ("方", "fang"),
    ("安", "an"),
    ("泰", "tai"),
    ("嘉", "jia"),
    ("和", "he"),
    ("盛", "sheng"),
    ("世", "shi"),
    ("创", "chuang"),
    ("德", "de"),
    ("荣", "rong"),
    ("鑫", "xin"),
    ("汇", "hui"),
    ("正", "zheng"),
    ("龙", "long"),
    ("智", "zhi"),
];

const TRADES: [(&str, &str); 10] = [
    ("物流", "wuliu"),
    ("科技", "keji"),
    ("电子", "dianzi"),
    ("贸易", "maoyi"),
    ("医药", "yiyao"),
    ("传媒", "chuanmei"),
    ("地产", "dichan"),
    ("软件", "ruanjian"),
    ("食品", "shipin"),
    ("能源", "nengyuan"),
];

const FORMS: [&str; 3] = ["有限公司", "股份有限公司", "集团有限公司"];

const SYLLABLES: [&str; 24] = [
    "con", "to", "so", "fab", "ri", "kam", "nor", "th", "wind", "lit", "ware", "ad", "a", "tum",
    "tail", "spin", "wood", "grove", "pro", "se", "wing", "tip", "al", "pine",
];

const LATIN_TRADES: [&str; 8] = [
    "Traders",
    "Logistics",
    "Pharma",
    "Retail",
    "Systems",
    "Energy",
    "Foods",
    "Media",
];

const LATIN_FORMS: [&str; 3] = ["Ltd", "Co.", "Group"];

const PRODUCTS: [&str; 10] = [
    "Exchange Online",
    "Teams",
    "SharePoint",
    "OneDrive",
    "Azure 虚拟机",
    "Azure SQL",
    "Power BI",
    "Intune",
    "Entra ID",
    "Dynamics 365",
];

const PROBLEMS: [&str; 10] = [
    "邮件无法投递到外部域",
    "会议频繁掉线",
    "用户无法登录",
    "文件同步失败",
    "响应缓慢",
    "无法访问管理中心",
    "报错 500",
    "配额不足",
    "证书过期导致连接中断",
    "备份作业失败",
];

/// Deterministic choices for row `i` (SplitMix64), so every run loads the same rows.
struct Choices(u64);

impl Choices {
    fn below<T: Copy>(&mut self, from: &[T]) -> T {
        self.0 = self.0.wrapping_add(0x9E37_79B9_7F4A_7C15);
        let mut z = self.0;
        z = (z ^ (z >> 30)).wrapping_mul(0xBF58_476D_1CE4_E5B9);
        z = (z ^ (z >> 27)).wrapping_mul(0x94D0_49BB_1331_11EB);
        z ^= z >> 31;
        from[(z % from.len() as u64) as usize]
    }
}

fn capitalised(word: &str) -> String {
    let mut chars = word.chars();
    chars
        .next()
        .map(|first| first.to_uppercase().chain(chars).collect())
        .unwrap_or_default()
}

/// Customer `i`'s company name and domain: seven in ten Chinese.
fn company(i: u64) -> (String, String) {
    let mut pick = Choices(i);
    if pick.below(&[
        true, true, true, true, true, true, true, false, false, false,
    ]) {
        let (city, city_pinyin) = pick.below(&CITIES);
        let (first, first_pinyin) = pick.below(&BRAND_CHARACTERS);
        let (second, second_pinyin) = pick.below(&BRAND_CHARACTERS);
        let (trade, trade_pinyin) = pick.below(&TRADES);
        let form = pick.below(&FORMS);
        let brand = format!("{first_pinyin}{second_pinyin}");
        let domain = match pick.below(&[0, 1, 2]) {
            0 => format!("{brand}.partner.onmschina.cn"),
            1 => format!("{brand}-{trade_pinyin}.com.cn"),
            _ => format!("{city_pinyin}{brand}.partner.onmschina.cn"),
        };
        (format!("{city}{first}{second}{trade}{form}"), domain)
    } else {
        let word: String = (0..3).map(|_| pick.below(&SYLLABLES)).collect();
        let trade = pick.below(&LATIN_TRADES);
        let form = pick.below(&LATIN_FORMS);
        let domain = match pick.below(&[0, 1]) {
            0 => format!("{word}.partner.onmschina.cn"),
            _ => format!("{word}{}.com", trade.to_lowercase()),
        };
        (format!("{} {trade} {form}", capitalised(&word)), domain)
    }
}

fn customer_row(i: u64, id: Uuid, partner_id: Uuid) -> customer::Model {
    let (company_name, domain) = company(i);
    let now = Utc::now();
    customer::Model {
        id,
        partner_id,
        company_name_key: migration::search_text::fold(&company_name),
        company_name,
        domain,
        tenant_id: Uuid::new_v4(),
        country: "CN".to_owned(),
        support_plan: if i.is_multiple_of(10) {
            "premium"
        } else {
            "standard"
        }
        .to_owned(),
        contact_name: "王芳".to_owned(),
        contact_email: "wang.fang@example.cn".to_owned(),
        contact_phone: None,
        version: 1,
        created_at: now,
        updated_at: now,
    }
}

fn escalation_row(i: u64, id: Uuid, partner_id: Uuid, customer_id: Uuid) -> escalation::Model {
    let mut pick = Choices(i ^ 0xE5C);
    let now = Utc::now();
    let status = match i % 20 {
        0 => "submitted",
        1 => "in_progress",
        _ => "closed",
    };
    escalation::Model {
        id,
        number: format!("ESC-{i:06}"),
        seq: i as i64,
        partner_id,
        customer_id,
        service_key: pick
            .below(&["microsoft-365", "azure", "dynamics-365", "power-bi"])
            .to_owned(),
        category: "service_unavailable".to_owned(),
        severity: pick.below(&["critical", "moderate", "minimal"]).to_owned(),
        title: format!("{} {}", pick.below(&PRODUCTS), pick.below(&PROBLEMS)),
        description: "自 09:10 起，全部用户发往外部域的邮件停留在队列中。".to_owned(),
        business_impact: "300 名员工无法与客户和供应商通信。".to_owned(),
        problem_started_at: now - chrono::Duration::days(1),
        reasons: json!(["lacks_support_tools"]),
        justification: Some("合作伙伴无权访问传输日志。".to_owned()),
        troubleshooting: json!({
            "service_health_checked_at": "2026-11-24T01:40:00Z",
            "admin_center_attempted": true,
            "steps": ["诊断"]
        }),
        unrelated_incident_ids: json!([]),
        contact: json!({
            "first_name": "伟", "last_name": "张", "email": "zhang.wei@cloudbridge.cn",
            "phone": "+861055550199", "preferred_contact_method": "phone",
            "preferred_language": "zh-Hans", "time_zone": "Asia/Shanghai", "available_24x7": true
        }),
        contact_language: "zh-Hans".to_owned(),
        status: status.to_owned(),
        engineer: None,
        engineer_person_id: None,
        response_due_at: chrono::DateTime::parse_from_rfc3339("2026-01-01T00:00:00Z")
            .expect("a time")
            .to_utc()
            + chrono::Duration::minutes((i % 500_000) as i64),
        sla_window: "daily 09:00-24:00".to_owned(),
        first_response_at: None,
        resolution: None,
        resolved_at: None,
        misescalation: false,
        rejection_reason: None,
        version: 1,
        created_at: now,
        sla_alert_at: None,
        sla_warning_announced_at: None,
        sla_breach_announced_at: None,
        updated_at: now,
    }
}

/// The migration that creates the search postings and fills them from the rows stored.
const POSTINGS_MIGRATION: &str = "m20261207_000023_search_grams";

/// Loads `rows` customers of one partner and as many escalations, one per customer, in bulk
/// into a database migrated up to the search postings, then runs that migration and those
/// after it: the postings are filled as they were on a server upgraded with that many rows.
/// Returns how long the migrations took.
async fn load(db: &DatabaseConnection, partner_id: Uuid, rows: u64) -> Duration {
    let before = Migrator::migrations()
        .iter()
        .position(|migration| migration.name() == POSTINGS_MIGRATION)
        .expect("the postings migration");
    Migrator::up(db, Some(before as u32))
        .await
        .expect("migrates");
    let now = Utc::now();
    escalade::entity::partner::Entity::insert(
        escalade::entity::partner::Model {
            id: partner_id,
            name: "云桥科技（规模测试）".to_owned(),
            mpn_id: "7000001".to_owned(),
            tenant_id: Uuid::new_v4(),
            country: "CN".to_owned(),
            status: "active".to_owned(),
            version: 1,
            created_at: now,
            updated_at: now,
        }
        .into_active_model(),
    )
    .exec(db)
    .await
    .expect("the partner");
    const BATCH: u64 = 500;
    let mut start = 1;
    while start <= rows {
        let range = start..=Ord::min(start + BATCH - 1, rows);
        let ids: Vec<(u64, Uuid, Uuid)> =
            range.map(|i| (i, Uuid::now_v7(), Uuid::now_v7())).collect();
        customer::Entity::insert_many(
            ids.iter()
                .map(|&(i, id, _)| customer_row(i, id, partner_id).into_active_model()),
        )
        .exec(db)
        .await
        .expect("customers");
        escalation::Entity::insert_many(ids.iter().map(|&(i, customer_id, id)| {
            escalation_row(i, id, partner_id, customer_id).into_active_model()
        }))
        .exec(db)
        .await
        .expect("escalations");
        start += BATCH;
    }
    if db.get_database_backend() == DbBackend::Postgres {
        execute(
            db,
            &format!("SELECT setval('escalation_numbers', {rows} + 1, false)"),
        )
        .await;
    }
    let started = Instant::now();
    Migrator::up(db, None).await.expect("migrates");
    let indexed = started.elapsed();
    execute(db, "ANALYZE").await;
    indexed
}

// ---------------------------------------------------------------------------------------------
// The measures
// ---------------------------------------------------------------------------------------------

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

/// The id at `offset` in `order`: the cursor that starts the page after it.
async fn cursor_at(db: &DatabaseConnection, order: SelectStatement) -> Uuid {
    let row = db
        .query_one(&order)
        .await
        .expect("the cursor query runs")
        .expect("a row at that offset");
    row.try_get("", "id").expect("an id")
}

#[derive(Clone, Copy)]
enum List {
    Customers,
    Escalations,
    /// Customers holding «公司»: every Chinese name does, none starts with it.
    CustomerSearch,
    TriageQueue,
}

impl List {
    const ALL: [List; 4] = [
        List::Customers,
        List::Escalations,
        List::CustomerSearch,
        List::TriageQueue,
    ];

    fn name(self) -> &'static str {
        match self {
            List::Customers => "customers",
            List::Escalations => "escalations, newest first",
            List::CustomerSearch => "customers holding «公司» (seven in ten)",
            List::TriageQueue => "triage queue, earliest due first",
        }
    }

    /// The list's order, as a statement for the id `offset` rows in.
    fn order(self, partner_id: Uuid, offset: u64) -> SelectStatement {
        let mut query = Query::select();
        match self {
            List::Customers => query
                .column("id")
                .from("customers")
                .and_where(Expr::col("partner_id").eq(partner_id))
                .order_by("id", sea_orm::Order::Asc),
            List::Escalations => query
                .column("id")
                .from("escalations")
                .and_where(Expr::col("partner_id").eq(partner_id))
                .order_by("id", sea_orm::Order::Desc),
            List::CustomerSearch => query
                .expr_as(Expr::col("customer_id"), "id")
                .from("customer_grams")
                .and_where(Expr::col("gram").eq("公司"))
                .and_where(Expr::col("partner_id").eq(partner_id))
                .order_by("starts_name", sea_orm::Order::Desc)
                .order_by("customer_id", sea_orm::Order::Asc),
            List::TriageQueue => query
                .column("id")
                .from("escalations")
                .order_by("response_due_at", sea_orm::Order::Asc)
                .order_by("id", sea_orm::Order::Asc),
        };
        query.offset(offset).limit(1).take()
    }

    async fn read(self, db: &DatabaseConnection, partner_id: Uuid, after: Option<Uuid>) -> usize {
        let page = PageRequest { limit: PAGE, after };
        match self {
            List::Customers => customer_page(db, partner_id, None, page).await.len(),
            List::CustomerSearch => customer_page(db, partner_id, Some("公司"), page)
                .await
                .len(),
            List::Escalations => {
                escalation_page(db, Scope::Partner(partner_id), None, Order::Newest, page)
                    .await
                    .len()
            }
            List::TriageQueue => escalation_page(db, Scope::All, None, Order::Due, page)
                .await
                .len(),
        }
    }
}

async fn customer_page(
    db: &DatabaseConnection,
    partner_id: Uuid,
    q: Option<&str>,
    page: PageRequest,
) -> Vec<Uuid> {
    let filter = CustomerFilter {
        q: q.map(|q| SearchText::parse(q).expect("a search")),
        ..CustomerFilter::default()
    };
    let listed = customers::list(db, Scope::Partner(partner_id), filter, page).await;
    listed
        .expect("lists")
        .items
        .iter()
        .map(|row| row.id)
        .collect()
}

async fn escalation_page(
    db: &DatabaseConnection,
    scope: Scope,
    q: Option<&str>,
    order: Order,
    page: PageRequest,
) -> Vec<Uuid> {
    let filter = EscalationFilter {
        q: q.map(|q| SearchText::parse(q).expect("a search")),
        ..EscalationFilter::default()
    };
    let listed = escalations::list(db, scope, filter, order, page, Utc::now()).await;
    listed
        .expect("lists")
        .items
        .iter()
        .map(|row| row.id)
        .collect()
}

/// Searches as people type them: broad (a city, a trade, 公司) and narrow (a brand), and
/// across the pair a brand and a trade make.
const SEARCHES: [(&str, bool, &[&str]); 5] = [
    (
        "customers, 2 Chinese characters",
        true,
        &[
            "深圳", "星河", "物流", "公司", "河物", "云启", "科技", "州华", "集团", "泰和",
        ],
    ),
    (
        "customers, 3 Latin letters",
        true,
        &[
            "con", "tos", "kam", "ind", "war", "log", "ltd", "ine", "ove", "spi",
        ],
    ),
    (
        "escalations, 2 Chinese characters",
        false,
        &[
            "邮件", "掉线", "登录", "星河", "深圳", "证书", "失败", "公司", "同步", "管理",
        ],
    ),
    (
        "escalations, 3 Latin letters",
        false,
        &[
            "exc", "tea", "sha", "con", "sql", "int", "ent", "pow", "dyn", "kam",
        ],
    ),
    (
        "longer: 星河物流, contoso, ESC-000412, …",
        true,
        &[
            "星河物流",
            "深圳星河",
            "contoso",
            "fabrikam",
            "wuliu",
            "shenzhen",
        ],
    ),
];

async fn measure(url: &str, partner_id: Uuid, cursors: &[(List, Uuid)], label: &str) {
    let captured = Captured::default();
    let db = connect_capturing(url, &captured).await;
    println!("\n### {label}\n");
    println!(
        "| list | page 1 median | page 1 p95 | deep page median | deep page p95 | ratio (medians) |"
    );
    println!("|---|---:|---:|---:|---:|---:|");
    let mut plans = Vec::new();
    for &(list, cursor) in cursors {
        let mut results = Vec::new();
        for after in [None, Some(cursor)] {
            let mut samples = Vec::with_capacity(REPEATS);
            for _ in 0..REPEATS {
                let started = Instant::now();
                let items = list.read(&db, partner_id, after).await;
                samples.push(started.elapsed());
                assert_eq!(items as u64, PAGE, "{}: a full page", list.name());
            }
            results.push(summary(samples));
        }
        let statements = captured.take();
        plans.push((
            list.name().to_owned(),
            statements.last().expect("a statement").clone(),
        ));
        let ((first_median, first_p95), (deep_median, deep_p95)) = (results[0], results[1]);
        println!(
            "| {} | {first_median:.2} ms | {first_p95:.2} ms | {deep_median:.2} ms | {deep_p95:.2} ms | **{:.2}×** |",
            list.name(),
            deep_median / first_median
        );
    }
    println!("\n| search (page 1 and the page after it) | searches | median | p95 |");
    println!("|---|---:|---:|---:|");
    for (name, of_customers, queries) in SEARCHES {
        let mut samples = Vec::new();
        let mut slowest = (Duration::ZERO, "");
        for _ in 0..SEARCH_ROUNDS {
            for q in queries {
                let mut after = None;
                for _ in 0..2 {
                    let page = PageRequest { limit: PAGE, after };
                    let started = Instant::now();
                    let ids = if of_customers {
                        customer_page(&db, partner_id, Some(q), page).await
                    } else {
                        escalation_page(
                            &db,
                            Scope::Partner(partner_id),
                            Some(q),
                            Order::Newest,
                            page,
                        )
                        .await
                    };
                    let took = started.elapsed();
                    samples.push(took);
                    slowest = slowest.max((took, q));
                    after = ids.last().copied();
                    if after.is_none() {
                        break;
                    }
                }
            }
        }
        let statements = captured.take();
        let slowest_statement = statements.last().expect("a statement").clone();
        plans.push((format!("{name}: «{}»", slowest.1), slowest_statement));
        let count = samples.len();
        let (median, p95) = summary(samples);
        println!("| {name} | {count} | {median:.2} ms | **{p95:.2} ms** |");
    }
    if db.get_database_backend() == DbBackend::Postgres {
        for (name, statement) in plans {
            explain(&db, &name, statement).await;
        }
    }
    db.close().await.ok();
}

async fn explain(db: &DatabaseConnection, name: &str, statement: Statement) {
    let explain = Statement::from_sql_and_values(
        db.get_database_backend(),
        format!("EXPLAIN (ANALYZE, BUFFERS, COSTS OFF) {}", statement.sql),
        statement.values.map(|values| values.0).unwrap_or_default(),
    );
    let rows = db.query_all_raw(explain).await.expect("explains");
    println!(
        "\n{name} — its last statement, and the plan EXPLAIN shows for the values bound\n```\n{}\n```",
        statement.sql
    );
    println!("```");
    for row in rows {
        let line: String = row.try_get_by_index(0).expect("a plan line");
        println!("{line}");
    }
    println!("```");
}

#[tokio::main]
async fn main() {
    let sqlite = std::env::args().any(|arg| arg == "--sqlite");
    let default_rows = if sqlite { 100_000 } else { 1_000_000 };
    let rows: u64 = argument("--rows").map_or(default_rows, |n| n.parse().expect("a number"));
    let keep = std::env::args().any(|arg| arg == "--keep");
    let name = format!("escalade_scale_{}", std::process::id());
    let (url, maintenance) = if sqlite {
        let file = std::env::temp_dir().join(format!("{name}.db"));
        (format!("sqlite://{}?mode=rwc", file.display()), None)
    } else {
        let admin = argument("--database-url")
            .or_else(|| std::env::var("BENCH_POSTGRES_URL").ok())
            .unwrap_or_else(|| "postgres://postgres@127.0.0.1:5432/postgres".to_owned());
        let maintenance = connect(&settings(&admin))
            .await
            .expect("connects to the server");
        execute(&maintenance, &format!("CREATE DATABASE {name}")).await;
        let url = format!(
            "{}/{name}",
            admin.rsplit_once('/').expect("a database URL").0
        );
        (url, Some(maintenance))
    };
    let db = connect(&settings(&url)).await.expect("connects");
    let partner_id = Uuid::now_v7();
    let started = Instant::now();
    let indexed = load(&db, partner_id, rows).await;
    let engine = if sqlite { "SQLite" } else { "PostgreSQL" };
    println!(
        "## escalade at scale on {engine} — {rows} customers, {rows} escalations, one partner"
    );
    let postings: Vec<i64> = {
        let mut counts = Vec::new();
        for table in ["customer_grams", "escalation_grams"] {
            let count = Query::select()
                .expr_as(Expr::cust("COUNT(*)"), "n")
                .from(table)
                .take();
            let row = db.query_one(&count).await.expect("counts").expect("a row");
            counts.push(row.try_get::<i64>("", "n").expect("a count"));
        }
        counts
    };
    let deep_page = rows / PAGE * 4 / 10;
    println!(
        "\nloaded in {:.0} s, of which {:.0} s migrating to the search postings ({} of customers, {} of escalations); \
         one page is {PAGE} rows, the deep page is page {deep_page}, {} rows deep",
        started.elapsed().as_secs_f64(),
        indexed.as_secs_f64(),
        postings[0],
        postings[1],
        (deep_page - 1) * PAGE
    );
    let mut cursors = Vec::new();
    for list in List::ALL {
        let order = list.order(partner_id, (deep_page - 1) * PAGE - 1);
        cursors.push((list, cursor_at(&db, order).await));
    }
    measure(&url, partner_id, &cursors, "default plan caching").await;
    if !sqlite {
        execute(
            &db,
            &format!("ALTER DATABASE {name} SET plan_cache_mode = force_generic_plan"),
        )
        .await;
        measure(
            &url,
            partner_id,
            &cursors,
            "plan_cache_mode = force_generic_plan",
        )
        .await;
    }
    db.close().await.ok();
    match maintenance {
        _ if keep => eprintln!("bench-scale: kept {url}"),
        Some(maintenance) => {
            execute(&maintenance, &format!("DROP DATABASE {name} WITH (FORCE)")).await
        }
        None => {
            let file = url
                .trim_start_matches("sqlite://")
                .trim_end_matches("?mode=rwc");
            for suffix in ["", "-wal", "-shm"] {
                std::fs::remove_file(format!("{file}{suffix}")).ok();
            }
        }
    }
}
