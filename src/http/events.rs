//! `/v1/events`: the feed partners sync from when webhooks were missed or an integration starts.
//! The same events, payloads and ids (`webhook-id`) as the webhooks, oldest first, resumable
//! after any event; operators see every partner's.

use actix_web::{HttpResponse, get, web};
use chrono::{DateTime, Utc};
use serde::{Deserialize, Serialize};
use utoipa::{IntoParams, ToSchema};
use uuid::Uuid;
use validator::Validate;

use crate::domain::Scope;
use crate::domain::webhook::EventType;
use crate::error::{ApiError, FieldError};
use crate::http::AppState;
use crate::http::auth::{Anyone, Caller};
use crate::http::event_data::AnyEvent;
use crate::http::extract::ValidQuery;
use crate::http::pagination::DEFAULT_LIMIT;
use crate::http::responses::*;
use crate::i18n::{Arg, Text};
use crate::store::events::{self as store, FeedRow};

const TAG: &str = "events";

#[derive(Debug, Deserialize, Validate, IntoParams)]
#[into_params(parameter_in = Query)]
#[serde(deny_unknown_fields)]
pub struct FeedQuery {
    /// Resume after this event: the `next_after` of the previous page, the `id` of any event
    /// seen here, or the `webhook-id` of a delivery. Omit to start from the oldest event kept.
    pub after: Option<Uuid>,
    /// Only events of these types, comma-separated: `escalation.created,escalation.sla_breached`.
    #[serde(rename = "type")]
    #[param(rename = "type", value_type = Option<EventTypes>, inline)]
    pub types: Option<String>,
    /// Events per page, 1–100 (default 25).
    #[validate(range(min = 1, max = 100))]
    #[param(minimum = 1, maximum = 100)]
    pub limit: Option<u64>,
}

/// One or more event types, comma-separated, as the `type` parameter takes them.
pub struct EventTypes;

impl EventTypes {
    const ONE: &str = r"(escalation\.(created|status_changed|note_added|attachment_added|attachment_removed|sla_warning|sla_breached)|service_incident\.(created|resolved)|remediation_plan\.requested)";

    fn pattern() -> String {
        format!("^{one}(,{one})*$", one = Self::ONE)
    }
}

impl utoipa::PartialSchema for EventTypes {
    fn schema() -> utoipa::openapi::RefOr<utoipa::openapi::schema::Schema> {
        utoipa::openapi::schema::ObjectBuilder::new()
            .schema_type(utoipa::openapi::schema::Type::String)
            .description(Some("Event types, comma-separated."))
            .pattern(Some(Self::pattern()))
            .examples([serde_json::json!(
                "escalation.sla_warning,escalation.sla_breached"
            )])
            .into()
    }
}

impl utoipa::ToSchema for EventTypes {}

/// An event, exactly as its webhook carries it, with the webhook's `webhook-id` as `id`; its
/// `data` for each `type` is in [`crate::http::event_data`].
#[derive(Debug, Serialize, Deserialize)]
pub struct FeedEvent {
    pub id: Uuid,
    #[serde(rename = "type")]
    pub event_type: EventType,
    pub timestamp: DateTime<Utc>,
    pub data: serde_json::Value,
}

/// The body a webhook carries, as kept in the outbox.
#[derive(Deserialize)]
struct Payload {
    #[serde(rename = "type")]
    event_type: EventType,
    timestamp: DateTime<Utc>,
    data: serde_json::Value,
}

impl TryFrom<FeedRow> for FeedEvent {
    type Error = ApiError;

    fn try_from(row: FeedRow) -> Result<Self, ApiError> {
        let payload: Payload = serde_json::from_str(&row.body).map_err(ApiError::internal)?;
        Ok(Self {
            id: row.id,
            event_type: payload.event_type,
            timestamp: payload.timestamp,
            data: payload.data,
        })
    }
}

/// A page of the feed.
#[derive(Debug, Serialize, ToSchema)]
#[schema(example = feed_example)]
pub struct EventFeed {
    /// Oldest first.
    #[schema(value_type = Vec<AnyEvent>)]
    pub items: Vec<FeedEvent>,
    /// Pass as `after` to continue: the last event of this page, or the `after` given when
    /// nothing newer exists yet. `null` only when the feed is empty.
    pub next_after: Option<Uuid>,
    /// Whether more events follow now; when `false`, poll again later from `next_after`.
    pub has_more: bool,
}

