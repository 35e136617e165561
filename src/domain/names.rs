//! Text newtypes shared by every resource: company and person names, DNS names, e-mail
//! addresses and phone numbers. Each `parse` is the one place its rule is written down.

use std::fmt;

use crate::i18n::Text;

/// Why a value was refused: a stable `code` for programs and a sentence for people.
#[derive(Debug, Clone, PartialEq)]
pub struct Invalid {
    pub code: &'static str,
    pub message: Text,
}

impl Invalid {
    pub fn new(code: &'static str, message: Text) -> Self {
        Self { code, message }
    }
}

macro_rules! string_newtype {
    ($name:ident) => {
        impl $name {
            pub fn as_str(&self) -> &str {
                &self.0
            }

            pub fn into_inner(self) -> String {
                self.0
            }
        }

        impl fmt::Display for $name {
            fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
                f.write_str(&self.0)
            }
        }
    };
}

/// Free text of `min` to `max` characters (not bytes: Chinese names count one per character),
/// with something besides white space and no control characters; stored without surrounding
/// white space. [`TEXT_PATTERN`] is the same rule for the OpenAPI document.
fn bounded_text(raw: &str, min: usize, max: usize) -> Result<String, Invalid> {
    let chars = raw.chars().count();
    if chars < min || chars > max || raw.trim().is_empty() {
        return Err(Invalid::new(
            "length",
            Text::new("invalid-text-length")
                .with("min", min)
                .with("max", max),
        ));
    }
    if raw.chars().any(char::is_control) {
        return Err(Invalid::new(
            "control_characters",
            Text::new("invalid-control-characters"),
        ));
    }
    Ok(raw.trim().to_owned())
}

/// [`bounded_text`]'s rule as a JSON Schema pattern (ECMA-262).
pub const TEXT_PATTERN: &str =
    r"^[^\x00-\x1F\x7F-\x9F]*[^\s\x00-\x1F\x7F-\x9F][^\x00-\x1F\x7F-\x9F]*$";

/// A company's registered name, 1–200 characters.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct CompanyName(String);
string_newtype!(CompanyName);

impl CompanyName {
    pub const MAX_CHARS: usize = 200;

    pub fn parse(raw: &str) -> Result<Self, Invalid> {
        bounded_text(raw, 1, Self::MAX_CHARS).map(Self)
    }

    /// The form searches compare against (`search_text::fold`): lower case, full-width Latin
    /// as ordinary Latin, so `?q=` compares alike on every database engine.
    pub fn search_key(&self) -> String {
        migration::search_text::fold(&self.0)
    }
}

/// A title or short text line: 1–200 characters (incident titles, offer names, link titles).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Title(String);
string_newtype!(Title);

impl Title {
    pub const MAX_CHARS: usize = 200;

    pub fn parse(raw: &str) -> Result<Self, Invalid> {
        bounded_text(raw, 1, Self::MAX_CHARS).map(Self)
    }
}

/// A paragraph of free text: 1–4,000 characters (incident updates, notes). Line breaks and
/// tabs are kept; other control characters are refused.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Paragraph(String);
string_newtype!(Paragraph);

impl Paragraph {
    pub const MAX_CHARS: usize = 4000;
    pub const PATTERN: &str = r"^[^\x00-\x08\x0B\x0C\x0E-\x1F\x7F-\x9F]*[^\s\x00-\x1F\x7F-\x9F][^\x00-\x08\x0B\x0C\x0E-\x1F\x7F-\x9F]*$";

    pub fn parse(raw: &str) -> Result<Self, Invalid> {
        let chars = raw.chars().count();
        if chars == 0 || chars > Self::MAX_CHARS || raw.trim().is_empty() {
            return Err(Invalid::new(
                "length",
                Text::new("invalid-text-length")
                    .with("min", 1)
                    .with("max", Self::MAX_CHARS),
            ));
        }
        if raw
            .chars()
            .any(|c| c.is_control() && !matches!(c, '\n' | '\r' | '\t'))
        {
            return Err(Invalid::new(
                "control_characters",
                Text::new("invalid-paragraph-control-characters"),
            ));
        }
        Ok(Self(raw.trim().to_owned()))
    }
}

