//! Validation rules (3.1.4.x). Each failure names the request field at fault.

use crate::addr::{Addr, AddressCategory, Family, Prefix, Span, category_of};
use crate::fault::{Fault, FaultResult};
use crate::model::{ManagedBy, Manager};

/// Most exclusion ranges one range or scope may carry.
pub const MAX_EXCLUSIONS: usize = 1024;

/// Longest free text we keep (ValidateAddressSpace 3.1.4.18: description 4000 characters).
pub const MAX_DESCRIPTION: usize = 4000;
/// Names and owners (ValidateAddressSpace 3.1.4.18: 1000 characters).
pub const MAX_NAME: usize = 1000;

pub fn text(field: &str, value: &str, max: usize) -> FaultResult<()> {
    let n = value.chars().count();
    if n > max {
        return Err(Fault::invalid(
            field,
            format!("{field} is {n} characters long; the limit is {max}"),
        ));
    }
    Ok(())
}

/// A required name: present, not only whitespace, at most `max` characters.
pub fn name(field: &str, value: &str, max: usize) -> FaultResult<()> {
    if value.trim().is_empty() {
        return Err(Fault::required(field));
    }
    text(field, value, max)
}

/// Both ends of a span are of `family`, and start ≤ end.
pub fn span(family: Family, start: Addr, end: Addr, start_field: &str, end_field: &str) -> FaultResult<Span> {
    for (addr, field) in [(start, start_field), (end, end_field)] {
        if addr.family() != family {
            return Err(Fault::invalid(
                field,
                format!(
                    "{addr} is {}, the network is {}",
                    addr.family().name(),
                    family.name()
                ),
            ));
        }
    }
    if start > end {
        return Err(Fault::invalid(
            start_field,
            format!("{start_field} {start} is after {end_field} {end}"),
        ));
    }
    Ok(Span::new(start.value(), end.value()))
}

/// ValidateIPBlock (3.1.4.4): prefix length (IPv4 1-30, IPv6 1-127); start ≤ end, both
/// inside the prefix (the spec's "NetworkId OR SubnetMask" means OR with the *inverted*
/// mask, i.e. the prefix's last address); a category that is not None and equals the one
/// the client gave, if any. Returns the span and the computed category.
pub fn ip_block(
    prefix: Prefix,
    start: Addr,
    end: Addr,
    claimed: Option<AddressCategory>,
) -> FaultResult<(Span, AddressCategory)> {
    let family = prefix.family();
    let (min, max) = match family {
        Family::V4 => (1, 30),
        Family::V6 => (1, 127),
    };
    if prefix.length() < min || prefix.length() > max {
        return Err(Fault::invalid(
            "network",
            format!(
                "an {} block's prefix length must be {min}-{max}, got /{}",
                family.name(),
                prefix.length()
            ),
        ));
    }
    let span = span(family, start, end, "start_address", "end_address")?;
    for (addr, field) in [(start, "start_address"), (end, "end_address")] {
        if !prefix.contains(addr) {
            return Err(Fault::invalid(field, format!("{addr} is outside {prefix}")));
        }
    }
    let category = category_of(family, prefix.span());
    if category == AddressCategory::None {
        return Err(Fault::invalid(
            "network",
            format!(
                "{prefix} is neither entirely public nor entirely private space \
                 (IPv4: RFC 1918 or public; IPv6: 2000::/3 or fc00::/7)"
            ),
        ));
    }
    if let Some(claimed) = claimed
        && claimed != category
    {
        return Err(Fault::invalid(
            "category",
            format!("{prefix} is {category:?} address space, not {claimed:?}"),
        ));
    }
    Ok((span, category))
}

/// The span of a range or scope inside its subnet (ValidateIPRange v1 3.1.4.5,
/// ValidateDhcpScope v1 3.1.4.9): the prefix length is not 0 and both ends lie in the
/// subnet.
pub fn span_in_subnet(subnet: Prefix, start: Addr, end: Addr) -> FaultResult<Span> {
    if subnet.length() == 0 {
        return Err(Fault::invalid("network", "the prefix length must not be 0"));
    }
    let span = span(subnet.family(), start, end, "start_address", "end_address")?;
    for (addr, field) in [(start, "start_address"), (end, "end_address")] {
        if !subnet.contains(addr) {
            return Err(Fault::invalid(
                field,
                format!("{addr} is outside the subnet {subnet}"),
            ));
        }
    }
    Ok(span)
}

