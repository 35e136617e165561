//! Field rules for request bodies: `validator` custom functions that delegate to the domain
//! newtypes, so each rule is written once and every broken one is reported together.

use std::borrow::Cow;

use serde::de::Error as _;
use serde::{Deserialize, Deserializer};

use validator::ValidationError;

use crate::domain::search::SearchText;
use crate::domain::{
    CompanyName, CountryCode, DisplayName, DomainName, EmailAddress, HttpsUrl, Invalid, MpnId,
    PhoneNumber, ServiceKey, TimeZoneName, Title,
};
use crate::error::{ApiError, FieldError};
use crate::i18n::{Arg, Text};

fn rule<T>(parsed: Result<T, Invalid>) -> Result<(), ValidationError> {
    parsed
        .map(drop)
        .map_err(|invalid| refusal(invalid.code, &invalid.message))
}

/// A `validator` error carrying a catalogue text: its key as the message, its plain and count
/// arguments as parameters (all this crate's rules need). `extract::field_errors` reads it back.
pub fn refusal(code: &'static str, text: &Text) -> ValidationError {
    let mut error = ValidationError::new(code).with_message(Cow::Borrowed(text.key()));
    for (name, arg) in text.args() {
        match arg {
            Arg::Count(count) => error.add_param(Cow::Borrowed(*name), count),
            Arg::Plain(plain) => error.add_param(Cow::Borrowed(*name), plain),
            _ => {}
        }
    }
    error
}

pub fn company_name(value: &str) -> Result<(), ValidationError> {
    rule(CompanyName::parse(value))
}

pub fn display_name(value: &str) -> Result<(), ValidationError> {
    rule(DisplayName::parse(value))
}

pub fn domain(value: &str) -> Result<(), ValidationError> {
    rule(DomainName::parse(value))
}

pub fn email(value: &str) -> Result<(), ValidationError> {
    rule(EmailAddress::parse(value))
}

pub fn phone(value: &str) -> Result<(), ValidationError> {
    rule(PhoneNumber::parse(value))
}

pub fn time_zone(value: &str) -> Result<(), ValidationError> {
    rule(TimeZoneName::parse(value))
}

pub fn country(value: &str) -> Result<(), ValidationError> {
    rule(parse_country(value))
}

pub fn parse_country(value: &str) -> Result<CountryCode, Invalid> {
    CountryCode::parse(value)
        .ok_or_else(|| Invalid::new("invalid_country", Text::new("invalid-country")))
}

pub fn title(value: &str) -> Result<(), ValidationError> {
    rule(Title::parse(value))
}

pub fn paragraph(value: &str) -> Result<(), ValidationError> {
    rule(crate::domain::Paragraph::parse(value))
}

pub fn https_url(value: &str) -> Result<(), ValidationError> {
    rule(HttpsUrl::parse(value))
}

pub fn webhook_url(value: &str) -> Result<(), ValidationError> {
    rule(crate::domain::webhook::WebhookUrl::parse(value))
}

pub fn instant(value: &str) -> Result<(), ValidationError> {
    rule(crate::domain::clock::parse_instant(value))
}

pub fn service_key(value: &str) -> Result<(), ValidationError> {
    rule(ServiceKey::parse(value))
}

/// An optional integer that also takes a float with no fraction (`250.0`): JSON Schema counts
/// that as the integer 250, so a client may send it; serde's `i32` would not read it.
pub fn integral<'de, D: Deserializer<'de>>(deserializer: D) -> Result<Option<i32>, D::Error> {
    let Some(number) = Option::<serde_json::Number>::deserialize(deserializer)? else {
        return Ok(None);
    };
    let whole = number.as_i64().or_else(|| {
        number
            .as_f64()
            .filter(|f| f.fract() == 0.0 && f.abs() <= 1e15)
            .map(|f| f as i64)
    });
    whole
        .and_then(|n| i32::try_from(n).ok())
        .map(Some)
        .ok_or_else(|| D::Error::custom(format!("invalid type: {number}, expected an integer")))
}

/// No value twice in a list.
pub fn distinct<T: PartialEq>(values: &[T]) -> Result<(), ValidationError> {
    let repeated = values
        .iter()
        .enumerate()
        .any(|(i, v)| values[..i].contains(v));
    if repeated {
        Err(refusal("duplicate", &Text::new("field-duplicate-values")))
    } else {
        Ok(())
    }
}

pub fn mpn_id(value: &str) -> Result<(), ValidationError> {
    rule(MpnId::parse(value))
}

/// Turns an already validated field into its domain type. Validation ran the same rule, so an
/// error here is only possible if the two ever drift apart; it is still answered, never panicked.
pub fn parsed<T>(
    field: &str,
    value: &str,
    parse: impl Fn(&str) -> Result<T, Invalid>,
) -> Result<T, ApiError> {
    parse(value).map_err(|invalid| {
        ApiError::invalid_fields(vec![FieldError::new(field, invalid.code, invalid.message)])
    })
}

/// An optional field parsed when given.
pub fn optional<T>(
    field: &str,
    value: Option<String>,
    parse: impl Fn(&str) -> Result<T, Invalid>,
) -> Result<Option<T>, ApiError> {
    value.map(|value| parsed(field, &value, parse)).transpose()
}

/// A search query parameter when one is typed: an empty search box (`q=`) filters nothing, and
/// a query that cannot find anything useful is 400 `invalid_query`.
pub fn search_text(field: &str, value: Option<String>) -> Result<Option<SearchText>, ApiError> {
    let Some(value) = value.filter(|q| !q.trim().is_empty()) else {
        return Ok(None);
    };
    SearchText::parse(&value).map(Some).map_err(|invalid| {
        ApiError::invalid_query(vec![FieldError::new(field, invalid.code, invalid.message)])
    })
}

/// A field `#[validate(required)]` already guaranteed; absent only if the two drift apart.
pub fn present<T>(field: &str, value: Option<T>) -> Result<T, ApiError> {
    value.ok_or_else(|| {
        ApiError::invalid_fields(vec![FieldError::new(
            field,
            "required",
            Text::new("field-required"),
        )])
    })
}