/// A Microsoft Partner Network id: 1 to 10 digits.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct MpnId(String);
string_newtype!(MpnId);

impl MpnId {
    pub const PATTERN: &str = "^[0-9]{1,10}$";

    pub fn parse(raw: &str) -> Result<Self, Invalid> {
        if (1..=10).contains(&raw.len()) && raw.bytes().all(|b| b.is_ascii_digit()) {
            Ok(Self(raw.to_owned()))
        } else {
            Err(Invalid::new("invalid_mpn_id", Text::new("invalid-mpn-id")))
        }
    }
}

/// A display name for a person, a partner or an API key, 1–100 characters.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct DisplayName(String);
string_newtype!(DisplayName);

impl DisplayName {
    pub const MAX_CHARS: usize = 100;

    pub fn parse(raw: &str) -> Result<Self, Invalid> {
        bounded_text(raw, 1, Self::MAX_CHARS).map(Self)
    }
}

/// A DNS name in ASCII (internationalised names in their `xn--` form), stored in lower case:
/// `contoso.partner.onmschina.cn`. At least two labels of 1–63 letters, digits and inner
/// hyphens; the last starts with a letter; 253 characters at most. [`DomainName::PATTERN`] is the
/// same rule for the OpenAPI document.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct DomainName(String);
string_newtype!(DomainName);

fn is_label(label: &str) -> bool {
    let bytes = label.as_bytes();
    (1..=63).contains(&bytes.len())
        && bytes
            .iter()
            .all(|b| b.is_ascii_alphanumeric() || *b == b'-')
        && bytes[0] != b'-'
        && bytes[bytes.len() - 1] != b'-'
}

impl DomainName {
    pub const MAX_LEN: usize = 253;
    pub const PATTERN: &str = r"^([A-Za-z0-9]([A-Za-z0-9-]{0,61}[A-Za-z0-9])?\.)+[A-Za-z]([A-Za-z0-9-]{0,61}[A-Za-z0-9])?$";

    pub fn parse(raw: &str) -> Result<Self, Invalid> {
        let labels: Vec<&str> = raw.split('.').collect();
        let well_formed = raw.len() <= Self::MAX_LEN
            && labels.len() >= 2
            && labels.iter().all(|label| is_label(label))
            && labels
                .last()
                .is_some_and(|tld| tld.as_bytes()[0].is_ascii_alphabetic());
        if !well_formed {
            return Err(Invalid::new("invalid_domain", Text::new("invalid-domain")));
        }
        Ok(Self(raw.to_ascii_lowercase()))
    }
}

/// An e-mail address by the WHATWG rule browsers apply to `<input type="email">`, 254
/// characters at most. [`EmailAddress::PATTERN`] is the same rule for the OpenAPI document.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct EmailAddress(String);
string_newtype!(EmailAddress);

impl EmailAddress {
    pub const MAX_LEN: usize = 254;
    pub const PATTERN: &str = r"^[A-Za-z0-9.!#$%&'*+/=?^_`{|}~-]+@[A-Za-z0-9]([A-Za-z0-9-]{0,61}[A-Za-z0-9])?(\.[A-Za-z0-9]([A-Za-z0-9-]{0,61}[A-Za-z0-9])?)*$";

    pub fn parse(raw: &str) -> Result<Self, Invalid> {
        let local_ok = |local: &str| {
            !local.is_empty()
                && local
                    .bytes()
                    .all(|b| b.is_ascii_alphanumeric() || b".!#$%&'*+/=?^_`{|}~-".contains(&b))
        };
        let well_formed = raw.len() <= Self::MAX_LEN
            && raw
                .split_once('@')
                .is_some_and(|(local, domain)| local_ok(local) && domain.split('.').all(is_label));
        if !well_formed {
            return Err(Invalid::new("invalid_email", Text::new("invalid-email")));
        }
        Ok(Self(raw.to_owned()))
    }
}

/// A phone number in international form: `+`, a country code and subscriber number of 8 to 15
/// digits in all, optionally grouped by single spaces, dots or hyphens (`+86 10 5555 0100`), and
/// a number that exists in its country's numbering plan (libphonenumber's metadata: `+86 1234
/// 5678` has the shape but no Chinese number is like it). Stored as E.164 (`+861055550100`).
/// [`PhoneNumber::PATTERN`] is the shape, for the OpenAPI document.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct PhoneNumber(String);
string_newtype!(PhoneNumber);

