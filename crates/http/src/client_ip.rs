//! Which address a request really comes from.
//!
//! Behind a reverse proxy every TCP peer is the proxy itself; the client is in
//! `X-Forwarded-For`. That header is client-controlled, so it is believed only
//! when the peer is one of `http.trusted_proxies`, and only as far back as the
//! chain of trusted hops goes: the right-most address that is not a trusted
//! proxy is the client (anything left of it could have been forged by the client).

use std::net::IpAddr;

use axum::{extract::FromRequestParts, http::request::Parts};
use ipnet::IpNet;
use portcullis_listener::ConnectionInfo;

use crate::AppState;

/// The client's address, as far as we can trust it (see the module docs); `None` when the
/// request came over a unix socket without a PROXY header.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct ClientIp(pub Option<IpAddr>);

impl FromRequestParts<AppState> for ClientIp {
    type Rejection = std::convert::Infallible;

    async fn from_request_parts(
        parts: &mut Parts,
        state: &AppState,
    ) -> Result<Self, Self::Rejection> {
        let peer = parts
            .extensions
            .get::<ConnectionInfo>()
            .and_then(ConnectionInfo::peer_addr)
            .map(|addr| addr.ip());
        let forwarded_for = parts
            .headers
            .get_all("x-forwarded-for")
            .iter()
            .filter_map(|value| value.to_str().ok());
        Ok(Self(client_ip(
            peer,
            forwarded_for,
            state.trusted_proxies(),
        )))
    }
}

/// Is `ip` inside one of the trusted proxy ranges?
///
/// Ranges such as `127.0.0.1/8` carry host bits (MAS's own defaults do);
/// `IpNet::contains` compares on the network, so they work as written.
#[must_use]
pub fn is_trusted(ip: IpAddr, trusted_proxies: &[IpNet]) -> bool {
    let ip = canonical(ip);
    trusted_proxies.iter().any(|net| net.trunc().contains(&ip))
}

/// The client address of a request: the peer, unless the peer is a trusted
/// proxy, in which case the `X-Forwarded-For` chain is walked from the right.
///
/// `forwarded_for` holds every `X-Forwarded-For` header value, in order.
#[must_use]
pub fn client_ip<'a>(
    peer: Option<IpAddr>,
    forwarded_for: impl IntoIterator<Item = &'a str>,
    trusted_proxies: &[IpNet],
) -> Option<IpAddr> {
    let peer = canonical(peer?);
    if !is_trusted(peer, trusted_proxies) {
        return Some(peer);
    }

    let hops: Vec<&str> = forwarded_for
        .into_iter()
        .flat_map(|value| value.split(','))
        .map(str::trim)
        .filter(|hop| !hop.is_empty())
        .collect();

    let mut client = peer;
    for hop in hops.iter().rev() {
        // An unparsable hop ends the chain of trust: we cannot say who sent it,
        // so the last address we could vouch for is the answer.
        let Some(ip) = parse_hop(hop) else { break };
        client = ip;
        if !is_trusted(ip, trusted_proxies) {
            break;
        }
    }
    Some(client)
}

/// A hop is an address, optionally with a port (`1.2.3.4:5678`, `[::1]:80`).
fn parse_hop(hop: &str) -> Option<IpAddr> {
    if let Ok(ip) = hop.parse::<IpAddr>() {
        return Some(canonical(ip));
    }
    hop.parse::<std::net::SocketAddr>()
        .ok()
        .map(|addr| canonical(addr.ip()))
}

/// IPv4-mapped IPv6 addresses (`::ffff:10.0.0.1`, seen on dual-stack sockets)
/// are compared as the IPv4 address they carry.
fn canonical(ip: IpAddr) -> IpAddr {
    match ip {
        IpAddr::V6(v6) => v6.to_ipv4_mapped().map_or(ip, IpAddr::V4),
        IpAddr::V4(_) => ip,
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn nets(list: &[&str]) -> Vec<IpNet> {
        list.iter()
            .map(|s| s.parse().expect("test ranges are valid"))
            .collect()
    }

    fn ip(s: &str) -> IpAddr {
        s.parse().expect("test addresses are valid")
    }

    #[test]
    fn forwarded_for_from_an_untrusted_peer_is_ignored() {
        let trusted = nets(&["10.0.0.0/8"]);
        let got = client_ip(Some(ip("203.0.113.9")), ["1.1.1.1"], &trusted);
        assert_eq!(got, Some(ip("203.0.113.9")));
    }

    #[test]
    fn forwarded_for_from_a_trusted_peer_gives_the_client() {
        let trusted = nets(&["10.0.0.0/8"]);
        let got = client_ip(Some(ip("10.1.2.3")), ["198.51.100.7"], &trusted);
        assert_eq!(got, Some(ip("198.51.100.7")));
    }

    #[test]
    fn a_forged_left_part_of_the_chain_is_not_believed() {
        // The client sent "X-Forwarded-For: 6.6.6.6"; the trusted proxy appended the real address.
        let trusted = nets(&["10.0.0.0/8"]);
        let got = client_ip(Some(ip("10.0.0.1")), ["6.6.6.6, 198.51.100.7"], &trusted);
        assert_eq!(got, Some(ip("198.51.100.7")));
    }

    #[test]
    fn chains_of_trusted_proxies_are_walked_to_the_first_untrusted_hop() {
        let trusted = nets(&["10.0.0.0/8", "192.168.0.0/16"]);
        let got = client_ip(
            Some(ip("10.0.0.1")),
            ["198.51.100.7, 192.168.1.1", "10.0.0.2"],
            &trusted,
        );
        assert_eq!(got, Some(ip("198.51.100.7")));
    }

    #[test]
    fn host_bits_in_trusted_ranges_are_accepted_as_mas_writes_them() {
        let trusted = nets(&["127.0.0.1/8"]);
        assert!(is_trusted(ip("127.8.9.10"), &trusted));
    }

    #[test]
    fn ipv4_mapped_peers_match_ipv4_ranges() {
        let trusted = nets(&["127.0.0.0/8"]);
        let got = client_ip(
            Some(ip("::ffff:127.0.0.1")),
            ["198.51.100.7:4433"],
            &trusted,
        );
        assert_eq!(got, Some(ip("198.51.100.7")));
    }

    #[test]
    fn garbage_in_the_chain_stops_at_the_last_vouched_address() {
        let trusted = nets(&["10.0.0.0/8"]);
        let got = client_ip(Some(ip("10.0.0.1")), ["not-an-ip"], &trusted);
        assert_eq!(got, Some(ip("10.0.0.1")));
    }

    #[test]
    fn no_peer_means_no_client_address() {
        assert_eq!(client_ip(None, ["198.51.100.7"], &nets(&[])), None);
    }
}
