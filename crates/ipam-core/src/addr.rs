//! Address math for IPv4 and IPv6 alike: one address type (family + u128), prefixes and
//! inclusive spans. Nothing here compares a v4 value with a v6 value: every table and
//! procedure is split by family (MS-IPAMM2 compound tables, ipam-model digest §1).

use serde::{Deserialize, Serialize};
use std::fmt;
use std::net::{IpAddr, Ipv4Addr, Ipv6Addr};

#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash, PartialOrd, Ord, Serialize, Deserialize)]
pub enum Family {
    V4,
    V6,
}

impl Family {
    pub const fn bits(self) -> u8 {
        match self {
            Family::V4 => 32,
            Family::V6 => 128,
        }
    }

    /// The largest address value of the family.
    pub const fn max_value(self) -> u128 {
        match self {
            Family::V4 => u32::MAX as u128,
            Family::V6 => u128::MAX,
        }
    }

    pub fn name(self) -> &'static str {
        match self {
            Family::V4 => "IPv4",
            Family::V6 => "IPv6",
        }
    }
}

/// An IP address of either family. The value is kept as two words rather than a u128, so
/// the type is 24 bytes with 8-byte alignment instead of 32 (rows hold several addresses,
/// and there are millions of rows). Ordering is by family, then value.
#[derive(Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord, Serialize, Deserialize)]
pub struct Addr {
    family: Family,
    hi: u64,
    lo: u64,
}

#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum AddrError {
    #[error("'{0}' is not an IP address")]
    NotAnAddress(String),
    #[error("'{0}' is not a prefix in CIDR form (address/length)")]
    NotAPrefix(String),
    #[error("prefix length {len} is out of range for {family} (0-{max})")]
    PrefixLength { len: u32, family: &'static str, max: u8 },
    #[error("{0} has bits set after the prefix length (the network address is {1})")]
    HostBitsSet(String, String),
    #[error("an address must be 4 or 16 bytes, got {0}")]
    BadLength(usize),
}

impl Addr {
    pub const fn v4(value: u32) -> Addr {
        Addr {
            family: Family::V4,
            hi: 0,
            lo: value as u64,
        }
    }

    pub const fn v6(value: u128) -> Addr {
        Addr {
            family: Family::V6,
            hi: (value >> 64) as u64,
            lo: value as u64,
        }
    }

    /// Builds an address of `family`; the value must fit the family.
    pub fn new(family: Family, value: u128) -> Addr {
        debug_assert!(value <= family.max_value());
        Addr {
            family,
            hi: (value >> 64) as u64,
            lo: value as u64,
        }
    }

    pub const fn family(self) -> Family {
        self.family
    }

    pub const fn value(self) -> u128 {
        (self.hi as u128) << 64 | self.lo as u128
    }

    pub fn parse(text: &str) -> Result<Addr, AddrError> {
        match text.trim().parse::<IpAddr>() {
            Ok(IpAddr::V4(a)) => Ok(Addr::v4(u32::from(a))),
            Ok(IpAddr::V6(a)) => Ok(Addr::v6(u128::from(a))),
            Err(_) => Err(AddrError::NotAnAddress(text.to_string())),
        }
    }

    /// Big-endian bytes: 4 for IPv4, 16 for IPv6 (the event encoding).
    pub fn to_bytes(self) -> Vec<u8> {
        match self.family {
            Family::V4 => (self.lo as u32).to_be_bytes().to_vec(),
            Family::V6 => self.value().to_be_bytes().to_vec(),
        }
    }

    pub fn from_bytes(bytes: &[u8]) -> Result<Addr, AddrError> {
        match bytes.len() {
            4 => Ok(Addr::v4(u32::from_be_bytes(bytes.try_into().expect("len 4")))),
            16 => Ok(Addr::v6(u128::from_be_bytes(bytes.try_into().expect("len 16")))),
            n => Err(AddrError::BadLength(n)),
        }
    }

    /// The next address, or None at the end of the family's space.
    pub fn checked_next(self) -> Option<Addr> {
        (self.value() < self.family.max_value()).then(|| Addr::new(self.family, self.value() + 1))
    }
}

impl fmt::Display for Addr {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self.family {
            Family::V4 => Ipv4Addr::from(self.lo as u32).fmt(f),
            Family::V6 => Ipv6Addr::from(self.value()).fmt(f),
        }
    }
}

impl fmt::Debug for Addr {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        fmt::Display::fmt(self, f)
    }
}

/// The netmask of a prefix length, as a value of the family's width.
pub fn mask(family: Family, len: u8) -> u128 {
    let bits = family.bits();
    if len == 0 {
        0
    } else {
        (u128::MAX << (128 - len as u32)) >> (128 - bits as u32)
    }
}

