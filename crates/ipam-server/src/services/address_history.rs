//! AddressHistory: an address's story (or a MAC address's, or a device name's) from the
//! address-history index (`ipam_store::address_history`), rendered as logged events.

use super::event_log::logged_event;
use super::fault;
use ipam_core::Addr;
use ipam_core::fault::Fault;
use ipam_core::history::parse_mac;
use ipam_core::ids::SpaceId;
use ipam_proto::pb;
use ipam_proto::pb::address_history_request::Subject;
use ipam_store::{Engine, EventLog as _};
use tonic::Status;

const DEFAULT_LIMIT: usize = 100;
const MAX_LIMIT: usize = 1000;

/// What to look up, checked: bad input names its field.
enum Lookup {
    Address(Option<SpaceId>, Addr),
    Mac(u64),
    Name(String),
}

impl Lookup {
    /// The answer for a subject no event is about: NOT_FOUND, naming the field.
    fn nothing_found(&self) -> Fault {
        match self {
            Lookup::Address(None, a) => Fault::not_found("address", format!("any event about {a}")),
            Lookup::Address(Some(space), a) => Fault::not_found(
                "address",
                format!("any event about {a} in address space {}", space.0),
            ),
            Lookup::Mac(m) => Fault::not_found("mac", format!("any event with MAC address {m:012x}")),
            Lookup::Name(n) => Fault::not_found("device_name", format!("any event naming {n:?}")),
        }
    }
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
        let index = &engine.store().history;
        let seqs = match &lookup {
            Lookup::Address(space, addr) => index.address(*space, *addr),
            Lookup::Mac(mac) => index.mac(*mac),
            Lookup::Name(name) => index.name(name),
        }
        .map_err(|e| Status::unavailable(e.to_string()))?;
        // The index is written with the records, just before their flush: only what is
        // durable is history.
        let durable = engine.durable_seq();
        let mut wanted = seqs.into_iter().filter(|&s| s > after && s <= durable);
        let mut events = Vec::new();
        for seq in wanted.by_ref() {
            let records = engine
                .log()
                .read_from(seq, 1)
                .map_err(|e| Status::data_loss(e.to_string()))?;
            match records.first() {
                Some(r) if r.seq == seq => events.push(logged_event(r)?),
                // Lost to storage damage and accepted by a repair: its loss is in the log.
                _ => continue,
            }
            if events.len() == limit {
                break;
            }
        }
        if events.is_empty() && after == 0 {
            return Err(fault(lookup.nothing_found()));
        }
        Ok(pb::AddressHistoryReply {
            events,
            more: wanted.next().is_some(),
        })
    })
    .await
    .map_err(|e| Status::internal(e.to_string()))?
}
