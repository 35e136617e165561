//! Webhooks as the product defines them: the event types partners subscribe to, endpoint URLs
//! and which addresses they may reach, Standard Webhooks secrets and signatures, and the retry
//! schedule.

use std::net::{IpAddr, Ipv4Addr, Ipv6Addr};
use std::time::Duration;

use base64::Engine;
use base64::engine::general_purpose::STANDARD;
use rand::rngs::SysRng;
use rand::{Rng, RngExt, TryRng};
use serde::{Deserialize, Serialize};
use utoipa::ToSchema;

use super::Invalid;
use super::plans::vocabulary;
use crate::i18n::Text;

/// What happened: the `type` of a webhook message.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize, Deserialize, ToSchema)]
pub enum EventType {
    /// An escalation was submitted.
    #[serde(rename = "escalation.created")]
    EscalationCreated,
    /// An escalation moved to another status (taken up, awaiting you, resolved, closed, ...).
    #[serde(rename = "escalation.status_changed")]
    EscalationStatusChanged,
    /// A note was added to an escalation, by you or by 21Vianet.
    #[serde(rename = "escalation.note_added")]
    EscalationNoteAdded,
    /// A file was attached to an escalation, by you or by 21Vianet.
    #[serde(rename = "escalation.attachment_added")]
    EscalationAttachmentAdded,
    /// An attachment was removed from an escalation by whoever uploaded it.
    #[serde(rename = "escalation.attachment_removed")]
    EscalationAttachmentRemoved,
    /// An escalation still waits for 21Vianet's first response with most of its response time
    /// gone (80 % by default).
    #[serde(rename = "escalation.sla_warning")]
    EscalationSlaWarning,
    /// An escalation's first response is overdue.
    #[serde(rename = "escalation.sla_breached")]
    EscalationSlaBreached,
    /// 21Vianet opened an incident on a service (every partner may subscribe).
    #[serde(rename = "service_incident.created")]
    ServiceIncidentCreated,
    /// A service incident was resolved (every partner may subscribe).
    #[serde(rename = "service_incident.resolved")]
    ServiceIncidentResolved,
    /// 21Vianet asked you for a remediation plan.
    #[serde(rename = "remediation_plan.requested")]
    RemediationPlanRequested,
}

vocabulary!(EventType {
    EscalationCreated => "escalation.created",
    EscalationStatusChanged => "escalation.status_changed",
    EscalationNoteAdded => "escalation.note_added",
    EscalationAttachmentAdded => "escalation.attachment_added",
    EscalationAttachmentRemoved => "escalation.attachment_removed",
    EscalationSlaWarning => "escalation.sla_warning",
    EscalationSlaBreached => "escalation.sla_breached",
    ServiceIncidentCreated => "service_incident.created",
    ServiceIncidentResolved => "service_incident.resolved",
    RemediationPlanRequested => "remediation_plan.requested",
});

/// Where a delivery stands.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize, ToSchema)]
#[serde(rename_all = "snake_case")]
pub enum DeliveryStatus {
    /// Not yet acknowledged by the endpoint; another attempt is scheduled.
    Pending,
    /// The endpoint answered 2xx.
    Delivered,
    /// Every attempt within the retry horizon failed; no more will be made.
    Failed,
}

vocabulary!(DeliveryStatus {
    Pending => "pending",
    Delivered => "delivered",
    Failed => "failed",
});

/// An endpoint's host: a name to resolve, or an address written in the URL.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Host {
    Name(String),
    Address(IpAddr),
}

/// An absolute `http://` or `https://` URL with a host, ASCII only, at most 2048 characters.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct WebhookUrl {
    raw: String,
    host: Host,
    port: u16,
}

