//! `ipamctl range`: IP address ranges, mapped to blocks with overlap detection; their free
//! spans, and allocation of a free subnet of a block as a new range.

use super::{Assignment, Describe, Family, ListArgs, ManagedBy, Modified, family, list, show, span};
use crate::client::{Client, status_error};
use crate::output::Format;
use anyhow::bail;
use clap::{Args, Subcommand};
use ipam_proto::pb;
use ipam_proto::pb::operation_params::Params as P;

#[derive(Args, Debug, Clone, Default)]
pub struct RangeFields {
    #[arg(long)]
    pub start: Option<String>,
    #[arg(long)]
    pub end: Option<String>,
    /// An excluded span START-END (repeat for several).
    #[arg(long = "exclude", value_parser = span)]
    pub exclusions: Vec<pb::ExclusionRange>,
    #[arg(long, value_enum)]
    pub managed_by: Option<ManagedBy>,
    /// The managing entity (e.g. a DHCP server's name).
    #[arg(long)]
    pub entity: Option<String>,
    #[arg(long, value_enum)]
    pub assignment: Option<Assignment>,
    #[command(flatten)]
    pub describe: Describe,
}

#[derive(Subcommand, Debug)]
pub enum RangeCmd {
    /// Create a range, e.g. `range create 10.1.2.0/24 --start 10.1.2.10 --end 10.1.2.99`.
    Create {
        network: String,
        #[arg(long, default_value_t = 0)]
        space: u64,
        #[command(flatten)]
        fields: RangeFields,
    },
    Update {
        id: u64,
        #[command(flatten)]
        fields: RangeFields,
    },
    Delete {
        id: u64,
    },
    /// Map the range to its block again (SetIPRangeMapping).
    Remap {
        id: u64,
    },
    List {
        #[arg(long, default_value_t = 0)]
        space: u64,
        #[arg(long, value_enum)]
        family: Option<Family>,
        /// Only ranges mapped under this block (0 = unmapped ranges).
        #[arg(long)]
        block: Option<u64>,
        #[arg(long)]
        overlapping: bool,
        #[command(flatten)]
        list: ListArgs,
    },
    Show {
        id: u64,
    },
    /// Free spans of a range.
    Free {
        id: u64,
        #[arg(long, default_value_t = 100)]
        max_spans: u32,
    },
    /// Allocate a free aligned subnet of a block as a new range.
    Allocate {
        block: u64,
        #[arg(long)]
        prefix_length: Option<u32>,
        /// Number of addresses (rounded up to a subnet).
        #[arg(long)]
        size: Option<u64>,
        #[arg(long, value_enum)]
        managed_by: Option<ManagedBy>,
        #[arg(long)]
        entity: Option<String>,
        #[arg(long)]
        description: Option<String>,
    },
}

pub async fn run(c: &Client, cmd: RangeCmd) -> anyhow::Result<()> {
    match cmd {
        RangeCmd::Create {
            network,
            space,
            fields,
        } => {
            let params = pb::CreateRangeParams {
                address_space_id: space,
                network,
                start_address: fields.start.clone().unwrap_or_default(),
                end_address: fields.end.clone().unwrap_or_default(),
                exclusions: fields.exclusions.clone(),
                managed_by: fields.managed_by.map_or(0, ManagedBy::pb),
                managed_by_entity: fields.entity.clone().unwrap_or_default(),
                assignment: fields.assignment.map_or(0, Assignment::pb),
                description: fields.describe.description.clone().unwrap_or_default(),
                owner: fields.describe.owner.clone().unwrap_or_default(),
                custom_fields: fields.describe.custom_fields(),
            };
            c.run(P::CreateRange(params)).await
        }
        RangeCmd::Update { id, fields } => {
            let mut m = Modified::default();
            let params = pb::UpdateRangeParams {
                id,
                start_address: m.set("start_address", &fields.start),
                end_address: m.set("end_address", &fields.end),
                exclusions: fields.exclusions.clone(),
                managed_by: m.set("managed_by", &fields.managed_by.map(ManagedBy::pb)),
                managed_by_entity: m.set("managed_by_entity", &fields.entity),
                assignment: m.set("assignment", &fields.assignment.map(Assignment::pb)),
                description: m.set("description", &fields.describe.description),
                owner: m.set("owner", &fields.describe.owner),
                custom_fields: fields.describe.custom_fields(),
                modified_properties: {
                    m.set_if("exclusions", !fields.exclusions.is_empty());
                    m.set_if("custom_fields", !fields.describe.custom.is_empty());
                    m.0
                },
            };
            c.run(P::UpdateRange(params)).await
        }
        RangeCmd::Delete { id } => c.run(P::DeleteRange(pb::DeleteRangeParams { id })).await,
        RangeCmd::Remap { id } => c.run(P::RemapRange(pb::RemapRangeParams { id })).await,
        RangeCmd::List {
            space,
            family: f,
            block,
            overlapping,
            list,
        } => {
            // managed_by 0: any manager.
            list!(
                c,
                list.limit,
                ipam,
                list_ranges,
                ListRangesRequest {
                    address_space_id: space,
                    family: family(f),
                    block_id: block,
                    overlapping_only: overlapping,
                    managed_by: 0,
                },
                ranges
            )
        }
        RangeCmd::Show { id } => show!(c, ipam, get_range, id),
        RangeCmd::Free { id, max_spans } => {
            let r = c
                .ipam()
                .free_addresses(pb::FreeAddressesRequest {
                    range_id: id,
                    max_spans,
                    as_of: c.as_of,
                })
                .await
                .map_err(status_error)?
                .into_inner();
            c.printer.rows(&r.free);
            if c.printer.format == Format::Table {
                eprintln!("{} free address(es) in range {id}", r.total_free);
            }
            Ok(())
        }
        RangeCmd::Allocate {
            block,
            prefix_length,
            size,
            managed_by,
            entity,
            description,
        } => {
            if prefix_length.is_none() && size.is_none() {
                bail!("give --prefix-length or --size");
            }
            let params = pb::AllocateRangeParams {
                block_id: block,
                prefix_length: prefix_length.unwrap_or_default(),
                size: size.unwrap_or_default(),
                managed_by: managed_by.map_or(0, ManagedBy::pb),
                managed_by_entity: entity.unwrap_or_default(),
                description: description.unwrap_or_default(),
                ..Default::default()
            };
            c.run(P::AllocateRange(params)).await
        }
    }
}
