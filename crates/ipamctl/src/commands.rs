//! The online commands: each builds the request, calls ipamd and prints the answer.
//! Every change runs as an operation (`Client::run`), so each can be followed or not.

use crate::cli::*;
use crate::client::{Client, pages, status_error};
use crate::output::Format;
use crate::rows;
use anyhow::{anyhow, bail};
use ipam_proto::pb;
use ipam_proto::pb::OperationKind as K;
use ipam_proto::pb::operation_params::Params as P;

/// `modified_properties` from the flags that were given.
#[derive(Default)]
struct Modified(Vec<String>);

impl Modified {
    fn set<T: Clone + Default>(&mut self, name: &str, value: &Option<T>) -> T {
        match value {
            Some(v) => {
                self.0.push(name.to_string());
                v.clone()
            }
            None => T::default(),
        }
    }

    fn set_if(&mut self, name: &str, given: bool) {
        if given {
            self.0.push(name.to_string());
        }
    }
}

/// Prints every page of a List RPC as rows (up to `limit`): the client, the method, the
/// request's fields other than its page, and the response's rows field.
macro_rules! list {
    ($c:expr, $limit:expr, $client:ident, $method:ident, $req:ident { $($field:ident: $value:expr),* $(,)? }, $rows:ident) => {{
        let rows = pages($limit, |page| {
            let mut client = $c.$client();
            async move {
                let r = client
                    .$method(pb::$req { $($field: $value,)* page: Some(page) })
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

/// Prints the one record a Get RPC returns.
macro_rules! show {
    ($c:expr, $client:ident, $method:ident, $id:expr) => {{
        let x = $c.$client().$method(get_by_id($id)).await.map_err(status_error)?;
        $c.printer.record(x.get_ref());
        Ok(())
    }};
}

fn get_by_id(id: u64) -> pb::GetByIdRequest {
    pb::GetByIdRequest { id }
}

pub async fn run(client: &Client, command: Command) -> anyhow::Result<()> {
    match command {
        Command::Space(c) => space(client, c).await,
        Command::Block(c) => block(client, c).await,
        Command::Range(c) => range(client, c).await,
        Command::Address(c) => address(client, c).await,
        Command::Server(c) => server(client, c).await,
        Command::Scope(c) => scope(client, c).await,
        Command::Reservation(c) => reservation(client, c).await,
        Command::Failover(c) => failover(client, c).await,
        Command::Superscope(c) => superscope(client, c).await,
        Command::Filter(c) => filter(client, c).await,
        Command::Policy(c) => policy(client, c).await,
        Command::Op(c) => op(client, c).await,
        Command::Events(c) => events(client, c).await,
        Command::Status => status(client).await,
        Command::Backup { file } => crate::backup::run(client, &file).await,
        Command::State(_) | Command::Diff(_) | Command::Explain(_) | Command::Replay(_) => {
            unreachable!("offline commands do not connect")
        }
    }
}

async fn space(c: &Client, cmd: SpaceCmd) -> anyhow::Result<()> {
    match cmd {
        SpaceCmd::Create {
            name,
            description,
            owner,
            customer_of,
        } => {
            let params = pb::CreateAddressSpaceParams {
                name,
                description: description.unwrap_or_default(),
                owner: owner.unwrap_or_default(),
                r#type: if customer_of.is_some() {
                    pb::AddressSpaceType::Customer
                } else {
                    pb::AddressSpaceType::Provider
                } as i32,
                provider_address_space_id: customer_of.unwrap_or_default(),
            };
            c.run(K::CreateAddressSpace, P::CreateAddressSpace(params)).await
        }
        SpaceCmd::List(list) => {
            list!(
                c,
                list.limit,
                ipam,
                list_address_spaces,
                ListAddressSpacesRequest {},
                address_spaces
            )
        }
        SpaceCmd::Show { id } => show!(c, ipam, get_address_space, id),
    }
}

fn custom_fields(d: &Describe) -> std::collections::HashMap<String, String> {
    d.custom.iter().cloned().collect()
}

async fn block(c: &Client, cmd: BlockCmd) -> anyhow::Result<()> {
    match cmd {
        BlockCmd::Create {
            network,
            space,
            start,
            end,
            describe,
        } => {
            let params = pb::CreateBlockParams {
                address_space_id: space,
                network,
                start_address: start.unwrap_or_default(),
                end_address: end.unwrap_or_default(),
                description: describe.description.clone().unwrap_or_default(),
                owner: describe.owner.clone().unwrap_or_default(),
                custom_fields: custom_fields(&describe),
                ..Default::default()
            };
            c.run(K::CreateBlock, P::CreateBlock(params)).await
        }
        BlockCmd::Update { id, describe } => {
            let mut m = Modified::default();
            let params = pb::UpdateBlockParams {
                id,
                description: m.set("description", &describe.description),
                owner: m.set("owner", &describe.owner),
                custom_fields: custom_fields(&describe),
                modified_properties: {
                    m.set_if("custom_fields", !describe.custom.is_empty());
                    m.0
                },
            };
            c.run(K::UpdateBlock, P::UpdateBlock(params)).await
        }
        BlockCmd::Delete { id, children } => {
            let params = pb::DeleteBlockParams {
                id,
                delete_children: children,
            };
            c.run(K::DeleteBlock, P::DeleteBlock(params)).await
        }
        BlockCmd::List {
            space,
            family: f,
            parent,
            list,
        } => {
            list!(
                c,
                list.limit,
                ipam,
                list_blocks,
                ListBlocksRequest {
                    address_space_id: space,
                    family: family(f),
                    parent_block_id: parent
                },
                blocks
            )
        }
        BlockCmd::Show { id } => show!(c, ipam, get_block, id),
        BlockCmd::Find { address, space } => {
            let (start, end) = address.split_once('-').unwrap_or((&address, ""));
            let x = c
                .ipam()
                .find_block(pb::FindBlockRequest {
                    address_space_id: space,
                    start_address: start.trim().to_string(),
                    end_address: end.trim().to_string(),
                })
                .await
                .map_err(status_error)?;
            c.printer.rows(std::slice::from_ref(x.get_ref()));
            Ok(())
        }
    }
}

async fn range(c: &Client, cmd: RangeCmd) -> anyhow::Result<()> {
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
                custom_fields: custom_fields(&fields.describe),
            };
            c.run(K::CreateRange, P::CreateRange(params)).await
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
                custom_fields: custom_fields(&fields.describe),
                modified_properties: {
                    m.set_if("exclusions", !fields.exclusions.is_empty());
                    m.set_if("custom_fields", !fields.describe.custom.is_empty());
                    m.0
                },
            };
            c.run(K::UpdateRange, P::UpdateRange(params)).await
        }
        RangeCmd::Delete { id } => {
            c.run(K::DeleteRange, P::DeleteRange(pb::DeleteRangeParams { id }))
                .await
        }
        RangeCmd::Remap { id } => {
            c.run(K::RemapRange, P::RemapRange(pb::RemapRangeParams { id }))
                .await
        }
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
            c.run(K::AllocateRange, P::AllocateRange(params)).await
        }
    }
}