impl WebhookUrl {
    /// A host name or IPv4 address, or an IPv6 address in brackets written in hexadecimal
    /// groups (RFC 4291, 2.2, forms 1 and 2; the parser refuses the dotted form 3 too).
    pub const PATTERN: &str = concat!(
        r"^https?://([A-Za-z0-9.-]+|\[(",
        r"([0-9A-Fa-f]{1,4}:){7}[0-9A-Fa-f]{1,4}|",
        r"([0-9A-Fa-f]{1,4}:){1,7}:|",
        r"([0-9A-Fa-f]{1,4}:){1,6}:[0-9A-Fa-f]{1,4}|",
        r"([0-9A-Fa-f]{1,4}:){1,5}(:[0-9A-Fa-f]{1,4}){1,2}|",
        r"([0-9A-Fa-f]{1,4}:){1,4}(:[0-9A-Fa-f]{1,4}){1,3}|",
        r"([0-9A-Fa-f]{1,4}:){1,3}(:[0-9A-Fa-f]{1,4}){1,4}|",
        r"([0-9A-Fa-f]{1,4}:){1,2}(:[0-9A-Fa-f]{1,4}){1,5}|",
        r"[0-9A-Fa-f]{1,4}:(:[0-9A-Fa-f]{1,4}){1,6}|",
        r":((:[0-9A-Fa-f]{1,4}){1,7}|:)",
        r")\])",
        // A port of 1 to 65535, without leading zeros.
        r"(:([1-9][0-9]{0,3}|[1-5][0-9]{4}|6[0-4][0-9]{3}|65[0-4][0-9]{2}|655[0-2][0-9]|6553[0-5]))?",
        r"(/[!-~]*)?$"
    );
    pub const MAX_LEN: usize = 2048;

    pub fn parse(raw: &str) -> Result<Self, Invalid> {
        let invalid = || Invalid::new("invalid_url", Text::new("invalid-webhook-url"));
        if raw.len() > Self::MAX_LEN {
            return Err(invalid());
        }
        let (rest, default_port) = match (raw.strip_prefix("https://"), raw.strip_prefix("http://"))
        {
            (Some(rest), _) => (rest, 443),
            (None, Some(rest)) => (rest, 80),
            (None, None) => return Err(invalid()),
        };
        let (authority, path) = rest
            .find('/')
            .map_or((rest, ""), |slash| rest.split_at(slash));
        if !path.bytes().all(|b| b.is_ascii_graphic()) {
            return Err(invalid());
        }
        let (host, port) = match authority.strip_prefix('[') {
            Some(bracketed) => {
                let (inside, after) = bracketed.split_once(']').ok_or_else(invalid)?;
                if inside.contains('.') {
                    return Err(invalid());
                }
                let address: Ipv6Addr = inside.parse().map_err(|_| invalid())?;
                (Host::Address(IpAddr::V6(address)), after)
            }
            None => {
                let end = authority.find(':').unwrap_or(authority.len());
                let (name, after) = authority.split_at(end);
                let name_ok = !name.is_empty()
                    && name
                        .bytes()
                        .all(|b| b.is_ascii_alphanumeric() || b == b'.' || b == b'-');
                if !name_ok {
                    return Err(invalid());
                }
                let host = match name.parse::<Ipv4Addr>() {
                    Ok(address) => Host::Address(IpAddr::V4(address)),
                    Err(_) => Host::Name(name.to_ascii_lowercase()),
                };
                (host, after)
            }
        };
        let port = match port {
            "" => default_port,
            _ => {
                let digits = port.strip_prefix(':').ok_or_else(invalid)?;
                let valid = (1..=5).contains(&digits.len())
                    && digits.bytes().all(|b| b.is_ascii_digit())
                    && !digits.starts_with('0');
                match digits.parse::<u16>() {
                    Ok(port) if valid && port > 0 => port,
                    _ => return Err(invalid()),
                }
            }
        };
        Ok(Self {
            raw: raw.to_owned(),
            host,
            port,
        })
    }

    pub fn host(&self) -> &Host {
        &self.host
    }

    pub fn port(&self) -> u16 {
        self.port
    }

    pub fn as_str(&self) -> &str {
        &self.raw
    }

    pub fn into_inner(self) -> String {
        self.raw
    }
}

/// Whether an address is on the public internet. Loopback, private (RFC 1918, unique local),
/// link-local (where cloud metadata services live), shared (CGNAT), unspecified, multicast,
/// documentation and reserved ranges are not: a webhook must not become a way into the network
/// escalade runs in. An IPv6 address that carries an IPv4 one for a transition mechanism
/// (IPv4-mapped and -translated, NAT64, 6to4, Teredo) is public only if the IPv4 one is.
pub fn is_public(address: IpAddr) -> bool {
    match address {
        IpAddr::V4(v4) => is_public_v4(v4),
        IpAddr::V6(v6) => match embedded_v4(v6) {
            Embedded::Addresses(carried) => carried.into_iter().all(is_public_v4),
            Embedded::Never => false,
            Embedded::None => is_public_v6(v6),
        },
    }
}

