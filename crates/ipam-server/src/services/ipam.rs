//! The Ipam service: address spaces, blocks, ranges, addresses. Mutations run as
//! operations; queries read the tables once what they show is durable.

use super::{App, family_filter, fault, next_token, page, request_id};

use ipam_core::addr::{Addr, Span};
use ipam_core::fault::Fault;
use ipam_core::ids::{AddressId, BlockId, RangeId, SpaceId};
use ipam_core::model::share_an_address;
use ipam_core::tables::addresses::AddressView;
use ipam_core::tables::ranges::RangeEntry;
use ipam_proto::pb::ipam_server::Ipam;
use ipam_proto::pb::operation_params::Params as P;
use ipam_proto::{parse_addr, parse_optional_addr};
use ipam_proto::{pb, render};
use tonic::{Request, Response, Status};

type Reply<T> = Result<Response<T>, Status>;

#[tonic::async_trait]
impl Ipam for App {
    async fn create_address_space(&self, r: Request<pb::CreateAddressSpaceParams>) -> Reply<pb::Operation> {
        let id = request_id(&r);
        self.mutate(
            pb::OperationKind::CreateAddressSpace,
            P::CreateAddressSpace(r.into_inner()),
            id,
        )
        .await
    }

    async fn get_address_space(&self, r: Request<pb::GetByIdRequest>) -> Reply<pb::AddressSpace> {
        let id = SpaceId(r.into_inner().id);
        self.query(move |s| s.spaces.get(id).map(|x| render::address_space(s, x)))
            .await?
            .map(Response::new)
            .ok_or_else(|| fault(Fault::not_found("id", format!("address space {id}"))))
    }

