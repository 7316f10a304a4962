//! The registry: every operation, one row. From these rows come the core's `OperationKind`
//! and `OperationParams` (and the delegate modules), the wire codec's kind and parameter
//! mapping (ipam-proto), and the unary RPC of each operation in the Ipam and Dhcp services
//! (ipam-server). A new operation is one row here plus its delegate file; see
//! ARCHITECTURE.md, "Adding an operation", for the whole list.
//!
//! A row reads:
//!
//! ```text
//! Kind(delegate_module::ParamsType) = rpc_method(WireParams) => ResultTable;
//! ```
//!
//! * `Kind` names the operation everywhere: the core kind, the `OperationKind` value and the
//!   `OperationParams` oneof arm of the wire, and the delegate module (its snake case,
//!   which is also the oneof field's name). The spec's delegate name is in the module's
//!   doc comment where it differs.
//! * `rpc_method(WireParams)`: the unary RPC of the row's service and its request message.
//!   They are the wire's names, which stay as published (`UpdateServer` takes
//!   `UpdateDhcpServerParams` and runs `EditDhcpServer`); to the core they are opaque
//!   tokens that only ipam-proto and ipam-server expand.
//! * `ResultTable`: the table of the record the operation produces (its result).

/// Calls `$callback! { Ipam { rows } Dhcp { rows } Access { rows } }` with every
/// operation's row, grouped by the service of its RPC.
#[macro_export]
macro_rules! for_each_operation {
    ($callback:ident) => {
        $callback! {
            Ipam {
                CreateAddressSpace(create_address_space::CreateAddressSpaceParams) = create_address_space(CreateAddressSpaceParams) => AddressSpaces;
                UpdateAddressSpace(update_address_space::UpdateAddressSpaceParams) = update_address_space(UpdateAddressSpaceParams) => AddressSpaces;
                BulkUpdateAddressSpaces(bulk_update_address_spaces::BulkUpdateAddressSpacesParams) = bulk_update_address_spaces(BulkUpdateAddressSpacesParams) => AddressSpaces;
                DeleteAddressSpace(delete_address_space::DeleteAddressSpaceParams) = delete_address_space(DeleteAddressSpaceParams) => AddressSpaces;
                CreateBlock(create_block::CreateBlockParams) = create_block(CreateBlockParams) => Blocks;
                UpdateBlock(update_block::UpdateBlockParams) = update_block(UpdateBlockParams) => Blocks;
                DeleteBlock(delete_block::DeleteBlockParams) = delete_block(DeleteBlockParams) => Blocks;
                CreateRange(create_range::CreateRangeParams) = create_range(CreateRangeParams) => Ranges;
                CreateRanges(create_ranges::CreateRangesParams) = create_ranges(CreateRangesParams) => Ranges;
                UpdateRange(update_range::UpdateRangeParams) = update_range(UpdateRangeParams) => Ranges;
                DeleteRange(delete_range::DeleteRangeParams) = delete_range(DeleteRangeParams) => Ranges;
                RemapRange(remap_range::RemapRangeParams) = remap_range(RemapRangeParams) => Ranges;
                CreateAddress(create_address::CreateAddressParams) = create_address(CreateAddressParams) => Addresses;
                UpdateAddress(update_address::UpdateAddressParams) = update_address(UpdateAddressParams) => Addresses;
                DeleteAddress(delete_address::DeleteAddressParams) = delete_address(DeleteAddressParams) => Addresses;
                AllocateAddress(allocate_address::AllocateAddressParams) = allocate_address(AllocateAddressParams) => Addresses;
                AllocateRange(allocate_range::AllocateRangeParams) = allocate_range(AllocateRangeParams) => Ranges;
                SetBlockThresholds(set_block_thresholds::SetBlockThresholdsParams) = set_block_thresholds(SetBlockThresholdsParams) => Blocks;
                SetRangeThresholds(set_range_thresholds::SetRangeThresholdsParams) = set_range_thresholds(SetRangeThresholdsParams) => Ranges;
            }
            Dhcp {
                CreateDhcpServer(create_dhcp_server::CreateDhcpServerParams) = create_server(CreateDhcpServerParams) => DhcpServers;
                EditDhcpServer(edit_dhcp_server::EditDhcpServerParams) = update_server(UpdateDhcpServerParams) => DhcpServers;
                DeleteDhcpServer(delete_dhcp_server::DeleteDhcpServerParams) = delete_server(DeleteDhcpServerParams) => DhcpServers;
                CreateDhcpScope(create_dhcp_scope::CreateDhcpScopeParams) = create_scope(CreateDhcpScopeParams) => DhcpScopes;
                EditDhcpScope(edit_dhcp_scope::EditDhcpScopeParams) = update_scope(UpdateDhcpScopeParams) => DhcpScopes;
                DeleteDhcpScope(delete_dhcp_scope::DeleteDhcpScopeParams) = delete_scope(DeleteDhcpScopeParams) => DhcpScopes;
                AddScopesToSuperscope(add_scopes_to_superscope::AddScopesToSuperscopeParams) = add_scopes_to_superscope(AddScopesToSuperscopeParams) => DhcpScopes;
                RemoveScopesFromSuperscope(remove_scopes_from_superscope::RemoveScopesFromSuperscopeParams) = remove_scopes_from_superscope(RemoveScopesFromSuperscopeParams) => DhcpScopes;
                RenameSuperscope(rename_superscope::RenameSuperscopeParams) = rename_superscope(RenameSuperscopeParams) => DhcpSuperscopes;
                DeleteSuperscopes(delete_superscopes::DeleteSuperscopesParams) = delete_superscopes(DeleteSuperscopesParams) => DhcpSuperscopes;
                SetSuperscopeActivationStatus(set_superscope_activation_status::SetSuperscopeActivationStatusParams) = set_superscope_activation_status(SetSuperscopeActivationStatusParams) => DhcpSuperscopes;
                CreateDhcpReservation(create_dhcp_reservation::CreateDhcpReservationParams) = create_reservation(CreateDhcpReservationParams) => DhcpReservations;
                DeleteDhcpReservation(delete_dhcp_reservation::DeleteDhcpReservationParams) = delete_reservation(DeleteDhcpReservationParams) => DhcpReservations;
                DeleteDhcpReservationCollection(delete_dhcp_reservation_collection::DeleteDhcpReservationCollectionParams) = delete_reservations(DeleteDhcpReservationCollectionParams) => DhcpReservations;
                SetDhcpReservation(set_dhcp_reservation::SetDhcpReservationParams) = set_reservation(SetDhcpReservationParams) => DhcpReservations;
                SetDhcpReservationCollection(set_dhcp_reservation_collection::SetDhcpReservationCollectionParams) = set_reservations(SetDhcpReservationCollectionParams) => DhcpReservations;
                CreateDhcpFailover(create_dhcp_failover::CreateDhcpFailoverParams) = create_failover(CreateDhcpFailoverParams) => DhcpFailovers;
                EditDhcpFailover(edit_dhcp_failover::EditDhcpFailoverParams) = update_failover(UpdateDhcpFailoverParams) => DhcpFailovers;
                AddDhcpFailoverScopes(add_dhcp_failover_scopes::AddDhcpFailoverScopesParams) = add_failover_scopes(DhcpFailoverWithScopesParams) => DhcpScopes;
                RemoveDhcpFailoverScopes(remove_dhcp_failover_scopes::RemoveDhcpFailoverScopesParams) = remove_failover_scopes(DhcpFailoverRemoveScopesParams) => DhcpScopes;
                DeleteDhcpFailover(delete_dhcp_failover::DeleteDhcpFailoverParams) = delete_failover(DhcpFailoverDeleteParams) => DhcpFailovers;
                ReplicateScope(replicate_scope::ReplicateScopeParams) = replicate_scope(ReplicateScopeParams) => DhcpScopes;
                ReplicateRelation(replicate_relation::ReplicateRelationParams) = replicate_relation(ReplicateRelationParams) => DhcpScopes;
                ReplicateServer(replicate_server::ReplicateServerParams) = replicate_server(ReplicateServerParams) => DhcpScopes;
                CreateDhcpFilters(create_dhcp_filters::CreateDhcpFiltersParams) = create_filters(CreateDhcpFiltersParams) => DhcpFilters;
                UpdateDhcpFilter(update_dhcp_filter::UpdateDhcpFilterParams) = update_filter(UpdateDhcpFilterParams) => DhcpFilters;
                DeleteDhcpFilters(delete_dhcp_filters::DeleteDhcpFiltersParams) = delete_filters(DeleteDhcpFiltersParams) => DhcpFilters;
                CreateDhcpPolicy(create_dhcp_policy::CreateDhcpPolicyParams) = create_policy(CreateDhcpPolicyParams) => DhcpPolicies;
                DeleteDhcpPolicy(delete_dhcp_policy::DeleteDhcpPolicyParams) = delete_policy(DeleteDhcpPolicyParams) => DhcpPolicies;
                RecordDhcpPush(record_dhcp_push::RecordDhcpPushParams) = record_push(RecordDhcpPushParams) => DhcpServers;
                RecordDhcpLeases(record_dhcp_leases::RecordDhcpLeasesParams) = record_leases(RecordDhcpLeasesParams) => Addresses;
                ImportDhcpScopes(import_dhcp_scopes::ImportDhcpScopesParams) = import_scopes(ImportDhcpScopesParams) => DhcpScopes;
            }
            Access {
                CreateAccessScope(create_access_scope::CreateAccessScopeParams) = create_access_scope(CreateAccessScopeParams) => AccessScopes;
                UpdateAccessScope(update_access_scope::UpdateAccessScopeParams) = update_access_scope(UpdateAccessScopeParams) => AccessScopes;
                DeleteAccessScope(delete_access_scope::DeleteAccessScopeParams) = delete_access_scope(DeleteAccessScopeParams) => AccessScopes;
                SetAccessScopeForObjects(set_access_scope_for_objects::SetAccessScopeForObjectsParams) = set_access_scope_for_objects(SetAccessScopeForObjectsParams) => AccessScopes;
                CreateRole(create_role::CreateRoleParams) = create_role(CreateRoleParams) => Roles;
                UpdateRole(update_role::UpdateRoleParams) = update_role(UpdateRoleParams) => Roles;
                DeleteRole(delete_role::DeleteRoleParams) = delete_role(DeleteRoleParams) => Roles;
                SetAccessPolicy(set_access_policy::SetAccessPolicyParams) = set_access_policy(SetAccessPolicyParams) => AccessPolicies;
                DeleteAccessPolicy(delete_access_policy::DeleteAccessPolicyParams) = delete_access_policy(DeleteAccessPolicyParams) => AccessPolicies;
                CreateToken(create_token::CreateTokenParams) = import_token(CreateTokenParams) => Tokens;
                RevokeToken(revoke_token::RevokeTokenParams) = revoke_token(RevokeTokenParams) => Tokens;
            }
        }
    };
}

