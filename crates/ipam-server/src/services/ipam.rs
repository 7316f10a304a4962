//! The Ipam service: address spaces, blocks, ranges, addresses. Mutations run as
//! operations; queries read the tables once what they show is durable.

use super::{App, family_filter, fault, next_token, page, page_size};
use ipam_core::access::Visibility;
use ipam_core::ids::Table;

use ipam_core::fault::Fault;
use ipam_core::ids::{AddressId, BlockId, RangeId, SpaceId};
use ipam_core::queries::candidate_span;
use ipam_core::tables::addresses::AddressView;
use ipam_core::tables::ranges::RangeEntry;
use ipam_proto::{params_codec, parse_addr, parse_optional_addr};
use ipam_proto::{pb, render};
use tonic::{Request, Response, Status};

pub(super) use super::alerts::{list_alerts, list_thresholds};
pub(super) use super::utilization::utilization_history;

type Reply<T> = Result<Response<T>, Status>;

pub(super) async fn get_address_space(app: &App, r: Request<pb::GetByIdRequest>) -> Reply<pb::AddressSpace> {
    let (who, at) = app.reader(&r).await?;
    let id = SpaceId(r.into_inner().id);
    app.read_row(&at, who, Table::AddressSpaces, id.0, "address space", move |s| {
        s.spaces.get(id).map(|x| render::address_space(s, x))
    })
    .await
}

pub(super) async fn list_address_spaces(
    app: &App,
    r: Request<pb::ListAddressSpacesRequest>,
) -> Reply<pb::ListAddressSpacesResponse> {
    let (who, at) = app.reader(&r).await?;
    let (size, after) = page(r.get_ref().page.as_ref())?;
    let (rows, more) = app
        .query_at(&at, move |s| {
            let seen = Visibility::new(s, who.authority());
            let mut it = s
                .spaces
                .after(SpaceId(after))
                .filter(|x| seen.sees_row(Table::AddressSpaces, x.id.0))
                .map(|x| render::address_space(s, x));
            let rows: Vec<_> = it.by_ref().take(size).collect();
            (rows, it.next().is_some())
        })
        .await?;
    let last = rows.last().map(|x| x.id);
    Ok(Response::new(pb::ListAddressSpacesResponse {
        address_spaces: rows,
        next_page_token: next_token(more, last),
    }))
}

pub(super) async fn get_block(app: &App, r: Request<pb::GetByIdRequest>) -> Reply<pb::IpBlock> {
    let (who, at) = app.reader(&r).await?;
    let id = BlockId(r.into_inner().id);
    app.read_row(&at, who, Table::Blocks, id.0, "block", move |s| {
        s.blocks.get(id).map(render::block)
    })
    .await
}

pub(super) async fn list_blocks(
    app: &App,
    r: Request<pb::ListBlocksRequest>,
) -> Reply<pb::ListBlocksResponse> {
    let (who, at) = app.reader(&r).await?;
    let req = r.into_inner();
    let (size, after) = page(req.page.as_ref())?;
    let family = family_filter(req.family, "family")?;
    let space = SpaceId(req.address_space_id);
    let parent = req.parent_block_id.map(BlockId);
    let (rows, more) = app
        .query_at(&at, move |s| {
            let seen = Visibility::new(s, who.authority());
            let mut it = s
                .blocks
                .after(BlockId(after))
                .filter(|e| seen.sees_row(Table::Blocks, e.block.id.0))
                .filter(|e| !space.is_set() || e.block.space == space)
                .filter(|e| family.is_none_or(|f| e.block.family() == f))
                .filter(|e| parent.is_none_or(|p| e.block.parent == p))
                .map(render::block);
            let rows: Vec<_> = it.by_ref().take(size).collect();
            (rows, it.next().is_some())
        })
        .await?;
    let last = rows.last().map(|b| b.id);
    Ok(Response::new(pb::ListBlocksResponse {
        blocks: rows,
        next_page_token: next_token(more, last),
    }))
}

pub(super) async fn find_block(app: &App, r: Request<pb::FindBlockRequest>) -> Reply<pb::IpBlock> {
    let (who, at) = app.reader(&r).await?;
    let req = r.into_inner();
    let start = parse_addr("start_address", &req.start_address).map_err(fault)?;
    let end = parse_optional_addr("end_address", &req.end_address)
        .map_err(fault)?
        .unwrap_or(start);
    let space = SpaceId(req.address_space_id).or_default();
    // A block the caller may not read is not found (the one it may read may be an ancestor).
    app.query_at(&at, move |s| {
        let seen = Visibility::new(s, who.authority());
        let found = s.enclosing_block(space, start, end)?;
        Ok(found
            .filter(|b| seen.sees_row(Table::Blocks, b.block.id.0))
            .map(render::block))
    })
    .await?
    .map_err(fault)?
    .map(Response::new)
    .ok_or_else(|| {
        fault(Fault::not_found(
            "start_address",
            format!("a block enclosing {start}-{end} in space {space}"),
        ))
    })
}

pub(super) async fn get_range(app: &App, r: Request<pb::GetByIdRequest>) -> Reply<pb::IpRange> {
    let (who, at) = app.reader(&r).await?;
    let id = RangeId(r.into_inner().id);
    app.read_row(&at, who, Table::Ranges, id.0, "range", move |s| {
        s.ranges.get(id).map(render::range)
    })
    .await
}