async fn address(c: &Client, cmd: AddressCmd) -> anyhow::Result<()> {
    match cmd {
        AddressCmd::Create {
            address,
            space,
            fields,
        } => {
            let params = pb::CreateAddressParams {
                address_space_id: space,
                address,
                managed_by: fields.managed_by.map_or(0, ManagedBy::pb),
                managed_by_entity: fields.entity.clone().unwrap_or_default(),
                assignment: fields.assignment.map_or(0, Assignment::pb),
                mac_address: fields.mac.clone().unwrap_or_default(),
                device_name: fields.device.clone().unwrap_or_default(),
                description: fields.describe.description.clone().unwrap_or_default(),
                owner: fields.describe.owner.clone().unwrap_or_default(),
                custom_fields: custom_fields(&fields.describe),
            };
            c.run(K::CreateAddress, P::CreateAddress(params)).await
        }
        AddressCmd::Update { id, fields } => {
            let mut m = Modified::default();
            let params = pb::UpdateAddressParams {
                id,
                managed_by: m.set("managed_by", &fields.managed_by.map(ManagedBy::pb)),
                managed_by_entity: m.set("managed_by_entity", &fields.entity),
                assignment: m.set("assignment", &fields.assignment.map(Assignment::pb)),
                mac_address: m.set("mac_address", &fields.mac),
                device_name: m.set("device_name", &fields.device),
                description: m.set("description", &fields.describe.description),
                owner: m.set("owner", &fields.describe.owner),
                custom_fields: custom_fields(&fields.describe),
                modified_properties: {
                    m.set_if("custom_fields", !fields.describe.custom.is_empty());
                    m.0
                },
            };
            c.run(K::UpdateAddress, P::UpdateAddress(params)).await
        }
        AddressCmd::Delete { id } => {
            c.run(K::DeleteAddress, P::DeleteAddress(pb::DeleteAddressParams { id }))
                .await
        }
        AddressCmd::List {
            space,
            family: f,
            range,
            list,
        } => {
            list!(
                c,
                list.limit,
                ipam,
                list_addresses,
                ListAddressesRequest {
                    address_space_id: space,
                    family: family(f),
                    range_id: range
                },
                addresses
            )
        }
        AddressCmd::Show { id } => show!(c, ipam, get_address, id),
        AddressCmd::Allocate {
            range,
            mac,
            device,
            description,
        } => {
            let params = pb::AllocateAddressParams {
                range_id: range,
                mac_address: mac.unwrap_or_default(),
                device_name: device.unwrap_or_default(),
                description: description.unwrap_or_default(),
                ..Default::default()
            };
            c.run(K::AllocateAddress, P::AllocateAddress(params)).await
        }
    }
}