fn feed_example() -> serde_json::Value {
    serde_json::json!({
        "items": [{"id": "019ad1c2-7e10-7b35-9d0e-3f4f1c2b8a61", "type": "escalation.sla_warning",
            "timestamp": "2026-11-24T05:12:00.000000Z",
            "data": {"escalation": crate::http::escalations::escalation_example()}}],
        "next_after": "019ad1c2-7e10-7b35-9d0e-3f4f1c2b8a61",
        "has_more": false
    })
}

pub(crate) fn event_types(types: Option<&str>) -> Result<Vec<EventType>, ApiError> {
    let Some(types) = types else {
        return Ok(Vec::new());
    };
    types
        .split(',')
        .map(|name| {
            EventType::parse(name.trim()).ok_or_else(|| {
                let all = EventType::ALL
                    .iter()
                    .map(|t| Arg::from(t.as_str()))
                    .collect();
                ApiError::invalid_query(vec![FieldError::new(
                    "type",
                    "unknown_event_type",
                    Text::new("field-unknown-event-type").with("types", Arg::Alternatives(all)),
                )])
            })
        })
        .collect()
}

/// The event `after` names, as `scope` may see it. An `after` written longer ago than the
/// retention is 410 whether or not housekeeping has deleted its event yet (event ids are UUIDv7,
/// which carry their time), so a client learns it has a gap the same way on every instance at any
/// moment; one that names no event the caller may see is 404, as for another partner's.
pub(crate) async fn cursor(
    state: &AppState,
    scope: Scope,
    after: Uuid,
) -> Result<FeedRow, ApiError> {
    let written = after.get_timestamp().and_then(|at| {
        let (secs, nanos) = at.to_unix();
        DateTime::<Utc>::from_timestamp(i64::try_from(secs).ok()?, nanos)
    });
    if written.is_some_and(|written| written < Utc::now() - state.event_retention) {
        return Err(ApiError::Gone {
            code: "events_expired",
            detail: Text::new("problem-events-expired")
                .with("after", after.to_string())
                .with("days", state.event_retention.num_days()),
        });
    }
    store::find(&state.db, scope, after)
        .await?
        .ok_or_else(|| ApiError::not_found("event"))
}

/// The event feed
///
/// Everything you may see happen (escalations, notes, SLA warnings and breaches, service
/// incidents, remediation plans), oldest first, with the payloads and ids the webhooks carry.
/// Sync by passing each page's `next_after` as `after`; events are kept for the deployment's
/// retention (30 days by default), and an `after` older than that is 410; one that names no
/// event you may see is 404.
#[utoipa::path(
    operation_id = "listEvents",
    tag = TAG,
    params(FeedQuery),
    responses(
        (status = 200, description = "A page of events, oldest first.", body = EventFeed),
        ReadFailures,
        (status = 410, response = Gone),
    ),
)]
#[get("/events")]
pub async fn list_events(
    caller: Caller<Anyone>,
    state: web::Data<AppState>,
    query: ValidQuery<FeedQuery>,
) -> Result<HttpResponse, ApiError> {
    let types = event_types(query.types.as_deref())?;
    let scope = caller.scope();
    let after = match query.after {
        None => None,
        Some(id) => Some(cursor(&state, scope, id).await?),
    };
    let limit = query.limit.unwrap_or(DEFAULT_LIMIT);
    let mut rows = store::feed(&state.db, scope, after.as_ref(), &types, limit + 1).await?;
    let has_more = rows.len() as u64 > limit;
    rows.truncate(usize::try_from(limit).unwrap_or(usize::MAX));
    let next_after = rows.last().map(|row| row.id).or(query.after);
    let items = rows
        .into_iter()
        .map(FeedEvent::try_from)
        .collect::<Result<_, _>>()?;
    Ok(HttpResponse::Ok().json(EventFeed {
        items,
        next_after,
        has_more,
    }))
}

pub fn configure(cfg: &mut utoipa_actix_web::service_config::ServiceConfig) {
    cfg.service(list_events);
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_published_pattern_of_type_is_the_vocabulary() {
        let pattern = regex::Regex::new(&EventTypes::pattern()).unwrap();
        for event_type in EventType::ALL {
            assert!(pattern.is_match(event_type.as_str()), "{event_type:?}");
            assert!(event_types(Some(event_type.as_str())).is_ok());
        }
        let several = "escalation.created,service_incident.resolved";
        assert!(pattern.is_match(several));
        assert!(event_types(Some(several)).is_ok());
        for bad in [
            "",
            "escalation",
            "escalation.created,",
            "escalation.exploded",
        ] {
            assert!(!pattern.is_match(bad), "{bad}");
            assert!(event_types(Some(bad)).is_err(), "{bad}");
        }
    }
}