pub(super) async fn list_ranges(
    app: &App,
    r: Request<pb::ListRangesRequest>,
) -> Reply<pb::ListRangesResponse> {
    let (who, at) = app.reader(&r).await?;
    let req = r.into_inner();
    let (size, after) = page(req.page.as_ref())?;
    let family = family_filter(req.family, "family")?;
    let managed_by = ipam_proto::enums::managed_by_from("managed_by", req.managed_by).map_err(fault)?;
    let space = SpaceId(req.address_space_id);
    let block = req.block_id.map(BlockId);
    let result = app
        .query_at(&at, move |s| {
            let seen = Visibility::new(s, who.authority());
            let keep = |e: &&RangeEntry| {
                seen.sees_row(Table::Ranges, e.range.id.0)
                    && (!space.is_set() || e.range.space == space)
                    && family.is_none_or(|f| e.range.family() == f)
                    && (!req.overlapping_only || render::is_overlapping(e))
                    && managed_by.is_none_or(|m| e.range.manager.by == m)
            };
            let candidates: Box<dyn Iterator<Item = &RangeEntry>> = match block {
                Some(b) if b.is_set() => {
                    let rows = s.ranges_under_block(b).ok_or(b)?;
                    Box::new(rows.into_iter().filter(move |e| e.range.id.0 > after))
                }
                Some(_) => Box::new(
                    s.ranges
                        .after(RangeId(after))
                        .filter(|e| !e.range.parent_block.is_set()),
                ),
                None => Box::new(s.ranges.after(RangeId(after))),
            };
            let mut it = candidates.filter(keep).map(render::range);
            let rows: Vec<_> = it.by_ref().take(size).collect();
            Ok((rows, it.next().is_some()))
        })
        .await?;
    let (rows, more) =
        result.map_err(|b: BlockId| fault(Fault::not_found("block_id", format!("block {b}"))))?;
    let last = rows.last().map(|x| x.id);
    Ok(Response::new(pb::ListRangesResponse {
        ranges: rows,
        next_page_token: next_token(more, last),
    }))
}

pub(super) async fn overlapping_ranges(
    app: &App,
    r: Request<pb::OverlappingRangesRequest>,
) -> Reply<pb::ListRangesResponse> {
    let (who, at) = app.reader(&r).await?;
    let req = r.into_inner();
    let start = parse_addr("start_address", &req.start_address).map_err(fault)?;
    let end = parse_optional_addr("end_address", &req.end_address).map_err(fault)?;
    let exclusions = params_codec::exclusions(&req.exclusions).map_err(fault)?;
    let (span, exclusions) = candidate_span(start, end, &exclusions).map_err(fault)?;
    let space = SpaceId(req.address_space_id).or_default();
    let rows = app
        .query_at(&at, move |s| {
            let seen = Visibility::new(s, who.authority());
            s.overlapping_ranges(space, start.family(), span, &exclusions)
                .into_iter()
                .filter(|e| seen.sees_row(Table::Ranges, e.range.id.0))
                .map(render::range)
                .collect()
        })
        .await?;
    Ok(Response::new(pb::ListRangesResponse {
        ranges: rows,
        next_page_token: String::new(),
    }))
}

pub(super) async fn free_addresses(
    app: &App,
    r: Request<pb::FreeAddressesRequest>,
) -> Reply<pb::FreeAddressesResponse> {
    let (who, at) = app.reader(&r).await?;
    let req = r.into_inner();
    let id = RangeId(req.range_id);
    let max = page_size("max_spans", req.max_spans)?;
    app.read_row_at(&at, "range_id", who, Table::Ranges, id.0, "range", move |s| {
        let (family, spans, total) = s.free_spans_of(id, max)?;
        Some(pb::FreeAddressesResponse {
            free: spans.into_iter().map(|x| render::span(family, x)).collect(),
            total_free: u64::try_from(total).unwrap_or(u64::MAX),
        })
    })
    .await
}

pub(super) async fn get_address(app: &App, r: Request<pb::GetByIdRequest>) -> Reply<pb::IpAddressRecord> {
    let (who, at) = app.reader(&r).await?;
    let id = AddressId(r.into_inner().id);
    app.read_row(&at, who, Table::Addresses, id.0, "address", move |s| {
        s.addresses.get(id).map(|a| render::address(s, a))
    })
    .await
}

pub(super) async fn list_addresses(
    app: &App,
    r: Request<pb::ListAddressesRequest>,
) -> Reply<pb::ListAddressesResponse> {
    let (who, at) = app.reader(&r).await?;
    let req = r.into_inner();
    let (size, after) = page(req.page.as_ref())?;
    let family = family_filter(req.family, "family")?;
    let space = SpaceId(req.address_space_id);
    let range = req.range_id.map(RangeId);
    let result = app
        .query_at(&at, move |s| {
            let seen = Visibility::new(s, who.authority());
            let keep = |a: &AddressView<'_>| {
                seen.sees_row(Table::Addresses, a.id.0)
                    && (!space.is_set() || a.space() == space)
                    && family.is_none_or(|f| a.address().family() == f)
            };
            let candidates: Box<dyn Iterator<Item = AddressView<'_>>> = match range {
                Some(id) if id.is_set() => {
                    let rows = s.addresses_of_range(id).ok_or(id)?;
                    Box::new(rows.into_iter().filter(move |a| a.id.0 > after))
                }
                Some(_) => Box::new(
                    s.addresses
                        .after(AddressId(after))
                        .filter(|a| !a.range().is_set()),
                ),
                None => Box::new(s.addresses.after(AddressId(after))),
            };
            let mut it = candidates.filter(keep).map(|a| render::address(s, a));
            let rows: Vec<_> = it.by_ref().take(size).collect();
            Ok((rows, it.next().is_some()))
        })
        .await?;
    let (rows, more) =
        result.map_err(|id: RangeId| fault(Fault::not_found("range_id", format!("range {id}"))))?;
    let last = rows.last().map(|x| x.id);
    Ok(Response::new(pb::ListAddressesResponse {
        addresses: rows,
        next_page_token: next_token(more, last),
    }))
}
