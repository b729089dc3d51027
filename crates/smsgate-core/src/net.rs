//! Client addresses: networks an API key may be used from, and which
//! addresses are public (webhook destinations must be).

use std::fmt;
use std::net::IpAddr;
use std::str::FromStr;

/// An address with a prefix length: `10.0.0.0/8`, `2001:db8::/32`, or a
/// single address (`192.0.2.7` is `/32`).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub struct IpNetwork {
    addr: IpAddr,
    prefix: u8,
}

#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[error("{0:?} is not an IP address or network (e.g. 192.0.2.7 or 10.0.0.0/8)")]
pub struct BadNetwork(pub String);

/// IPv4 clients may arrive as IPv4-mapped IPv6 addresses.
fn canonical(ip: IpAddr) -> IpAddr {
    match ip {
        IpAddr::V6(v6) => v6.to_ipv4_mapped().map_or(ip, IpAddr::V4),
        v4 => v4,
    }
}

fn bits(ip: IpAddr) -> (u128, u8) {
    match ip {
        IpAddr::V4(v4) => (u128::from(u32::from(v4)), 32),
        IpAddr::V6(v6) => (u128::from(v6), 128),
    }
}

impl IpNetwork {
    pub fn contains(&self, ip: IpAddr) -> bool {
        let ip = canonical(ip);
        if ip.is_ipv4() != self.addr.is_ipv4() {
            return false;
        }
        let (net, width) = bits(self.addr);
        let (candidate, _) = bits(ip);
        let shift = u32::from(width - self.prefix);
        let mask = if shift >= 128 {
            0
        } else {
            (u128::MAX << shift) & (u128::MAX >> (128 - u32::from(width)))
        };
        net & mask == candidate & mask
    }
}

impl FromStr for IpNetwork {
    type Err = BadNetwork;

    fn from_str(s: &str) -> Result<IpNetwork, BadNetwork> {
        let bad = || BadNetwork(s.to_string());
        let (addr, prefix) = match s.trim().split_once('/') {
            Some((a, p)) => (a, Some(p)),
            None => (s.trim(), None),
        };
        let addr = canonical(addr.parse::<IpAddr>().map_err(|_| bad())?);
        let width = bits(addr).1;
        let prefix = match prefix {
            None => width,
            Some(p) => p
                .parse::<u8>()
                .ok()
                .filter(|p| *p <= width)
                .ok_or_else(bad)?,
        };
        Ok(IpNetwork { addr, prefix })
    }
}

impl serde::Serialize for IpNetwork {
    fn serialize<S: serde::Serializer>(&self, s: S) -> Result<S::Ok, S::Error> {
        s.collect_str(self)
    }
}

impl fmt::Display for IpNetwork {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        if self.prefix == bits(self.addr).1 {
            write!(f, "{}", self.addr)
        } else {
            write!(f, "{}/{}", self.addr, self.prefix)
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn ip(s: &str) -> IpAddr {
        s.parse().unwrap()
    }

    #[test]
    fn networks_contain_their_addresses_only() {
        let net: IpNetwork = "10.1.0.0/16".parse().unwrap();
        assert!(net.contains(ip("10.1.200.3")));
        assert!(!net.contains(ip("10.2.0.1")));
        assert!(net.contains(ip("::ffff:10.1.0.9")), "IPv4-mapped");
        let one: IpNetwork = "192.0.2.7".parse().unwrap();
        assert!(one.contains(ip("192.0.2.7")));
        assert!(!one.contains(ip("192.0.2.8")));
        let v6: IpNetwork = "2001:db8::/32".parse().unwrap();
        assert!(v6.contains(ip("2001:db8:1::5")));
        assert!(!v6.contains(ip("2001:db9::5")));
        assert!(!v6.contains(ip("10.1.0.1")));
        let all: IpNetwork = "0.0.0.0/0".parse().unwrap();
        assert!(all.contains(ip("203.0.113.1")));
        assert_eq!(one.to_string(), "192.0.2.7");
        assert_eq!(net.to_string(), "10.1.0.0/16");
    }

    #[test]
    fn nonsense_is_refused() {
        for s in [
            "",
            "10.0.0.0/33",
            "banana",
            "10.0.0/8",
            "::1/129",
            "10.0.0.1/x",
        ] {
            assert!(s.parse::<IpNetwork>().is_err(), "{s}");
        }
    }
}

/// Why an address is not one the public internet routes to a third party:
/// webhook destinations are refused for these unless an operator allows
/// private destinations (an on-premise receiver).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum NonPublic {
    Loopback,
    Private,
    LinkLocal,
    SharedAddressSpace,
    Multicast,
    Unspecified,
    Reserved,
}

impl std::fmt::Display for NonPublic {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str(match self {
            NonPublic::Loopback => "a loopback address",
            NonPublic::Private => "a private address",
            NonPublic::LinkLocal => "a link-local address (cloud metadata lives there)",
            NonPublic::SharedAddressSpace => "a carrier-grade NAT address",
            NonPublic::Multicast => "a multicast or broadcast address",
            NonPublic::Unspecified => "the unspecified address",
            NonPublic::Reserved => "a reserved address",
        })
    }
}