impl PhoneNumber {
    pub const PATTERN: &str = r"^\+[1-9]([ .-]?[0-9]){7,14}$";

    pub fn parse(raw: &str) -> Result<Self, Invalid> {
        let invalid = || Invalid::new("invalid_phone", Text::new("invalid-phone"));
        let rest = raw.strip_prefix('+').ok_or_else(invalid)?;
        let mut digits = String::with_capacity(15);
        let mut after_separator = true; // a separator may not start the number or follow one
        for c in rest.chars() {
            match c {
                '0'..='9' => {
                    digits.push(c);
                    after_separator = false;
                }
                ' ' | '.' | '-' if !after_separator => after_separator = true,
                _ => return Err(invalid()),
            }
        }
        if after_separator || !(8..=15).contains(&digits.len()) || digits.starts_with('0') {
            return Err(invalid());
        }
        let e164 = format!("+{digits}");
        match phonenumber::parse(None, &e164) {
            Ok(number) if number.is_valid() => Ok(Self(e164)),
            _ => Err(Invalid::new(
                "invalid_phone",
                Text::new("invalid-phone-not-in-use"),
            )),
        }
    }
}

/// An IANA time zone name known to the tz database, such as `Asia/Shanghai` or `Etc/GMT-8`.
/// Published as a pattern of the names' shape rather than the list of ~600 names, which no
/// generated client should carry; the database itself is the rule.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct TimeZoneName(String);
string_newtype!(TimeZoneName);

impl TimeZoneName {
    /// The shape of every tz database name: up to three `/`-separated parts of ASCII letters,
    /// digits, `_`, `+` and `-`, the first starting with a letter.
    pub const PATTERN: &str = r"^[A-Za-z][A-Za-z0-9_+-]*(/[A-Za-z0-9_+-]+){0,2}$";
    pub const MAX_LEN: usize = 64;

