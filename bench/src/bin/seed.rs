//! Seeds a running escalade through its API for the benchmark, as a partner's systems would:
//! a partner and its key, customers each subscribed to all six services, and escalations to
//! read back. Writes what the wrk scripts need into `--out`:
//!
//! * `partner-id`, `partner-key`, `partner-tenant-id`: the partner, its API key and its directory
//!   tenant (for its people's tokens);
//! * `customers`: one customer id per line, for `POST /v1/escalations`;
//! * `escalations`: one escalation id per line, for `GET /v1/escalations/{id}`.
//!
//! Seeded escalations are all `billing_dispute`, a category the create runs never use, so the
//! runs' escalations never duplicate them.
//!
//! `bench-seed --url http://127.0.0.1:8080 --admin-key esc_… --customers 2000 --escalations 500 --out DIR`

use std::path::PathBuf;
use std::sync::Arc;

use reqwest::Client;
use serde_json::{Value, json};
use tokio::sync::Semaphore;
use tokio::task::JoinSet;
use uuid::Uuid;

const SERVICES: [&str; 6] = [
    "microsoft-365",
    "azure",
    "dynamics-365",
    "power-bi",
    "power-apps",
    "power-automate",
];

/// Requests in flight at once.
const CONCURRENCY: usize = 16;

fn argument(name: &str) -> String {
    let mut args = std::env::args();
    args.position(|arg| arg == name)
        .and_then(|_| args.next())
        .unwrap_or_else(|| {
            eprintln!("bench-seed: {name} is required");
            std::process::exit(2)
        })
}

#[derive(Clone)]
struct Api {
    client: Client,
    url: String,
}

impl Api {
    /// `POST path` as `key`; the answer's body, which must be a 201.
    async fn create(&self, path: &str, key: &str, body: &Value) -> Value {
        let answer = self
            .client
            .post(format!("{}{path}", self.url))
            .bearer_auth(key)
            .json(body)
            .send()
            .await
            .unwrap_or_else(|err| panic!("POST {path}: {err}"));
        let status = answer.status();
        let body: Value = answer.json().await.unwrap_or(Value::Null);
        assert_eq!(status.as_u16(), 201, "POST {path}: {body}");
        body
    }
}

fn id_of(body: &Value) -> String {
    body["id"].as_str().expect("an id").to_owned()
}

/// Runs `count` jobs, `CONCURRENCY` at a time; their results in the order of their numbers.
async fn in_parallel<F, Fut>(count: usize, job: F) -> Vec<String>
where
    F: Fn(usize) -> Fut,
    Fut: Future<Output = String> + Send + 'static,
{
    let permits = Arc::new(Semaphore::new(CONCURRENCY));
    let mut jobs = JoinSet::new();
    for n in 0..count {
        let permit = Arc::clone(&permits).acquire_owned().await.expect("open");
        let work = job(n);
        jobs.spawn(async move {
            let result = work.await;
            drop(permit);
            (n, result)
        });
    }
    let mut results = vec![String::new(); count];
    while let Some(done) = jobs.join_next().await {
        let (n, result) = done.expect("a seeding job panicked");
        results[n] = result;
    }
    results
}

fn escalation(customer_id: &str) -> Value {
    let checked = chrono::Utc::now() - chrono::Duration::hours(1);
    json!({
        "customer_id": customer_id,
        "service_key": "azure",
        "category": "billing_dispute",
        "severity": "moderate",
        "title": "账单中的用量与门户显示不一致",
        "description": "11 月账单中的虚拟机用量比 Azure 门户中的用量高出约 30%。",
        "business_impact": "客户无法完成月度结算，财务部门要求在周五前给出说明。",
        "problem_started_at": checked - chrono::Duration::days(2),
        "reasons": ["lacks_support_tools"],
        "justification": "合作伙伴无法访问世纪互联的计费明细，无法核对差异。",
        "troubleshooting": {
            "service_health_checked_at": checked,
            "admin_center_attempted": true,
            "steps": ["在 Azure 门户中导出了用量明细"]
        },
        "contact": {
            "first_name": "伟", "last_name": "张", "email": "zhang.wei@cloudbridge.cn",
            "phone": "+86 10 5555 0199", "preferred_contact_method": "phone"
        }
    })
}

#[tokio::main]
async fn main() {
    let api = Api {
        client: Client::new(),
        url: argument("--url"),
    };
    let admin_key = argument("--admin-key");
    let customers: usize = argument("--customers").parse().expect("a number");
    let escalations: usize = argument("--escalations").parse().expect("a number");
    let out = PathBuf::from(argument("--out"));
    std::fs::create_dir_all(&out).expect("the output directory");

    let mpn_id = 1_000_000 + (Uuid::new_v4().as_u128() % 8_999_999) as u64;
    let tenant_id = Uuid::new_v4();
    let partner = api
        .create(
            "/v1/partners",
            &admin_key,
            &json!({"name": "云桥科技（基准测试）", "mpn_id": mpn_id.to_string(),
                    "tenant_id": tenant_id, "country": "CN"}),
        )
        .await;
    let partner_id = id_of(&partner);
    let key = api
        .create(
            "/v1/api-keys",
            &admin_key,
            &json!({"role": "partner", "partner_id": partner_id, "name": "benchmark"}),
        )
        .await;
    let partner_key = key["key"].as_str().expect("the key's secret").to_owned();

    let customer_ids = in_parallel(customers, |n| {
        let (api, key) = (api.clone(), partner_key.clone());
        async move {
            let customer = api
                .create(
                    "/v1/customers",
                    &key,
                    &json!({
                        "company_name": format!("基准测试客户 {n:06}"),
                        "domain": format!("bench{n:06}.partner.onmschina.cn"),
                        "tenant_id": Uuid::new_v4(),
                        "country": "CN",
                        "support_plan": "standard",
                        "primary_contact": {"name": "王芳", "email": "wang.fang@example.cn"}
                    }),
                )
                .await;
            let id = id_of(&customer);
            for service in SERVICES {
                api.create(
                    &format!("/v1/customers/{id}/subscriptions"),
                    &key,
                    &json!({"service_key": service, "offer_name": "基准测试订阅", "quantity": 10, "status": "active"}),
                )
                .await;
            }
            id
        }
    })
    .await;

    let escalation_ids = in_parallel(escalations.min(customers), |n| {
        let (api, key) = (api.clone(), partner_key.clone());
        let body = escalation(&customer_ids[n]);
        async move { id_of(&api.create("/v1/escalations", &key, &body).await) }
    })
    .await;

    let write = |name: &str, text: String| {
        std::fs::write(out.join(name), text).unwrap_or_else(|err| panic!("{name}: {err}"))
    };
    write("partner-id", partner_id);
    write("partner-key", partner_key);
    write("partner-tenant-id", tenant_id.to_string());
    write("customers", customer_ids.join("\n") + "\n");
    write("escalations", escalation_ids.join("\n") + "\n");
    eprintln!(
        "bench-seed: {} customers with {} subscriptions, {} escalations",
        customer_ids.len(),
        customer_ids.len() * SERVICES.len(),
        escalation_ids.len()
    );
}
