//! China's business calendar: the public holidays the State Council announces for each year and
//! the weekend days worked in exchange (调休).
//!
//! The calendar is data. A file per year transcribes that year's notice (国务院办公厅关于某年
//! 部分节假日安排的通知): each holiday with its first and last day off and the make-up working
//! days the notice lists with it. The files for the years escalade ships are embedded; an
//! operator adds or corrects a year with `--calendar-dir` without a release. A year without a
//! file counts plain weekdays.

use std::collections::{BTreeMap, HashMap};
use std::path::Path;

use chrono::{Datelike, NaiveDate, Weekday};
use serde::Deserialize;

use crate::i18n::Language;

/// The notices shipped with escalade, as `(file name, contents)`.
const SHIPPED: &[(&str, &str)] = &[
    ("2024.json", include_str!("../../calendar/2024.json")),
    ("2025.json", include_str!("../../calendar/2025.json")),
    ("2026.json", include_str!("../../calendar/2026.json")),
];

/// One year's notice, as its file holds it.
#[derive(Debug, Clone, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct YearNotice {
    pub year: i32,
    pub source: Source,
    pub holidays: Vec<Holiday>,
}

/// Where a year's dates come from.
#[derive(Debug, Clone, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct Source {
    pub title: String,
    pub published: NaiveDate,
    pub url: String,
}

/// A holiday: its days off, `from` to `to` inclusive, and the weekend days worked for it.
#[derive(Debug, Clone, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct Holiday {
    pub name: HolidayName,
    pub from: NaiveDate,
    pub to: NaiveDate,
    pub working_days: Vec<NaiveDate>,
}

#[derive(Debug, Clone, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct HolidayName {
    pub en: String,
    #[serde(rename = "zh-Hans")]
    pub zh_hans: String,
}

impl HolidayName {
    pub fn in_language(&self, language: Language) -> String {
        language.pick(&self.en, Some(&self.zh_hans))
    }
}

impl Holiday {
    /// The days off, in order.
    pub fn days_off(&self) -> impl Iterator<Item = NaiveDate> + '_ {
        self.from.iter_days().take_while(|day| *day <= self.to)
    }
}

/// Why a calendar file was refused.
#[derive(Debug, thiserror::Error)]
#[error("business calendar {file}: {reason}")]
pub struct CalendarError {
    file: String,
    reason: String,
}

impl CalendarError {
    fn new(file: &str, reason: impl Into<String>) -> Self {
        Self {
            file: file.to_owned(),
            reason: reason.into(),
        }
    }
}

/// What a day is in the calendar.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum Exception {
    /// A day off for a holiday.
    Holiday,
    /// A weekend day worked for a holiday.
    WorkingDay,
}

/// The loaded notices and the days they make exceptions of.
#[derive(Debug, Clone, Default)]
pub struct BusinessCalendar {
    notices: BTreeMap<i32, YearNotice>,
    exceptions: HashMap<NaiveDate, Exception>,
}

impl BusinessCalendar {
    /// The shipped notices, then those in `dir` (`<year>.json`), which add years or replace a
    /// shipped one.
    pub fn load(dir: Option<&Path>) -> Result<Self, CalendarError> {
        let mut notices = BTreeMap::new();
        for (file, text) in SHIPPED {
            let notice = parse(file, text)?;
            notices.insert(notice.year, notice);
        }
        if let Some(dir) = dir {
            let shown = dir.display().to_string();
            let entries = std::fs::read_dir(dir)
                .map_err(|err| CalendarError::new(&shown, format!("cannot be read: {err}")))?;
            let mut paths: Vec<_> = entries
                .filter_map(|entry| entry.ok().map(|entry| entry.path()))
                .filter(|path| path.extension().is_some_and(|ext| ext == "json"))
                .collect();
            paths.sort();
            for path in paths {
                let shown = path.display().to_string();
                let text = std::fs::read_to_string(&path)
                    .map_err(|err| CalendarError::new(&shown, format!("cannot be read: {err}")))?;
                let notice = parse(&shown, &text)?;
                notices.insert(notice.year, notice);
            }
        }
        Self::from_notices(notices.into_values())
    }