    pub fn parse(raw: &str) -> Result<Self, Invalid> {
        raw.parse::<chrono_tz::Tz>()
            .map(|tz| Self(tz.name().to_owned()))
            .map_err(|_| Invalid::new("invalid_time_zone", Text::new("invalid-time-zone")))
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn company_names_count_characters_not_bytes() {
        let chinese = "世纪互联".repeat(50);
        assert_eq!(chinese.chars().count(), 200);
        assert!(CompanyName::parse(&chinese).is_ok());
        assert!(CompanyName::parse(&format!("{chinese}云")).is_err());
        assert_eq!(
            CompanyName::parse("  上海云科技有限公司 ")
                .unwrap()
                .as_str(),
            "上海云科技有限公司"
        );
        assert!(
            CompanyName::parse(&format!(" {chinese}")).is_err(),
            "spaces count toward the limit"
        );
    }

    #[test]
    fn company_names_refuse_blank_and_control_characters() {
        assert_eq!(CompanyName::parse("   ").unwrap_err().code, "length");
        assert_eq!(
            CompanyName::parse("a\u{0}b").unwrap_err().code,
            "control_characters"
        );
    }

    #[test]
    fn company_search_key_folds_case() {
        assert_eq!(
            CompanyName::parse("Contoso ÉCOLE").unwrap().search_key(),
            "contoso école"
        );
    }

    #[test]
    fn domains_are_lower_cased_dns_names() {
        assert_eq!(
            DomainName::parse("Contoso.Partner.OnMSChina.cn")
                .unwrap()
                .as_str(),
            "contoso.partner.onmschina.cn"
        );
        assert!(DomainName::parse("123.example.cn").is_ok());
        assert!(DomainName::parse("xn--fiqs8s.cn").is_ok());
        assert!(DomainName::parse(&format!("{}.cn", "a".repeat(63))).is_ok());
    }

    #[test]
    fn domains_refuse_what_dns_cannot_hold() {
        for bad in [
            "",
            "localhost",
            "contoso..cn",
            "-contoso.cn",
            "contoso-.cn",
            "con_toso.cn",
            "contoso.123",
            "contoso.1cn",
            "contoso.cn.",
            " contoso.cn",
            "中国.cn",
            "a b.cn",
        ] {
            assert!(DomainName::parse(bad).is_err(), "{bad:?}");
        }
        assert!(DomainName::parse(&format!("{}.cn", "a".repeat(64))).is_err());
        let long = format!("{}.cn", ["abcdefghi"; 26].join("."));
        assert!(long.len() > 253);
        assert!(DomainName::parse(&long).is_err());
    }

    #[test]
    fn paragraphs_keep_line_breaks_but_refuse_other_controls() {
        assert_eq!(
            Paragraph::parse(" 第一行\n第二行\t! ").unwrap().as_str(),
            "第一行\n第二行\t!"
        );
        assert!(Paragraph::parse("\n\n").is_err());
        assert!(Paragraph::parse("a\u{7}b").is_err());
        assert!(Paragraph::parse(&"长".repeat(4001)).is_err());
    }

    #[test]
    fn mpn_ids_are_one_to_ten_digits() {
        assert!(MpnId::parse("6123456").is_ok());
        for bad in ["", "12ab", "12345678901", " 123"] {
            assert!(MpnId::parse(bad).is_err(), "{bad:?}");
        }
    }

    #[test]
    fn emails_follow_the_html5_rule() {
        assert!(EmailAddress::parse("it-ops@contoso.cn").is_ok());
        assert!(EmailAddress::parse("o'brien+tag@localhost").is_ok());
        for bad in [
            "",
            "it-ops",
            "@contoso.cn",
            "it ops@contoso.cn",
            "a@b..cn",
            "a@-b.cn",
            "a@b.cn ",
            "a@@b.cn",
        ] {
            assert!(EmailAddress::parse(bad).is_err(), "{bad:?}");
        }
    }

    #[test]
    fn phones_are_normalised_to_e164() {
        assert_eq!(
            PhoneNumber::parse("+86 10-5555.0100").unwrap().as_str(),
            "+861055550100"
        );
        assert_eq!(
            PhoneNumber::parse("+86 138 0013 8000").unwrap().as_str(),
            "+8613800138000"
        );
        assert_eq!(
            PhoneNumber::parse("+1 415-555-2671").unwrap().as_str(),
            "+14155552671"
        );
        for bad in [
            "",
            "+86 1234 5678",
            "+86 10 5555",
            "+12345678",
            "+999 1234 5678",
            "010 5555 0100",
            "+0 123 4567",
            "+86 10 5555 abcd",
            "+1234567",
            "+1234567890123456",
            "+ 86 10 5555 0100",
            "+86  10 5555 0100",
            "+86 10 5555 0100-",
        ] {
            assert!(PhoneNumber::parse(bad).is_err(), "{bad:?}");
        }
    }

    /// Whether `name` has the shape [`TimeZoneName::PATTERN`] describes.
    fn has_time_zone_shape(name: &str) -> bool {
        let part = |p: &str| {
            !p.is_empty()
                && p.bytes()
                    .all(|b| b.is_ascii_alphanumeric() || b"_+-".contains(&b))
        };
        let parts: Vec<&str> = name.split('/').collect();
        name.len() <= TimeZoneName::MAX_LEN
            && parts.len() <= 3
            && parts.iter().all(|p| part(p))
            && name.starts_with(|c: char| c.is_ascii_alphabetic())
    }

    #[test]
    fn every_tz_database_name_fits_the_published_pattern() {
        for tz in chrono_tz::TZ_VARIANTS {
            assert!(has_time_zone_shape(tz.name()), "{}", tz.name());
            assert_eq!(TimeZoneName::parse(tz.name()).unwrap().as_str(), tz.name());
        }
    }

    #[test]
    fn time_zones_must_exist_in_the_tz_database() {
        for bad in [
            "",
            "Asia/Beijing",
            "asia/shanghai/",
            "Mars/Olympus_Mons",
            "UTC+8",
        ] {
            assert_eq!(
                TimeZoneName::parse(bad).unwrap_err().code,
                "invalid_time_zone",
                "{bad:?}"
            );
        }
    }
}
