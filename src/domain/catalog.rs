//! The service catalog's vocabulary: service keys, support hours, the categories of problem a
//! request can be about, and HTTPS addresses.

use serde::{Deserialize, Serialize};
use utoipa::ToSchema;

use super::names::Invalid;
use super::plans::vocabulary;
use crate::i18n::Text;

/// What a support request is about. Six categories are problems 21Vianet handles; the other six
/// are the partner's own work and are never escalated.
///
/// Escalated to 21Vianet: `service_unavailable` (the service is down), `undocumented_defect`
/// (the service does not work as documented), `product_bug`, `network_disruption` (a
/// large-scale network problem), `regional_multi_tenant_issue` (a regional problem affecting
/// several tenants), `billing_dispute` (one the partner cannot resolve).
///
/// Partner-owned, refused: `how_to` (how-to questions and FAQs), `account_setup`,
/// `software_configuration`, `client_connectivity` (client connectivity and desktop),
/// `service_update_question` (questions about service updates),
/// `performance_within_partner_control`.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize, Deserialize, ToSchema)]
#[serde(rename_all = "snake_case")]
pub enum Category {
    ServiceUnavailable,
    UndocumentedDefect,
    ProductBug,
    NetworkDisruption,
    RegionalMultiTenantIssue,
    BillingDispute,
    HowTo,
    AccountSetup,
    SoftwareConfiguration,
    ClientConnectivity,
    ServiceUpdateQuestion,
    PerformanceWithinPartnerControl,
}

vocabulary!(Category labelled "category" {
    ServiceUnavailable => "service_unavailable",
    UndocumentedDefect => "undocumented_defect",
    ProductBug => "product_bug",
    NetworkDisruption => "network_disruption",
    RegionalMultiTenantIssue => "regional_multi_tenant_issue",
    BillingDispute => "billing_dispute",
    HowTo => "how_to",
    AccountSetup => "account_setup",
    SoftwareConfiguration => "software_configuration",
    ClientConnectivity => "client_connectivity",
    ServiceUpdateQuestion => "service_update_question",
    PerformanceWithinPartnerControl => "performance_within_partner_control",
});

impl Category {
    /// The categories 21Vianet handles: support the partner cannot reasonably provide.
    pub const ESCALATABLE: [Category; 6] = [
        Category::ServiceUnavailable,
        Category::UndocumentedDefect,
        Category::ProductBug,
        Category::NetworkDisruption,
        Category::RegionalMultiTenantIssue,
        Category::BillingDispute,
    ];

    /// Whether 21Vianet handles this category (the rest is the partner's own work).
    pub fn is_escalatable(self) -> bool {
        Self::ESCALATABLE.contains(&self)
    }
}

/// When support for a service is staffed: `24x7` around the clock, or `business_hours`
/// (09:00–18:00 Beijing time on business days, as for billing and quota support).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize, Deserialize, ToSchema)]
pub enum SupportHours {
    #[serde(rename = "24x7")]
    #[schema(rename = "24x7")]
    AroundTheClock,
    #[serde(rename = "business_hours")]
    #[schema(rename = "business_hours")]
    BusinessHours,
}

vocabulary!(SupportHours labelled "support-hours" {
    AroundTheClock => "24x7",
    BusinessHours => "business_hours",
});

/// A service's key: a lower-case slug such as `microsoft-365`, 2–50 characters.
#[derive(Debug, Clone, PartialEq, Eq, Hash)]
pub struct ServiceKey(String);

impl ServiceKey {
    pub const PATTERN: &str = "^[a-z0-9]+(-[a-z0-9]+)*$";
    pub const MAX_LEN: usize = 50;

    pub fn parse(raw: &str) -> Result<Self, Invalid> {
        let well_formed = (2..=Self::MAX_LEN).contains(&raw.len())
            && raw.split('-').all(|part| {
                !part.is_empty()
                    && part
                        .bytes()
                        .all(|b| b.is_ascii_lowercase() || b.is_ascii_digit())
            });
        if well_formed {
            Ok(Self(raw.to_owned()))
        } else {
            Err(Invalid::new(
                "invalid_service_key",
                Text::new("invalid-service-key"),
            ))
        }
    }

