//! A stored record as the API's LoggedEvent: what the event log's streams and the address
//! histories answer.

use ipam_proto::pb;
use ipam_store::StoredRecord;
use tonic::Status;

/// `StoredRecord::logged_event`, a record that does not decode answering DATA_LOSS.
pub fn logged_event(r: &StoredRecord) -> Result<pb::LoggedEvent, Status> {
    r.logged_event().map_err(|e| Status::data_loss(e.to_string()))
}