/// What an IPv6 address says of IPv4.
enum Embedded {
    /// It reaches these IPv4 addresses.
    Addresses(Vec<Ipv4Addr>),
    /// It belongs to a transition range that never leads to the public internet.
    Never,
    /// It is plain IPv6.
    None,
}

fn embedded_v4(v6: Ipv6Addr) -> Embedded {
    let segments = v6.segments();
    let v4 = |high: u16, low: u16| {
        let [a, b] = high.to_be_bytes();
        let [c, d] = low.to_be_bytes();
        Ipv4Addr::new(a, b, c, d)
    };
    match segments {
        // IPv4-mapped (::ffff:a.b.c.d) and IPv4-translated (::ffff:0:a.b.c.d).
        [0, 0, 0, 0, 0, 0xffff, high, low] | [0, 0, 0, 0, 0xffff, 0, high, low] => {
            Embedded::Addresses(vec![v4(high, low)])
        }
        // IPv4-compatible (::a.b.c.d, deprecated), and :: and ::1 themselves.
        [0, 0, 0, 0, 0, 0, _, _] => Embedded::Never,
        // NAT64, well-known prefix (RFC 6052).
        [0x64, 0xff9b, 0, 0, 0, 0, high, low] => Embedded::Addresses(vec![v4(high, low)]),
        // NAT64, local-use prefix (RFC 8215): a private translator by definition.
        [0x64, 0xff9b, 1, ..] => Embedded::Never,
        // 6to4 (RFC 3056): 2002:a.b.c.d::/48.
        [0x2002, high, low, ..] => Embedded::Addresses(vec![v4(high, low)]),
        // Teredo (RFC 4380): the server's address, and the client's, bit-inverted.
        [
            0x2001,
            0,
            server_high,
            server_low,
            _,
            _,
            client_high,
            client_low,
        ] => Embedded::Addresses(vec![
            v4(server_high, server_low),
            v4(!client_high, !client_low),
        ]),
        _ => Embedded::None,
    }
}

fn is_public_v6(v6: Ipv6Addr) -> bool {
    let segments = v6.segments();
    !(v6.is_loopback()
        || v6.is_unspecified()
        || v6.is_multicast()
        || (segments[0] & 0xfe00) == 0xfc00 // unique local
        || (segments[0] & 0xffc0) == 0xfe80 // link-local
        || (segments[0] & 0xffc0) == 0xfec0 // site-local (deprecated)
        || segments[..4] == [0x100, 0, 0, 0] // discard-only
        || segments[0] == 0x2001 && segments[1] == 0x0db8 // documentation
        || segments[0] == 0x2001 && segments[1] == 0x0002 && segments[2] == 0 // benchmarking
        || segments[0] == 0x2001 && (0x10..0x30).contains(&(segments[1] & 0xfff0))) // ORCHID
}

fn is_public_v4(v4: Ipv4Addr) -> bool {
    let [a, b, c, _] = v4.octets();
    !(v4.is_loopback()
        || v4.is_private()
        || v4.is_link_local()
        || v4.is_unspecified()
        || v4.is_broadcast()
        || v4.is_multicast()
        || v4.is_documentation()
        || a == 0 // "this network"
        || a >= 240 // reserved
        || (a == 100 && (64..128).contains(&b)) // shared address space (CGNAT)
        || (a == 192 && b == 0 && c == 0) // IETF protocol assignments
        || (a == 198 && (b == 18 || b == 19))) // benchmarking
}

const SECRET_SCHEME: &str = "whsec_";
const SECRET_BYTES: usize = 32;

/// A signing secret, `whsec_` and the base64 of 32 random bytes. `Debug` hides it.
#[derive(Clone, PartialEq, Eq)]
pub struct SigningSecret(String);

impl std::fmt::Debug for SigningSecret {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str("SigningSecret(..)")
    }
}

impl SigningSecret {
    pub fn generate() -> Self {
        let mut bytes = [0u8; SECRET_BYTES];
        SysRng
            .try_fill_bytes(&mut bytes)
            .expect("the operating system's random source is unavailable");
        Self(format!("{SECRET_SCHEME}{}", STANDARD.encode(bytes)))
    }

    /// A secret as stored; `None` when it is not one of ours.
    pub fn from_stored(stored: &str) -> Option<Self> {
        let encoded = stored.strip_prefix(SECRET_SCHEME)?;
        STANDARD.decode(encoded).ok()?;
        Some(Self(stored.to_owned()))
    }