/// A CIDR prefix: a network address with no host bits set, and a length.
#[derive(Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord, Serialize, Deserialize)]
pub struct Prefix {
    network: Addr,
    len: u8,
}

impl Prefix {
    /// A prefix from a network address and length; fails when host bits are set.
    pub fn new(network: Addr, len: u8) -> Result<Prefix, AddrError> {
        let family = network.family();
        if len > family.bits() {
            return Err(AddrError::PrefixLength {
                len: len as u32,
                family: family.name(),
                max: family.bits(),
            });
        }
        let masked = network.value() & mask(family, len);
        if masked != network.value() {
            return Err(AddrError::HostBitsSet(
                format!("{network}/{len}"),
                Addr::new(family, masked).to_string(),
            ));
        }
        Ok(Prefix { network, len })
    }

    /// The prefix of length `len` that contains `addr` (host bits cleared).
    pub fn containing(addr: Addr, len: u8) -> Prefix {
        let len = len.min(addr.family().bits());
        let network = Addr::new(addr.family(), addr.value() & mask(addr.family(), len));
        Prefix { network, len }
    }

    pub fn parse(text: &str) -> Result<Prefix, AddrError> {
        let text = text.trim();
        let (addr, len) = text
            .split_once('/')
            .ok_or_else(|| AddrError::NotAPrefix(text.to_string()))?;
        let network = Addr::parse(addr)?;
        let len: u32 = len.parse().map_err(|_| AddrError::NotAPrefix(text.to_string()))?;
        if len > network.family().bits() as u32 {
            return Err(AddrError::PrefixLength {
                len,
                family: network.family().name(),
                max: network.family().bits(),
            });
        }
        Prefix::new(network, len as u8)
    }

    pub const fn network(self) -> Addr {
        self.network
    }

    pub const fn length(self) -> u8 {
        self.len
    }

    pub const fn family(self) -> Family {
        self.network.family()
    }

    pub fn first(self) -> Addr {
        self.network
    }

    pub fn last(self) -> Addr {
        let family = self.family();
        Addr::new(
            family,
            self.network.value() | (!mask(family, self.len) & family.max_value()),
        )
    }

    pub fn span(self) -> Span {
        Span::new(self.first().value(), self.last().value())
    }

    pub fn contains(self, addr: Addr) -> bool {
        addr.family() == self.family() && addr.value() & mask(self.family(), self.len) == self.network.value()
    }
}

impl fmt::Display for Prefix {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "{}/{}", self.network, self.len)
    }
}

impl fmt::Debug for Prefix {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        fmt::Display::fmt(self, f)
    }
}

/// An inclusive span of address values `[start, end]` within one family.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash, PartialOrd, Ord, Serialize, Deserialize)]
pub struct Span {
    pub start: u128,
    pub end: u128,
}

impl Span {
    pub fn new(start: u128, end: u128) -> Span {
        debug_assert!(start <= end, "span start {start} > end {end}");
        Span { start, end }
    }

    pub fn single(value: u128) -> Span {
        Span {
            start: value,
            end: value,
        }
    }

    /// Number of addresses, saturating at u128::MAX (only the whole IPv6 space saturates).
    pub fn size(self) -> u128 {
        (self.end - self.start).saturating_add(1)
    }

    pub fn intersects(self, other: Span) -> bool {
        self.start <= other.end && other.start <= self.end
    }

    pub fn contains_span(self, other: Span) -> bool {
        self.start <= other.start && other.end <= self.end
    }

    pub fn contains(self, value: u128) -> bool {
        self.start <= value && value <= self.end
    }

    pub fn intersection(self, other: Span) -> Option<Span> {
        self.intersects(other)
            .then(|| Span::new(self.start.max(other.start), self.end.min(other.end)))
    }
}

/// Length of the longest common prefix of two values of `family`.
pub fn common_prefix_len(family: Family, a: u128, b: u128) -> u8 {
    let diff = a ^ b;
    let lead = diff.leading_zeros() as u8; // counts over 128 bits
    let pad = 128 - family.bits();
    (lead - pad).min(family.bits())
}

/// AddressCategory (2.2.5.3).
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash, PartialOrd, Ord, Serialize, Deserialize)]
pub enum AddressCategory {
    None,
    Public,
    Private,
    GlobalIpv6Unicast,
}

fn v4(a: u8, b: u8, c: u8, d: u8, len: u8) -> Span {
    Prefix::new(Addr::v4(u32::from_be_bytes([a, b, c, d])), len)
        .expect("constant prefix")
        .span()
}

