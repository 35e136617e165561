//! `/v1/business-calendar/{year}` and `/v1/sla/due`: China's business calendar as the SLA clock
//! uses it, and when a first response would be due, so front ends can tell before submitting.

use actix_web::{HttpResponse, get, web};
use chrono::{DateTime, NaiveDate, Utc};
use serde::{Deserialize, Serialize};
use utoipa::{IntoParams, ToSchema};
use validator::Validate;

use crate::domain::calendar::{Holiday, Source, YearNotice};
use crate::domain::clock;
use crate::domain::escalation::Severity;
use crate::domain::escalation::sla::response_target;
use crate::error::{ApiError, FieldError};
use crate::http::AppState;
use crate::http::auth::{Anyone, Caller};
use crate::http::extract::ValidQuery;
use crate::http::fields;
use crate::http::responses::*;
use crate::i18n::{Language, Text};

const TAG: &str = "calendar";

/// Where a year's dates come from: the State Council's notice.
#[derive(Debug, Serialize, ToSchema)]
pub struct CalendarSource {
    pub title: String,
    pub published: NaiveDate,
    pub url: String,
}

/// A public holiday: its days off, `from` to `to`, and the weekend days worked for it (调休).
#[derive(Debug, Serialize, ToSchema)]
pub struct CalendarHoliday {
    /// In the answer's language.
    pub name: String,
    pub from: NaiveDate,
    pub to: NaiveDate,
    /// Days off, `from` to `to` inclusive.
    pub days_off: u32,
    /// Saturdays and Sundays that are working days for this holiday.
    pub working_days: Vec<NaiveDate>,
}

/// A year of China's business calendar. Business-hours SLAs run 09:00–18:00 Beijing time on
/// weekdays that are not days off, and on the working days listed.
#[derive(Debug, Serialize, ToSchema)]
#[schema(example = json!({
    "year": 2026,
    "source": {"title": "国务院办公厅关于2026年部分节假日安排的通知", "published": "2025-11-04",
        "url": "https://politics.gmw.cn/2025-11/04/content_38391083.htm"},
    "holidays": [{"name": "National Day", "from": "2026-10-01", "to": "2026-10-07", "days_off": 7,
        "working_days": ["2026-09-20", "2026-10-10"]}]
}))]
pub struct BusinessCalendarYear {
    pub year: i32,
    pub source: CalendarSource,
    pub holidays: Vec<CalendarHoliday>,
}

impl BusinessCalendarYear {
    fn of(notice: &YearNotice, language: Language) -> Self {
        let Source {
            title,
            published,
            url,
        } = notice.source.clone();
        Self {
            year: notice.year,
            source: CalendarSource {
                title,
                published,
                url,
            },
            holidays: notice
                .holidays
                .iter()
                .map(|holiday: &Holiday| CalendarHoliday {
                    name: holiday.name.in_language(language),
                    from: holiday.from,
                    to: holiday.to,
                    days_off: u32::try_from(holiday.days_off().count()).unwrap_or(u32::MAX),
                    working_days: holiday.working_days.clone(),
                })
                .collect(),
        }
    }
}

/// A year of the business calendar
///
/// The year's public holidays and the weekend days worked in exchange, from the State Council's
/// notice. 404 for a year without a notice: its SLA clock counts plain weekdays.
#[utoipa::path(
    operation_id = "getBusinessCalendar",
    tag = TAG,
    params(("year" = i32, Path, minimum = 1970, maximum = 2100, description = "The year, four digits, such as 2026.")),
    responses(
        (status = 200, description = "The year's holidays and make-up working days.", body = BusinessCalendarYear),
        ReadFailures,
    ),
)]
#[get("/business-calendar/{year}")]
pub async fn get_business_calendar(
    _caller: Caller<Anyone>,
    language: Language,
    state: web::Data<AppState>,
    year: web::Path<String>,
) -> Result<HttpResponse, ApiError> {
    let year = clock::parse_year(&year).map_err(|invalid| ApiError::BadRequest {
        code: "invalid_path_parameter",
        detail: Text::new("problem-invalid-path-parameter"),
        errors: vec![FieldError::new("year", invalid.code, invalid.message)],
    })?;
    let notice = state
        .sla
        .calendar()
        .year(year)
        .ok_or(ApiError::not_found("business calendar"))?;
    Ok(HttpResponse::Ok().json(BusinessCalendarYear::of(notice, language)))
}

#[derive(Debug, Deserialize, Validate, IntoParams)]
#[into_params(parameter_in = Query)]
#[serde(deny_unknown_fields)]
pub struct DueQuery {
    pub severity: Severity,
    /// When the escalation would be submitted (RFC 3339, in the years 1970 to 2100); now when
    /// omitted.
    #[param(value_type = Option<DateTime<Utc>>)]
    #[validate(custom(function = "fields::instant"))]
    pub from: Option<String>,
}

/// Which clock a severity's response time runs on.
#[derive(Debug, Clone, Copy, Serialize, ToSchema)]
#[serde(rename_all = "snake_case")]
pub enum SlaClockKind {
    /// Every hour counts (critical).
    AroundTheClock,
    /// 09:00–18:00 Beijing time on business days only.
    BusinessHours,
}

/// When 21Vianet's first response would be due.
#[derive(Debug, Serialize, ToSchema)]
#[schema(example = json!({
    "severity": "moderate", "from": "2026-09-30T08:00:00Z", "clock": "business_hours",
    "warning_at": "2026-10-08T02:12:00Z", "response_due_at": "2026-10-08T03:00:00Z"
}))]
pub struct SlaDue {
    pub severity: Severity,
    pub from: DateTime<Utc>,
    pub clock: SlaClockKind,
    /// When an escalation still unanswered becomes at risk and `escalation.sla_warning` is
    /// announced.
    pub warning_at: DateTime<Utc>,
    pub response_due_at: DateTime<Utc>,
}

/// When a first response would be due
///
/// For an escalation of `severity` submitted at `from` (or now): the time its first response
/// would be due and the time it would be at risk, on China's business calendar.
#[utoipa::path(
    operation_id = "getSlaDue",
    tag = TAG,
    params(DueQuery),
    responses(
        (status = 200, description = "The due times.", body = SlaDue),
        RequestFailures,
    ),
)]
#[get("/sla/due")]
pub async fn get_sla_due(
    _caller: Caller<Anyone>,
    state: web::Data<AppState>,
    query: ValidQuery<DueQuery>,
) -> Result<HttpResponse, ApiError> {
    let from = query
        .from
        .as_deref()
        .map(clock::parse_instant)
        .transpose()
        .map_err(|invalid| {
            ApiError::invalid_query(vec![FieldError::new("from", invalid.code, invalid.message)])
        })?
        .unwrap_or_else(Utc::now);
    let severity = query.severity;
    let clock = match response_target(severity) {
        (_, true) => SlaClockKind::BusinessHours,
        (_, false) => SlaClockKind::AroundTheClock,
    };
    Ok(HttpResponse::Ok().json(SlaDue {
        severity,
        from,
        clock,
        warning_at: state.sla.warning_at(severity, from),
        response_due_at: state.sla.response_due_at(severity, from),
    }))
}

pub fn configure(cfg: &mut utoipa_actix_web::service_config::ServiceConfig) {
    cfg.service(get_business_calendar).service(get_sla_due);
}
