//! OverlappingBecauseFailover (IPRangeOverlap 2.2.5.60): "the two address ranges are used
//! in different DHCP servers that are in a failover relationship". A range overlaps
//! because of failover when every range it overlaps is its failover twin: the range of the
//! same scope (same ScopeId) on the other server of a relationship both scopes are linked
//! to (ADM_DhcpScopeFailoverTable, 3.1.1.1.45). The twin is the same scope whatever its
//! pool: editing the pool on one server leaves the pair a pair.
//!
//! The flag therefore depends on the scopes' links as much as on the ranges, so every
//! change of a link (DhcpFailoverAddScopes 3.19.4.4.1.25, RemoveScopes .26, DeleteDhcpFailover
//! .27, creating a relationship with scopes) recomputes the flags of the linked scope's
//! range and of the ranges that overlap it (`rules::dhcp::set_links`).

use crate::ctx::Ctx;
use crate::ids::{FailoverId, ScopeId, ServerId};
use crate::tables::dhcp::failovers::DhcpFailover;
use crate::tables::ranges::IpRange;
use std::collections::HashMap;

/// The scopes and relationships an item creates or relinks, as they will be once it
/// commits (their rows in the tables are old or missing).
#[derive(Default)]
pub struct Links {
    /// A scope's server and relationship (0 = unlinked).
    scopes: HashMap<ScopeId, (ServerId, FailoverId)>,
    /// A relationship created in the item: its two servers.
    failovers: HashMap<FailoverId, (ServerId, ServerId)>,
}

impl Links {
    pub fn scope(&mut self, scope: ScopeId, server: ServerId, failover: FailoverId) {
        self.scopes.insert(scope, (server, failover));
    }

    pub fn failover(&mut self, f: &DhcpFailover) {
        self.failovers.insert(f.id, (f.server1, f.server2));
    }

    /// A scope's server and relationship, when it is linked to one.
    fn side(&self, ctx: &mut Ctx, scope: ScopeId) -> Option<(ServerId, FailoverId)> {
        if let Some(&(server, failover)) = self.scopes.get(&scope) {
            return failover.non_zero().map(|f| (server, f));
        }
        let server = ctx.scope(scope)?.server;
        Some((server, ctx.link_of(scope)?))
    }

    fn servers(&self, ctx: &mut Ctx, failover: FailoverId) -> Option<(ServerId, ServerId)> {
        if let Some(&servers) = self.failovers.get(&failover) {
            return Some(servers);
        }
        ctx.failover(failover).map(|f| (f.server1, f.server2))
    }
}

/// Whether `a` and `b` are one scope on the two servers of a relationship both are linked
/// to. Scope ranges carry their scope's network as subnet, so equal subnets are one ScopeId.
pub fn failover_pair(ctx: &mut Ctx, links: &Links, a: &IpRange, b: &IpRange) -> bool {
    if !a.scope.is_set() || !b.scope.is_set() || a.subnet != b.subnet {
        return false;
    }
    let (Some((sa, fa)), Some((sb, fb))) = (links.side(ctx, a.scope), links.side(ctx, b.scope)) else {
        return false;
    };
    if fa != fb || sa == sb {
        return false;
    }
    links
        .servers(ctx, fa)
        .is_some_and(|(s1, s2)| [s1, s2].contains(&sa) && [s1, s2].contains(&sb))
}