/// IPv4 space that is neither public nor RFC 1918 private (IANA special-purpose registry).
fn v4_special() -> [Span; 12] {
    [
        v4(0, 0, 0, 0, 8),
        v4(100, 64, 0, 0, 10),
        v4(127, 0, 0, 0, 8),
        v4(169, 254, 0, 0, 16),
        v4(192, 0, 0, 0, 24),
        v4(192, 0, 2, 0, 24),
        v4(192, 88, 99, 0, 24),
        v4(198, 18, 0, 0, 15),
        v4(198, 51, 100, 0, 24),
        v4(203, 0, 113, 0, 24),
        v4(224, 0, 0, 0, 4),
        v4(240, 0, 0, 0, 4),
    ]
}

fn v4_private() -> [Span; 3] {
    [v4(10, 0, 0, 0, 8), v4(172, 16, 0, 0, 12), v4(192, 168, 0, 0, 16)]
}

/// The category of a span (ValidateIPBlock 3.1.4.4): IPv4 Private when entirely inside RFC
/// 1918 space, Public when entirely outside private and special-purpose space; IPv6
/// GlobalIpv6Unicast inside 2000::/3 (RFC 4291). We also call IPv6 unique-local space
/// (fc00::/7, RFC 4193) Private, the IPv6 analogue of RFC 1918 that the spec predates.
/// Anything else is None, which ValidateIPBlock rejects.
pub fn category_of(family: Family, span: Span) -> AddressCategory {
    match family {
        Family::V4 => {
            if v4_private().iter().any(|p| p.contains_span(span)) {
                AddressCategory::Private
            } else if v4_private()
                .iter()
                .chain(v4_special().iter())
                .any(|p| p.intersects(span))
            {
                AddressCategory::None
            } else {
                AddressCategory::Public
            }
        }
        Family::V6 => {
            let global = Prefix::new(Addr::v6(0x2000u128 << 112), 3)
                .expect("2000::/3")
                .span();
            let ula = Prefix::new(Addr::v6(0xfc00u128 << 112), 7)
                .expect("fc00::/7")
                .span();
            if global.contains_span(span) {
                AddressCategory::GlobalIpv6Unicast
            } else if ula.contains_span(span) {
                AddressCategory::Private
            } else {
                AddressCategory::None
            }
        }
    }
}

/// Normalises a MAC address ("AA-BB-CC-DD-EE-FF", "aabb.ccdd.eeff", "aa:bb:...") to its
/// 48-bit value.
pub fn parse_mac(text: &str) -> Option<u64> {
    let hex: String = text
        .chars()
        .filter(|c| !matches!(c, ':' | '-' | '.' | ' '))
        .collect();
    if hex.len() != 12 || !hex.chars().all(|c| c.is_ascii_hexdigit()) {
        return None;
    }
    u64::from_str_radix(&hex, 16).ok()
}

pub fn format_mac(value: u64) -> String {
    let b = value.to_be_bytes();
    format!(
        "{:02x}:{:02x}:{:02x}:{:02x}:{:02x}:{:02x}",
        b[2], b[3], b[4], b[5], b[6], b[7]
    )
}

#[cfg(test)]
mod tests {
    use super::*;
    use proptest::prelude::*;

    #[test]
    fn parses_and_prints_both_families() {
        assert_eq!(Addr::parse("10.0.0.1").unwrap().to_string(), "10.0.0.1");
        assert_eq!(Addr::parse("2001:db8::1").unwrap().to_string(), "2001:db8::1");
        assert!(Addr::parse("10.0.0.256").is_err());
        let p = Prefix::parse("10.0.0.0/8").unwrap();
        assert_eq!(p.last().to_string(), "10.255.255.255");
        assert_eq!(p.span().size(), 1 << 24);
        assert!(matches!(
            Prefix::parse("10.0.0.1/8"),
            Err(AddrError::HostBitsSet(..))
        ));
        assert!(matches!(
            Prefix::parse("10.0.0.0/33"),
            Err(AddrError::PrefixLength { .. })
        ));
        let p6 = Prefix::parse("2001:db8::/32").unwrap();
        assert_eq!(p6.last().to_string(), "2001:db8:ffff:ffff:ffff:ffff:ffff:ffff");
        assert_eq!(Prefix::parse("::/0").unwrap().span().size(), u128::MAX);
    }

    #[test]
    fn categories_follow_validate_ip_block() {
        let cat = |s: &str| {
            let p = Prefix::parse(s).unwrap();
            category_of(p.family(), p.span())
        };
        assert_eq!(cat("10.0.0.0/8"), AddressCategory::Private);
        assert_eq!(cat("192.168.4.0/24"), AddressCategory::Private);
        assert_eq!(cat("8.8.8.0/24"), AddressCategory::Public);
        assert_eq!(cat("0.0.0.0/1"), AddressCategory::None);
        assert_eq!(cat("2001:db8::/32"), AddressCategory::GlobalIpv6Unicast);
        assert_eq!(cat("fd00::/8"), AddressCategory::Private);
        assert_eq!(cat("fe80::/10"), AddressCategory::None);
    }

