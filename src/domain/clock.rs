//! Beijing time, which the SLA clock and remediation deadlines are reckoned in. China has kept
//! UTC+8 all year since 1991, so a fixed offset is exact.

use std::ops::RangeInclusive;

use chrono::{DateTime, Datelike, FixedOffset, NaiveDate, Utc};

use super::Invalid;
use crate::i18n::Text;

/// The years escalade's clocks reckon in: business calendars, due times and the instants callers
/// ask about. A time outside them is a typo or a probe, and one past 9999 cannot even be written
/// in RFC 3339.
pub const YEARS: RangeInclusive<i32> = 1970..=2100;

/// A year as a path or query names it: four digits, in [`YEARS`] (`+2026` and `02026` are not
/// how anyone writes a year).
pub fn parse_year(text: &str) -> Result<i32, Invalid> {
    text.parse::<i32>()
        .ok()
        .filter(|_| text.len() == 4 && text.bytes().all(|b| b.is_ascii_digit()))
        .filter(|year| YEARS.contains(year))
        .ok_or_else(|| Invalid::new("invalid_year", year_range("field-invalid-year")))
}

/// An instant as RFC 3339 writes it (`2026-10-03T22:00:00+08:00`), in [`YEARS`].
pub fn parse_instant(text: &str) -> Result<DateTime<Utc>, Invalid> {
    let instant = DateTime::parse_from_rfc3339(text)
        .map_err(|_| Invalid::new("invalid_datetime", Text::new("field-invalid-datetime")))?
        .to_utc();
    if YEARS.contains(&instant.year()) {
        Ok(instant)
    } else {
        Err(Invalid::new(
            "out_of_range",
            year_range("field-datetime-out-of-range"),
        ))
    }
}

fn year_range(key: &'static str) -> Text {
    // Plain, not counts: a year is never written with a thousands separator.
    Text::new(key)
        .with("first", YEARS.start().to_string())
        .with("last", YEARS.end().to_string())
}

pub fn beijing() -> FixedOffset {
    FixedOffset::east_opt(8 * 3600).expect("UTC+8 is a valid offset")
}

/// Today's date in Beijing.
pub fn today_in_beijing(now: DateTime<Utc>) -> NaiveDate {
    now.with_timezone(&beijing()).date_naive()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn years_are_four_digits_within_the_clocks_range() {
        assert_eq!(parse_year("2026").unwrap(), 2026);
        assert_eq!(parse_year("1970").unwrap(), 1970);
        assert_eq!(parse_year("2100").unwrap(), 2100);
        for refused in [
            "0000",
            "1969",
            "2101",
            "9999",
            "+2026",
            "02026",
            "0002026",
            "-2026",
            " 2026",
            "2026 ",
            "二〇二六",
            "",
        ] {
            assert_eq!(
                parse_year(refused).unwrap_err().code,
                "invalid_year",
                "{refused}"
            );
        }
    }

    #[test]
    fn instants_are_rfc_3339_within_the_clocks_years() {
        let beijing = parse_instant("2026-10-03T22:00:00+08:00").unwrap();
        assert_eq!(beijing, parse_instant("2026-10-03T14:00:00Z").unwrap());
        assert!(parse_instant("2100-12-31T15:59:59Z").is_ok());
        for (refused, code) in [
            ("9999-12-31T23:59:59Z", "out_of_range"),
            ("0000-01-01T00:00:00Z", "out_of_range"),
            ("1969-12-31T23:59:59Z", "out_of_range"),
            ("+2026-10-03T14:00:00Z", "invalid_datetime"),
            ("02026-10-03T14:00:00Z", "invalid_datetime"),
            ("+10000-01-03T00:00:00Z", "invalid_datetime"),
            ("2026-10-03", "invalid_datetime"),
            ("2026-10-03T14:00:00", "invalid_datetime"),
            ("2026-02-30T14:00:00Z", "invalid_datetime"),
        ] {
            assert_eq!(parse_instant(refused).unwrap_err().code, code, "{refused}");
        }
    }

    #[test]
    fn today_is_counted_in_beijing() {
        let late_utc = DateTime::parse_from_rfc3339("2026-11-30T17:00:00Z")
            .unwrap()
            .to_utc();
        assert_eq!(
            today_in_beijing(late_utc),
            NaiveDate::from_ymd_opt(2026, 12, 1).unwrap()
        );
    }
}