    /// A calendar of exactly these notices (tests use it to stand for other years).
    pub fn from_notices(
        notices: impl IntoIterator<Item = YearNotice>,
    ) -> Result<Self, CalendarError> {
        let mut calendar = Self::default();
        for notice in notices {
            let file = format!("{}.json", notice.year);
            for holiday in &notice.holidays {
                let days = holiday
                    .days_off()
                    .map(|day| (day, Exception::Holiday))
                    .chain(
                        holiday
                            .working_days
                            .iter()
                            .map(|day| (*day, Exception::WorkingDay)),
                    );
                for (day, exception) in days {
                    if calendar.exceptions.insert(day, exception).is_some() {
                        return Err(CalendarError::new(&file, format!("{day} is listed twice")));
                    }
                }
            }
            calendar.notices.insert(notice.year, notice);
        }
        Ok(calendar)
    }

    /// Whether 21Vianet's business-hours support works on `day`: a make-up working day, or a
    /// weekday that is not a day off. In a year without a notice, every weekday.
    pub fn is_business_day(&self, day: NaiveDate) -> bool {
        match self.exceptions.get(&day) {
            Some(Exception::Holiday) => false,
            Some(Exception::WorkingDay) => true,
            None => !matches!(day.weekday(), Weekday::Sat | Weekday::Sun),
        }
    }

    /// The notice for `year`, if one is loaded.
    pub fn year(&self, year: i32) -> Option<&YearNotice> {
        self.notices.get(&year)
    }

    /// The years with a notice, in order.
    pub fn years(&self) -> impl Iterator<Item = i32> + '_ {
        self.notices.keys().copied()
    }
}

/// Parses and checks one notice: the year its name gives (when it is `<year>.json`), days off
/// in order and inside the notice's year, and make-up working days on weekends.
fn parse(file: &str, text: &str) -> Result<YearNotice, CalendarError> {
    let notice: YearNotice =
        serde_json::from_str(text).map_err(|err| CalendarError::new(file, err.to_string()))?;
    let named = Path::new(file)
        .file_stem()
        .and_then(|stem| stem.to_str())
        .and_then(|stem| stem.parse::<i32>().ok())
        .ok_or_else(|| CalendarError::new(file, "is not named <year>.json"))?;
    if named != notice.year {
        return Err(CalendarError::new(
            file,
            format!("holds year {}, not {named}", notice.year),
        ));
    }
    for holiday in &notice.holidays {
        let name = &holiday.name.en;
        if holiday.name.en.trim().is_empty() || holiday.name.zh_hans.trim().is_empty() {
            return Err(CalendarError::new(
                file,
                "a holiday needs its name in both languages",
            ));
        }
        if holiday.to < holiday.from {
            return Err(CalendarError::new(
                file,
                format!("{name} ends before it starts"),
            ));
        }
        if holiday.from.year() != notice.year && holiday.to.year() != notice.year {
            return Err(CalendarError::new(
                file,
                format!("{name} falls outside {}", notice.year),
            ));
        }
        if let Some(day) = holiday
            .working_days
            .iter()
            .find(|day| !matches!(day.weekday(), Weekday::Sat | Weekday::Sun))
        {
            return Err(CalendarError::new(
                file,
                format!("{name}'s make-up working day {day} is not a Saturday or a Sunday"),
            ));
        }
    }
    Ok(notice)
}

#[cfg(test)]
mod tests {
    use super::*;

    fn day(text: &str) -> NaiveDate {
        text.parse().unwrap()
    }

    fn shipped() -> BusinessCalendar {
        BusinessCalendar::load(None).unwrap()
    }

    #[test]
    fn every_shipped_notice_loads() {
        let calendar = shipped();
        assert_eq!(calendar.years().collect::<Vec<_>>(), vec![2024, 2025, 2026]);
    }