async fn server(c: &Client, cmd: ServerCmd) -> anyhow::Result<()> {
    match cmd {
        ServerCmd::Create { name, fields } => {
            let params = pb::CreateDhcpServerParams {
                name,
                address: fields.address.unwrap_or_default(),
                description: fields.description.unwrap_or_default(),
                ..Default::default()
            };
            c.run(K::CreateDhcpServer, P::CreateDhcpServer(params)).await
        }
        ServerCmd::Update { id, name, fields } => {
            let mut m = Modified::default();
            let params = pb::UpdateDhcpServerParams {
                id,
                name: m.set("name", &name),
                address: m.set("address", &fields.address),
                description: m.set("description", &fields.description),
                modified_properties: m.0,
                ..Default::default()
            };
            c.run(K::EditDhcpServer, P::EditDhcpServer(params)).await
        }
        ServerCmd::Delete { id } => {
            c.run(
                K::DeleteDhcpServer,
                P::DeleteDhcpServer(pb::DeleteDhcpServerParams { id }),
            )
            .await
        }
        ServerCmd::List(list) => {
            list!(
                c,
                list.limit,
                dhcp,
                list_servers,
                ListDhcpServersRequest {},
                servers
            )
        }
        ServerCmd::Show { id } => show!(c, dhcp, get_server, id),
    }
}

fn scope_status(fields: &ScopeFields) -> Option<i32> {
    if fields.inactive {
        Some(pb::ScopeStatus::Inactive as i32)
    } else if fields.active {
        Some(pb::ScopeStatus::Active as i32)
    } else {
        None
    }
}

