//! `/v1/business-calendar/{year}`, `/v1/sla/due` and `/v1/sla/policy`: China's business
//! calendar as the SLA clock uses it, when a first response would be due, so front ends can
//! tell before submitting, and the SLA policy that decides it.

use actix_web::{HttpResponse, get, web};
use chrono::{DateTime, NaiveDate, Utc};
use serde::{Deserialize, Serialize};
use utoipa::{IntoParams, ToSchema};
use validator::Validate;

use crate::domain::calendar::{Holiday, Source, YearNotice};
use crate::domain::catalog::Category;
use crate::domain::clock;
use crate::domain::escalation::Severity;
use crate::domain::escalation::policy::{ProblemKind, Window};
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

/// A year of China's business calendar. SLA clocks that run on business days (billing problems,
/// 09:00–18:00 Beijing time) count weekdays that are not days off, and the working days listed.
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
    /// The escalation's category, which decides its support window (`billing_dispute`:
    /// billing; any other: technical); technical when omitted.
    pub category: Option<Category>,
    /// When the escalation would be submitted (RFC 3339, in the years 1970 to 2100); now when
    /// omitted.
    #[param(value_type = Option<DateTime<Utc>>)]
    #[validate(custom(function = "fields::instant"))]
    pub from: Option<String>,
}

/// Which days an SLA clock runs on.
#[derive(Debug, Clone, Copy, Serialize, ToSchema)]
#[serde(rename_all = "snake_case")]
pub enum WindowDays {
    /// Every hour of every day.
    AroundTheClock,
    /// Every day of the year, holidays included.
    Daily,
    /// China's business days (see `/v1/business-calendar/{year}`).
    BusinessDays,
}

/// The support window an SLA clock runs in, Beijing time.
#[derive(Debug, Clone, Serialize, ToSchema)]
#[schema(example = json!({"days": "daily", "opens": "09:00", "closes": "24:00"}))]
pub struct SlaWindow {
    pub days: WindowDays,
    /// When support opens each day, `HH:MM`; absent around the clock.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub opens: Option<String>,
    /// When it closes, `HH:MM`, `24:00` being midnight at the end of the day.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub closes: Option<String>,
}

impl From<Window> for SlaWindow {
    fn from(window: Window) -> Self {
        let days = match window {
            Window::AroundTheClock => WindowDays::AroundTheClock,
            Window::Daily(_) => WindowDays::Daily,
            Window::BusinessDays(_) => WindowDays::BusinessDays,
        };
        let hours = window.hours();
        Self {
            days,
            opens: hours.map(|hours| hours.opens.to_string()),
            closes: hours.map(|hours| hours.closes.to_string()),
        }
    }
}

/// The window in words, in `language`.
fn described(window: Window, language: Language) -> String {
    let text = match window {
        Window::AroundTheClock => Text::new("sla-window-around-the-clock"),
        Window::Daily(hours) => Text::new("sla-window-daily")
            .with("opens", hours.opens.to_string())
            .with("closes", hours.closes.to_string()),
        Window::BusinessDays(hours) => Text::new("sla-window-business-days")
            .with("opens", hours.opens.to_string())
            .with("closes", hours.closes.to_string()),
    };
    text.render(language)
}

/// When 21Vianet's first response would be due.
#[derive(Debug, Serialize, ToSchema)]
#[schema(example = json!({
    "severity": "moderate", "category": "billing_dispute", "from": "2026-09-30T08:00:00Z",
    "window": {"days": "business_days", "opens": "09:00", "closes": "18:00"},
    "warning_at": "2026-10-08T02:12:00Z", "response_due_at": "2026-10-08T03:00:00Z"
}))]
pub struct SlaDue {
    pub severity: Severity,
    /// The category asked about; `null` when none was (a technical problem).
    pub category: Option<Category>,
    pub from: DateTime<Utc>,
    /// The support window the clock runs in.
    pub window: SlaWindow,
    /// When an escalation still unanswered becomes at risk and `escalation.sla_warning` is
    /// announced.
    pub warning_at: DateTime<Utc>,
    pub response_due_at: DateTime<Utc>,
}