    pub fn as_str(&self) -> &str {
        &self.0
    }

    /// `v1,<base64 HMAC-SHA256>` of `{id}.{timestamp}.{body}`, as Standard Webhooks defines,
    /// by the specification's own library. `body` is a JSON document this service wrote.
    pub fn sign(&self, message_id: &str, timestamp: i64, body: &[u8]) -> String {
        standardwebhooks::Webhook::new(&self.0)
            .and_then(|webhook| webhook.sign(message_id, timestamp, body))
            .expect("a secret checked when it was made, and a UTF-8 body")
    }
}

/// The `webhook-signature` header: one signature per secret in force, space-separated, so a
/// receiver that still holds the previous secret keeps verifying during a rotation.
pub fn signature_header(
    secrets: &[SigningSecret],
    message_id: &str,
    timestamp: i64,
    body: &[u8],
) -> String {
    secrets
        .iter()
        .map(|secret| secret.sign(message_id, timestamp, body))
        .collect::<Vec<_>>()
        .join(" ")
}

/// When to try again: exponential back-off from `base`, capped at `max`, with jitter so that
/// endpoints coming back are not hit by every retry at once.
///
/// Not `backon`'s: its back-offs are iterators a retry loop walks in one process, while a
/// delivery's attempts are counted in the database and the next may be made by any instance,
/// which needs the delay for the n-th attempt alone; these few lines state it exactly.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Backoff {
    pub base: Duration,
    pub max: Duration,
}

impl Backoff {
    /// The longest wait after the `failed_attempts`-th failure: `base · 2^(n−1)`, at most `max`.
    pub fn ceiling(&self, failed_attempts: u32) -> Duration {
        let exponent = failed_attempts.saturating_sub(1).min(30);
        self.base.saturating_mul(1 << exponent).min(self.max)
    }