async fn scope(c: &Client, cmd: ScopeCmd) -> anyhow::Result<()> {
    match cmd {
        ScopeCmd::Create {
            server_id: server,
            network,
            space,
            fields,
        } => {
            let params = pb::CreateDhcpScopeParams {
                server_id: server,
                network,
                name: fields.name.clone().unwrap_or_default(),
                start_address: fields.start.clone().unwrap_or_default(),
                end_address: fields.end.clone().unwrap_or_default(),
                exclusions: fields.exclusions.clone(),
                status: scope_status(&fields).unwrap_or_default(),
                description: fields.description.clone().unwrap_or_default(),
                lease_duration_s: fields.lease.unwrap_or_default(),
                address_space_id: space,
                ..Default::default()
            };
            c.run(K::CreateDhcpScope, P::CreateDhcpScope(params)).await
        }
        ScopeCmd::Update { id, fields } => {
            let mut m = Modified::default();
            let params = pb::UpdateDhcpScopeParams {
                id,
                name: m.set("name", &fields.name),
                start_address: m.set("start_address", &fields.start),
                end_address: m.set("end_address", &fields.end),
                exclusions: fields.exclusions.clone(),
                status: m.set("status", &scope_status(&fields)),
                description: m.set("description", &fields.description),
                lease_duration_s: m.set("lease_duration_s", &fields.lease),
                modified_properties: {
                    m.set_if("exclusions", !fields.exclusions.is_empty());
                    m.0
                },
                ..Default::default()
            };
            c.run(K::EditDhcpScope, P::EditDhcpScope(params)).await
        }
        ScopeCmd::Delete { id } => {
            c.run(
                K::DeleteDhcpScope,
                P::DeleteDhcpScope(pb::DeleteDhcpScopeParams { id }),
            )
            .await
        }
        ScopeCmd::List {
            server_id: server,
            family: f,
            list,
        } => {
            list!(
                c,
                list.limit,
                dhcp,
                list_scopes,
                ListDhcpScopesRequest {
                    server_id: server,
                    family: family(f)
                },
                scopes
            )
        }
        ScopeCmd::Show { id } => show!(c, dhcp, get_scope, id),
        ScopeCmd::Replicate { scopes, dry_run } => {
            let params = pb::ReplicateScopeParams {
                scope_ids: scopes,
                dry_run,
            };
            c.run(K::ReplicateScope, P::ReplicateScope(params)).await
        }
    }
}

async fn reservation(c: &Client, cmd: ReservationCmd) -> anyhow::Result<()> {
    match cmd {
        ReservationCmd::Create {
            scope,
            address,
            client_id,
            name,
            description,
        } => {
            let params = pb::CreateDhcpReservationParams {
                scope_id: scope,
                address,
                client_id,
                name: name.unwrap_or_default(),
                description: description.unwrap_or_default(),
                ..Default::default()
            };
            c.run(K::CreateDhcpReservation, P::CreateDhcpReservation(params))
                .await
        }
        ReservationCmd::Update {
            id,
            client_id,
            name,
            description,
        } => {
            let mut m = Modified::default();
            let params = pb::SetDhcpReservationParams {
                reservation_id: id,
                client_id: m.set("client_id", &client_id),
                name: m.set("name", &name),
                description: m.set("description", &description),
                modified_properties: m.0,
                ..Default::default()
            };
            c.run(K::SetDhcpReservation, P::SetDhcpReservation(params)).await
        }
        ReservationCmd::Delete { ids, with_address } => {
            let deletion = if with_address {
                pb::ReservationDeletion::WithAddress
            } else {
                pb::ReservationDeletion::ReservationOnly
            } as i32;
            let params = pb::DeleteDhcpReservationCollectionParams {
                reservation_ids: ids,
                deletion,
            };
            c.run(
                K::DeleteDhcpReservationCollection,
                P::DeleteDhcpReservationCollection(params),
            )
            .await
        }
        ReservationCmd::List { scope, list } => {
            list!(
                c,
                list.limit,
                dhcp,
                list_reservations,
                ListDhcpReservationsRequest { scope_id: scope },
                reservations
            )
        }
        ReservationCmd::Show { id } => show!(c, dhcp, get_reservation, id),
    }
}

fn mode(m: Option<Mode>) -> Option<i32> {
    m.map(|m| match m {
        Mode::LoadBalance => pb::FailoverMode::LoadBalance as i32,
        Mode::HotStandby => pb::FailoverMode::HotStandby as i32,
    })
}

