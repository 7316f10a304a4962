//! A stored record as the API's LoggedEvent: what the event log's streams and the address
//! histories answer.

use ipam_proto::{event_codec, pb};
use ipam_store::StoredRecord;
use tonic::Status;

/// The record, its event decoded and summarised for people.
pub fn logged_event(r: &StoredRecord) -> Result<pb::LoggedEvent, Status> {
    let event = event_codec::decode(r.schema_version as u32, &r.payload)
        .map_err(|e| Status::data_loss(format!("event {} does not decode: {e}", r.seq)))?;
    Ok(pb::LoggedEvent {
        seq: r.seq,
        commit_unix_us: r.commit_unix_us,
        operation_id: r.operation_id,
        item: r.item,
        schema_version: r.schema_version as u32,
        principal: r.principal_str().to_string(),
        summary: event.summary(),
        event: Some(event_codec::to_pb(&event)),
    })
}