    /// A wait drawn uniformly between half the ceiling and all of it.
    pub fn delay(&self, failed_attempts: u32, rng: &mut impl Rng) -> Duration {
        let ceiling = self.ceiling(failed_attempts);
        let half = ceiling / 2;
        half + ceiling.saturating_sub(half).mul_f64(rng.random::<f64>())
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn event_types_round_trip() {
        for event in EventType::ALL {
            assert_eq!(EventType::parse(event.as_str()), Some(*event));
            assert_eq!(serde_json::to_value(event).unwrap(), event.as_str());
        }
    }

    #[test]
    fn urls_are_absolute_http_or_https() {
        let url = WebhookUrl::parse("https://hooks.example.com/escalade?x=1").unwrap();
        assert_eq!(url.host(), &Host::Name("hooks.example.com".to_owned()));
        assert_eq!(url.port(), 443);
        let url = WebhookUrl::parse("http://127.0.0.1:8080/hook").unwrap();
        assert_eq!(url.host(), &Host::Address("127.0.0.1".parse().unwrap()));
        assert_eq!(url.port(), 8080);
        let url = WebhookUrl::parse("http://[::1]:9/x").unwrap();
        assert_eq!(url.host(), &Host::Address("::1".parse().unwrap()));
        for bad in [
            "",
            "ftp://x.cn/",
            "/relative",
            "https://",
            "https://a b/",
            "https://user@host/",
            "https://host:0/",
            "https://host:65536/",
            "https://[::1/",
            "https://[zz]/",
            "https://[6]/",
            "https://[::ffff:127.0.0.1]/",
            "https://host/é",
            &format!("https://h/{}", "a".repeat(2048)),
        ] {
            assert!(WebhookUrl::parse(bad).is_err(), "{bad}");
        }
    }

    #[test]
    fn the_published_pattern_and_the_parser_agree() {
        let pattern = regex::Regex::new(WebhookUrl::PATTERN).unwrap();
        for candidate in [
            "https://hooks.yunqi.cn/escalade",
            "http://203.0.113.9:8443/x?y=1",
            "https://[6]/",
            "https://[::]/",
            "https://[::1]:9/",
            "https://[2001:db8::1]/hook",
            "https://[2001:db8:0:0:0:0:0:1]",
            "https://[1:2:3:4:5:6:7:8]/",
            "https://[1:2:3:4:5:6:7:8:9]/",
            "https://[1::2::3]/",
            "https://[12345::]/",
            "https://[::ffff:1.2.3.4]/",
            "https://[fe80::1%25eth0]/",
            "https://[1:2:3:4:5:6:7::]/",
            "https://[::2:3:4:5:6:7:8]/",
            "https://[:1]/",
            "https://[1:]/",
            "https://host:99999/",
            "https://host:65535/",
            "https://host:65536/",
            "https://host:0/",
            "https://host:080/",
            "https://host:8080",
        ] {
            assert_eq!(
                pattern.is_match(candidate),
                WebhookUrl::parse(candidate).is_ok(),
                "{candidate}"
            );
        }
    }

    #[test]
    fn only_public_addresses_are_public() {
        for private in [
            "127.0.0.1",
            "10.1.2.3",
            "172.16.0.1",
            "192.168.1.1",
            "169.254.169.254",
            "100.64.0.1",
            "0.0.0.0",
            "255.255.255.255",
            "224.0.0.1",
            "240.0.0.1",
            "::1",
            "::",
            "fc00::1",
            "fd12::1",
            "fe80::1",
            "ff02::1",
            "::ffff:127.0.0.1",
            "::ffff:10.0.0.1",
            "::ffff:0:7f00:1",
            "::7f00:1",
            "::808:808",
            "64:ff9b::a00:1",
            "64:ff9b:1::808:808",
            "2001:db8::1",
            "100::1",
            // 6to4 of 127.0.0.1, 10.0.0.1 and 169.254.169.254.
            "2002:7f00:1::",
            "2002:a00:1::1",
            "2002:a9fe:a9fe::1",
            // Teredo through a public server to 192.168.1.1 (inverted), and through a private one.
            "2001:0:808:808::3f57:fefe",
            "2001:0:a00:1::f7f7:f7f7",
        ] {
            assert!(!is_public(private.parse().unwrap()), "{private}");
        }
        for public in [
            "8.8.8.8",
            "139.217.0.1",
            "2402:4e00::1",
            "::ffff:8.8.8.8",
            "64:ff9b::808:808",
            "2002:808:808::1",
            "2001:0:808:808::f7f7:f7f7",
        ] {
            assert!(is_public(public.parse().unwrap()), "{public}");
        }
    }

    #[test]
    fn signatures_follow_standard_webhooks() {
        // The example of the Standard Webhooks specification's reference libraries.
        let secret = SigningSecret::from_stored("whsec_MfKQ9r8GKYqrTwjUPD8ILPZIo2LaLaSw").unwrap();
        let signature = secret.sign(
            "msg_p5jXN8AQM9LWM0D4loKWxJek",
            1614265330,
            br#"{"test": 2432232314}"#,
        );
        assert_eq!(signature, "v1,g0hM9SsE+OTPJTGt/tmIKtSyZlE3uFJELVlNIOLJ1OE=");
    }

    #[test]
    fn generated_secrets_are_32_random_bytes() {
        let one = SigningSecret::generate();
        let other = SigningSecret::generate();
        assert_ne!(one, other);
        assert!(one.as_str().starts_with("whsec_"));
        let key = STANDARD.decode(&one.as_str()["whsec_".len()..]).unwrap();
        assert_eq!(key.len(), 32);
        assert_eq!(format!("{one:?}"), "SigningSecret(..)");
    }

    #[test]
    fn a_rotation_signs_with_every_secret() {
        let (new, old) = (SigningSecret::generate(), SigningSecret::generate());
        let header = signature_header(&[new.clone(), old.clone()], "id", 1, b"{}");
        let parts: Vec<&str> = header.split(' ').collect();
        assert_eq!(parts, [new.sign("id", 1, b"{}"), old.sign("id", 1, b"{}")]);
    }

    #[test]
    fn backoff_doubles_up_to_the_cap_with_jitter_in_the_upper_half() {
        let backoff = Backoff {
            base: Duration::from_secs(5),
            max: Duration::from_secs(60),
        };
        assert_eq!(backoff.ceiling(1), Duration::from_secs(5));
        assert_eq!(backoff.ceiling(2), Duration::from_secs(10));
        assert_eq!(backoff.ceiling(4), Duration::from_secs(40));
        assert_eq!(backoff.ceiling(5), Duration::from_secs(60));
        assert_eq!(backoff.ceiling(200), Duration::from_secs(60));
        let mut rng = rand::rng();
        for attempt in 1..10 {
            let delay = backoff.delay(attempt, &mut rng);
            let ceiling = backoff.ceiling(attempt);
            assert!(delay >= ceiling / 2 && delay <= ceiling, "{delay:?}");
        }
    }
}