async fn failover(c: &Client, cmd: FailoverCmd) -> anyhow::Result<()> {
    match cmd {
        FailoverCmd::Create {
            server1,
            server2,
            scopes,
            fields,
        } => {
            let params = pb::CreateDhcpFailoverParams {
                name: fields.name.clone().unwrap_or_default(),
                server1_id: server1,
                server2_id: server2,
                mode: mode(fields.mode).unwrap_or_default(),
                mclt_s: fields.mclt.unwrap_or(3600),
                auto_state_transition: fields.state_switch_interval.is_some(),
                state_switch_interval_s: fields.state_switch_interval.unwrap_or_default(),
                server1_percentage: fields.percentage.unwrap_or(50),
                shared_secret_enabled: fields.secret.is_some(),
                shared_secret: fields.secret.clone().unwrap_or_default(),
                scope_ids: scopes,
            };
            c.run(K::CreateDhcpFailover, P::CreateDhcpFailover(params)).await
        }
        FailoverCmd::Update { id, fields } => {
            let mut m = Modified::default();
            let params = pb::UpdateDhcpFailoverParams {
                id,
                name: m.set("name", &fields.name),
                mode: m.set("mode", &mode(fields.mode)),
                mclt_s: m.set("mclt_s", &fields.mclt),
                server1_percentage: m.set("server1_percentage", &fields.percentage),
                state_switch_interval_s: m.set("state_switch_interval_s", &fields.state_switch_interval),
                auto_state_transition: m.set(
                    "auto_state_transition",
                    &fields.state_switch_interval.map(|_| true),
                ),
                shared_secret: m.set("shared_secret", &fields.secret),
                shared_secret_enabled: m.set("shared_secret_enabled", &fields.secret.as_ref().map(|_| true)),
                modified_properties: m.0,
            };
            c.run(K::EditDhcpFailover, P::EditDhcpFailover(params)).await
        }
        FailoverCmd::AddScopes { id, scopes } => {
            let params = pb::DhcpFailoverWithScopesParams {
                failover_id: id,
                scope_ids: scopes,
            };
            c.run(K::AddDhcpFailoverScopes, P::AddDhcpFailoverScopes(params))
                .await
        }
        FailoverCmd::RemoveScopes { id, scopes } => {
            let params = pb::DhcpFailoverRemoveScopesParams {
                failover_id: id,
                scope_ids: scopes,
            };
            c.run(K::RemoveDhcpFailoverScopes, P::RemoveDhcpFailoverScopes(params))
                .await
        }
        FailoverCmd::Delete { id } => {
            let params = pb::DhcpFailoverDeleteParams {
                failover_id: id,
                force: false,
            };
            c.run(K::DeleteDhcpFailover, P::DeleteDhcpFailover(params)).await
        }
        FailoverCmd::List {
            server_id: server,
            list,
        } => {
            list!(
                c,
                list.limit,
                dhcp,
                list_failovers,
                ListDhcpFailoversRequest { server_id: server },
                failovers
            )
        }
        FailoverCmd::Show { id } => show!(c, dhcp, get_failover, id),
        FailoverCmd::Replicate { id, dry_run } => {
            let params = pb::ReplicateRelationParams {
                failover_id: id,
                dry_run,
            };
            c.run(K::ReplicateRelation, P::ReplicateRelation(params)).await
        }
    }
}