    pub fn as_str(&self) -> &str {
        &self.0
    }

    pub fn into_inner(self) -> String {
        self.0
    }
}

/// An `https://` address: a host of letters, digits, dots and hyphens, an optional port, and an
/// optional path of printable ASCII (anything else percent-encoded, as URIs require); 2,000
/// characters at most.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct HttpsUrl(String);

impl HttpsUrl {
    pub const PATTERN: &str = r"^https://[A-Za-z0-9.-]+(:[0-9]{1,5})?(/[!-~]*)?$";
    pub const MAX_LEN: usize = 2000;

    pub fn parse(raw: &str) -> Result<Self, Invalid> {
        let invalid = || Invalid::new("invalid_url", Text::new("invalid-https-url"));
        if raw.chars().count() > Self::MAX_LEN {
            return Err(invalid());
        }
        let rest = raw.strip_prefix("https://").ok_or_else(invalid)?;
        let (authority, path) = rest
            .find('/')
            .map_or((rest, ""), |slash| rest.split_at(slash));
        let (host, port) = authority
            .split_once(':')
            .map_or((authority, None), |(h, p)| (h, Some(p)));
        let host_ok = !host.is_empty()
            && host
                .bytes()
                .all(|b| b.is_ascii_alphanumeric() || b == b'.' || b == b'-');
        let port_ok = port
            .is_none_or(|p| (1..=5).contains(&p.len()) && p.bytes().all(|b| b.is_ascii_digit()));
        let path_ok = path.bytes().all(|b| b.is_ascii_graphic());
        if host_ok && port_ok && path_ok {
            Ok(Self(raw.to_owned()))
        } else {
            Err(invalid())
        }
    }

    pub fn as_str(&self) -> &str {
        &self.0
    }

    pub fn into_inner(self) -> String {
        self.0
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn exactly_six_categories_are_escalated() {
        let escalatable: Vec<&str> = Category::ALL
            .iter()
            .filter(|c| c.is_escalatable())
            .map(|c| c.as_str())
            .collect();
        assert_eq!(
            escalatable,
            [
                "service_unavailable",
                "undocumented_defect",
                "product_bug",
                "network_disruption",
                "regional_multi_tenant_issue",
                "billing_dispute"
            ]
        );
        assert!(!Category::HowTo.is_escalatable());
        assert!(!Category::PerformanceWithinPartnerControl.is_escalatable());
    }

    #[test]
    fn support_hours_use_their_wire_names() {
        assert_eq!(
            serde_json::to_value(SupportHours::AroundTheClock).unwrap(),
            "24x7"
        );
        assert_eq!(
            SupportHours::parse("business_hours"),
            Some(SupportHours::BusinessHours)
        );
    }

    #[test]
    fn service_keys_are_slugs() {
        for good in ["azure", "microsoft-365", "power-bi", "a1"] {
            assert!(ServiceKey::parse(good).is_ok(), "{good}");
        }
        for bad in [
            "",
            "a",
            "Azure",
            "power_bi",
            "-azure",
            "azure-",
            "power--bi",
            "云",
            &"a".repeat(51),
        ] {
            assert!(ServiceKey::parse(bad).is_err(), "{bad}");
        }
    }

    #[test]
    fn urls_must_be_https_with_a_plain_host() {
        for good in [
            "https://portal.azure.cn",
            "https://portal.partner.microsoftonline.cn/AdminPortal",
            "https://docs.azure.cn:443/zh-cn/?q=1#x",
        ] {
            assert!(HttpsUrl::parse(good).is_ok(), "{good}");
        }
        for bad in [
            "",
            "http://portal.azure.cn",
            "https://",
            "https://portal azure.cn",
            "https://portal.azure.cn/a b",
            "https://portal.azure.cn/文档",
            "https://portal.azure.cn/a\u{15}b",
            "https://portal.azure.cn:123456",
            "https://user@portal.azure.cn",
            "ftp://x.cn",
        ] {
            assert!(HttpsUrl::parse(bad).is_err(), "{bad}");
        }
    }
}
