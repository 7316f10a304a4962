//! The online commands, one file per resource (`ipamctl block ...` is in `block.rs`): each
//! file holds its subcommands' arguments and the handler that builds the request, calls
//! ipamd and prints the answer. Every change runs as an operation (`Client::run`), so each
//! can be followed or not.
//!
//! This module holds what several of them share: the arguments common to many tables
//! (`--limit`, `--family`, `--managed-by`, `--assignment`, description, owner and custom
//! fields), `Modified` for the update commands, and the List and Get loops (`list!`, `show!`).

pub mod access;
pub mod address;
pub mod backup;
pub mod block;
pub mod events;
pub mod failover;
pub mod filter;
pub mod op;
pub mod policy;
pub mod range;
pub mod replica;
pub mod reservation;
pub mod scope;
pub mod server;
pub mod space;
pub mod status;
pub mod superscope;
pub mod utilization;

use crate::client::status_error;
use clap::{Args, ValueEnum};
use ipam_proto::pb;

// --- shared arguments ------------------------------------------------------------------

#[derive(Args, Debug, Clone, Default)]
pub struct ListArgs {
    /// Rows to print at most (0 = all).
    #[arg(long, default_value_t = 1000)]
    pub limit: usize,
}

#[derive(Clone, Copy, Debug, ValueEnum)]
pub enum Family {
    #[value(name = "4")]
    V4,
    #[value(name = "6")]
    V6,
}

pub fn family(f: Option<Family>) -> i32 {
    match f {
        None => pb::AddressFamily::Unspecified as i32,
        Some(Family::V4) => pb::AddressFamily::Ipv4 as i32,
        Some(Family::V6) => pb::AddressFamily::Ipv6 as i32,
    }
}

#[derive(Clone, Copy, Debug, ValueEnum)]
pub enum ManagedBy {
    Ipam,
    MsDhcp,
    NonMsDhcp,
    VmManager,
    Others,
}

impl ManagedBy {
    pub fn pb(self) -> i32 {
        (match self {
            ManagedBy::Ipam => pb::ManagedBy::Ipam,
            ManagedBy::MsDhcp => pb::ManagedBy::MsDhcp,
            ManagedBy::NonMsDhcp => pb::ManagedBy::NonMsDhcp,
            ManagedBy::VmManager => pb::ManagedBy::VmManager,
            ManagedBy::Others => pb::ManagedBy::Others,
        }) as i32
    }
}

#[derive(Clone, Copy, Debug, ValueEnum)]
pub enum Assignment {
    Static,
    Dynamic,
    Auto,
    Vip,
    Reserved,
}

impl Assignment {
    pub fn pb(self) -> i32 {
        (match self {
            Assignment::Static => pb::AddressAssignment::Static,
            Assignment::Dynamic => pb::AddressAssignment::Dynamic,
            Assignment::Auto => pb::AddressAssignment::Auto,
            Assignment::Vip => pb::AddressAssignment::Vip,
            Assignment::Reserved => pb::AddressAssignment::Reserved,
        }) as i32
    }
}

/// `KEY=VALUE`.
pub fn key_value(text: &str) -> Result<(String, String), String> {
    text.split_once('=')
        .map(|(k, v)| (k.trim().to_string(), v.to_string()))
        .filter(|(k, _)| !k.is_empty())
        .ok_or_else(|| format!("'{text}' is not KEY=VALUE"))
}

/// `START-END` (an exclusion range).
pub fn span(text: &str) -> Result<pb::ExclusionRange, String> {
    text.split_once('-')
        .map(|(s, e)| pb::ExclusionRange {
            start_address: s.trim().to_string(),
            end_address: e.trim().to_string(),
        })
        .ok_or_else(|| format!("'{text}' is not START-END"))
}

#[derive(Args, Debug, Clone, Default)]
pub struct Describe {
    #[arg(long)]
    pub description: Option<String>,
    #[arg(long)]
    pub owner: Option<String>,
    /// A custom field, KEY=VALUE (repeat for several; an empty VALUE removes it).
    #[arg(long = "custom", value_parser = key_value)]
    pub custom: Vec<(String, String)>,
}

impl Describe {
    /// The `--custom` fields as the request's map.
    pub fn custom_fields(&self) -> std::collections::HashMap<String, String> {
        self.custom.iter().cloned().collect()
    }
}

// --- shared by the handlers ------------------------------------------------------------

/// `modified_properties` from the flags that were given.
#[derive(Default)]
pub struct Modified(pub Vec<String>);

impl Modified {
    pub fn set<T: Clone + Default>(&mut self, name: &str, value: &Option<T>) -> T {
        match value {
            Some(v) => {
                self.0.push(name.to_string());
                v.clone()
            }
            None => T::default(),
        }
    }

    pub fn set_if(&mut self, name: &str, given: bool) {
        if given {
            self.0.push(name.to_string());
        }
    }
}

/// Every page of a list call, up to `limit` rows (0 = all). Says on stderr when more rows
/// exist than were printed.
pub async fn pages<T, F, Fut>(limit: usize, mut call: F) -> anyhow::Result<Vec<T>>
where
    F: FnMut(pb::PageRequest) -> Fut,
    Fut: Future<Output = Result<(Vec<T>, String), tonic::Status>>,
{
    let mut rows = Vec::new();
    let mut token = String::new();
    loop {
        let want = if limit == 0 {
            1000
        } else {
            (limit - rows.len()).min(1000)
        };
        let (page, next) = call(pb::PageRequest {
            page_size: want as u32,
            page_token: token,
        })
        .await
        .map_err(status_error)?;
        rows.extend(page);
        if next.is_empty() {
            return Ok(rows);
        }
        if limit != 0 && rows.len() >= limit {
            eprintln!("(more rows: --limit 0 lists them all)");
            return Ok(rows);
        }
        token = next;
    }
}

/// Prints every page of a List RPC as rows (up to `limit`): the client, the method, the
/// request's fields other than its page, and the response's rows field.
macro_rules! list {
    ($c:expr, $limit:expr, $client:ident, $method:ident, $req:ident { $($field:ident: $value:expr),* $(,)? }, $rows:ident) => {{
        let rows = $crate::commands::pages($limit, |page| {
            let mut client = $c.$client();
            async move {
                let r = client
                    .$method(::ipam_proto::pb::$req {
                        $($field: $value,)*
                        page: Some(page),
                        as_of: $c.as_of,
                    })
                    .await?
                    .into_inner();
                Ok((r.$rows, r.next_page_token))
            }
        })
        .await?;
        $c.printer.rows(&rows);
        Ok(())
    }};
}
pub(crate) use list;

/// Prints the one record a Get RPC returns.
macro_rules! show {
    ($c:expr, $client:ident, $method:ident, $id:expr) => {{
        let x = $c
            .$client()
            .$method(::ipam_proto::pb::GetByIdRequest {
                id: $id,
                as_of: $c.as_of,
            })
            .await
            .map_err($crate::client::status_error)?;
        $c.printer.record(x.get_ref());
        Ok(())
    }};
}
pub(crate) use show;
