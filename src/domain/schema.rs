//! How the text newtypes appear in the OpenAPI document: each as a named string schema whose
//! pattern and lengths are the very rule its `parse` applies, so a request that satisfies the
//! published contract is never refused for its shape.

use utoipa::openapi::RefOr;
use utoipa::openapi::schema::{ObjectBuilder, Schema, Type};

use super::names::TEXT_PATTERN;
use super::webhook::WebhookUrl;
use super::{
    CompanyName, DisplayName, DomainName, EmailAddress, HttpsUrl, MpnId, Paragraph, PhoneNumber,
    ServiceKey, TimeZoneName, Title,
};

macro_rules! string_schema {
    ($name:ident: $description:literal, pattern = $pattern:expr, length = $min:literal..=$max:expr, example = $example:literal) => {
        impl utoipa::PartialSchema for $name {
            fn schema() -> RefOr<Schema> {
                ObjectBuilder::new()
                    .schema_type(Type::String)
                    .description(Some($description))
                    .pattern(Some($pattern))
                    .min_length(Some($min))
                    .max_length(Some($max))
                    .examples([serde_json::json!($example)])
                    .into()
            }
        }

        impl utoipa::ToSchema for $name {}
    };
}

string_schema!(CompanyName: "A company name: 1–200 characters (Chinese names count one per character), not only spaces, no control characters.",
    pattern = TEXT_PATTERN, length = 1..=CompanyName::MAX_CHARS, example = "上海云启科技有限公司");
string_schema!(DisplayName: "A name: 1–100 characters, not only spaces, no control characters.",
    pattern = TEXT_PATTERN, length = 1..=DisplayName::MAX_CHARS, example = "王芳");
string_schema!(DomainName: "A DNS name in ASCII (internationalised names in their xn-- form): two or more labels of letters, digits and inner hyphens, the last starting with a letter. Stored in lower case.",
    pattern = DomainName::PATTERN, length = 3..=DomainName::MAX_LEN, example = "contoso.partner.onmschina.cn");
string_schema!(EmailAddress: "An e-mail address, by the rule browsers apply to `<input type=\"email\">`.",
    pattern = EmailAddress::PATTERN, length = 3..=EmailAddress::MAX_LEN, example = "it-ops@contoso.cn");
string_schema!(PhoneNumber: "An international phone number: `+`, then 8–15 digits, optionally grouped by single spaces, dots or hyphens, that is a number in use in its country (checked against libphonenumber's metadata: 422 `invalid_phone` otherwise). Answered in E.164 form.",
    pattern = PhoneNumber::PATTERN, length = 9..=30, example = "+86 10 5555 0100");
string_schema!(MpnId: "A Microsoft Partner Network id: 1 to 10 digits.",
    pattern = MpnId::PATTERN, length = 1..=10, example = "6123456");
string_schema!(ServiceKey: "A service's key: lower-case letters and digits in hyphen-separated groups.",
    pattern = ServiceKey::PATTERN, length = 2..=ServiceKey::MAX_LEN, example = "microsoft-365");
string_schema!(HttpsUrl: "An https:// address: a host of letters, digits, dots and hyphens, an optional port and path.",
    pattern = HttpsUrl::PATTERN, length = 9..=HttpsUrl::MAX_LEN, example = "https://portal.azure.cn");
string_schema!(WebhookUrl: "An http:// or https:// address: a host name, IPv4 address or bracketed IPv6 address, an optional port and path. The host must resolve to public addresses only.",
    pattern = WebhookUrl::PATTERN, length = 8..=WebhookUrl::MAX_LEN, example = "https://hooks.yunqi.cn/escalade");
string_schema!(Title: "A title: 1–200 characters, not only spaces, no control characters.",
    pattern = TEXT_PATTERN, length = 1..=Title::MAX_CHARS, example = "世纪互联 Exchange Online 邮件延迟");
string_schema!(Paragraph: "Free text: 1–4,000 characters, not only spaces; line breaks and tabs allowed, no other control characters.",
    pattern = Paragraph::PATTERN, length = 1..=Paragraph::MAX_CHARS, example = "已定位到华东 2 区域的存储故障，正在切换流量。");
string_schema!(TimeZoneName: "An IANA time zone name, such as `Asia/Shanghai`: it must exist in the tz database, which the server checks (422 `invalid_time_zone` otherwise).",
    pattern = TimeZoneName::PATTERN, length = 3..=TimeZoneName::MAX_LEN, example = "Asia/Shanghai");
