use super::*;
use crate::events::Event;
use crate::tables::State;

fn accepted(id: u64, request_id: &str) -> OperationAccepted {
    OperationAccepted {
        id,
        kind: 3,
        params: Vec::new(),
        request_id: request_id.into(),
        principal: "alice".into(),
        server_authority: false,
        dry_run: false,
        created_ms: 1,
        log_position: 0,
    }
}

fn item(id: u64, index: u32, status: ItemStatus, events: u32) -> ItemRecorded {
    ItemRecorded {
        id,
        index,
        status,
        action: ItemAction::Created,
        object: format!("item {index}"),
        record: Some(RecordRef::new(crate::ids::Table::Blocks, 10 + u64::from(index))),
        target: 0,
        message: String::new(),
        fault: None,
        events,
        pushes: Vec::new(),
    }
}

fn finished(id: u64, state: OpState) -> OperationFinished {
    OperationFinished {
        id,
        state,
        started_ms: 0,
        finished_ms: 9,
        status_message: "done".into(),
        fault: None,
        first_event_seq: 0,
        last_event_seq: 0,
    }
}

fn apply(state: &mut State, events: Vec<Event>) -> Result<(), crate::tables::AppendRefused> {
    state.apply_append(events, &mut Vec::new())
}

#[test]
fn an_operation_is_accepted_started_recorded_and_finished() {
    let mut s = State::new();
    apply(&mut s, vec![Event::OperationAccepted(accepted(5, "r-1"))]).unwrap();
    let plan = (0..3)
        .map(|i| PlanItem {
            object: format!("item {i}"),
            target: 0,
        })
        .collect();
    apply(
        &mut s,
        vec![Event::OperationStarted(OperationStarted {
            id: 5,
            started_ms: 2,
            plan,
        })],
    )
    .unwrap();
    // Item 0 with none of its own events, item 1 after one of its own (seq 3 is not an
    // operation event, but the count says which were the item's).
    apply(
        &mut s,
        vec![Event::OperationItemRecorded(item(5, 0, ItemStatus::Skipped, 0))],
    )
    .unwrap();
    s.set_position(s.position() + 1);
    apply(
        &mut s,
        vec![Event::OperationItemRecorded(item(5, 1, ItemStatus::Succeeded, 1))],
    )
    .unwrap();
    let row = s.operations.get(5).unwrap();
    assert_eq!(
        (row.state, row.items_total, row.accepted_seq),
        (OpState::Running, 3, 1)
    );
    assert_eq!(
        (row.first_event_seq, row.last_event_seq, row.result_record),
        (4, 4, 11)
    );
    apply(
        &mut s,
        vec![Event::OperationFinished(finished(5, OpState::Failed))],
    )
    .unwrap();
    let row = s.operations.get(5).unwrap();
    assert_eq!(row.state, OpState::Failed);
    assert_eq!(
        row.tally,
        ItemTally {
            succeeded: 1,
            skipped: 1,
            failed: 0,
            not_run: 1
        }
    );
    assert_eq!(row.finished_seq, 6);
    assert_eq!(
        s.operations.by_request(&request_key("alice", false, "r-1")),
        Some(5)
    );
    assert_eq!(s.operations.by_request(&request_key("bob", false, "r-1")), None);
    // A finished operation takes nothing more; a request id names one operation.
    assert!(
        apply(
            &mut s,
            vec![Event::OperationFinished(finished(5, OpState::Succeeded))]
        )
        .is_err()
    );
    assert!(apply(&mut s, vec![Event::OperationAccepted(accepted(6, "r-1"))]).is_err());
    assert!(apply(&mut s, vec![Event::OperationAccepted(accepted(5, ""))]).is_err());
}