/// What kind of non-public address `ip` is, or `None` for a public one.
/// IPv6 forms that carry an IPv4 address (mapped, compatible, NAT64,
/// 6to4) are judged by the IPv4 address they carry.
pub fn non_public(ip: IpAddr) -> Option<NonPublic> {
    match ip {
        IpAddr::V4(v4) => non_public_v4(v4),
        IpAddr::V6(v6) => non_public_v6(v6),
    }
}

fn non_public_v4(ip: std::net::Ipv4Addr) -> Option<NonPublic> {
    let [a, b, c, _] = ip.octets();
    Some(match (a, b, c) {
        (0, ..) => NonPublic::Unspecified,
        (127, ..) => NonPublic::Loopback,
        (10, ..) | (192, 168, _) => NonPublic::Private,
        (172, 16..=31, _) => NonPublic::Private,
        (169, 254, _) => NonPublic::LinkLocal,
        (100, 64..=127, _) => NonPublic::SharedAddressSpace,
        (224..=239, ..) | (255, 255, 255) => NonPublic::Multicast,
        // IETF protocol assignments, documentation, benchmarking, and the
        // old class E.
        (192, 0, 0) | (192, 0, 2) | (198, 51, 100) | (203, 0, 113) | (198, 18..=19, _) => {
            NonPublic::Reserved
        }
        (240..=255, ..) => NonPublic::Reserved,
        _ => return None,
    })
}

fn non_public_v6(ip: std::net::Ipv6Addr) -> Option<NonPublic> {
    if let Some(v4) = ip.to_ipv4_mapped() {
        return non_public_v4(v4);
    }
    let s = ip.segments();
    if ip.is_unspecified() {
        return Some(NonPublic::Unspecified);
    }
    if ip.is_loopback() {
        return Some(NonPublic::Loopback);
    }
    let embedded = |hi: u16, lo: u16| {
        std::net::Ipv4Addr::new((hi >> 8) as u8, hi as u8, (lo >> 8) as u8, lo as u8)
    };
    Some(match s[0] {
        // ::a.b.c.d (IPv4-compatible, deprecated) and NAT64 64:ff9b::/96.
        0 if s[1..6] == [0; 5] => return non_public_v4(embedded(s[6], s[7])),
        0x64 if s[1] == 0xff9b && s[2..6] == [0; 4] => {
            return non_public_v4(embedded(s[6], s[7]));
        }
        // 6to4 carries its IPv4 address in bits 16..48.
        0x2002 => return non_public_v4(embedded(s[1], s[2])),
        x if x & 0xfe00 == 0xfc00 => NonPublic::Private,
        x if x & 0xffc0 == 0xfe80 || x & 0xffc0 == 0xfec0 => NonPublic::LinkLocal,
        x if x & 0xff00 == 0xff00 => NonPublic::Multicast,
        // Documentation.
        0x2001 if s[1] == 0xdb8 => NonPublic::Reserved,
        0 | 0x100 => NonPublic::Reserved,
        _ => return None,
    })
}

#[cfg(test)]
mod public_tests {
    use super::*;

    #[test]
    fn every_spelling_of_an_internal_address_is_non_public() {
        for (ip, kind) in [
            ("127.0.0.1", NonPublic::Loopback),
            ("127.1.2.3", NonPublic::Loopback),
            ("::1", NonPublic::Loopback),
            ("::ffff:127.0.0.1", NonPublic::Loopback),
            ("::127.0.0.1", NonPublic::Loopback),
            ("64:ff9b::7f00:1", NonPublic::Loopback),
            ("2002:7f00:1::", NonPublic::Loopback),
            ("10.0.0.5", NonPublic::Private),
            ("172.31.255.255", NonPublic::Private),
            ("192.168.1.1", NonPublic::Private),
            ("fd00::1", NonPublic::Private),
            ("169.254.169.254", NonPublic::LinkLocal),
            ("::ffff:169.254.169.254", NonPublic::LinkLocal),
            ("fe80::1", NonPublic::LinkLocal),
            ("100.100.100.200", NonPublic::SharedAddressSpace),
            ("224.0.0.1", NonPublic::Multicast),
            ("255.255.255.255", NonPublic::Multicast),
            ("ff02::1", NonPublic::Multicast),
            ("0.0.0.0", NonPublic::Unspecified),
            ("::", NonPublic::Unspecified),
            ("240.0.0.1", NonPublic::Reserved),
            ("2001:db8::1", NonPublic::Reserved),
        ] {
            assert_eq!(non_public(ip.parse().unwrap()), Some(kind), "{ip}");
        }
    }

    #[test]
    fn public_addresses_pass() {
        for ip in [
            "8.8.8.8",
            "172.15.0.1",
            "172.32.0.1",
            "100.63.0.1",
            "2a00:1450:4001::200e",
            "::ffff:8.8.8.8",
        ] {
            assert_eq!(non_public(ip.parse().unwrap()), None, "{ip}");
        }
    }
}
