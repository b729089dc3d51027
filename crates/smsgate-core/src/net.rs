//! Client address allow-lists: networks an API key may be used from.

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
