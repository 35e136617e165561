//! `GET /v1/customers/{customer_id}/services/{service_key}/self-help`: step 3 of the partner
//! procedure as data, so a front end can deflect before an escalation is written.

use actix_web::{HttpResponse, get, web};
use serde::Serialize;
use utoipa::ToSchema;
use uuid::Uuid;

use super::AppState;
use super::auth::{Anyone, Caller};
use super::incidents::{ServiceIncident, incident_example};
use super::responses::*;
use super::services::{SelfHelpResource, Service, existing as existing_service};
use super::subscriptions::{Subscription, visible_customer};
use crate::domain::deflection::{Advice, Situation, advise};
use crate::domain::{ServiceKey, SubscriptionStatus};
use crate::error::ApiError;
use crate::i18n::Language;
use crate::store::{incidents, subscriptions};

fn self_help_example() -> serde_json::Value {
    serde_json::json!({
        "customer_id": "0193a1f2-7c4e-7d2a-9b1e-2f3c4d5e6f70",
        "service": super::services::service_example(),
        "admin_center_url": "https://portal.azure.cn",
        "self_help": [{"title": "Azure operated by 21Vianet documentation", "title_zh": "由世纪互联运营的 Azure 文档",
                       "url": "https://docs.azure.cn/zh-cn/"}],
        "active_incidents": [incident_example()],
        "subscription": {
            "id": "0193a1f4-5c6d-7e8f-9a0b-1c2d3e4f5a6b", "customer_id": "0193a1f2-7c4e-7d2a-9b1e-2f3c4d5e6f70",
            "service_key": "azure", "offer_name": "Azure plan", "quantity": 1, "status": "active", "version": 1,
            "created_at": "2026-11-24T08:00:00Z", "updated_at": "2026-11-24T08:00:00Z"
        },
        "advice": [{"criterion": "no_active_incident",
                    "message": "1 incident is open on this service: escalate only if the problem persists after it ends, or name it as unrelated"}]
    })
}

/// Everything to try before escalating a customer's problem with a service.
#[derive(Debug, Serialize, ToSchema)]
#[schema(example = self_help_example)]
pub struct SelfHelp {
    pub customer_id: Uuid,
    pub service: Service,
    /// Where the partner, or the customer, can fix or diagnose the problem.
    pub admin_center_url: String,
    pub self_help: Vec<SelfHelpResource>,
    /// Unresolved incidents on the service: during a known outage, escalate only if the problem
    /// persists after it ends or is clearly unrelated.
    pub active_incidents: Vec<ServiceIncident>,
    /// The customer's live subscription to the service; `null` when it has none.
    pub subscription: Option<Subscription>,
    /// Obstacles to escalating that are already known; empty when none.
    pub advice: Vec<AdviceBody>,
}

/// One piece of advice, with the escalation criterion it anticipates.
#[derive(Debug, Serialize, ToSchema)]
#[schema(as = Advice)]
pub struct AdviceBody {
    /// `service_escalatable`, `active_subscription` or `no_active_incident`.
    #[schema(example = "no_active_incident")]
    pub criterion: &'static str,
    /// In the answer's language.
    #[schema(
        example = "1 incident is open on this service: escalate only if the problem persists after it ends, or name it as unrelated"
    )]
    pub message: String,
}

/// Self-help before escalating
///
/// The admin center, self-help resources, active incidents on the service and the customer's
/// subscription, in one answer, with advice naming the escalation criteria that would fail.
#[utoipa::path(
    operation_id = "getSelfHelp",
    tag = "self-help",
    params(
        ("customer_id" = Uuid, Path, description = "The customer's id."),
        ("service_key" = inline(ServiceKey), Path, description = "The service's key, e.g. `azure`."),
    ),
    responses(
        (status = 200, description = "What to try first.", body = SelfHelp),
        ReadFailures,
    ),
)]
#[get("/customers/{customer_id}/services/{service_key}/self-help")]
#[tracing::instrument(skip_all)]
pub async fn get_self_help(
    caller: Caller<Anyone>,
    language: Language,
    state: web::Data<AppState>,
    path: web::Path<(Uuid, String)>,
) -> Result<HttpResponse, ApiError> {
    let (customer_id, service_key) = path.into_inner();
    let customer = visible_customer(&state, &caller, customer_id).await?;
    let service = Service::read(existing_service(&state, &service_key).await?, language)?;
    let subscription: Option<Subscription> =
        subscriptions::live(&state.db, customer.id, &service.key)
            .await?
            .map(Subscription::try_from)
            .transpose()?;
    let active_incidents = incidents::active_on(&state.db, &service.key)
        .await?
        .into_iter()
        .map(|incident| ServiceIncident::read(incident, language))
        .collect::<Result<Vec<_>, _>>()?;
    let advice = advise(Situation {
        operated_by: &service.operated_by,
        first_party: service.first_party,
        subscription: subscription
            .as_ref()
            .map(|s| s.status)
            .filter(|s| *s != SubscriptionStatus::Deleted),
        active_incidents: active_incidents.len(),
    })
    .into_iter()
    .map(|advice: Advice| AdviceBody {
        criterion: advice.criterion,
        message: advice.message.render(language),
    })
    .collect();
    Ok(HttpResponse::Ok().json(SelfHelp {
        customer_id: customer.id,
        admin_center_url: service.admin_center_url.clone(),
        self_help: service.self_help.clone(),
        service,
        active_incidents,
        subscription,
        advice,
    }))
}

pub fn configure(cfg: &mut utoipa_actix_web::service_config::ServiceConfig) {
    cfg.service(get_self_help);
}
