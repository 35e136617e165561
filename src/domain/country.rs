//! ISO 3166-1 alpha-2 country codes, as the `rust_iso3166` crate keeps them (the 249 officially
//! assigned).

use std::fmt;

/// An assigned ISO 3166-1 alpha-2 code, always upper case.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct CountryCode(&'static str);

impl CountryCode {
    /// China, where every 21Vianet-operated cloud runs; the default for partners.
    pub const CHINA: CountryCode = CountryCode("CN");

    /// Accepts an assigned code in upper case, as ISO writes them; anything else is refused.
    pub fn parse(code: &str) -> Option<Self> {
        rust_iso3166::from_alpha2(code)
            .filter(|country| country.alpha2 == code)
            .map(|country| CountryCode(country.alpha2))
    }

    pub fn as_str(&self) -> &'static str {
        self.0
    }
}

impl fmt::Display for CountryCode {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.0)
    }
}

/// In the OpenAPI document, a string enumerating every assigned code, so generated clients can
/// offer the list.
impl utoipa::PartialSchema for CountryCode {
    fn schema() -> utoipa::openapi::RefOr<utoipa::openapi::schema::Schema> {
        utoipa::openapi::schema::ObjectBuilder::new()
            .schema_type(utoipa::openapi::schema::Type::String)
            .description(Some("ISO 3166-1 alpha-2 country code, upper case."))
            .enum_values(Some(assigned()))
            .examples([serde_json::json!("CN")])
            .into()
    }
}

impl utoipa::ToSchema for CountryCode {}

/// Every assigned code, in alphabetical order.
fn assigned() -> Vec<&'static str> {
    let mut codes = rust_iso3166::ALL_ALPHA2.to_vec();
    codes.sort_unstable();
    codes
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn every_assigned_code_is_listed_once() {
        let codes = assigned();
        assert_eq!(codes.len(), 249);
        assert!(codes.windows(2).all(|w| w[0] < w[1]));
        assert!(codes.iter().all(|code| CountryCode::parse(code).is_some()));
    }

    #[test]
    fn accepts_assigned_codes_in_upper_case() {
        assert_eq!(CountryCode::parse("CN"), Some(CountryCode::CHINA));
        assert_eq!(CountryCode::parse("HK").unwrap().as_str(), "HK");
    }

    #[test]
    fn refuses_unassigned_or_malformed_codes() {
        for bad in ["", "C", "CHN", "XX", "UK", "EU", "中国", "c n", "cn"] {
            assert_eq!(CountryCode::parse(bad), None, "{bad:?}");
        }
    }
}
