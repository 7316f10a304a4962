//! The EventLog service: the log's history and its live tail, event by event.

use super::logged_event::logged_event;
use super::{App, fault};
use crate::auth;
use crate::status;
use ipam_core::fault::Fault;
use ipam_proto::pb;
use ipam_proto::pb::event_log_server::EventLog;
use std::pin::Pin;
use tokio::sync::mpsc;
use tokio_stream::Stream;
use tokio_stream::wrappers::ReceiverStream;
use tonic::{Request, Response, Status};

/// Records read from the log per step of a subscription.
const READ_BATCH: usize = 1024;

#[tonic::async_trait]
impl EventLog for App {
    type SubscribeStream = Pin<Box<dyn Stream<Item = Result<pb::LoggedEvent, Status>> + Send>>;
    type BackupStream = ReceiverStream<Result<pb::BackupChunk, Status>>;
    type WatchAlertsStream = ReceiverStream<Result<pb::AlertChange, Status>>;

    async fn watch_alerts(
        &self,
        request: Request<pb::WatchAlertsRequest>,
    ) -> Result<Response<Self::WatchAlertsStream>, Status> {
        let changes = super::alerts::watch(self, request).await?;
        Ok(Response::new(ReceiverStream::new(changes)))
    }

    /// The log up to the durable head at the start of the call, in the export format.
    async fn backup(
        &self,
        request: Request<pb::BackupRequest>,
    ) -> Result<Response<Self::BackupStream>, Status> {
        self.require_admin(&auth::caller(&request)?, "take a backup")?;
        let chunks = super::backup::start(&self.engine).await?;
        Ok(Response::new(ReceiverStream::new(chunks)))
    }

    /// Streams from `from_seq` up to the durable watermark, then waits for it to move. Only
    /// durable records are read, so the switch from history to live has no gap and no
    /// duplicate: it is the same loop.
    async fn subscribe(
        &self,
        request: Request<pb::SubscribeRequest>,
    ) -> Result<Response<Self::SubscribeStream>, Status> {
        self.require_global_read(&auth::caller(&request)?, "the event log")?;
        let req = request.into_inner();
        let (tx, rx) = mpsc::channel(256);
        let engine = self.engine.clone();
        tokio::spawn(async move {
            let mut next = req.from_seq.max(1);
            let mut durable = engine.durability().watch();
            loop {
                let upto = durable.borrow_and_update().seq;
                while next <= upto {
                    let log = engine.log().clone();
                    let from = next;
                    let read = tokio::task::spawn_blocking(move || log.read_from(from, READ_BATCH)).await;
                    let records = match read {
                        Ok(Ok(records)) => records,
                        Ok(Err(e)) => {
                            let _ = tx.send(Err(Status::data_loss(e.to_string()))).await;
                            return;
                        }
                        Err(e) => {
                            let _ = tx.send(Err(Status::internal(e.to_string()))).await;
                            return;
                        }
                    };
                    if records.is_empty() {
                        break;
                    }
                    for r in records.iter().take_while(|r| r.seq <= upto) {
                        if tx.send(logged_event(r)).await.is_err() {
                            return;
                        }
                        next = r.seq + 1;
                    }
                }
                if req.history_only {
                    return;
                }
                tokio::select! {
                    changed = durable.changed() => if changed.is_err() { return },
                    _ = tx.closed() => return,
                }
            }
        });
        Ok(Response::new(Box::pin(ReceiverStream::new(rx))))
    }

    async fn get_event(
        &self,
        request: Request<pb::GetEventRequest>,
    ) -> Result<Response<pb::LoggedEvent>, Status> {
        self.require_global_read(&auth::caller(&request)?, "the event log")?;
        let seq = request.into_inner().seq;
        let durable = self.engine.durable_seq();
        if seq == 0 {
            return Err(fault(Fault::invalid("seq", "sequence numbers start at 1")));
        }
        if seq > durable {
            return Err(fault(Fault::not_found(
                "seq",
                format!("event {seq} (the log's durable head is {durable})"),
            )));
        }
        let log = self.engine.log().clone();
        let records = tokio::task::spawn_blocking(move || log.read_from(seq, 1))
            .await
            .map_err(|e| Status::internal(e.to_string()))?
            .map_err(|e| Status::data_loss(e.to_string()))?;
        let r = match records.first() {
            Some(r) if r.seq == seq => r,
            Some(r) if ipam_store::history::covers(seq, r) => {
                return Err(fault(Fault::not_found(
                    "seq",
                    format!("event {seq} was lost to storage damage (see event {})", r.seq),
                )));
            }
            _ => return Err(Status::data_loss(format!("event {seq} is missing"))),
        };
        Ok(Response::new(logged_event(r)?))
    }

    async fn address_history(
        &self,
        request: Request<pb::AddressHistoryRequest>,
    ) -> Result<Response<pb::AddressHistoryReply>, Status> {
        self.require_global_read(&auth::caller(&request)?, "address histories")?;
        let reply = super::address_history::address_history(&self.engine, request.into_inner()).await?;
        Ok(Response::new(reply))
    }

    async fn get_head(&self, request: Request<pb::GetHeadRequest>) -> Result<Response<pb::LogHead>, Status> {
        let request = request.into_inner();
        let with_hash = request.with_state_hash;
        if request.wait_for_seq > 0 {
            crate::position::wait_for(&self.engine, request.wait_for_seq, "wait_for_seq").await?;
        }
        let (head, hash) = self
            .engine
            .read_durable(|s| (s.position(), with_hash.then(|| s.hash())))
            .await
            .map_err(status::store_error)?;
        Ok(Response::new(pb::LogHead {
            head_seq: head,
            durable_seq: self.engine.durable_seq(),
            snapshot_seq: self.engine.last_snapshot_seq(),
            state_hash: hash.map(|h| format!("{h:032x}")).unwrap_or_default(),
        }))
    }
}