async fn superscope(c: &Client, cmd: SuperscopeCmd) -> anyhow::Result<()> {
    match cmd {
        SuperscopeCmd::Add {
            server_id: server,
            name,
            scopes,
        } => {
            let params = pb::AddScopesToSuperscopeParams {
                server_id: server,
                superscope_name: name,
                scope_ids: scopes,
            };
            c.run(K::AddScopesToSuperscope, P::AddScopesToSuperscope(params))
                .await
        }
        SuperscopeCmd::Remove { scopes } => {
            let params = pb::RemoveScopesFromSuperscopeParams { scope_ids: scopes };
            c.run(
                K::RemoveScopesFromSuperscope,
                P::RemoveScopesFromSuperscope(params),
            )
            .await
        }
        SuperscopeCmd::Rename { id, new_name } => {
            let params = pb::RenameSuperscopeParams {
                superscope_id: id,
                new_name,
            };
            c.run(K::RenameSuperscope, P::RenameSuperscope(params)).await
        }
        SuperscopeCmd::Delete { ids } => {
            let params = pb::DeleteSuperscopesParams { superscope_ids: ids };
            c.run(K::DeleteSuperscopes, P::DeleteSuperscopes(params)).await
        }
        SuperscopeCmd::Activate { id, inactive } => {
            let status = if inactive {
                pb::ScopeStatus::Inactive
            } else {
                pb::ScopeStatus::Active
            } as i32;
            let params = pb::SetSuperscopeActivationStatusParams {
                superscope_id: id,
                status,
            };
            c.run(
                K::SetSuperscopeActivationStatus,
                P::SetSuperscopeActivationStatus(params),
            )
            .await
        }
        SuperscopeCmd::List {
            server_id: server,
            list,
        } => {
            list!(
                c,
                list.limit,
                dhcp,
                list_superscopes,
                ListDhcpSuperscopesRequest { server_id: server },
                superscopes
            )
        }
        SuperscopeCmd::Show { id } => show!(c, dhcp, get_superscope, id),
    }
}

async fn filter(c: &Client, cmd: FilterCmd) -> anyhow::Result<()> {
    match cmd {
        FilterCmd::Add {
            server_ids: servers,
            macs,
            allow,
            description,
        } => {
            let filters = macs
                .into_iter()
                .map(|mac| pb::DhcpFilterSpec {
                    mac_address: mac,
                    allow,
                    description: description.clone().unwrap_or_default(),
                })
                .collect();
            let params = pb::CreateDhcpFiltersParams {
                filters,
                server_ids: servers,
            };
            c.run(K::CreateDhcpFilters, P::CreateDhcpFilters(params)).await
        }
        FilterCmd::Delete {
            server_id: server,
            macs,
        } => {
            let params = pb::DeleteDhcpFiltersParams {
                server_id: server,
                mac_addresses: macs,
            };
            c.run(K::DeleteDhcpFilters, P::DeleteDhcpFilters(params)).await
        }
        FilterCmd::List {
            server_id: server,
            list,
        } => {
            list!(
                c,
                list.limit,
                dhcp,
                list_filters,
                ListDhcpFiltersRequest { server_id: server },
                filters
            )
        }
    }
}

async fn policy(c: &Client, cmd: PolicyCmd) -> anyhow::Result<()> {
    match cmd {
        PolicyCmd::Create {
            server_id: server,
            name,
            scope,
            conditions,
            order,
            disabled,
            description,
        } => {
            let params = pb::CreateDhcpPolicyParams {
                server_id: server,
                scope_id: scope,
                name,
                description: description.unwrap_or_default(),
                processing_order: order,
                enabled: !disabled,
                conditions,
            };
            c.run(K::CreateDhcpPolicy, P::CreateDhcpPolicy(params)).await
        }
        PolicyCmd::Delete { id } => {
            c.run(
                K::DeleteDhcpPolicy,
                P::DeleteDhcpPolicy(pb::DeleteDhcpPolicyParams { id }),
            )
            .await
        }
        PolicyCmd::List {
            server_id: server,
            list,
        } => {
            list!(
                c,
                list.limit,
                dhcp,
                list_policies,
                ListDhcpPoliciesRequest { server_id: server },
                policies
            )
        }
    }
}

/// An enum value from its short name on the command line (`replicate-scope`).
fn enum_arg<E>(
    field: &str,
    text: &str,
    prefix: &str,
    from_name: fn(&str) -> Option<E>,
    all: impl Iterator<Item = String>,
) -> anyhow::Result<E> {
    let name = format!("{prefix}{}", text.trim().to_ascii_uppercase().replace('-', "_"));
    from_name(&name).ok_or_else(|| {
        let known: Vec<String> = all.collect();
        anyhow!("--{field} {text}: not one of {}", known.join(", "))
    })
}

