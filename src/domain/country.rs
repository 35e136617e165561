//! ISO 3166-1 alpha-2 country codes.

use std::fmt;

/// Every officially assigned ISO 3166-1 alpha-2 code, sorted so lookups can binary-search.
const ASSIGNED: [&str; 249] = [
    "AD", "AE", "AF", "AG", "AI", "AL", "AM", "AO", "AQ", "AR", "AS", "AT", "AU", "AW", "AX", "AZ",
    "BA", "BB", "BD", "BE", "BF", "BG", "BH", "BI", "BJ", "BL", "BM", "BN", "BO", "BQ", "BR", "BS",
    "BT", "BV", "BW", "BY", "BZ", "CA", "CC", "CD", "CF", "CG", "CH", "CI", "CK", "CL", "CM", "CN",
    "CO", "CR", "CU", "CV", "CW", "CX", "CY", "CZ", "DE", "DJ", "DK", "DM", "DO", "DZ", "EC", "EE",
    "EG", "EH", "ER", "ES", "ET", "FI", "FJ", "FK", "FM", "FO", "FR", "GA", "GB", "GD", "GE", "GF",
    "GG", "GH", "GI", "GL", "GM", "GN", "GP", "GQ", "GR", "GS", "GT", "GU", "GW", "GY", "HK", "HM",
    "HN", "HR", "HT", "HU", "ID", "IE", "IL", "IM", "IN", "IO", "IQ", "IR", "IS", "IT", "JE", "JM",
    "JO", "JP", "KE", "KG", "KH", "KI", "KM", "KN", "KP", "KR", "KW", "KY", "KZ", "LA", "LB", "LC",
    "LI", "LK", "LR", "LS", "LT", "LU", "LV", "LY", "MA", "MC", "MD", "ME", "MF", "MG", "MH", "MK",
    "ML", "MM", "MN", "MO", "MP", "MQ", "MR", "MS", "MT", "MU", "MV", "MW", "MX", "MY", "MZ", "NA",
    "NC", "NE", "NF", "NG", "NI", "NL", "NO", "NP", "NR", "NU", "NZ", "OM", "PA", "PE", "PF", "PG",
    "PH", "PK", "PL", "PM", "PN", "PR", "PS", "PT", "PW", "PY", "QA", "RE", "RO", "RS", "RU", "RW",
    "SA", "SB", "SC", "SD", "SE", "SG", "SH", "SI", "SJ", "SK", "SL", "SM", "SN", "SO", "SR", "SS",
    "ST", "SV", "SX", "SY", "SZ", "TC", "TD", "TF", "TG", "TH", "TJ", "TK", "TL", "TM", "TN", "TO",
    "TR", "TT", "TV", "TW", "TZ", "UA", "UG", "UM", "US", "UY", "UZ", "VA", "VC", "VE", "VG", "VI",
    "VN", "VU", "WF", "WS", "YE", "YT", "ZA", "ZM", "ZW",
];

/// An assigned ISO 3166-1 alpha-2 code, always upper case.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct CountryCode(&'static str);

impl CountryCode {
    /// China, where every 21Vianet-operated cloud runs; the default for partners.
    pub const CHINA: CountryCode = CountryCode("CN");

    /// Accepts an assigned code in upper case, as ISO writes them; anything else is refused.
    pub fn parse(code: &str) -> Option<Self> {
        ASSIGNED
            .binary_search(&code)
            .ok()
            .map(|i| CountryCode(ASSIGNED[i]))
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
            .enum_values(Some(ASSIGNED))
            .examples([serde_json::json!("CN")])
            .into()
    }
}

impl utoipa::ToSchema for CountryCode {}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_table_is_sorted_and_unique() {
        assert!(ASSIGNED.windows(2).all(|w| w[0] < w[1]));
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
