//! Role-based access (MS-IPAMM2 3.3.6.1 with the roles of 3.1.1.1.38.1) through the
//! reference executor: a grant reaches its scope and everything below it; a new row is
//! checked on the scope it inherits; a failover needs both servers; access control itself
//! is the IPAM Administrator's on \Global; what a principal may read follows the same
//! scopes; and the access tables replay like every other.

use ipam_core::access::{Authority, IPAM_ADMINISTRATOR, IPAM_USER, Visibility};
use ipam_core::addr::Prefix;
use ipam_core::delegates::*;
use ipam_core::exec;
use ipam_core::fault::{Fault, FaultCode};
use ipam_core::ids::{AccessScopeId, BlockId, RoleId, ServerId, SpaceId, Table};
use ipam_core::tables::State;
use ipam_core::tables::access::{ObjectRef, ObjectType};
use ipam_core::tables::dhcp::failovers::FailoverMode;
use ipam_core::tables::dhcp::servers::DnsUpdateType;

const ASM_ADMINISTRATOR: RoleId = RoleId(2);
const DHCP_ADMINISTRATOR: RoleId = RoleId(4);

/// The tables and the log, run with the server's authority unless a test says otherwise.
struct World {
    state: State,
    log: Vec<ipam_core::Event>,
}

impl World {
    fn new() -> World {
        World {
            state: State::new(),
            log: Vec::new(),
        }
    }

    fn try_as(&mut self, who: &str, params: OperationParams) -> Result<Vec<ItemOutcome>, Fault> {
        exec::run_as(&mut self.state, &params, Authority::Principal(who), &mut self.log)
    }

    fn run(&mut self, params: OperationParams) -> u64 {
        let out = exec::run(&mut self.state, &params, &mut self.log)
            .unwrap_or_else(|f| panic!("{params:?} failed: {f}"));
        out[0].record.map_or(0, |r| r.id)
    }

    fn scope(&mut self, parent: AccessScopeId, label: &str) -> AccessScopeId {
        AccessScopeId(
            self.run(OperationParams::CreateAccessScope(CreateAccessScopeParams {
                parent,
                label: label.into(),
                description: String::new(),
            })),
        )
    }

    fn grant(&mut self, principal: &str, entries: &[(RoleId, AccessScopeId)]) {
        self.run(OperationParams::SetAccessPolicy(SetAccessPolicyParams {
            principal: principal.into(),
            description: String::new(),
            entries: entries.to_vec(),
        }));
    }

    fn assign(&mut self, kind: ObjectType, id: u64, scope: AccessScopeId) {
        self.run(OperationParams::SetAccessScopeForObjects(
            SetAccessScopeForObjectsParams {
                objects: vec![ObjectRef { kind, id }],
                scope,
            },
        ));
    }
}

fn block(prefix: &str) -> OperationParams {
    OperationParams::CreateBlock(CreateBlockParams {
        space: SpaceId(0),
        prefix: Prefix::parse(prefix).unwrap(),
        start: None,
        end: None,
        category: None,
        description: String::new(),
        owner: String::new(),
        custom_fields: Default::default(),
    })
}

fn range(subnet: &str) -> OperationParams {
    OperationParams::CreateRange(CreateRangeParams {
        space: SpaceId(0),
        subnet: Prefix::parse(subnet).unwrap(),
        start: None,
        end: None,
        exclusions: Vec::new(),
        managed_by: None,
        managed_by_entity: String::new(),
        assignment: None,
        description: String::new(),
        owner: String::new(),
        custom_fields: Default::default(),
    })
}

fn server(name: &str) -> OperationParams {
    OperationParams::CreateDhcpServer(CreateDhcpServerParams {
        name: name.into(),
        address: None,
        description: String::new(),
        dns_update_type: DnsUpdateType::Default,
        dns_name_protection: false,
        discard_dns_on_lease_deletion: false,
        control: String::new(),
        options: Vec::new(),
    })
}

fn failover(s1: ServerId, s2: ServerId) -> OperationParams {
    OperationParams::CreateDhcpFailover(CreateDhcpFailoverParams {
        server1: s1,
        server2: s2,
        settings: FailoverSettings {
            name: "pair".into(),
            mode: FailoverMode::HotStandby,
            mclt_s: 3600,
            auto_state_transition: false,
            state_switch_interval_s: 0,
            server1_percentage: 100,
            shared_secret_enabled: false,
            shared_secret: String::new(),
        },
        scopes: Vec::new(),
    })
}

fn denied(result: Result<Vec<ItemOutcome>, Fault>) -> Fault {
    match result {
        Err(f) if f.code == FaultCode::PermissionDenied => f,
        other => panic!("expected PERMISSION_DENIED, got {other:?}"),
    }
}

