//! `Accept-Language` (RFC 9110, 12.5.4): the caller's languages with their weights. Chinese in
//! simplified script — `zh`, `zh-Hans…`, `zh-CN`, `zh-SG`, `zh-MY` — is `zh-Hans`; `en…` is
//! English. The acceptable language with the highest weight wins (the first one on a tie);
//! with none, or a header that cannot be read, the deployment's default. Never an error.
//!
//! Not `fluent-langneg`, though it is in the tree through the Fluent crates: its
//! `Accept-Language` parser keeps only the order of the ranges, not their weights (so `zh;q=0`,
//! "anything but Chinese", would read as asking for Chinese), and its matching knows only a few
//! of CLDR's likely subtags, so it answers `zh-TW` and `zh-HK`, Han traditional, in simplified
//! Chinese. Both are tried in this module's tests.

use super::Language;

/// The language to answer in, for an `Accept-Language` header (if any).
pub fn negotiate(header: Option<&str>, default: Language) -> Language {
    let Some(header) = header else {
        return default;
    };
    let mut best: Option<(u16, Language)> = None;
    for item in header.split(',') {
        let Some((range, weight)) = parse_item(item) else {
            continue;
        };
        let Some(language) = served(range, default) else {
            continue;
        };
        if weight > 0 && best.is_none_or(|(best_weight, _)| weight > best_weight) {
            best = Some((weight, language));
        }
    }
    best.map_or(default, |(_, language)| language)
}

/// A language range and its weight in thousandths; `None` when the item is malformed.
fn parse_item(item: &str) -> Option<(&str, u16)> {
    let mut parts = item.split(';').map(str::trim);
    let range = parts.next().filter(|range| well_formed_range(range))?;
    let mut weight = 1000;
    for parameter in parts {
        let (name, value) = parameter.split_once('=')?;
        if !name.trim().eq_ignore_ascii_case("q") {
            return None;
        }
        weight = parse_weight(value.trim())?;
    }
    Some((range, weight))
}

/// `*`, or 1–8 letters followed by `-` and 1–8 letters or digits, any number of times.
fn well_formed_range(range: &str) -> bool {
    if range == "*" {
        return true;
    }
    let mut subtags = range.split('-');
    let primary = subtags.next().unwrap_or_default();
    (1..=8).contains(&primary.len())
        && primary.bytes().all(|b| b.is_ascii_alphabetic())
        && subtags.all(|subtag| {
            (1..=8).contains(&subtag.len()) && subtag.bytes().all(|b| b.is_ascii_alphanumeric())
        })
}

/// `0`, `1`, or up to three decimals (`0.5`, `1.000`), in thousandths.
fn parse_weight(value: &str) -> Option<u16> {
    let (whole, fraction) = value.split_once('.').unwrap_or((value, ""));
    if fraction.len() > 3 || !fraction.bytes().all(|b| b.is_ascii_digit()) {
        return None;
    }
    let thousandths = format!("{fraction:0<3}").parse::<u16>().ok()?;
    match whole {
        "0" => Some(thousandths),
        "1" if thousandths == 0 => Some(1000),
        _ => None,
    }
}

/// The language escalade answers a range in, if any.
fn served(range: &str, default: Language) -> Option<Language> {
    if range == "*" {
        return Some(default);
    }
    let lower = range.to_ascii_lowercase();
    let mut subtags = lower.split('-');
    match subtags.next()? {
        "en" => Some(Language::English),
        "zh" => {
            let rest: Vec<&str> = subtags.collect();
            let simplified = match rest.first() {
                None => true,
                Some(&"hans") => true,
                Some(&"hant") => false,
                Some(region) => matches!(*region, "cn" | "sg" | "my"),
            };
            simplified.then_some(Language::SimplifiedChinese)
        }
        _ => None,
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use Language::{English as En, SimplifiedChinese as Zh};

    #[test]
    fn chinese_in_simplified_script_is_zh_hans() {
        for header in [
            "zh",
            "zh-CN",
            "zh-Hans",
            "zh-SG",
            "zh-hans-cn",
            "ZH-cn",
            "zh-MY",
        ] {
            assert_eq!(negotiate(Some(header), En), Zh, "{header}");
        }
        for header in ["zh-TW", "zh-Hant", "zh-HK", "zh-Hant-CN"] {
            assert_eq!(negotiate(Some(header), En), En, "{header}");
        }
    }

    #[test]
    fn english_of_any_region_is_en() {
        for header in ["en", "en-US", "en-GB", "EN-au"] {
            assert_eq!(negotiate(Some(header), Zh), En, "{header}");
        }
    }

    #[test]
    fn the_highest_weight_wins_and_the_first_on_a_tie() {
        assert_eq!(negotiate(Some("en;q=0.5, zh-CN;q=0.9"), En), Zh);
        assert_eq!(negotiate(Some("zh-CN;q=0.4, en;q=0.6"), Zh), En);
        assert_eq!(negotiate(Some("fr, zh;q=0.8, en;q=0.7"), En), Zh);
        assert_eq!(negotiate(Some("en, zh"), Zh), En);
        assert_eq!(negotiate(Some("zh, en"), En), Zh);
        assert_eq!(negotiate(Some("zh-TW, zh-CN;q=0.5"), En), Zh);
        // q=0 means "not this one".
        assert_eq!(negotiate(Some("zh;q=0, en"), Zh), En);
        assert_eq!(negotiate(Some("zh;q=0"), En), En);
    }

    #[test]
    fn anything_else_is_the_default_never_an_error() {
        for header in [
            "",
            "fr",
            "*",
            "de-DE, fr;q=0.9",
            "🙂",
            "en;q=2",
            "zh;q=abc",
            "en;level=1",
            ";;;,,",
            "zh-CN;q=0.0000",
            "x-pirate",
        ] {
            assert_eq!(negotiate(Some(header), Zh), Zh, "{header:?}");
            assert_eq!(negotiate(Some(header), En), En, "{header:?}");
        }
        assert_eq!(negotiate(None, Zh), Zh);
        // Malformed items are skipped, well-formed ones still count.
        assert_eq!(negotiate(Some("en;q=2, zh-CN;q=0.8"), En), Zh);
    }
}