async fn op(c: &Client, cmd: OpCmd) -> anyhow::Result<()> {
    match cmd {
        OpCmd::List { state, kind, list } => {
            let state = match state {
                None => pb::OperationState::Unspecified,
                Some(s) => enum_arg(
                    "state",
                    &s,
                    "OPERATION_STATE_",
                    pb::OperationState::from_str_name,
                    (1..=5).map(rows::state),
                )?,
            };
            let kind = match kind {
                None => pb::OperationKind::Unspecified,
                Some(k) => enum_arg(
                    "kind",
                    &k,
                    "OPERATION_KIND_",
                    pb::OperationKind::from_str_name,
                    (1..200)
                        .filter(|v| pb::OperationKind::try_from(*v).is_ok())
                        .map(rows::kind),
                )?,
            };
            let rows = pages(list.limit, |page| {
                let mut ops = c.ops();
                async move {
                    let r = ops
                        .list_operations(pb::ListOperationsRequest {
                            state: state as i32,
                            kind: kind as i32,
                            page_size: page.page_size,
                            page_token: page.page_token,
                        })
                        .await?
                        .into_inner();
                    Ok((r.operations, r.next_page_token))
                }
            })
            .await?;
            c.printer.rows(&rows);
            Ok(())
        }
        OpCmd::Show { id, items } => {
            let op = c
                .ops()
                .get_operation(pb::GetOperationRequest {
                    id,
                    include_items: items,
                })
                .await
                .map_err(status_error)?
                .into_inner();
            c.printer.record(&op);
            Ok(())
        }
        OpCmd::Watch { id } => {
            let op = c.follow(id).await?;
            c.print_outcome(&op);
            crate::client::outcome(&op)
        }
        OpCmd::Cancel { id } => {
            let op = c
                .ops()
                .cancel_operation(pb::CancelOperationRequest { id })
                .await
                .map_err(status_error)?
                .into_inner();
            if op.done || c.no_wait {
                c.printer.record(&op);
                return Ok(());
            }
            // Running: it stops between items; follow it to its final status.
            let op = c.follow(id).await?;
            c.print_outcome(&op);
            Ok(())
        }
    }
}

async fn status(c: &Client) -> anyhow::Result<()> {
    let status = c
        .admin()
        .get_status(pb::GetStatusRequest {})
        .await
        .map_err(status_error)?
        .into_inner();
    c.printer.record(&status);
    if !status.serving {
        bail!("ipamd does not serve: {}", status.problems.join("; "));
    }
    Ok(())
}

async fn events(c: &Client, cmd: EventsCmd) -> anyhow::Result<()> {
    let EventsCmd::Tail { from, lines, follow } = cmd;
    let head = c
        .events()
        .get_head(pb::GetHeadRequest {
            with_state_hash: false,
        })
        .await
        .map_err(status_error)?
        .into_inner()
        .head_seq;
    let from = from.unwrap_or_else(|| head.saturating_sub(lines.saturating_sub(1)).max(1));
    if from > head + 1 && !follow {
        bail!("--from {from} is past the log's head {head}");
    }
    let mut stream = c
        .events()
        .subscribe(pb::SubscribeRequest {
            from_seq: from,
            history_only: !follow,
        })
        .await
        .map_err(status_error)?
        .into_inner();
    let table = c.printer.format == Format::Table;
    if table {
        println!(
            "{:<8}  {:<23}  {:<6}  {:<4}  SUMMARY",
            "SEQ", "TIME", "OP", "ITEM"
        );
    }
    while let Some(e) = stream.message().await.map_err(status_error)? {
        if table {
            println!(
                "{:<8}  {:<23}  {:<6}  {:<4}  {}",
                e.seq,
                rows::time_ms(e.commit_unix_us / 1000),
                crate::output::id(e.operation_id),
                e.item,
                e.summary
            );
        } else {
            c.printer.json_line(&crate::output::to_json(&e));
        }
        if !follow && e.seq >= head {
            break;
        }
    }
    Ok(())
}