/// The core's side of the registry: the delegate modules, `OperationKind` and
/// `OperationParams`.
macro_rules! core_operations {
    ($($service:ident { $($kind:ident($module:ident::$params:ident) = $rpc:ident($wire:ident) => $table:ident;)* })*) => {
        $($(pub mod $module;)*)*
        $($(pub use $module::$params;)*)*

        /// AdminOperationId: which delegate runs.
        #[derive(Clone, Copy, Debug, PartialEq, Eq, Hash, PartialOrd, Ord, Serialize, Deserialize)]
        pub enum OperationKind {
            $($($kind,)*)*
        }

        impl OperationKind {
            pub const ALL: &[OperationKind] = &[$($(OperationKind::$kind,)*)*];

            pub fn name(self) -> &'static str {
                match self {
                    $($(OperationKind::$kind => stringify!($kind),)*)*
                }
            }

            /// The table of the record an operation of this kind produces (its result).
            pub fn result_table(self) -> Table {
                match self {
                    $($(OperationKind::$kind => Table::$table,)*)*
                }
            }
        }

        /// IpamOperationWithProgressParameters (2.2.4.286): one parameter type per kind.
        #[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
        pub enum OperationParams {
            $($($kind($params),)*)*
        }

        impl OperationParams {
            pub fn kind(&self) -> OperationKind {
                match self {
                    $($(OperationParams::$kind(_) => OperationKind::$kind,)*)*
                }
            }

            pub fn delegate(&self) -> &dyn Delegate {
                match self {
                    $($(OperationParams::$kind(p) => p,)*)*
                }
            }
        }
    };
}
