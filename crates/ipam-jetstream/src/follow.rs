//! Following the stream: what a replica applies to keep up with the others (`JetStreamLog::follow`).

use crate::{FIRST_SEQ, Head, JetStreamLog, header_u64, io};
use async_nats::jetstream::stream;
use ipam_store::record::decode_chunk;
use ipam_store::{StoreError, StoredRecord};
use parking_lot::Mutex;
use std::sync::Arc;
use std::time::Duration;

/// The records appended after a position, append by append, as they reach the stream: what
/// a replica applies to follow the others (`JetStreamLog::follow`).
pub struct Follower {
    /// (the stream sequence of the message, its records after the follow's start).
    pub(crate) rx: tokio::sync::mpsc::Receiver<Result<(u64, Vec<StoredRecord>), StoreError>>,
    /// The log's head: an append seen here is the head a writer must expect next.
    pub(crate) head: Arc<Mutex<Head>>,
    pub(crate) seen: Arc<Mutex<std::collections::VecDeque<Head>>>,
    pub(crate) runtime: tokio::runtime::Handle,
}

impl Follower {
    /// The next append's records, waiting at most `timeout` for one (None: none came).
    /// An error ends the follow: the stream skipped records, or the connection is gone.
    /// Call it from a thread outside any async runtime.
    pub fn next(&mut self, timeout: Duration) -> Result<Option<Vec<StoredRecord>>, StoreError> {
        let next = self
            .runtime
            .block_on(async { tokio::time::timeout(timeout, self.rx.recv()).await });
        match next {
            Ok(Some(Ok((message, records)))) => {
                let last = records.last().map_or(0, |r| r.seq);
                JetStreamLog::saw(
                    &self.seen,
                    Head {
                        record: last,
                        message,
                    },
                );
                // Taken here, on the follower's thread, never on the log's runtime (whose one
                // thread a publish holding this lock waits on).
                let mut head = self.head.lock();
                if last > head.record {
                    *head = Head {
                        record: last,
                        message,
                    };
                }
                Ok(Some(records))
            }
            Ok(Some(Err(e))) => Err(e),
            Err(_elapsed) => Ok(None),
            Ok(None) => Err(StoreError::Io("JetStream: the follow ended".into())),
        }
    }
}

/// Sends every append from stream message `start` on to `tx`, checking each starts right
/// after record `after` or the append before; returns when the follower is dropped.
pub(crate) async fn follow(
    stream: stream::Stream,
    subject: String,
    start: u64,
    after: u64,
    tx: &tokio::sync::mpsc::Sender<Result<(u64, Vec<StoredRecord>), StoreError>>,
) -> Result<(), StoreError> {
    use async_nats::jetstream::consumer::{DeliverPolicy, pull::OrderedConfig};
    use tokio_stream::StreamExt;
    let mut messages = stream
        .create_consumer(OrderedConfig {
            filter_subject: subject,
            deliver_policy: DeliverPolicy::ByStartSequence {
                start_sequence: start,
            },
            ..Default::default()
        })
        .await
        .map_err(|e| io("follow", e))?
        .messages()
        .await
        .map_err(|e| io("follow", e))?;
    let mut applied = after;
    while let Some(message) = messages.next().await {
        let message = message.map_err(|e| io("follow", e))?;
        let seq = message.info().map_or(0, |i| i.stream_sequence);
        let headers = message.headers.clone().unwrap_or_default();
        let (records, err) = decode_chunk(header_u64(&headers, FIRST_SEQ, seq)?, &message.payload);
        if let Some(err) = err {
            return Err(err);
        }
        let records: Vec<StoredRecord> = records.into_iter().filter(|r| r.seq > applied).collect();
        let Some(head) = records.first() else { continue };
        if head.seq != applied + 1 && !ipam_store::gap::bridges(applied, head) {
            return Err(StoreError::Corrupt {
                seq: applied + 1,
                reason: format!("the stream skips from record {applied} to {}", head.seq),
            });
        }
        applied = records.last().expect("not empty").seq;
        if tx.send(Ok((seq, records))).await.is_err() {
            return Ok(()); // the follower was dropped
        }
    }
    Err(io("follow", "the consumer's messages ended"))
}

impl ipam_store::Follow for Follower {
    fn next(&mut self, timeout: Duration) -> Result<Option<Vec<StoredRecord>>, StoreError> {
        Follower::next(self, timeout)
    }
}
