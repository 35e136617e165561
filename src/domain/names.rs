//! Text newtypes shared by every resource: company and person names, DNS names, e-mail
//! addresses and phone numbers. Each `parse` is the one place its rule is written down.

use std::fmt;

/// Why a value was refused: a stable `code` for programs and a sentence for people.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Invalid {
    pub code: &'static str,
    pub message: String,
}

impl Invalid {
    pub fn new(code: &'static str, message: impl Into<String>) -> Self {
        Self {
            code,
            message: message.into(),
        }
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

/// Trimmed free text between `min` and `max` characters (not bytes: Chinese names count one per
/// character), with no control characters.
fn bounded_text(raw: &str, min: usize, max: usize) -> Result<String, Invalid> {
    let text = raw.trim();
    let chars = text.chars().count();
    if chars < min || chars > max {
        return Err(Invalid::new(
            "length",
            format!("must be {min} to {max} characters long (not counting surrounding spaces)"),
        ));
    }
    if text.chars().any(char::is_control) {
        return Err(Invalid::new(
            "control_characters",
            "must not contain control characters",
        ));
    }
    Ok(text.to_owned())
}

/// A company's registered name, 1–200 characters.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct CompanyName(String);
string_newtype!(CompanyName);

impl CompanyName {
    pub const MAX_CHARS: usize = 200;

    pub fn parse(raw: &str) -> Result<Self, Invalid> {
        bounded_text(raw, 1, Self::MAX_CHARS).map(Self)
    }

    /// The form searches compare against: Unicode lower case, so `?q=` is case-insensitive on
    /// every database engine alike.
    pub fn search_key(&self) -> String {
        self.0.to_lowercase()
    }
}

/// A display name for a person or an API key, 1–100 characters.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct DisplayName(String);
string_newtype!(DisplayName);

impl DisplayName {
    pub const MAX_CHARS: usize = 100;

    pub fn parse(raw: &str) -> Result<Self, Invalid> {
        bounded_text(raw, 1, Self::MAX_CHARS).map(Self)
    }
}

/// A fully qualified DNS name in ASCII (internationalised names in their `xn--` form), stored in
/// lower case: `contoso.partner.onmschina.cn`.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct DomainName(String);
string_newtype!(DomainName);

impl DomainName {
    pub const MAX_LEN: usize = 253;

    pub fn parse(raw: &str) -> Result<Self, Invalid> {
        let name = raw.trim().trim_end_matches('.').to_ascii_lowercase();
        let invalid = |why: &str| Err(Invalid::new("invalid_domain", why.to_owned()));
        if name.is_empty() || name.len() > Self::MAX_LEN {
            return invalid("must be a DNS name of 1 to 253 characters");
        }
        let labels: Vec<&str> = name.split('.').collect();
        if labels.len() < 2 {
            return invalid("must have at least two labels, like contoso.cn");
        }
        for label in &labels {
            let well_formed = !label.is_empty()
                && label.len() <= 63
                && label
                    .bytes()
                    .all(|b| b.is_ascii_lowercase() || b.is_ascii_digit() || b == b'-')
                && !label.starts_with('-')
                && !label.ends_with('-');
            if !well_formed {
                return invalid(
                    "each label must be 1 to 63 letters, digits or inner hyphens \
                     (internationalised names in their xn-- form)",
                );
            }
        }
        if labels.last().is_some_and(|tld| tld.bytes().all(|b| b.is_ascii_digit())) {
            return invalid("the top-level label cannot be all digits");
        }
        Ok(Self(name))
    }
}

/// An e-mail address, checked with the HTML5 rule the `validator` crate implements.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct EmailAddress(String);
string_newtype!(EmailAddress);

impl EmailAddress {
    pub const MAX_LEN: usize = 254;

    pub fn parse(raw: &str) -> Result<Self, Invalid> {
        let email = raw.trim();
        if email.len() > Self::MAX_LEN || !validator::ValidateEmail::validate_email(&email) {
            return Err(Invalid::new(
                "invalid_email",
                "must be an e-mail address such as it-ops@contoso.cn",
            ));
        }
        Ok(Self(email.to_owned()))
    }
}

/// A phone number in E.164 form: `+`, country code and subscriber number, 8 to 15 digits in all.
/// Spaces, dots and hyphens people type between digit groups are removed.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct PhoneNumber(String);
string_newtype!(PhoneNumber);

impl PhoneNumber {
    pub fn parse(raw: &str) -> Result<Self, Invalid> {
        let compact: String = raw
            .trim()
            .chars()
            .filter(|c| !matches!(c, ' ' | '-' | '.'))
            .collect();
        let digits = compact.strip_prefix('+').unwrap_or("");
        let e164 = (8..=15).contains(&digits.len())
            && digits.bytes().all(|b| b.is_ascii_digit())
            && !digits.starts_with('0');
        if !e164 {
            return Err(Invalid::new(
                "invalid_phone",
                "must be an international number in E.164 form, such as +86 10 5555 0100",
            ));
        }
        Ok(Self(compact))
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
        assert_eq!(CompanyName::parse("  上海云科技有限公司 ").unwrap().as_str(), "上海云科技有限公司");
    }

    #[test]
    fn company_names_refuse_blank_and_control_characters() {
        assert_eq!(CompanyName::parse("   ").unwrap_err().code, "length");
        assert_eq!(CompanyName::parse("a\u{0}b").unwrap_err().code, "control_characters");
    }

    #[test]
    fn company_search_key_folds_case() {
        assert_eq!(CompanyName::parse("Contoso ÉCOLE").unwrap().search_key(), "contoso école");
    }

    #[test]
    fn domains_are_lower_cased_dns_names() {
        assert_eq!(
            DomainName::parse("Contoso.Partner.OnMSChina.cn.").unwrap().as_str(),
            "contoso.partner.onmschina.cn"
        );
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
    fn emails_follow_the_html5_rule() {
        assert!(EmailAddress::parse("it-ops@contoso.cn").is_ok());
        for bad in ["", "it-ops", "@contoso.cn", "it ops@contoso.cn"] {
            assert!(EmailAddress::parse(bad).is_err(), "{bad:?}");
        }
    }

    #[test]
    fn phones_are_normalised_to_e164() {
        assert_eq!(PhoneNumber::parse("+86 10-5555.0100").unwrap().as_str(), "+861055550100");
        for bad in ["", "010 5555 0100", "+0 123 4567", "+86 10 5555 abcd", "+1234567", "+1234567890123456"] {
            assert!(PhoneNumber::parse(bad).is_err(), "{bad:?}");
        }
    }
}
