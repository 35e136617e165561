//! Which address a request comes from: the peer's, or, when the peer is a proxy the deployment
//! trusts (`--trusted-proxies`), the address that proxy saw, read from the right of
//! `X-Forwarded-For` past every trusted hop. Entries left of the first untrusted hop are the
//! client's own words and never believed.

use std::net::IpAddr;

use std::net::SocketAddr;

use actix_web::http::header::HeaderMap;
use ipnet::IpNet;

/// The networks whose `X-Forwarded-For` entries are believed.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct TrustedProxies(pub Vec<IpNet>);

impl TrustedProxies {
    /// A comma-separated list of addresses and networks (`10.0.0.0/8, 2001:db8::1`); empty
    /// means none.
    pub fn parse(value: &str) -> Result<Self, String> {
        value
            .split(',')
            .map(str::trim)
            .filter(|item| !item.is_empty())
            .map(|item| {
                item.parse::<IpNet>()
                    .or_else(|_| item.parse::<IpAddr>().map(IpNet::from))
                    .map_err(|_| {
                        format!("`{item}` is not an address or network such as 10.0.0.0/8")
                    })
            })
            .collect::<Result<_, _>>()
            .map(Self)
    }

    fn trust(&self, address: IpAddr) -> bool {
        self.0.iter().any(|network| network.contains(&address))
    }

    /// The client's address for a request from `peer` with `headers`.
    pub fn client_of(&self, peer: Option<SocketAddr>, headers: &HeaderMap) -> Option<IpAddr> {
        let peer = peer?.ip();
        let forwarded = headers
            .get_all("x-forwarded-for")
            .filter_map(|value| value.to_str().ok())
            .flat_map(|value| value.split(','))
            .map(str::trim);
        Some(self.client(peer, forwarded))
    }

    /// Walks from the peer leftwards through `forwarded` while the hop is trusted.
    fn client<'a>(
        &self,
        peer: IpAddr,
        forwarded: impl DoubleEndedIterator<Item = &'a str>,
    ) -> IpAddr {
        let mut client = peer;
        let mut hops = forwarded.rev();
        while self.trust(client) {
            match hops.next().map(str::parse::<IpAddr>) {
                Some(Ok(hop)) => client = hop,
                // No more hops, or one a trusted proxy wrote badly: the last trusted hop is
                // as far as the chain can be followed.
                Some(Err(_)) | None => break,
            }
        }
        client
    }
}

/// The key a client address is counted under: IPv6 addresses by their /64, which one
/// subscriber usually holds whole.
pub fn counted_as(address: IpAddr) -> IpAddr {
    match address {
        IpAddr::V4(_) => address,
        IpAddr::V6(v6) => {
            let segments = v6.segments();
            IpAddr::V6(std::net::Ipv6Addr::new(
                segments[0],
                segments[1],
                segments[2],
                segments[3],
                0,
                0,
                0,
                0,
            ))
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn client(trusted: &str, peer: &str, forwarded: &str) -> String {
        let hops: Vec<&str> = forwarded
            .split(',')
            .map(str::trim)
            .filter(|hop| !hop.is_empty())
            .collect();
        TrustedProxies::parse(trusted)
            .unwrap()
            .client(peer.parse().unwrap(), hops.into_iter())
            .to_string()
    }

    #[test]
    fn forwarded_addresses_count_only_through_trusted_proxies() {
        // No trusted proxy: the peer, whatever the header says.
        assert_eq!(client("", "203.0.113.7", "198.51.100.1"), "203.0.113.7");
        // The trusted proxy saw the client.
        assert_eq!(
            client("10.0.0.0/8", "10.0.0.2", "198.51.100.1"),
            "198.51.100.1"
        );
        // Entries a client wrote itself (left of the first untrusted hop) are not believed.
        assert_eq!(
            client("10.0.0.0/8", "10.0.0.2", "1.1.1.1, 198.51.100.1"),
            "198.51.100.1"
        );
        // Through two trusted hops.
        assert_eq!(
            client(
                "10.0.0.0/8, 192.0.2.10",
                "10.0.0.2",
                "198.51.100.1, 192.0.2.10"
            ),
            "198.51.100.1"
        );
        // A trusted peer without the header, or with garbage: the peer itself.
        assert_eq!(client("10.0.0.0/8", "10.0.0.2", ""), "10.0.0.2");
        assert_eq!(
            client("10.0.0.0/8", "10.0.0.2", "not-an-address"),
            "10.0.0.2"
        );
    }

    #[test]
    fn trusted_proxies_are_addresses_or_networks() {
        assert_eq!(
            TrustedProxies::parse("").unwrap(),
            TrustedProxies::default()
        );
        assert_eq!(
            TrustedProxies::parse("10.0.0.0/8, 127.0.0.1, ::1")
                .unwrap()
                .0
                .len(),
            3
        );
        assert!(TrustedProxies::parse("10.0.0.0/33").is_err());
        assert!(TrustedProxies::parse("proxy.internal").is_err());
    }

    #[test]
    fn ipv6_clients_count_by_their_64() {
        assert_eq!(
            counted_as("2001:db8:1:2:aaaa::1".parse().unwrap()),
            "2001:db8:1:2::".parse::<IpAddr>().unwrap()
        );
        assert_eq!(
            counted_as("198.51.100.1".parse().unwrap()),
            "198.51.100.1".parse::<IpAddr>().unwrap()
        );
    }
}
