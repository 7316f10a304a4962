//! The index against a brute force, across runs, merges, reopens and damage.

use super::*;
use ipam_core::Family;
use ipam_core::Span;
use ipam_core::history::SpanKind;

fn span(kind: SpanKind, space: u64, lo: u32, hi: u32) -> Subject {
    Subject::Span {
        kind,
        space: SpaceId(space),
        family: Family::V4,
        span: Span {
            start: lo as u128,
            end: hi as u128,
        },
    }
}

/// Spans of many sizes against every address of a small window, as the brute force
/// says, from memory, from runs, and after merges and a reopen.
#[test]
fn an_address_finds_exactly_the_spans_that_hold_it() {
    let dir = tempfile::tempdir().unwrap();
    let idx = AddressHistory::open(dir.path()).unwrap();
    let mut spans = Vec::new();
    let mut seq = 0;
    for lo in (0u32..70).step_by(3) {
        for len in [0u32, 1, 2, 5, 16, 31, 64] {
            seq += 1;
            let kind = if seq % 2 == 0 {
                SpanKind::Block
            } else {
                SpanKind::Range
            };
            let space = 1 + seq % 2;
            spans.push((seq, space, lo, lo + len));
            idx.add(&[(seq, span(kind, space, lo, lo + len))], seq);
            // Runs of every size along the way: several merges happen.
            if seq % 17 == 0 {
                idx.persist();
            }
        }
    }
    let check = |idx: &AddressHistory| {
        for v in 0u32..140 {
            let want: Vec<u64> = spans
                .iter()
                .filter(|(_, _, lo, hi)| *lo <= v && v <= *hi)
                .map(|s| s.0)
                .collect();
            assert_eq!(idx.address(None, Addr::v4(v)).unwrap(), want, "address {v}");
            let want_1: Vec<u64> = spans
                .iter()
                .filter(|(_, space, lo, hi)| *space == 1 && *lo <= v && v <= *hi)
                .map(|s| s.0)
                .collect();
            assert_eq!(
                idx.address(Some(SpaceId(1)), Addr::v4(v)).unwrap(),
                want_1,
                "{v} in space 1"
            );
        }
    };
    check(&idx);
    idx.persist();
    assert_eq!(idx.indexed_upto().unwrap(), seq);
    assert!(idx.tables.read().runs.len() < 8, "runs merge");
    drop(idx);
    let reopened = AddressHistory::open(dir.path()).unwrap();
    assert_eq!(reopened.indexed_upto().unwrap(), seq);
    check(&reopened);
}

#[test]
fn the_whole_v6_space_and_one_address_are_found_at_the_extremes() {
    let dir = tempfile::tempdir().unwrap();
    let idx = AddressHistory::open(dir.path()).unwrap();
    let all = Subject::Span {
        kind: SpanKind::Block,
        space: SpaceId(1),
        family: Family::V6,
        span: Span {
            start: 0,
            end: u128::MAX,
        },
    };
    let top = Subject::Address {
        space: SpaceId(1),
        addr: Addr::v6(u128::MAX),
    };
    idx.add(&[(1, all), (2, top)], 2);
    idx.persist();
    assert_eq!(idx.address(None, Addr::v6(u128::MAX)).unwrap(), [1, 2]);
    assert_eq!(idx.address(None, Addr::v6(7)).unwrap(), [1]);
    assert!(
        idx.address(None, Addr::v4(7)).unwrap().is_empty(),
        "families stay apart"
    );
}

#[test]
fn macs_and_names_find_their_events_and_names_ignore_case() {
    let dir = tempfile::tempdir().unwrap();
    let idx = AddressHistory::open(dir.path()).unwrap();
    idx.add(
        &[
            (3, Subject::Mac(0xaabb)),
            (4, Subject::name("Printer-1").unwrap()),
            (5, Subject::name("printer-10").unwrap()),
        ],
        5,
    );
    idx.persist();
    idx.add(&[(9, Subject::Mac(0xaabb))], 9);
    assert_eq!(idx.mac(0xaabb).unwrap(), [3, 9], "from a run and from memory");
    assert!(idx.mac(0xaabc).unwrap().is_empty());
    assert_eq!(
        idx.name("PRINTER-1").unwrap(),
        [4],
        "a longer name is another name"
    );
}

#[test]
fn a_damaged_or_unfinished_run_is_dropped_at_open() {
    let dir = tempfile::tempdir().unwrap();
    {
        let idx = AddressHistory::open(dir.path()).unwrap();
        idx.add(&[(1, Subject::Mac(1))], 1);
        idx.persist();
        idx.add(&[(2, Subject::Mac(1))], 2);
        idx.persist();
    }
    // Merged into one run of (0, 2]; damage it.
    let runs: Vec<_> = std::fs::read_dir(dir.path())
        .unwrap()
        .map(|e| e.unwrap().path())
        .collect();
    assert_eq!(runs.len(), 1, "{runs:?}");
    let mut bytes = std::fs::read(&runs[0]).unwrap();
    let last = bytes.len() - 1;
    bytes[last - 40] ^= 0x10;
    std::fs::write(&runs[0], bytes).unwrap();
    std::fs::write(dir.path().join("run-x.idx.tmp"), b"half").unwrap();
    let idx = AddressHistory::open(dir.path()).unwrap();
    assert_eq!(idx.indexed_upto().unwrap(), 0, "built again by replay");
    assert_eq!(std::fs::read_dir(dir.path()).unwrap().count(), 0);
}

#[test]
fn runs_from_an_earlier_process_merge_with_new_ones() {
    let dir = tempfile::tempdir().unwrap();
    {
        let idx = AddressHistory::open(dir.path()).unwrap();
        idx.add(&[(1, Subject::Mac(7))], 1);
        idx.persist();
    }
    let idx = AddressHistory::open(dir.path()).unwrap();
    idx.add(&[(2, Subject::Mac(7))], 2);
    idx.persist();
    // Two runs of one entry each: similar sizes, so they merge into one file.
    let runs = std::fs::read_dir(dir.path()).unwrap().count();
    assert_eq!(runs, 1, "the reopened run merged with the new one");
    assert_eq!(idx.mac(7).unwrap(), [1, 2]);
    drop(idx);
    assert_eq!(AddressHistory::open(dir.path()).unwrap().mac(7).unwrap(), [1, 2]);
}