#[test]
fn a_grant_reaches_its_scope_and_what_inherits_it_and_nothing_else() {
    let mut w = World::new();
    let lab = w.scope(AccessScopeId::GLOBAL, "Lab");
    let lab_block = BlockId(w.run(block("10.0.0.0/8")));
    let other_block = BlockId(w.run(block("172.16.0.0/12")));
    w.assign(ObjectType::Block, lab_block.0, lab);
    w.grant("alice", &[(ASM_ADMINISTRATOR, lab)]);

    // Under the Lab block: a child block and a range inherit Lab, so alice may make them.
    let child = w
        .try_as("alice", block("10.1.0.0/16"))
        .expect("a child of a Lab block");
    let range_out = w.try_as("alice", range("10.1.2.0/24")).expect("a range under it");
    let before = w.state.hash();
    // Anywhere else: refused, naming who, what and where; nothing changes.
    let f = denied(w.try_as("alice", range("172.16.1.0/24")));
    assert!(
        f.message.contains("alice") && f.message.contains("CreateRange"),
        "{}",
        f.message
    );
    assert!(f.message.contains("\\Global"), "{}", f.message);
    denied(w.try_as("alice", block("192.168.0.0/16")));
    // A role without DHCP operations holds none anywhere.
    denied(w.try_as("alice", server("dhcp1")));
    assert_eq!(w.state.hash(), before);

    // Reads follow the same scopes.
    let seen = Visibility::new(&w.state, Authority::Principal("alice"));
    assert!(seen.sees_row(Table::Blocks, lab_block.0));
    assert!(seen.sees_row(Table::Blocks, child[0].record.unwrap().id));
    assert!(seen.sees_row(Table::Ranges, range_out[0].record.unwrap().id));
    assert!(!seen.sees_row(Table::Blocks, other_block.0));
    let everything = Visibility::new(&w.state, Authority::Server);
    assert!(everything.sees_everything());

    // Moving the block out of Lab (back to inheriting Global) takes it out of reach.
    w.assign(ObjectType::Block, lab_block.0, AccessScopeId(0));
    denied(w.try_as("alice", range("10.1.3.0/24")));
}

#[test]
fn a_grant_on_a_parent_scope_reaches_its_children() {
    let mut w = World::new();
    let emea = w.scope(AccessScopeId::GLOBAL, "EMEA");
    let paris = w.scope(emea, "Paris");
    let b = w.run(block("10.0.0.0/8"));
    w.assign(ObjectType::Block, b, paris);
    w.grant("bob", &[(ASM_ADMINISTRATOR, emea)]);
    w.try_as("bob", range("10.0.0.0/24")).expect("EMEA reaches Paris");
    w.grant("carol", &[(ASM_ADMINISTRATOR, paris)]);
    w.try_as("carol", range("10.0.1.0/24")).expect("Paris itself");
    let sibling = w.scope(emea, "Berlin");
    w.grant("dave", &[(ASM_ADMINISTRATOR, sibling)]);
    denied(w.try_as("dave", range("10.0.2.0/24")));
}

#[test]
fn a_failover_needs_both_servers_in_reach() {
    let mut w = World::new();
    let site = w.scope(AccessScopeId::GLOBAL, "Site");
    let s1 = ServerId(w.run(server("dhcp1")));
    let s2 = ServerId(w.run(server("dhcp2")));
    w.assign(ObjectType::DhcpServer, s1.0, site);
    w.grant("erin", &[(DHCP_ADMINISTRATOR, site)]);
    let f = denied(w.try_as("erin", failover(s1, s2)));
    assert!(f.message.contains("CreateDhcpFailover"), "{}", f.message);
    w.assign(ObjectType::DhcpServer, s2.0, site);
    w.try_as("erin", failover(s1, s2))
        .expect("both servers are in Site");
}

#[test]
fn access_control_is_for_the_administrator_on_global_only() {
    let mut w = World::new();
    let lab = w.scope(AccessScopeId::GLOBAL, "Lab");
    w.grant("lab-admin", &[(IPAM_ADMINISTRATOR, lab)]);
    w.grant("root", &[(IPAM_ADMINISTRATOR, AccessScopeId::GLOBAL)]);
    w.grant("viewer", &[(IPAM_USER, AccessScopeId::GLOBAL)]);
    let new_scope = || {
        OperationParams::CreateAccessScope(CreateAccessScopeParams {
            parent: AccessScopeId::GLOBAL,
            label: "Other".into(),
            description: String::new(),
        })
    };
    denied(w.try_as("lab-admin", new_scope()));
    denied(w.try_as("viewer", new_scope()));
    denied(w.try_as("viewer", block("10.0.0.0/8")));
    let grant_self = OperationParams::SetAccessPolicy(SetAccessPolicyParams {
        principal: "viewer".into(),
        description: String::new(),
        entries: vec![(IPAM_ADMINISTRATOR, AccessScopeId::GLOBAL)],
    });
    denied(w.try_as("viewer", grant_self.clone()));
    w.try_as("root", new_scope())
        .expect("the administrator on Global");
    w.try_as("root", grant_self).expect("and may grant");
    w.try_as("viewer", block("10.0.0.0/8"))
        .expect("the new grant holds at once");
}

