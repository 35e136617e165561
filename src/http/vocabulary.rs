//! `GET /v1/vocabulary`: every closed set of values the API uses, each value with its name for
//! people in the caller's language, so a front end shows 已提交 where the API says `submitted`.

use actix_web::{HttpResponse, get};
use serde::Serialize;
use utoipa::ToSchema;

use super::auth::{Anyone, Caller};
use super::responses::*;
use crate::domain::escalation::criteria::Criterion;
use crate::domain::escalation::{ContactMethod, Reason, Severity, Status};
use crate::domain::remediation::PlanStatus;
use crate::domain::{
    Category, IncidentSeverity, IncidentStatus, PartnerStatus, SubscriptionStatus, SupportHours,
    SupportPlan,
};
use crate::i18n::{Labelled, Language};

/// A value and its name for people.
#[derive(Debug, Serialize, ToSchema)]
#[schema(example = json!({"code": "in_progress", "label": "处理中"}))]
pub struct Term {
    /// What the API sends and accepts.
    pub code: &'static str,
    /// In the answer's language (`Content-Language`).
    pub label: String,
}

fn terms<T: Labelled>(language: Language) -> Vec<Term> {
    T::all()
        .iter()
        .map(|value| Term {
            code: value.code(),
            label: value.label().render(language),
        })
        .collect()
}

fn vocabulary_example() -> serde_json::Value {
    let mut example = serde_json::to_value(Vocabulary::new(Language::SimplifiedChinese))
        .expect("the vocabulary is JSON");
    if let Some(lists) = example.as_object_mut() {
        for terms in lists.values_mut().filter_map(|terms| terms.as_array_mut()) {
            terms.truncate(2);
        }
    }
    example
}

/// Every closed set of values, in the order the API documents them.
#[derive(Debug, Serialize, ToSchema)]
#[schema(example = vocabulary_example)]
pub struct Vocabulary {
    /// Escalation and service categories.
    pub categories: Vec<Term>,
    /// Escalation severities.
    pub severities: Vec<Term>,
    /// Why the partner cannot solve the problem itself.
    pub reasons: Vec<Term>,
    pub contact_methods: Vec<Term>,
    /// The languages a partner contact may prefer, and escalade answers in.
    pub languages: Vec<Term>,
    pub escalation_statuses: Vec<Term>,
    /// The escalation criteria, as `violations` and the checklist name them.
    pub criteria: Vec<Term>,
    pub incident_severities: Vec<Term>,
    pub incident_statuses: Vec<Term>,
    pub support_hours: Vec<Term>,
    pub subscription_statuses: Vec<Term>,
    pub support_plans: Vec<Term>,
    pub partner_statuses: Vec<Term>,
    pub remediation_statuses: Vec<Term>,
}

impl Vocabulary {
    pub fn new(language: Language) -> Self {
        Vocabulary {
            categories: terms::<Category>(language),
            severities: terms::<Severity>(language),
            reasons: terms::<Reason>(language),
            contact_methods: terms::<ContactMethod>(language),
            languages: terms::<Language>(language),
            escalation_statuses: terms::<Status>(language),
            criteria: terms::<Criterion>(language),
            incident_severities: terms::<IncidentSeverity>(language),
            incident_statuses: terms::<IncidentStatus>(language),
            support_hours: terms::<SupportHours>(language),
            subscription_statuses: terms::<SubscriptionStatus>(language),
            support_plans: terms::<SupportPlan>(language),
            partner_statuses: terms::<PartnerStatus>(language),
            remediation_statuses: terms::<PlanStatus>(language),
        }
    }
}

/// Names of values
///
/// Every closed set of values the API uses (categories, severities, statuses, criteria, …), each
/// value with its name for people in the answer's language. Programs match on `code`; people
/// read `label`.
#[utoipa::path(
    operation_id = "getVocabulary",
    tag = "vocabulary",
    responses(
        (status = 200, description = "Every value with its name.", body = Vocabulary),
        (status = 401, response = Unauthorized),
        (status = 503, response = ServiceUnavailable),
    ),
)]
#[get("/vocabulary")]
#[tracing::instrument(skip_all)]
pub async fn get_vocabulary(_caller: Caller<Anyone>, language: Language) -> HttpResponse {
    HttpResponse::Ok().json(Vocabulary::new(language))
}

pub fn configure(cfg: &mut utoipa_actix_web::service_config::ServiceConfig) {
    cfg.service(get_vocabulary);
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn every_value_has_a_name_in_every_language() {
        for language in Language::ALL {
            let vocabulary = serde_json::to_value(Vocabulary::new(language)).unwrap();
            for (set, terms) in vocabulary.as_object().unwrap() {
                for term in terms.as_array().unwrap() {
                    let label = term["label"].as_str().unwrap();
                    assert!(
                        !label.starts_with("Unknown localization"),
                        "{set}: {} has no name in {language}",
                        term["code"]
                    );
                }
            }
        }
    }
}
