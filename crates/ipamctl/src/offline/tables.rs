//! Every table of a `State`, rendered as the API shows its rows.

use crate::output::{Printer, to_json};
use ipam_core::State;
use ipam_core::ids::Table;
use ipam_proto::render;
use serde_json::Value;

/// Table names on the command line, in a fixed order.
pub const TABLES: [(&str, Table); 15] = [
    ("address-spaces", Table::AddressSpaces),
    ("blocks", Table::Blocks),
    ("ranges", Table::Ranges),
    ("addresses", Table::Addresses),
    ("dhcp-servers", Table::DhcpServers),
    ("dhcp-scopes", Table::DhcpScopes),
    ("dhcp-reservations", Table::DhcpReservations),
    ("dhcp-failovers", Table::DhcpFailovers),
    ("dhcp-superscopes", Table::DhcpSuperscopes),
    ("dhcp-filters", Table::DhcpFilters),
    ("dhcp-policies", Table::DhcpPolicies),
    ("access-scopes", Table::AccessScopes),
    ("roles", Table::Roles),
    ("access-policies", Table::AccessPolicies),
    ("tokens", Table::Tokens),
];

/// Calls `$each` with the rendered rows of `$table` (a `Vec` of one API message type).
macro_rules! with_rows {
    ($state:expr, $table:expr, |$rows:ident| $each:expr) => {{
        let s: &State = $state;
        match $table {
            Table::AddressSpaces => {
                let $rows: Vec<_> = s.spaces.iter().map(|x| render::address_space(s, x)).collect();
                $each
            }
            Table::Blocks => {
                let $rows: Vec<_> = s.blocks.iter().map(render::block).collect();
                $each
            }
            Table::Ranges => {
                let $rows: Vec<_> = s.ranges.iter().map(render::range).collect();
                $each
            }
            Table::Addresses => {
                let $rows: Vec<_> = s.addresses.iter().map(|a| render::address(s, a)).collect();
                $each
            }
            Table::DhcpServers => {
                let $rows: Vec<_> = s.dhcp.servers().map(|x| render::dhcp_server(s, x)).collect();
                $each
            }
            Table::DhcpScopes => {
                let $rows: Vec<_> = s.dhcp.scopes().map(|x| render::dhcp_scope(s, x)).collect();
                $each
            }
            Table::DhcpReservations => {
                let $rows: Vec<_> = s
                    .dhcp
                    .reservations_after(Default::default())
                    .map(|x| render::dhcp_reservation(s, x))
                    .collect();
                $each
            }
            Table::DhcpFailovers => {
                let $rows: Vec<_> = s.dhcp.failovers().map(|x| render::dhcp_failover(s, x)).collect();
                $each
            }
            Table::DhcpSuperscopes => {
                let $rows: Vec<_> = s
                    .dhcp
                    .superscopes()
                    .map(|x| render::dhcp_superscope(s, x))
                    .collect();
                $each
            }
            Table::DhcpFilters => {
                let $rows: Vec<_> = s.dhcp.filters().map(render::dhcp_filter).collect();
                $each
            }
            Table::DhcpPolicies => {
                let $rows: Vec<_> = s.dhcp.policies().map(render::dhcp_policy).collect();
                $each
            }
            Table::AccessScopes => {
                let $rows: Vec<_> = s
                    .access
                    .scopes()
                    .map(|x| render::access_scope(&s.access, x))
                    .collect();
                $each
            }
            Table::Roles => {
                let $rows: Vec<_> = s.access.roles().map(render::role).collect();
                $each
            }
            Table::AccessPolicies => {
                let $rows: Vec<_> = s
                    .access
                    .policies()
                    .map(|x| render::access_policy(&s.access, x))
                    .collect();
                $each
            }
            Table::Tokens => {
                let $rows: Vec<_> = s.access.tokens().map(render::token_info).collect();
                $each
            }
        }
    }};
}

pub fn print_rows(p: &Printer, state: &State, table: Table) {
    with_rows!(state, table, |rows| p.rows(&rows))
}

/// (row id, row as JSON) for every row of `table`.
pub fn json_rows(state: &State, table: Table) -> Vec<(u64, Value)> {
    fn id_of(v: &Value) -> u64 {
        v.get("id").and_then(Value::as_u64).unwrap_or_default()
    }
    with_rows!(state, table, |rows| rows
        .iter()
        .map(|r| {
            let v = to_json(r);
            (id_of(&v), v)
        })
        .collect())
}
