//! One whole escalation through the generated client, against the real server started here over a
//! fresh SQLite file with the demo data: the partner finds the customer, tries self-help, dry-runs
//! and submits; an operator takes it from the triage queue to resolved under `If-Match`; the
//! partner reads the trail. Only generated code talks to the server.

use chrono::{Duration, Utc};
use escalade::config::{AttachmentSettings, DatabaseSettings, ServeSettings};
use escalade::domain::sealing::{KeyRing, SecretKey};
use escalade::startup::Application;
use escalade::storage::StoreLocation;
use escalade_client::types::{
    Category, ContactMethod, Criterion, EngineerInput, EscalationInput, Language,
    ListEscalationsOrder, NewNote, Outcome, PartnerContactInput, Problem, Reason, Severity, Status,
    TransitionRequest, TransitionToInProgress, TransitionToInProgressTo, TransitionToResolved,
    TransitionToResolvedTo, TroubleshootingInput,
};
use escalade_client::{Client, Error, ResponseValue, bearer};
use futures_util::TryStreamExt;

/// The demo server on a free port, and its partner and operator keys.
struct Demo {
    url: String,
    partner_key: String,
    operator_key: String,
    _dir: tempfile::TempDir,
}

async fn start_demo() -> Demo {
    let dir = tempfile::tempdir().unwrap();
    let database = DatabaseSettings {
        database_url: Some(format!(
            "sqlite://{}",
            dir.path().join("escalade.db").display()
        )),
        db_max_connections: 5,
        ..DatabaseSettings::default()
    };
    let db = escalade::store::connect(&database).await.unwrap();
    escalade::store::migrate(&db).await.unwrap();
    let demo = escalade::demo::seed(&db).await.unwrap();
    let settings = ServeSettings {
        bind: "127.0.0.1:0".parse().unwrap(),
        workers: Some(2),
        attachments: AttachmentSettings {
            attachment_store: Some(StoreLocation::Directory(dir.path().join("attachments"))),
            ..AttachmentSettings::default()
        },
        ..ServeSettings::default()
    };
    let secret_keys = KeyRing::new(SecretKey::generate(), Vec::new());
    let app = Application::build(&settings, db, secret_keys).unwrap();
    let url = format!("http://127.0.0.1:{}", app.port());
    tokio::spawn(app.run_until_stopped());
    Demo {
        url,
        partner_key: demo.partner,
        operator_key: demo.operator,
        _dir: dir,
    }
}

fn etag<T>(answer: &ResponseValue<T>) -> String {
    answer.headers()["etag"].to_str().unwrap().to_owned()
}

/// The problem document of a refused request.
fn problem<T: std::fmt::Debug>(result: Result<ResponseValue<T>, Error<Problem>>) -> Problem {
    match result {
        Err(Error::ErrorResponse(problem)) => problem.into_inner(),
        other => panic!("expected a problem document, got {other:?}"),
    }
}

fn submission(customer_id: uuid::Uuid, steps: Vec<&str>) -> EscalationInput {
    let now = Utc::now();
    EscalationInput {
        customer_id,
        service_key: "microsoft-365".parse().unwrap(),
        category: Category::ServiceUnavailable,
        severity: Severity::Moderate,
        title: "Exchange Online 邮件无法投递到外部域".parse().unwrap(),
        description: "自 09:10 起，全部用户发往外部域的邮件停留在队列中，退信代码 4.4.7。"
            .parse()
            .unwrap(),
        business_impact: "300 名员工无法与客户和供应商通信。".parse().unwrap(),
        problem_started_at: now - Duration::hours(2),
        reasons: Some(vec![Reason::LacksSupportTools]),
        justification: Some(
            "需要世纪互联的传输日志才能确定邮件在服务端被阻塞的原因。"
                .parse()
                .unwrap(),
        ),
        troubleshooting: TroubleshootingInput {
            service_health_checked_at: Some(now - Duration::minutes(10)),
            admin_center_attempted: Some(true),
            steps: Some(steps.into_iter().map(|s| s.parse().unwrap()).collect()),
        },
        unrelated_incident_ids: None,
        contact: PartnerContactInput {
            first_name: Some("伟".parse().unwrap()),
            last_name: Some("张".parse().unwrap()),
            email: Some("zhang.wei@cloudbridge.cn".parse().unwrap()),
            phone: Some("+86 10 5555 0199".parse().unwrap()),
            preferred_contact_method: Some(ContactMethod::Email),
            preferred_language: Some(Language::ZhHans),
            time_zone: Some("Asia/Shanghai".parse().unwrap()),
            available_24x7: Some(false),
        },
    }
}