    #[test]
    fn macs_normalise() {
        let v = parse_mac("AA-bb-CC-dd-EE-ff").unwrap();
        assert_eq!(format_mac(v), "aa:bb:cc:dd:ee:ff");
        assert_eq!(parse_mac("aabb.ccdd.eeff"), Some(v));
        assert_eq!(parse_mac("aa:bb"), None);
    }

    /// Text that looks like addresses and prefixes, and text that almost does.
    fn address_like() -> impl Strategy<Value = String> {
        prop_oneof![
            any::<String>(),
            "[0-9a-fA-F:./%-]{0,48}",
            (any::<u32>(), proptest::option::of(0u32..40)).prop_map(|(v, len)| {
                let a = std::net::Ipv4Addr::from(v).to_string();
                len.map_or(a.clone(), |l| format!("{a}/{l}"))
            }),
            (any::<u128>(), proptest::option::of(0u32..140)).prop_map(|(v, len)| {
                let a = std::net::Ipv6Addr::from(v).to_string();
                len.map_or(a.clone(), |l| format!("{a}/{l}"))
            }),
        ]
    }

    proptest! {
        #![proptest_config(ProptestConfig::with_cases(2000))]

        /// Fuzz: any text parses or is refused, never panics; what parses agrees with the
        /// standard library's parser (the oracle).
        #[test]
        fn address_parsing_agrees_with_std(text in address_like()) {
            let ours = Addr::parse(&text).ok();
            let std_parse = text.trim().parse::<std::net::IpAddr>().ok();
            match (ours, std_parse) {
                (Some(a), Some(std::net::IpAddr::V4(b))) => prop_assert_eq!(a, Addr::v4(u32::from(b))),
                (Some(a), Some(std::net::IpAddr::V6(b))) => prop_assert_eq!(a, Addr::v6(u128::from(b))),
                (None, None) => {}
                (ours, theirs) => prop_assert!(false, "{:?}: ours {:?}, std {:?}", text, ours, theirs),
            }
        }

        /// Fuzz: a prefix parses exactly when its address does, its length fits the family
        /// and no host bit is set.
        #[test]
        fn prefix_parsing_follows_its_rules(text in address_like()) {
            let parsed = Prefix::parse(&text);
            let expected = text.trim().split_once('/').and_then(|(a, l)| {
                let addr = Addr::parse(a).ok()?;
                let len: u8 = l.parse().ok().filter(|l| *l <= addr.family().bits())?;
                (Prefix::containing(addr, len).network() == addr).then_some((addr, len))
            });
            match (parsed, expected) {
                (Ok(p), Some((addr, len))) => {
                    prop_assert_eq!(p.network(), addr);
                    prop_assert_eq!(p.length(), len);
                    prop_assert_eq!(Prefix::parse(&p.to_string()).unwrap(), p);
                }
                (Err(_), None) => {}
                (got, want) => prop_assert!(false, "{:?}: got {:?}, want {:?}", text, got, want),
            }
        }

        #[test]
        fn v4_text_and_bytes_round_trip(v in any::<u32>()) {
            let a = Addr::v4(v);
            prop_assert_eq!(Addr::parse(&a.to_string()).unwrap(), a);
            prop_assert_eq!(Addr::from_bytes(&a.to_bytes()).unwrap(), a);
        }

        #[test]
        fn v6_text_and_bytes_round_trip(v in any::<u128>()) {
            let a = Addr::v6(v);
            prop_assert_eq!(Addr::parse(&a.to_string()).unwrap(), a);
            prop_assert_eq!(Addr::from_bytes(&a.to_bytes()).unwrap(), a);
        }

        #[test]
        fn containing_prefix_contains_its_address(v in any::<u128>(), len in 0u8..=128) {
            let a = Addr::v6(v);
            let p = Prefix::containing(a, len);
            prop_assert!(p.contains(a));
            prop_assert!(p.first() <= a && a <= p.last());
            prop_assert_eq!(Prefix::new(p.network(), len).unwrap(), p);
        }

        #[test]
        fn common_prefix_matches_brute_force(a in any::<u32>(), b in any::<u32>()) {
            let brute = (0..=32u8).rev()
                .find(|&l| Prefix::containing(Addr::v4(a), l).contains(Addr::v4(b)))
                .unwrap();
            prop_assert_eq!(common_prefix_len(Family::V4, a as u128, b as u128), brute);
        }
    }
}