#[test]
fn a_scope_in_use_stays_and_a_deleted_object_forgets_its_scope() {
    let mut w = World::new();
    let lab = w.scope(AccessScopeId::GLOBAL, "Lab");
    let b = w.run(block("10.0.0.0/8"));
    w.assign(ObjectType::Block, b, lab);
    let delete = OperationParams::DeleteAccessScope(DeleteAccessScopeParams { id: lab });
    let f = exec::run(&mut w.state, &delete, &mut w.log).unwrap_err();
    assert_eq!(f.code, FaultCode::FailedPrecondition, "{f}");
    let global = OperationParams::DeleteAccessScope(DeleteAccessScopeParams {
        id: AccessScopeId::GLOBAL,
    });
    assert!(
        exec::run(&mut w.state, &global, &mut w.log).is_err(),
        "Global is built in"
    );
    w.run(OperationParams::DeleteBlock(DeleteBlockParams {
        id: BlockId(b),
        delete_children: false,
    }));
    assert_eq!(w.state.access.uses_of(&[lab]).0, Vec::<ObjectRef>::new());
    w.run(delete);
    assert!(w.state.access.scope(lab).is_none());
}

#[test]
fn built_in_roles_stay_and_deleting_a_custom_role_takes_its_grants() {
    let mut w = World::new();
    let delete = |id| OperationParams::DeleteRole(DeleteRoleParams { id });
    assert!(exec::run(&mut w.state, &delete(IPAM_USER), &mut w.log).is_err());
    let custom = RoleId(w.run(OperationParams::CreateRole(CreateRoleParams {
        name: "Range keeper".into(),
        description: String::new(),
        operations: vec![OperationKind::CreateRange, OperationKind::UpdateRange],
    })));
    w.grant("frank", &[(custom, AccessScopeId::GLOBAL)]);
    w.run(block("10.0.0.0/8"));
    w.try_as("frank", range("10.0.0.0/24"))
        .expect("the role holds CreateRange");
    denied(w.try_as("frank", block("11.0.0.0/8")));
    // DeleteUserRole (3.3.4.36) deletes the role; the policy map's foreign key cascades, so
    // frank's grant goes with it and the same call is now refused.
    w.run(delete(custom));
    assert!(w.state.access.role(custom).is_none());
    denied(w.try_as("frank", range("10.0.1.0/24")));
}

#[test]
fn tokens_are_unique_by_key_and_revoking_disables() {
    let mut w = World::new();
    let token = |key: u8| {
        OperationParams::CreateToken(CreateTokenParams {
            key: [key; 8],
            secret_sha256: [7; 32],
            principal: "svc".into(),
            description: String::new(),
            expires_unix_ms: 0,
            created_by: "admin".into(),
            created_unix_ms: 1,
        })
    };
    let id = w.run(token(1));
    assert!(
        exec::run(&mut w.state, &token(1), &mut w.log).is_err(),
        "a key names one token"
    );
    assert!(w.state.access.token_by_key(&[1; 8]).unwrap().enabled);
    w.run(OperationParams::RevokeToken(RevokeTokenParams {
        id: ipam_core::ids::TokenId(id),
    }));
    assert!(!w.state.access.token_by_key(&[1; 8]).unwrap().enabled);
}

#[test]
fn the_access_tables_replay_to_the_same_state() {
    let mut w = World::new();
    let lab = w.scope(AccessScopeId::GLOBAL, "Lab");
    let b = w.run(block("10.0.0.0/8"));
    w.assign(ObjectType::Block, b, lab);
    w.grant(
        "alice",
        &[(ASM_ADMINISTRATOR, lab), (IPAM_USER, AccessScopeId::GLOBAL)],
    );
    w.try_as("alice", range("10.0.0.0/24")).unwrap();
    let mut replayed = State::new();
    exec::apply_all(&mut replayed, w.log.clone(), &mut Vec::new()).unwrap();
    assert_eq!(replayed.hash(), w.state.hash());
    assert_eq!(
        replayed.access.assigned(ObjectRef {
            kind: ObjectType::Block,
            id: b
        }),
        Some(lab)
    );
}
