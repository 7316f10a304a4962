//! AddressHistory: an address's story (or a MAC address's, or a device name's) from the
//! address-history index (`ipam_store::address_history`), rendered as logged events.

use super::fault;
use super::logged_event::logged_event;
use ipam_core::Addr;
use ipam_core::fault::Fault;
use ipam_core::history::parse_mac;
use ipam_core::ids::SpaceId;
use ipam_proto::pb;
use ipam_proto::pb::address_history_request::Subject;
use ipam_store::{Engine, StoreError, StoredRecord};
use tonic::Status;

const DEFAULT_LIMIT: usize = 100;
const MAX_LIMIT: usize = 1000;

/// What to look up, checked: bad input names its field.
pub enum Lookup {
    Address(Option<SpaceId>, Addr),
    Mac(u64),
    Name(String),
}

impl Lookup {
    /// What a search box's text asks for: an address (in any space), else a MAC address,
    /// else a device name.
    pub fn guess(text: &str) -> Option<Lookup> {
        let text = text.trim();
        if text.is_empty() {
            return None;
        }
        if let Ok(addr) = Addr::parse(text) {
            return Some(Lookup::Address(None, addr));
        }
        Some(parse_mac(text).map_or_else(|| Lookup::Name(text.to_string()), Lookup::Mac))
    }

    /// What it looks for, for people.
    pub fn describe(&self) -> String {
        match self {
            Lookup::Address(_, a) => format!("address {a}"),
            Lookup::Mac(m) => format!("MAC address {}", mac_text(*m)),
            Lookup::Name(n) => format!("name {n:?}"),
        }
    }

    /// The answer for a subject no event is about: NOT_FOUND, naming the field.
    fn nothing_found(&self) -> Fault {
        match self {
            Lookup::Address(None, a) => Fault::not_found("address", format!("any event about {a}")),
            Lookup::Address(Some(space), a) => Fault::not_found(
                "address",
                format!("any event about {a} in address space {}", space.0),
            ),
            Lookup::Mac(m) => Fault::not_found("mac", format!("any event with MAC address {}", mac_text(*m))),
            Lookup::Name(n) => Fault::not_found("device_name", format!("any event naming {n:?}")),
        }
    }
}

fn mac_text(mac: u64) -> String {
    let b = mac.to_be_bytes();
    format!(
        "{:02x}:{:02x}:{:02x}:{:02x}:{:02x}:{:02x}",
        b[2], b[3], b[4], b[5], b[6], b[7]
    )
}

fn lookup(req: &pb::AddressHistoryRequest) -> Result<Lookup, Fault> {
    let space = (req.address_space_id != 0).then_some(SpaceId(req.address_space_id));
    match &req.subject {
        None => Err(Fault::invalid(
            "subject",
            "give one of address, mac or device_name",
        )),
        Some(Subject::Address(text)) => Addr::parse(text.trim())
            .map(|a| Lookup::Address(space, a))
            .map_err(|e| Fault::invalid("address", format!("{text:?} is not an IP address: {e}"))),
        Some(Subject::Mac(text)) => parse_mac(text).map(Lookup::Mac).ok_or_else(|| {
            Fault::invalid(
                "mac",
                format!("{text:?} is not a MAC address (aa:bb:cc:dd:ee:ff)"),
            )
        }),
        Some(Subject::DeviceName(name)) if name.trim().is_empty() => {
            Err(Fault::invalid("device_name", "a device name is not empty"))
        }
        Some(Subject::DeviceName(name)) => Ok(Lookup::Name(name.clone())),
    }
}

/// The events of `lookup`'s story after `after`, at most `limit`, oldest first, and
/// whether more follow. Blocking: reads the index and the log.
pub fn story(
    engine: &Engine,
    lookup: &Lookup,
    after: u64,
    limit: usize,
) -> Result<(Vec<StoredRecord>, bool), StoreError> {
    let index = &engine.store().history;
    let seqs = match lookup {
        Lookup::Address(space, addr) => index.address(*space, *addr),
        Lookup::Mac(mac) => index.mac(*mac),
        Lookup::Name(name) => index.name(name),
    }?;
    // The index is added to as records are written, just before their flush: only what is
    // durable is history.
    let durable = engine.durable_seq();
    let mut wanted = seqs.into_iter().filter(|&s| s > after && s <= durable);
    let mut records = Vec::new();
    for seq in wanted.by_ref() {
        match engine.log().read_from(seq, 1)?.into_iter().next() {
            Some(r) if r.seq == seq => records.push(r),
            // Lost to storage damage and accepted by a repair: its loss is in the log.
            _ => continue,
        }
        if records.len() == limit {
            break;
        }
    }
    Ok((records, wanted.next().is_some()))
}

pub async fn address_history(
    engine: &Engine,
    req: pb::AddressHistoryRequest,
) -> Result<pb::AddressHistoryReply, Status> {
    let lookup = lookup(&req).map_err(fault)?;
    let limit = match req.limit as usize {
        0 => DEFAULT_LIMIT,
        n => n.min(MAX_LIMIT),
    };
    let engine = engine.clone();
    let after = req.after_seq;
    tokio::task::spawn_blocking(move || {
        let (records, more) = story(&engine, &lookup, after, limit).map_err(|e| match e {
            StoreError::Poisoned(_) | StoreError::Sled(_) | StoreError::Io(_) => {
                Status::unavailable(e.to_string())
            }
            _ => Status::data_loss(e.to_string()),
        })?;
        if records.is_empty() && after == 0 {
            return Err(fault(lookup.nothing_found()));
        }
        Ok(pb::AddressHistoryReply {
            events: records.iter().map(logged_event).collect::<Result<_, _>>()?,
            more,
        })
    })
    .await
    .map_err(|e| Status::internal(e.to_string()))?
}