/// Exclusion ranges of a range or scope spanning `span` (ValidateIPRange / the DHCP
/// scope rules): both ends of the range's family, start ≤ end, inside the range, and not
/// overlapping each other. Returns them sorted.
pub fn exclusions(family: Family, span: Span, raw: &[(Addr, Addr)]) -> FaultResult<Vec<Span>> {
    if raw.len() > MAX_EXCLUSIONS {
        return Err(Fault::invalid(
            "exclusions",
            format!("at most {MAX_EXCLUSIONS} exclusion ranges, got {}", raw.len()),
        ));
    }
    let mut out: Vec<(Span, usize)> = Vec::with_capacity(raw.len());
    for (i, &(start, end)) in raw.iter().enumerate() {
        let field = format!("exclusions[{i}]");
        let s = self::span(
            family,
            start,
            end,
            &format!("{field}.start_address"),
            &format!("{field}.end_address"),
        )?;
        if !span.contains_span(s) {
            return Err(Fault::invalid(
                field,
                format!("{start}-{end} is not inside the range"),
            ));
        }
        out.push((s, i));
    }
    out.sort();
    for w in out.windows(2) {
        if w[1].0.start <= w[0].0.end {
            return Err(Fault::invalid(
                format!("exclusions[{}]", w[1].1),
                format!("overlaps exclusions[{}]", w[0].1),
            ));
        }
    }
    Ok(out.into_iter().map(|(s, _)| s).collect())
}

/// The owner of a row from the request: IPAM / Localhost by default; other managers need
/// their entity. MS DHCP rows come only from the DHCP scope delegates (the spec's import
/// refuses them too, digest §2.9).
pub fn manager(by: Option<ManagedBy>, entity: &str) -> FaultResult<Manager> {
    let by = by.unwrap_or(ManagedBy::Ipam);
    if by == ManagedBy::MsDhcp {
        return Err(Fault::invalid(
            "managed_by",
            "MS DHCP ranges and addresses belong to DHCP scopes; create or edit the scope instead",
        ));
    }
    let entity = entity.trim();
    text("managed_by_entity", entity, MAX_NAME)?;
    let entity = match (by, entity.is_empty()) {
        (ManagedBy::Ipam, true) => "Localhost".to_string(),
        (_, true) => return Err(Fault::required("managed_by_entity")),
        (_, false) => entity.to_string(),
    };
    Ok(Manager { by, entity })
}

#[cfg(test)]
mod tests {
    use super::*;

    fn p(s: &str) -> Prefix {
        Prefix::parse(s).unwrap()
    }

    fn a(s: &str) -> Addr {
        Addr::parse(s).unwrap()
    }

    #[test]
    fn ip_block_names_the_field_at_fault() {
        let ok = ip_block(p("10.0.0.0/8"), a("10.0.0.0"), a("10.255.255.255"), None).unwrap();
        assert_eq!(ok.1, AddressCategory::Private);
        let field = |r: FaultResult<_>| r.unwrap_err().field;
        assert_eq!(
            field(ip_block(p("10.0.0.0/31"), a("10.0.0.0"), a("10.0.0.1"), None)),
            "network"
        );
        let message = ip_block(p("10.0.0.0/31"), a("10.0.0.0"), a("10.0.0.1"), None)
            .unwrap_err()
            .message;
        assert!(message.starts_with("an IPv4 block"), "{message}");
        assert_eq!(
            field(ip_block(p("10.0.0.0/8"), a("11.0.0.0"), a("10.0.0.1"), None)),
            "start_address"
        );
        assert_eq!(
            field(ip_block(p("10.0.0.0/8"), a("10.0.0.9"), a("10.0.0.1"), None)),
            "start_address"
        );
        assert_eq!(
            field(ip_block(p("10.0.0.0/8"), a("10.0.0.0"), a("::1"), None)),
            "end_address"
        );
        assert_eq!(
            field(ip_block(
                p("10.0.0.0/8"),
                a("10.0.0.0"),
                a("10.0.0.1"),
                Some(AddressCategory::Public)
            )),
            "category"
        );
        assert_eq!(
            field(ip_block(p("0.0.0.0/1"), a("0.0.0.0"), a("1.0.0.0"), None)),
            "network"
        );
    }

    #[test]
    fn exclusions_are_checked_and_sorted() {
        let span = Span::new(a("10.0.0.0").value(), a("10.0.0.255").value());
        let e = |x: &str, y: &str| (a(x), a(y));
        let ok = exclusions(
            Family::V4,
            span,
            &[e("10.0.0.50", "10.0.0.60"), e("10.0.0.1", "10.0.0.9")],
        )
        .unwrap();
        assert_eq!(ok[0].start, a("10.0.0.1").value());
        let field = |r: FaultResult<Vec<Span>>| r.unwrap_err().field;
        assert_eq!(
            field(exclusions(Family::V4, span, &[e("10.0.1.0", "10.0.1.1")])),
            "exclusions[0]"
        );
        assert_eq!(
            field(exclusions(Family::V4, span, &[e("10.0.0.9", "10.0.0.1")])),
            "exclusions[0].start_address"
        );
        assert_eq!(
            field(exclusions(
                Family::V4,
                span,
                &[e("10.0.0.1", "10.0.0.9"), e("10.0.0.5", "10.0.0.6")]
            )),
            "exclusions[1]"
        );
    }

    #[test]
    fn text_limits_count_characters() {
        assert!(text("description", &"é".repeat(MAX_DESCRIPTION), MAX_DESCRIPTION).is_ok());
        assert_eq!(
            text("description", &"x".repeat(MAX_DESCRIPTION + 1), MAX_DESCRIPTION)
                .unwrap_err()
                .field,
            "description"
        );
        assert_eq!(name("name", "  ", MAX_NAME).unwrap_err().field, "name");
    }
}