    async fn list_address_spaces(
        &self,
        r: Request<pb::ListAddressSpacesRequest>,
    ) -> Reply<pb::ListAddressSpacesResponse> {
        let (size, after) = page(r.get_ref().page.as_ref())?;
        let (rows, more) = self
            .query(move |s| {
                let mut it = s
                    .spaces
                    .after(SpaceId(after))
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

    async fn create_block(&self, r: Request<pb::CreateBlockParams>) -> Reply<pb::Operation> {
        let id = request_id(&r);
        self.mutate(pb::OperationKind::CreateBlock, P::CreateBlock(r.into_inner()), id)
            .await
    }

    async fn update_block(&self, r: Request<pb::UpdateBlockParams>) -> Reply<pb::Operation> {
        let id = request_id(&r);
        self.mutate(pb::OperationKind::UpdateBlock, P::UpdateBlock(r.into_inner()), id)
            .await
    }

    async fn delete_block(&self, r: Request<pb::DeleteBlockParams>) -> Reply<pb::Operation> {
        let id = request_id(&r);
        self.mutate(pb::OperationKind::DeleteBlock, P::DeleteBlock(r.into_inner()), id)
            .await
    }

    async fn get_block(&self, r: Request<pb::GetByIdRequest>) -> Reply<pb::IpBlock> {
        let id = BlockId(r.into_inner().id);
        self.query(move |s| s.blocks.get(id).map(render::block))
            .await?
            .map(Response::new)
            .ok_or_else(|| fault(Fault::not_found("id", format!("block {id}"))))
    }

    async fn list_blocks(&self, r: Request<pb::ListBlocksRequest>) -> Reply<pb::ListBlocksResponse> {
        let req = r.into_inner();
        let (size, after) = page(req.page.as_ref())?;
        let family = family_filter(req.family, "family")?;
        let space = SpaceId(req.address_space_id);
        let parent = req.parent_block_id.map(BlockId);
        let (rows, more) = self
            .query(move |s| {
                let mut it = s
                    .blocks
                    .after(BlockId(after))
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

    async fn find_block(&self, r: Request<pb::FindBlockRequest>) -> Reply<pb::IpBlock> {
        let req = r.into_inner();
        let start = parse_addr("start_address", &req.start_address).map_err(fault)?;
        let end = parse_optional_addr("end_address", &req.end_address)
            .map_err(fault)?
            .unwrap_or(start);
        if end.family() != start.family() || end < start {
            return Err(fault(Fault::invalid(
                "end_address",
                "must be of the start's family and not before it",
            )));
        }
        let space = SpaceId(req.address_space_id).or_default();
        let span = Span::new(start.value(), end.value());
        self.query(move |s| {
            s.blocks
                .most_specific_enclosing(space, start.family(), span, start.family().bits(), &[])
                .map(render::block)
        })
        .await?
        .map(Response::new)
        .ok_or_else(|| {
            fault(Fault::not_found(
                "start_address",
                format!("a block enclosing {start}-{end} in space {space}"),
            ))
        })
    }

    async fn create_range(&self, r: Request<pb::CreateRangeParams>) -> Reply<pb::Operation> {
        let id = request_id(&r);
        self.mutate(pb::OperationKind::CreateRange, P::CreateRange(r.into_inner()), id)
            .await
    }

    async fn create_ranges(&self, r: Request<pb::CreateRangesParams>) -> Reply<pb::Operation> {
        let id = request_id(&r);
        self.mutate(
            pb::OperationKind::CreateRanges,
            P::CreateRanges(r.into_inner()),
            id,
        )
        .await
    }

    async fn update_range(&self, r: Request<pb::UpdateRangeParams>) -> Reply<pb::Operation> {
        let id = request_id(&r);
        self.mutate(pb::OperationKind::UpdateRange, P::UpdateRange(r.into_inner()), id)
            .await
    }

    async fn delete_range(&self, r: Request<pb::DeleteRangeParams>) -> Reply<pb::Operation> {
        let id = request_id(&r);
        self.mutate(pb::OperationKind::DeleteRange, P::DeleteRange(r.into_inner()), id)
            .await
    }

    async fn remap_range(&self, r: Request<pb::RemapRangeParams>) -> Reply<pb::Operation> {
        let id = request_id(&r);
        self.mutate(pb::OperationKind::RemapRange, P::RemapRange(r.into_inner()), id)
            .await
    }

    async fn get_range(&self, r: Request<pb::GetByIdRequest>) -> Reply<pb::IpRange> {
        let id = RangeId(r.into_inner().id);
        self.query(move |s| s.ranges.get(id).map(render::range))
            .await?
            .map(Response::new)
            .ok_or_else(|| fault(Fault::not_found("id", format!("range {id}"))))
    }

    async fn list_ranges(&self, r: Request<pb::ListRangesRequest>) -> Reply<pb::ListRangesResponse> {
        let req = r.into_inner();
        let (size, after) = page(req.page.as_ref())?;
        let family = family_filter(req.family, "family")?;
        let managed_by = ipam_proto::enums::managed_by_from("managed_by", req.managed_by).map_err(fault)?;
        let space = SpaceId(req.address_space_id);
        let block = req.block_id.map(BlockId);
        let result = self
            .query(move |s| {
                let keep = |e: &&RangeEntry| {
                    (!space.is_set() || e.range.space == space)
                        && family.is_none_or(|f| e.range.family() == f)
                        && (!req.overlapping_only || render::is_overlapping(e))
                        && managed_by.is_none_or(|m| e.range.manager.by == m)
                };
                let candidates: Box<dyn Iterator<Item = &RangeEntry>> = match block {
                    // IPRangeAllForBlockEnumerationParameter: mapped ranges inside the block
                    // with a prefix no shorter than its own, i.e. under it or a descendant.
                    Some(b) if b.is_set() => {
                        let Some(be) = s.blocks.get(b) else { return Err(b) };
                        let bl = &be.block;
                        let mut v: Vec<&RangeEntry> = s
                            .ranges
                            .intersecting(bl.space, bl.family(), bl.span())
                            .into_iter()
                            .filter(|e| {
                                e.range.id.0 > after
                                    && e.range.parent_block.is_set()
                                    && bl.span().contains_span(e.range.span())
                                    && e.range.subnet.length() >= bl.prefix.length()
                            })
                            .collect();
                        v.sort_by_key(|e| e.range.id);
                        Box::new(v.into_iter())
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
        let (rows, more) = result.map_err(|b| fault(Fault::not_found("block_id", format!("block {b}"))))?;
        let last = rows.last().map(|x| x.id);
        Ok(Response::new(pb::ListRangesResponse {
            ranges: rows,
            next_page_token: next_token(more, last),
        }))
    }

    async fn overlapping_ranges(
        &self,
        r: Request<pb::OverlappingRangesRequest>,
    ) -> Reply<pb::ListRangesResponse> {
        let req = r.into_inner();
        let start = parse_addr("start_address", &req.start_address).map_err(fault)?;
        let end = parse_optional_addr("end_address", &req.end_address)
            .map_err(fault)?
            .unwrap_or(start);
        let span =
            ipam_core::rules::validate::span(start.family(), start, end, "start_address", "end_address")
                .map_err(fault)?;
        let raw: Vec<(Addr, Addr)> = req
            .exclusions
            .iter()
            .enumerate()
            .map(|(i, e)| {
                Ok((
                    parse_addr(&format!("exclusions[{i}].start_address"), &e.start_address)?,
                    parse_addr(&format!("exclusions[{i}].end_address"), &e.end_address)?,
                ))
            })
            .collect::<Result<_, Fault>>()
            .map_err(fault)?;
        let exclusions = ipam_core::rules::validate::exclusions(start.family(), span, &raw).map_err(fault)?;
        let space = SpaceId(req.address_space_id).or_default();
        let rows = self
            .query(move |s| {
                s.ranges
                    .intersecting(space, start.family(), span)
                    .into_iter()
                    .filter(|e| share_an_address(span, &exclusions, e.range.span(), &e.range.exclusions))
                    .map(render::range)
                    .collect()
            })
            .await?;
        Ok(Response::new(pb::ListRangesResponse {
            ranges: rows,
            next_page_token: String::new(),
        }))
    }

    async fn free_addresses(&self, r: Request<pb::FreeAddressesRequest>) -> Reply<pb::FreeAddressesResponse> {
        let req = r.into_inner();
        let id = RangeId(req.range_id);
        let max = match req.max_spans as usize {
            0 => super::DEFAULT_PAGE,
            n if n > super::MAX_PAGE => {
                return Err(fault(Fault::invalid(
                    "max_spans",
                    format!("at most {}, asked for {n}", super::MAX_PAGE),
                )));
            }
            n => n,
        };
        let answer = self
            .query(move |s| {
                let e = s.ranges.get(id)?;
                let r = &e.range;
                let (spans, total) =
                    s.addresses
                        .free_spans(r.space, r.family(), r.span(), &r.exclusions, max);
                Some(pb::FreeAddressesResponse {
                    free: spans.into_iter().map(|x| render::span(r.family(), x)).collect(),
                    total_free: u64::try_from(total).unwrap_or(u64::MAX),
                })
            })
            .await?;
        answer
            .map(Response::new)
            .ok_or_else(|| fault(Fault::not_found("range_id", format!("range {id}"))))
    }

    async fn create_address(&self, r: Request<pb::CreateAddressParams>) -> Reply<pb::Operation> {
        let id = request_id(&r);
        self.mutate(
            pb::OperationKind::CreateAddress,
            P::CreateAddress(r.into_inner()),
            id,
        )
        .await
    }

    async fn update_address(&self, r: Request<pb::UpdateAddressParams>) -> Reply<pb::Operation> {
        let id = request_id(&r);
        self.mutate(
            pb::OperationKind::UpdateAddress,
            P::UpdateAddress(r.into_inner()),
            id,
        )
        .await
    }

    async fn delete_address(&self, r: Request<pb::DeleteAddressParams>) -> Reply<pb::Operation> {
        let id = request_id(&r);
        self.mutate(
            pb::OperationKind::DeleteAddress,
            P::DeleteAddress(r.into_inner()),
            id,
        )
        .await
    }

    async fn get_address(&self, r: Request<pb::GetByIdRequest>) -> Reply<pb::IpAddressRecord> {
        let id = AddressId(r.into_inner().id);
        self.query(move |s| s.addresses.get(id).map(|a| render::address(s, a)))
            .await?
            .map(Response::new)
            .ok_or_else(|| fault(Fault::not_found("id", format!("address {id}"))))
    }

    async fn list_addresses(&self, r: Request<pb::ListAddressesRequest>) -> Reply<pb::ListAddressesResponse> {
        let req = r.into_inner();
        let (size, after) = page(req.page.as_ref())?;
        let family = family_filter(req.family, "family")?;
        let space = SpaceId(req.address_space_id);
        let range = req.range_id.map(RangeId);
        let result = self
            .query(move |s| {
                let keep = |a: &AddressView<'_>| {
                    (!space.is_set() || a.space() == space)
                        && family.is_none_or(|f| a.address().family() == f)
                };
                let candidates: Box<dyn Iterator<Item = AddressView<'_>>> = match range {
                    Some(id) if id.is_set() => {
                        let Some(e) = s.ranges.get(id) else { return Err(id) };
                        let r = &e.range;
                        let mut v: Vec<_> = s
                            .addresses
                            .in_span(r.space, r.family(), r.span())
                            .filter(|a| a.range() == id && a.id.0 > after)
                            .collect();
                        v.sort_by_key(|a| a.id);
                        Box::new(v.into_iter())
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
        let (rows, more) = result.map_err(|id| fault(Fault::not_found("range_id", format!("range {id}"))))?;
        let last = rows.last().map(|x| x.id);
        Ok(Response::new(pb::ListAddressesResponse {
            addresses: rows,
            next_page_token: next_token(more, last),
        }))
    }

    async fn allocate_address(&self, r: Request<pb::AllocateAddressParams>) -> Reply<pb::Operation> {
        let id = request_id(&r);
        self.mutate(
            pb::OperationKind::AllocateAddress,
            P::AllocateAddress(r.into_inner()),
            id,
        )
        .await
    }

    async fn allocate_range(&self, r: Request<pb::AllocateRangeParams>) -> Reply<pb::Operation> {
        let id = request_id(&r);
        self.mutate(
            pb::OperationKind::AllocateRange,
            P::AllocateRange(r.into_inner()),
            id,
        )
        .await
    }
}