    #[test]
    fn the_2026_days_off_and_make_up_days() {
        let calendar = shipped();
        for off in [
            "2026-01-01",
            "2026-01-02",
            "2026-02-16",
            "2026-02-20",
            "2026-02-23",
            "2026-04-06",
            "2026-05-04",
            "2026-05-05",
            "2026-06-19",
            "2026-09-25",
            "2026-10-01",
            "2026-10-07",
        ] {
            assert!(!calendar.is_business_day(day(off)), "{off} is a day off");
        }
        for worked in [
            "2026-01-04",
            "2026-02-14",
            "2026-02-28",
            "2026-05-09",
            "2026-09-20",
            "2026-10-10",
        ] {
            assert!(calendar.is_business_day(day(worked)), "{worked} is worked");
        }
        // Ordinary days either side.
        assert!(calendar.is_business_day(day("2026-02-24")));
        assert!(calendar.is_business_day(day("2026-10-08")));
        assert!(
            !calendar.is_business_day(day("2026-10-11")),
            "a plain Sunday"
        );
    }

    #[test]
    fn a_year_without_a_notice_counts_weekdays() {
        let calendar = shipped();
        assert!(calendar.year(2027).is_none());
        assert!(calendar.is_business_day(day("2027-01-01")), "a Friday");
        assert!(!calendar.is_business_day(day("2027-01-02")), "a Saturday");
    }

    fn notice(text: &str) -> Result<YearNotice, CalendarError> {
        parse("2026.json", text)
    }

    #[test]
    fn malformed_notices_are_refused_with_a_reason() {
        let source = r#""source": {"title": "t", "published": "2025-11-04", "url": "u"}"#;
        let holiday = |from: &str, to: &str, worked: &str| {
            format!(
                r#"{{"year": 2026, {source}, "holidays": [{{"name": {{"en": "X", "zh-Hans": "十"}},
                "from": "{from}", "to": "{to}", "working_days": [{worked}]}}]}}"#
            )
        };
        let reason = |text: String| notice(&text).unwrap_err().to_string();
        assert!(reason(holiday("2026-10-07", "2026-10-01", "")).contains("ends before"));
        assert!(reason(holiday("2027-10-01", "2027-10-07", "")).contains("outside 2026"));
        assert!(
            reason(holiday("2026-10-01", "2026-10-07", r#""2026-10-09""#))
                .contains("not a Saturday")
        );
        assert!(
            reason(format!(r#"{{"year": 2025, {source}, "holidays": []}}"#)).contains("not 2026")
        );
        assert!(
            reason(format!(
                r#"{{"year": 2026, {source}, "holidays": [], "extra": 1}}"#
            ))
            .contains("unknown field")
        );
        let twice = parse(
            "2026.json",
            &holiday("2026-10-01", "2026-10-07", r#""2026-10-10", "2026-10-10""#),
        )
        .unwrap();
        assert!(
            BusinessCalendar::from_notices([twice])
                .unwrap_err()
                .to_string()
                .contains("twice")
        );
    }

    #[test]
    fn an_operator_file_adds_a_year_and_replaces_a_shipped_one() {
        let dir = tempfile::tempdir().unwrap();
        let source = r#""source": {"title": "t", "published": "2026-11-01", "url": "u"}"#;
        std::fs::write(
            dir.path().join("2027.json"),
            format!(
                r#"{{"year": 2027, {source}, "holidays": [{{"name": {{"en": "X", "zh-Hans": "十"}},
                "from": "2027-01-01", "to": "2027-01-01", "working_days": []}}]}}"#
            ),
        )
        .unwrap();
        std::fs::write(
            dir.path().join("2026.json"),
            format!(r#"{{"year": 2026, {source}, "holidays": []}}"#),
        )
        .unwrap();
        let calendar = BusinessCalendar::load(Some(dir.path())).unwrap();
        assert!(!calendar.is_business_day(day("2027-01-01")));
        assert!(calendar.is_business_day(day("2026-10-08")));
        assert!(
            calendar.is_business_day(day("2026-10-01")),
            "the operator's 2026 has no holidays"
        );
        std::fs::write(dir.path().join("next.json"), "{}").unwrap();
        assert!(BusinessCalendar::load(Some(dir.path())).is_err());
    }
}