/// When a first response would be due
///
/// For an escalation of `severity` and `category` submitted at `from` (or now): the time its
/// first response would be due and the time it would be at risk, in the support window the SLA
/// policy gives it (see `GET /v1/sla/policy`). A severity the category may not be escalated at
/// (billing problems are at most moderate) is 400.
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
    let kind = query
        .category
        .map_or(ProblemKind::Technical, ProblemKind::of);
    let Some(window) = state.sla.policy().target(severity).window(kind) else {
        let highest = state.sla.policy().highest_severity(kind);
        return Err(ApiError::invalid_query(vec![FieldError::new(
            "severity",
            "severity_not_for_category",
            Text::new("criterion-severity-above-kind")
                .with("kind", kind.as_str())
                .with("highest", highest.as_str()),
        )]));
    };
    Ok(HttpResponse::Ok().json(SlaDue {
        severity,
        category: query.category,
        from,
        window: window.into(),
        warning_at: state.sla.warning_in(severity, window, from),
        response_due_at: state.sla.response_due_in(severity, window, from),
    }))
}

/// A support window, with its words in the caller's language.
#[derive(Debug, Serialize, ToSchema)]
pub struct PolicyWindow {
    #[serde(flatten)]
    pub window: SlaWindow,
    /// The window in words: "every day, holidays included, 09:00 to 24:00 Beijing time".
    pub description: String,
}

/// What the SLA policy gives a severity.
#[derive(Debug, Serialize, ToSchema)]
pub struct SeverityTarget {
    pub severity: Severity,
    /// How soon 21Vianet's first response is due, in hours counted inside the window.
    pub response_hours: i64,
    /// The window for technical problems (every escalated category but `billing_dispute`).
    pub technical: PolicyWindow,
    /// The window for billing, subscription and quota problems (`billing_dispute`); `null`
    /// when they may not be escalated at this severity.
    pub billing: Option<PolicyWindow>,
}

/// Where the policy comes from.
#[derive(Debug, Serialize, ToSchema)]
pub struct PolicySourceView {
    pub title: String,
    pub url: String,
}

/// The SLA policy: for each severity, the response time and the support windows.
#[derive(Debug, Serialize, ToSchema)]
#[schema(example = json!({
    "source": {"title": "Azure 由世纪互联运营 支持计划：响应时间",
        "url": "https://support.azure.cn/zh-cn/support/plans/response/"},
    "severities": [{"severity": "moderate", "response_hours": 4,
        "technical": {"days": "daily", "opens": "09:00", "closes": "24:00",
            "description": "every day, holidays included, 09:00 to 24:00 Beijing time"},
        "billing": {"days": "business_days", "opens": "09:00", "closes": "18:00",
            "description": "business days on China's calendar, 09:00 to 18:00 Beijing time"}}]
}))]
pub struct SlaPolicyView {
    pub source: PolicySourceView,
    /// From the most to the least severe.
    pub severities: Vec<SeverityTarget>,
}

/// The SLA policy
///
/// 21Vianet's support plan as this deployment applies it: for each severity, how soon the
/// first response is due and the support window each kind of problem's clock runs in, with the
/// windows in words in the caller's language. Billing problems have no window at a severity
/// they may not be escalated at.
#[utoipa::path(
    operation_id = "getSlaPolicy",
    tag = TAG,
    responses(
        (status = 200, description = "The policy.", body = SlaPolicyView),
        ReadFailures,
    ),
)]
#[get("/sla/policy")]
pub async fn get_sla_policy(
    _caller: Caller<Anyone>,
    language: Language,
    state: web::Data<AppState>,
) -> Result<HttpResponse, ApiError> {
    let policy = state.sla.policy();
    let view = |window: Window| PolicyWindow {
        window: window.into(),
        description: described(window, language),
    };
    let severities = [Severity::Critical, Severity::Moderate, Severity::Minimal]
        .into_iter()
        .map(|severity| {
            let target = policy.target(severity);
            SeverityTarget {
                severity,
                response_hours: target.response_time.num_hours(),
                technical: view(target.technical),
                billing: target.billing.map(view),
            }
        })
        .collect();
    Ok(HttpResponse::Ok().json(SlaPolicyView {
        source: PolicySourceView {
            title: policy.source.title.clone(),
            url: policy.source.url.clone(),
        },
        severities,
    }))
}

pub fn configure(cfg: &mut utoipa_actix_web::service_config::ServiceConfig) {
    cfg.service(get_business_calendar)
        .service(get_sla_due)
        .service(get_sla_policy);
}
