//! The address-space operations: UpdateAddressSpace (3.3.4.145), BulkUpdateAddressSpaces
//! (3.3.4.1) and DeleteAddressSpace (3.3.4.21), through the delegates.

use ipam_core::delegates::*;
use ipam_core::exec;
use ipam_core::fault::FaultCode;
use ipam_core::ids::SpaceId;
use ipam_core::tables::State;
use ipam_core::tables::address_spaces::SpaceKind;
use ipam_core::{Fault, Prefix};

fn run(state: &mut State, params: OperationParams) -> Result<Vec<ItemOutcome>, Fault> {
    exec::run(state, &params, &mut Vec::new())
}

fn space(state: &mut State, name: &str, kind: SpaceKind, provider: u64) -> SpaceId {
    let out = run(
        state,
        OperationParams::CreateAddressSpace(CreateAddressSpaceParams {
            name: name.into(),
            description: String::new(),
            owner: String::new(),
            kind,
            provider: SpaceId(provider),
        }),
    )
    .unwrap();
    SpaceId(out[0].record.unwrap().id)
}

fn update(id: SpaceId, modified: &[&str], name: &str) -> UpdateAddressSpaceParams {
    UpdateAddressSpaceParams {
        id,
        modified: modified.iter().map(|s| s.to_string()).collect(),
        name: name.into(),
        description: "lab networks".into(),
        owner: "netops".into(),
        kind: None,
    }
}

#[test]
fn only_the_named_properties_change_and_names_stay_unique() {
    let mut state = State::new();
    let lab = space(&mut state, "lab", SpaceKind::Provider, 0);
    space(&mut state, "prod", SpaceKind::Provider, 0);

    let out = run(
        &mut state,
        OperationParams::UpdateAddressSpace(update(lab, &["description"], "ignored")),
    )
    .unwrap();
    assert_eq!(out[0].action, ItemAction::Updated);
    let row = state.spaces.get(lab).unwrap();
    assert_eq!(
        (row.name.as_str(), row.description.as_str(), row.owner.as_str()),
        ("lab", "lab networks", "")
    );

    // No property named: nothing changes, and that succeeds (2.2.4.64).
    let before = state.hash();
    let out = run(
        &mut state,
        OperationParams::UpdateAddressSpace(update(lab, &[], "x")),
    )
    .unwrap();
    assert_eq!(out[0].action, ItemAction::Unchanged);
    assert_eq!(state.hash(), before);

    let clash = run(
        &mut state,
        OperationParams::UpdateAddressSpace(update(lab, &["name"], "PROD")),
    )
    .unwrap_err();
    assert_eq!(
        (clash.code, clash.field.as_str()),
        (FaultCode::AlreadyExists, "name")
    );
    let unknown = run(
        &mut state,
        OperationParams::UpdateAddressSpace(update(lab, &["kind"], "x")),
    )
    .unwrap_err();
    assert_eq!(unknown.field, "modified_properties[0]");
    let mut retype = update(lab, &["name"], "lab2");
    retype.kind = Some(SpaceKind::Customer);
    let retype = run(&mut state, OperationParams::UpdateAddressSpace(retype)).unwrap_err();
    assert_eq!(
        (retype.code, retype.field.as_str()),
        (FaultCode::InvalidArgument, "type")
    );
    let missing = run(
        &mut state,
        OperationParams::UpdateAddressSpace(update(SpaceId(99), &["name"], "x")),
    )
    .unwrap_err();
    assert_eq!(
        (missing.code, missing.field.as_str()),
        (FaultCode::NotFound, "id")
    );
    assert_eq!(state.hash(), before, "refused updates change nothing");
}

#[test]
fn a_bulk_update_is_one_item_per_space_and_names_the_failing_one() {
    let mut state = State::new();
    let a = space(&mut state, "a", SpaceKind::Provider, 0);
    let b = space(&mut state, "b", SpaceKind::Provider, 0);
    let out = run(
        &mut state,
        OperationParams::BulkUpdateAddressSpaces(BulkUpdateAddressSpacesParams {
            spaces: vec![update(a, &["name"], "a2"), update(b, &["owner"], "")],
        }),
    )
    .unwrap();
    assert_eq!(out.len(), 2);
    assert_eq!(state.spaces.get(a).unwrap().name, "a2");
    assert_eq!(state.spaces.get(b).unwrap().owner, "netops");

    let fault = run(
        &mut state,
        OperationParams::BulkUpdateAddressSpaces(BulkUpdateAddressSpacesParams {
            spaces: vec![update(a, &["name"], "a3"), update(b, &["name"], "A3")],
        }),
    )
    .unwrap_err();
    assert_eq!(fault.field, "address_spaces[1].name");
    assert_eq!(
        state.spaces.get(a).unwrap().name,
        "a3",
        "the item before the fault stays"
    );
    let empty = run(
        &mut state,
        OperationParams::BulkUpdateAddressSpaces(BulkUpdateAddressSpacesParams { spaces: vec![] }),
    )
    .unwrap_err();
    assert_eq!(empty.field, "address_spaces");
}

#[test]
fn only_an_empty_space_can_be_deleted_and_its_id_is_never_reused() {
    let mut state = State::new();
    let provider = space(&mut state, "provider", SpaceKind::Provider, 0);
    let customer = space(&mut state, "tenant", SpaceKind::Customer, provider.0);
    let delete = |id| OperationParams::DeleteAddressSpace(DeleteAddressSpaceParams { id });

    let default = run(&mut state, delete(SpaceId::DEFAULT)).unwrap_err();
    assert_eq!(default.code, FaultCode::FailedPrecondition);
    let holds_customer = run(&mut state, delete(provider)).unwrap_err();
    assert!(
        holds_customer.message.contains("customer address spaces"),
        "{}",
        holds_customer.message
    );

    run(
        &mut state,
        OperationParams::CreateBlock(CreateBlockParams {
            space: customer,
            prefix: Prefix::parse("10.0.0.0/8").unwrap(),
            start: None,
            end: None,
            category: None,
            description: String::new(),
            owner: String::new(),
            custom_fields: Default::default(),
        }),
    )
    .unwrap();
    let busy = run(&mut state, delete(customer)).unwrap_err();
    assert_eq!(
        (busy.code, busy.field.as_str()),
        (FaultCode::FailedPrecondition, "id")
    );
    assert!(busy.message.contains("blocks"), "{}", busy.message);

    run(
        &mut state,
        OperationParams::DeleteBlock(DeleteBlockParams {
            id: ipam_core::ids::BlockId(1),
            delete_children: false,
        }),
    )
    .unwrap();
    run(&mut state, delete(customer)).unwrap();
    run(&mut state, delete(provider)).unwrap();
    assert!(state.spaces.get(customer).is_none() && state.spaces.get(provider).is_none());
    let missing = run(&mut state, delete(customer)).unwrap_err();
    assert_eq!(missing.code, FaultCode::NotFound);
    // Ids come from the log: a new space takes the next id, not a freed one.
    assert_eq!(
        space(&mut state, "again", SpaceKind::Provider, 0),
        SpaceId(customer.0 + 1)
    );
}
