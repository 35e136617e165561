//! Beijing time, which the SLA clock and remediation deadlines are reckoned in. China has kept
//! UTC+8 all year since 1991, so a fixed offset is exact.

use chrono::{DateTime, FixedOffset, NaiveDate, Utc};

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