#[tokio::test]
async fn one_escalation_from_submission_to_resolution_through_the_generated_client() {
    let demo = start_demo().await;
    let partner = Client::new_with_client(&demo.url, bearer(&demo.partner_key));
    let operator = Client::new_with_client(&demo.url, bearer(&demo.operator_key));

    // The partner finds the customer by the start of its name, and looks at the service.
    let found = partner.list_customers().q("上海").send().await.unwrap();
    let customer = &found.items[0];
    assert_eq!(customer.company_name, "上海云启科技有限公司");
    let services = partner.list_services().send().await.unwrap();
    assert!(
        services
            .items
            .iter()
            .any(|s| s.key.as_str() == "microsoft-365")
    );
    let self_help = partner
        .get_self_help()
        .customer_id(customer.id)
        .service_key("microsoft-365")
        .send()
        .await
        .unwrap();
    assert!(self_help.active_incidents.is_empty());

    // A dry run without troubleshooting steps fails one criterion; with them, none.
    let lacking = partner
        .validate_escalation()
        .body(submission(customer.id, vec![]))
        .send()
        .await
        .unwrap();
    assert!(!lacking.eligible);
    let failed: Vec<Criterion> = lacking
        .checks
        .iter()
        .filter(|check| check.outcome == Outcome::Failed)
        .map(|check| check.criterion)
        .collect();
    assert_eq!(failed, [Criterion::PartnerTroubleshooting]);
    let body = submission(customer.id, vec!["在管理中心运行了邮件流诊断"]);
    let checked = partner
        .validate_escalation()
        .body(body.clone())
        .send()
        .await
        .unwrap();
    assert!(checked.eligible, "{:?}", checked.checks);

    // Submitting with an Idempotency-Key: a retry answers the same escalation.
    let submitted = partner
        .create_escalation()
        .idempotency_key("flow-submit-1")
        .body(body.clone())
        .send()
        .await
        .unwrap();
    assert_eq!(submitted.status(), 201);
    let retried = partner
        .create_escalation()
        .idempotency_key("flow-submit-1")
        .body(body)
        .send()
        .await
        .unwrap();
    assert_eq!(retried.id, submitted.id);
    assert_eq!(retried.headers()["idempotency-replayed"], "true");
    let id = submitted.id;
    let read = partner.get_escalation().id(id).send().await.unwrap();
    assert_eq!(
        (read.status, &read.number),
        (Status::Submitted, &submitted.number)
    );
    partner
        .add_escalation_note()
        .id(id)
        .body(NewNote {
            text: "客户可随时配合远程排查。".parse().unwrap(),
        })
        .send()
        .await
        .unwrap();
    // The log the technician will ask for, attached as bytes and read back by range.
    let log = "2026-11-24 09:10:02 451 4.4.7 邮件在队列中过期\n".repeat(400);
    let attached = partner
        .upload_escalation_attachment()
        .id(id)
        .filename("queue.log")
        .idempotency_key("flow-attach-1")
        .body(log.clone().into_bytes())
        .send()
        .await
        .unwrap();
    assert_eq!(attached.size_bytes, i64::try_from(log.len()).unwrap());
    let head = operator
        .download_escalation_attachment()
        .id(id)
        .attachment_id(attached.id)
        .range("bytes=0-18")
        .send()
        .await
        .unwrap();
    assert_eq!(head.status(), 206);
    let bytes: Vec<u8> = head
        .into_inner()
        .into_inner()
        .map_ok(|chunk| chunk.to_vec())
        .try_concat()
        .await
        .unwrap();
    assert_eq!(bytes, log.as_bytes()[..19]);

    // The operator finds it in the triage queue and works it under If-Match.
    let queue = operator
        .list_escalations()
        .order(ListEscalationsOrder::Due)
        .status(Status::Submitted)
        .send()
        .await
        .unwrap();
    let queued = queue
        .items
        .iter()
        .find(|e| e.id == id)
        .expect("in the queue");
    let stale = etag(&read);
    let engineer = EngineerInput {
        name: "李娜".parse().unwrap(),
        email: "li.na@oe.21vianet.com".parse().unwrap(),
        phone: None,
    };
    let started = operator
        .transition_escalation()
        .id(queued.id)
        .if_match(stale.as_str())
        .body(TransitionRequest::InProgress(TransitionToInProgress {
            to: TransitionToInProgressTo::InProgress,
            engineer: Some(engineer),
            engineer_person_id: None,
            reason: None,
        }))
        .send()
        .await
        .unwrap();
    assert_eq!(started.status, Status::InProgress);
    assert_eq!(started.engineer.as_ref().unwrap().name, "李娜");
    let resolve = |if_match: String| {
        operator
            .transition_escalation()
            .id(id)
            .if_match(if_match)
            .body(TransitionRequest::Resolved(TransitionToResolved {
                to: TransitionToResolvedTo::Resolved,
                reason: "已在服务端清除传输队列，外部邮件恢复投递。"
                    .parse()
                    .unwrap(),
            }))
            .send()
    };
    // The tag read before the start is stale now: a typed problem says so.
    let refused = problem(resolve(stale.clone()).await);
    assert_eq!(
        (refused.status, refused.code.as_str()),
        (412, "stale_version")
    );
    let resolved = resolve(etag(&started)).await.unwrap();
    assert_eq!(resolved.status, Status::Resolved);
    assert!(resolved.sla.first_response_at.is_some());

    // The partner reads every step in the trail.
    let events = partner
        .list_escalation_events()
        .id(id)
        .send()
        .await
        .unwrap();
    let kinds: Vec<&str> = events.items.iter().map(|e| e.kind.as_str()).collect();
    assert_eq!(
        kinds,
        [
            "created",
            "note_added",
            "attachment_added",
            "status_changed",
            "status_changed"
        ]
    );

    // Another partner's view of it, or a broken request, arrives as a typed problem too.
    let unknown = problem(
        partner
            .get_escalation()
            .id(uuid::Uuid::now_v7())
            .send()
            .await,
    );
    assert_eq!((unknown.status, unknown.code.as_str()), (404, "not_found"));
}