#[test]
fn a_refused_append_takes_its_operation_events_back() {
    let mut s = State::new();
    apply(&mut s, vec![Event::OperationAccepted(accepted(1, "r-1"))]).unwrap();
    let before = s.clone();
    // An operation accepted, another's item recorded, then an end that cannot apply.
    let refused = apply(
        &mut s,
        vec![
            Event::OperationAccepted(accepted(2, "r-2")),
            Event::OperationItemRecorded(item(1, 0, ItemStatus::Succeeded, 0)),
            Event::OperationFinished(finished(3, OpState::Succeeded)),
        ],
    );
    assert!(refused.is_err());
    assert_eq!(s, before);
    assert_eq!(s.operations.by_request(&request_key("alice", false, "r-2")), None);
    // The same goes for a whole operation in one record.
    let ran = OperationRan {
        accepted: Some(accepted(4, "r-4")),
        item: item(4, 0, ItemStatus::Succeeded, 0),
        finished: finished(4, OpState::Succeeded),
    };
    let refused = apply(
        &mut s,
        vec![
            Event::OperationRan(Box::new(ran.clone())),
            Event::OperationFinished(finished(9, OpState::Failed)),
        ],
    );
    assert!(refused.is_err());
    assert_eq!(s, before);
    apply(&mut s, vec![Event::OperationRan(Box::new(ran))]).unwrap();
    let row = s.operations.get(4).unwrap();
    assert_eq!(
        (row.state, row.accepted_seq, row.finished_seq),
        (OpState::Succeeded, 2, 2)
    );
    assert_eq!(row.tally.succeeded, 1);
}

fn claim(replica: &str, count: u64) -> Event {
    Event::OperationIdsClaimed(IdsClaimed {
        replica: replica.into(),
        count,
    })
}

fn take_over(from: &str, by: &str) -> Event {
    Event::OperationsTakenOver(TakeOver {
        from: from.into(),
        by: by.into(),
    })
}

#[test]
fn claimed_blocks_name_their_replica_and_a_takeover_moves_them_all() {
    let mut s = State::new();
    apply(&mut s, vec![claim("a", 10), claim("b", 10), claim("a", 5)]).unwrap();
    let owners = [1, 10, 11, 20, 21, 25, 26].map(|id| s.operations.owner_of(id));
    assert_eq!(
        owners,
        [
            Some("a"),
            Some("a"),
            Some("b"),
            Some("b"),
            Some("a"),
            Some("a"),
            None
        ]
    );
    assert_eq!(s.operations.replicas(), ["a", "b"]);

    apply(&mut s, vec![take_over("a", "b")]).unwrap();
    assert!(
        [1, 10, 11, 21, 25]
            .iter()
            .all(|&id| s.operations.owner_of(id) == Some("b"))
    );
    assert_eq!(s.operations.replicas(), ["b"]);
    // a's next claim is a new block of its own, after every id claimed.
    apply(&mut s, vec![claim("a", 5)]).unwrap();
    assert_eq!(
        (s.operations.owner_of(26), s.operations.owner_of(30)),
        (Some("a"), Some("a"))
    );

    let before = s.clone();
    for refused in [
        take_over("c", "b"),
        take_over("b", "b"),
        take_over("", "b"),
        take_over("a", ""),
    ] {
        assert!(apply(&mut s, vec![refused.clone()]).is_err(), "{refused:?}");
        assert_eq!(s, before);
    }
}

#[test]
fn a_takeover_taken_back_gives_the_blocks_back() {
    let mut s = State::new();
    apply(&mut s, vec![claim("a", 10), claim("b", 10)]).unwrap();
    let before = s.clone();
    // In a refused append, and taken back as a replica's round.
    assert!(apply(&mut s, vec![take_over("a", "b"), take_over("a", "b")]).is_err());
    assert_eq!(s, before);
    let tentative = s.tentative();
    let mut t = tentative;
    s.apply_append_tentative(&mut t, vec![take_over("a", "b")], &mut Vec::new(), &mut |_, _| {})
        .unwrap();
    s.close_append_tentative(&mut t, 0);
    assert_eq!(s.operations.owner_of(1), Some("b"));
    s.take_back(t).unwrap();
    assert_eq!(s, before);
    assert_eq!(s.operations.owner_of(1), Some("a"));
}
