//! The Ipam service: address spaces, blocks, ranges, addresses. Mutations run as
//! operations; queries read the tables once what they show is durable.

use super::{App, fault, next_token, page, request_id};
use crate::status;
use ipam_core::addr::{Family, Span};
use ipam_core::fault::Fault;
use ipam_core::ids::{BlockId, SpaceId};
use ipam_proto::pb::ipam_server::Ipam;
use ipam_proto::pb::operation_params::Params as P;
use ipam_proto::{parse_addr, parse_optional_addr};
use ipam_proto::{pb, render};
use tonic::{Request, Response, Status};

type Reply<T> = Result<Response<T>, Status>;

fn family_filter(value: i32, field: &str) -> Result<Option<Family>, Status> {
    match pb::AddressFamily::try_from(value) {
        Ok(pb::AddressFamily::Unspecified) => Ok(None),
        Ok(pb::AddressFamily::Ipv4) => Ok(Some(Family::V4)),
        Ok(pb::AddressFamily::Ipv6) => Ok(Some(Family::V6)),
        Err(_) => Err(fault(Fault::invalid(
            field,
            format!("{value} is not an address family"),
        ))),
    }
}

fn not_yet(what: &str) -> Status {
    Status::unimplemented(format!("{what} is not served yet"))
}

impl App {
    async fn query<R: Send + 'static>(&self, f: impl FnOnce(&ipam_core::State) -> R) -> Result<R, Status> {
        self.engine.read_durable(f).await.map_err(status::store_error)
    }
}

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

    async fn create_range(&self, _r: Request<pb::CreateRangeParams>) -> Reply<pb::Operation> {
        Err(not_yet("CreateRange"))
    }
    async fn create_ranges(&self, _r: Request<pb::CreateRangesParams>) -> Reply<pb::Operation> {
        Err(not_yet("CreateRanges"))
    }
    async fn update_range(&self, _r: Request<pb::UpdateRangeParams>) -> Reply<pb::Operation> {
        Err(not_yet("UpdateRange"))
    }
    async fn delete_range(&self, _r: Request<pb::DeleteRangeParams>) -> Reply<pb::Operation> {
        Err(not_yet("DeleteRange"))
    }
    async fn remap_range(&self, _r: Request<pb::RemapRangeParams>) -> Reply<pb::Operation> {
        Err(not_yet("RemapRange"))
    }
    async fn get_range(&self, _r: Request<pb::GetByIdRequest>) -> Reply<pb::IpRange> {
        Err(not_yet("GetRange"))
    }
    async fn list_ranges(&self, _r: Request<pb::ListRangesRequest>) -> Reply<pb::ListRangesResponse> {
        Err(not_yet("ListRanges"))
    }
    async fn overlapping_ranges(
        &self,
        _r: Request<pb::OverlappingRangesRequest>,
    ) -> Reply<pb::ListRangesResponse> {
        Err(not_yet("OverlappingRanges"))
    }
    async fn free_addresses(
        &self,
        _r: Request<pb::FreeAddressesRequest>,
    ) -> Reply<pb::FreeAddressesResponse> {
        Err(not_yet("FreeAddresses"))
    }
    async fn create_address(&self, _r: Request<pb::CreateAddressParams>) -> Reply<pb::Operation> {
        Err(not_yet("CreateAddress"))
    }
    async fn update_address(&self, _r: Request<pb::UpdateAddressParams>) -> Reply<pb::Operation> {
        Err(not_yet("UpdateAddress"))
    }
    async fn delete_address(&self, _r: Request<pb::DeleteAddressParams>) -> Reply<pb::Operation> {
        Err(not_yet("DeleteAddress"))
    }
    async fn get_address(&self, _r: Request<pb::GetByIdRequest>) -> Reply<pb::IpAddressRecord> {
        Err(not_yet("GetAddress"))
    }
    async fn list_addresses(
        &self,
        _r: Request<pb::ListAddressesRequest>,
    ) -> Reply<pb::ListAddressesResponse> {
        Err(not_yet("ListAddresses"))
    }
    async fn allocate_address(&self, _r: Request<pb::AllocateAddressParams>) -> Reply<pb::Operation> {
        Err(not_yet("AllocateAddress"))
    }
    async fn allocate_range(&self, _r: Request<pb::AllocateRangeParams>) -> Reply<pb::Operation> {
        Err(not_yet("AllocateRange"))
    }
}
