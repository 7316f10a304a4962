//! The event log on a NATS JetStream stream (issue 21): the medium several ipamd replicas
//! can share, behind the same `EventLog` trait as the embedded sled log.
//!
//! Layout: one stream, one subject (`<stream>.log`). Every append is one message holding
//! whole records, encoded as the sled log encodes a chunk (`ipam_store::record`), with
//! the sequence numbers of its first and last record in the headers `Ipam-First-Seq` and
//! `Ipam-Last-Seq`. Each append is published with `Nats-Expected-Last-Sequence` set to the
//! stream sequence of the message this writer last saw at the head, so two replicas that
//! append at once cannot both succeed: the one refused learns the new head (HeadMoved),
//! catches up and decides again. Only the stream-wide check is used; the per-subject one
//! has open bugs (nats-server #4319 and its kin).
//!
//! No index is kept: record seqs grow with stream seqs, so the message holding a record is
//! found by a binary search over the stream (about 20 gets from the stream's leader for a
//! million appends),
//! and the head at open is read from the last message.
//!
//! The trait is synchronous (the flusher calls it from its own thread); the log keeps a
//! small runtime of its own and blocks the caller on it, which is safe from any thread,
//! inside an async runtime or not.

mod follow;
pub mod local;

pub use follow::Follower;

use async_nats::HeaderMap;
use async_nats::jetstream::{self, context::PublishErrorKind, stream};
use bytes::Bytes;
use ipam_store::log::RawChunk;
use ipam_store::record::{decode_chunk, encode_chunk};
use ipam_store::{EventLog, StoreError, StoredRecord};
use parking_lot::Mutex;
use std::future::Future;
use std::sync::Arc;
use std::time::Duration;

const FIRST_SEQ: &str = "Ipam-First-Seq";
const LAST_SEQ: &str = "Ipam-Last-Seq";
/// Bytes kept free in a message for its headers below the server's max payload.
const HEADER_ROOM: usize = 1024;
/// Appends whose (record, message) a log remembers.
const SEEN: usize = 4096;
/// How long a message the leader named as its last may take to become readable.
const LEARN_PATIENCE: Duration = Duration::from_secs(5);
/// About what one append carries, like the sled log's chunks (the flusher cuts there).
const CHUNK_BYTES: usize = 32 << 10;

/// Where the stream lives and how it is kept.
#[derive(Clone, Debug)]
pub struct JetStreamConfig {
    /// `nats://host:port`, several separated by commas (any one answers).
    pub servers: String,
    pub stream: String,
    /// Copies the NATS cluster keeps (R3 in production; 1 for a single server).
    pub replicas: usize,
    /// How long one request to the server may take.
    pub timeout: Duration,
}

impl JetStreamConfig {
    /// From `nats://host:4222[,host:4223...]/STREAM`, the form of `ipamd --log`.
    pub fn parse(url: &str) -> Result<JetStreamConfig, String> {
        let rest = url
            .strip_prefix("nats://")
            .ok_or_else(|| format!("{url}: a JetStream log is nats://host:port[,host:port...]/STREAM"))?;
        let (hosts, stream) = rest
            .split_once('/')
            .ok_or_else(|| format!("{url}: name the stream after the hosts: nats://host:port/STREAM"))?;
        if hosts.is_empty() {
            return Err(format!("{url}: no NATS server named"));
        }
        if stream.is_empty()
            || !stream
                .chars()
                .all(|c| c.is_ascii_alphanumeric() || c == '_' || c == '-')
        {
            return Err(format!(
                "{url}: the stream name {stream:?} may hold letters, digits, '_' and '-' only"
            ));
        }
        let servers = hosts
            .split(',')
            .map(|h| format!("nats://{h}"))
            .collect::<Vec<_>>()
            .join(",");
        Ok(JetStreamConfig {
            servers,
            stream: stream.to_string(),
            replicas: 3,
            timeout: Duration::from_secs(10),
        })
    }
}

/// What this writer last saw at the head of the stream.
#[derive(Clone, Copy, Debug, Default)]
struct Head {
    /// The last record's seq (0 = empty).
    record: u64,
    /// The stream sequence of the message holding it (0 = empty).
    message: u64,
}

pub struct JetStreamLog {
    /// Its own runtime (None only while dropping).
    runtime: Option<tokio::runtime::Runtime>,
    js: jetstream::Context,
    stream: stream::Stream,
    subject: String,
    /// Shared with followers, which raise it as they see others' appends.
    head: Arc<Mutex<Head>>,
    /// Where recent appends ended (record, message), newest last: a replica catching up
    /// after a refused publish reads on from the message after its own position's, with
    /// no search of the stream.
    seen: Arc<Mutex<std::collections::VecDeque<Head>>>,
    chunk_bytes: usize,
}

fn io(what: &str, e: impl std::fmt::Display) -> StoreError {
    StoreError::Io(format!("JetStream: {what}: {e}"))
}

fn header_u64(headers: &HeaderMap, name: &str, message: u64) -> Result<u64, StoreError> {
    headers
        .get(name)
        .and_then(|v| v.as_str().parse().ok())
        .ok_or_else(|| StoreError::Corrupt {
            seq: 0,
            reason: format!("stream message {message} has no {name} header"),
        })
}

impl JetStreamLog {
    /// Connects and opens the stream, creating it (file storage, `replicas` copies) when
    /// it does not exist; the head is read from its last message.
    pub fn open(config: &JetStreamConfig) -> Result<JetStreamLog, StoreError> {
        let runtime = tokio::runtime::Builder::new_multi_thread()
            .worker_threads(1)
            .thread_name("ipam-jetstream")
            .enable_all()
            .build()
            .map_err(|e| io("runtime", e))?;
        let config = config.clone();
        let subject = format!("{}.log", config.stream);
        let opened = block_on(&runtime, {
            let subject = subject.clone();
            async move {
                let addrs = config
                    .servers
                    .split(',')
                    .map(|s| s.parse::<async_nats::ServerAddr>())
                    .collect::<Result<Vec<_>, _>>()
                    .map_err(|e| io(&format!("server list {}", config.servers), e))?;
                let client = async_nats::ConnectOptions::new()
                    .request_timeout(Some(config.timeout))
                    .connect(addrs)
                    .await
                    .map_err(|e| io(&format!("connect to {}", config.servers), e))?;
                let max_payload = client.server_info().max_payload;
                let js = jetstream::new(client);
                let stream = js
                    .get_or_create_stream(stream::Config {
                        name: config.stream.clone(),
                        subjects: vec![subject],
                        storage: stream::StorageType::File,
                        num_replicas: config.replicas,
                        ..Default::default()
                    })
                    .await
                    .map_err(|e| io(&format!("open stream {}", config.stream), e))?;
                Ok::<_, StoreError>((js, stream, max_payload))
            }
        });
        let (js, stream, max_payload) = match opened {
            Ok(opened) => opened,
            Err(e) => {
                // Not dropped in place: that blocks, which an async caller may not do.
                runtime.shutdown_background();
                return Err(e);
            }
        };
        let log = JetStreamLog {
            runtime: Some(runtime),
            js,
            stream,
            subject,
            head: Arc::new(Mutex::new(Head::default())),
            seen: Arc::new(Mutex::new(std::collections::VecDeque::new())),
            chunk_bytes: CHUNK_BYTES.min(max_payload.saturating_sub(HEADER_ROOM)).max(1024),
        };
        log.refresh()?;
        Ok(log)
    }

    /// Remembers that an append ended at `head.record` in message `head.message`.
    fn saw(seen: &Mutex<std::collections::VecDeque<Head>>, head: Head) {
        let mut seen = seen.lock();
        let i = seen.partition_point(|h| h.record < head.record);
        if seen.get(i).is_some_and(|h| h.record == head.record) {
            return;
        }
        seen.insert(i, head);
        if seen.len() > SEEN {
            seen.pop_front();
        }
    }

    /// The message after the one that ends at record `record`, if that one was seen.
    fn message_after(&self, record: u64) -> Option<u64> {
        let seen = self.seen.lock();
        let i = seen.partition_point(|h| h.record < record);
        seen.get(i).filter(|h| h.record == record).map(|h| h.message + 1)
    }

    /// Runs `f` on the log's runtime and waits for it, from any thread.
    fn block<T: Send + 'static>(&self, f: impl Future<Output = T> + Send + 'static) -> T {
        block_on(self.runtime.as_ref().expect("taken only on drop"), f)
    }

    /// The stream's (first, last) message sequence, the last at least that of the head this
    /// log knows (the stream's info may lag what its leader acknowledged).
    fn bounds(&self) -> Result<(u64, u64), StoreError> {
        let (first, last) = self.info_bounds()?;
        let known = self.head.lock().message;
        Ok(if known > last {
            (first.max(1), known)
        } else {
            (first, last)
        })
    }

    /// The stream's (first, last) message sequence as its info says (0, 0 when empty).
    fn info_bounds(&self) -> Result<(u64, u64), StoreError> {
        let mut stream = self.stream.clone();
        self.block(async move {
            let info = stream.info().await.map_err(|e| io("stream info", e))?;
            let s = &info.state;
            Ok(if s.messages == 0 {
                (0, 0)
            } else {
                (s.first_sequence, s.last_sequence)
            })
        })
    }

    /// The name of the NATS server that leads the stream's replicas (None for a stream
    /// of one copy outside a cluster).
    pub fn leader(&self) -> Result<Option<String>, StoreError> {
        let mut stream = self.stream.clone();
        self.block(async move {
            let info = stream.info().await.map_err(|e| io("stream info", e))?;
            Ok(info.cluster.as_ref().and_then(|c| c.leader.clone()))
        })
    }

    /// Follows the stream from record `after` on: an ordered consumer (the server redelivers
    /// from the last message seen after any gap in its delivery) that checks every append
    /// starts right after the one before, as replay does.
    pub fn follow(&self, after: u64) -> Result<Follower, StoreError> {
        let start = match self.message_holding(after + 1)? {
            Some(message) => message,
            None => self.bounds()?.1 + 1,
        };
        let (stream, subject) = (self.stream.clone(), self.subject.clone());
        // A tokio channel: the follow task waits for room without holding the log's one
        // runtime thread, which a publish (holding the head's lock) may be waiting on.
        let (tx, rx) = tokio::sync::mpsc::channel(64);
        let (head, seen) = (self.head.clone(), self.seen.clone());
        let runtime = self
            .runtime
            .as_ref()
            .expect("taken only on drop")
            .handle()
            .clone();
        self.runtime
            .as_ref()
            .expect("taken only on drop")
            .spawn(async move {
                if let Err(e) = follow::follow(stream, subject, start, after, &tx).await {
                    let _ = tx.send(Err(e)).await;
                }
            });
        Ok(Follower {
            rx,
            head,
            seen,
            runtime,
        })
    }

    /// The message at stream sequence `message`.
    fn message(&self, message: u64) -> Result<jetstream::message::StreamMessage, StoreError> {
        let stream = self.stream.clone();
        self.block(async move {
            // Answered by the stream's leader: a direct get may be answered by a replica
            // that has not stored the newest messages yet, and a replica that catches up
            // must see every message the leader acknowledged.
            stream
                .get_raw_message(message)
                .await
                .map_err(|e| io(&format!("read message {message}"), e))
        })
    }

    /// Reads the head from the stream's last message: what another replica appended
    /// becomes this writer's expected head. Returns the head record's seq.
    pub fn refresh(&self) -> Result<u64, StoreError> {
        let (_, last) = self.bounds()?;
        let head = if last == 0 {
            Head::default()
        } else {
            let m = self.message(last)?;
            Head {
                record: header_u64(&m.headers, LAST_SEQ, last)?,
                message: last,
            }
        };
        if head.message > 0 {
            JetStreamLog::saw(&self.seen, head);
        }
        let mut known = self.head.lock();
        if head.record > known.record {
            *known = head;
        }
        Ok(known.record)
    }

    /// Learns the head from stream message `message`, the last one as the stream's leader
    /// said when it refused a publish; returns the head record.
    ///
    /// The leader checks a publish against the messages it has proposed to its replicas,
    /// not only those stored, so the message it names may be readable a moment later: it
    /// is asked for again, for up to `LEARN_PATIENCE`, before that counts as a failure.
    fn learn_head_at(&self, message: u64) -> Result<u64, StoreError> {
        let deadline = std::time::Instant::now() + LEARN_PATIENCE;
        let mut pause = Duration::from_millis(1);
        let m = loop {
            match self.message(message) {
                Ok(m) => break m,
                Err(_) if std::time::Instant::now() < deadline => {
                    std::thread::sleep(pause);
                    pause = (pause * 2).min(Duration::from_millis(50));
                }
                Err(e) => return Err(e),
            }
        };
        let record = header_u64(&m.headers, LAST_SEQ, message)?;
        JetStreamLog::saw(&self.seen, Head { record, message });
        let mut head = self.head.lock();
        if record > head.record {
            *head = Head { record, message };
        }
        Ok(head.record)
    }

    /// The stream sequence of the message holding record `seq` (or the first after it),
    /// by binary search; None past the end.
    fn message_holding(&self, seq: u64) -> Result<Option<u64>, StoreError> {
        let (first, last) = self.bounds()?;
        if last == 0 {
            return Ok(None);
        }
        // The first message whose last record is at or after `seq`.
        let (mut lo, mut hi) = (first, last + 1);
        while lo < hi {
            let mid = lo + (hi - lo) / 2;
            let m = self.message(mid)?;
            if header_u64(&m.headers, LAST_SEQ, mid)? < seq {
                lo = mid + 1;
            } else {
                hi = mid;
            }
        }
        Ok((lo <= last).then_some(lo))
    }

    fn chunk(&self, message: u64) -> Result<RawChunk, StoreError> {
        let m = self.message(message)?;
        Ok(RawChunk {
            first_seq: header_u64(&m.headers, FIRST_SEQ, message)?,
            bytes: m.payload,
        })
    }

    fn publish(&self, head: Head, records: &[StoredRecord]) -> Result<Result<u64, Option<u64>>, StoreError> {
        let first = records.first().expect("not empty").seq;
        let last = records.last().expect("not empty").seq;
        let payload = Bytes::from(encode_chunk(records));
        let publish = jetstream::message::PublishMessage::build()
            .payload(payload)
            .header(FIRST_SEQ, first.to_string().as_str())
            .header(LAST_SEQ, last.to_string().as_str())
            .expected_last_sequence(head.message);
        let (js, subject) = (self.js.clone(), self.subject.clone());
        self.block(async move {
            let ack = match js.send_publish(subject, publish).await {
                Ok(ack) => ack.await,
                Err(e) => Err(e),
            };
            match ack {
                Ok(ack) => Ok(Ok(ack.sequence)),
                // The leader names its last sequence: "wrong last sequence: 104".
                Err(e) if e.kind() == PublishErrorKind::WrongLastSequence => Ok(Err(e
                    .to_string()
                    .rsplit("wrong last sequence: ")
                    .next()
                    .and_then(|rest| rest.split_whitespace().next())
                    .and_then(|n| n.parse::<u64>().ok()))),
                Err(e) => Err(io("append", e)),
            }
        })
    }
}

/// Runs `f` on `runtime` and waits for it. Unlike `Runtime::block_on`, this works from a
/// thread that drives another runtime too (a caller inside ipamd's async code).
fn block_on<T: Send + 'static>(
    runtime: &tokio::runtime::Runtime,
    f: impl Future<Output = T> + Send + 'static,
) -> T {
    let (tx, rx) = std::sync::mpsc::sync_channel(1);
    runtime.spawn(async move {
        let _ = tx.send(f.await);
    });
    rx.recv()
        .expect("the log's runtime runs until the log is dropped")
}

impl Drop for JetStreamLog {
    fn drop(&mut self) {
        // Dropping a runtime blocks, which an async caller may not do; let it wind down.
        if let Some(runtime) = self.runtime.take() {
            runtime.shutdown_background();
        }
    }
}

impl EventLog for JetStreamLog {
    fn append(&self, expected_head: u64, records: &[StoredRecord]) -> Result<(), StoreError> {
        let Some(first) = records.first() else {
            return Ok(());
        };
        let mut head = self.head.lock();
        let follows = first.seq == expected_head + 1 || ipam_store::gap::bridges(expected_head, first);
        if head.record != expected_head || !follows {
            return Err(StoreError::HeadMoved {
                expected: expected_head,
                actual: head.record,
            });
        }
        match self.publish(*head, records)? {
            Ok(message) => {
                *head = Head {
                    record: records.last().expect("not empty").seq,
                    message,
                };
                JetStreamLog::saw(&self.seen, *head);
                Ok(())
            }
            // Another writer appended since this one last looked: learn where the head is,
            // from the message the leader says is last (the stream's info may lag).
            Err(last_message) => {
                drop(head);
                let actual = match last_message {
                    Some(message) => self.learn_head_at(message)?,
                    None => self.refresh()?,
                };
                Err(StoreError::HeadMoved {
                    expected: expected_head,
                    actual,
                })
            }
        }
    }

    fn read_from(&self, from: u64, max: usize) -> Result<Vec<StoredRecord>, StoreError> {
        let from = from.max(1);
        let mut out = Vec::new();
        let known = self.head.lock().message;
        let (mut message, last) = match self.message_after(from - 1) {
            // Reading on after a position this log saw end (catching up): no search.
            Some(next) if next <= known => (next, known),
            _ => {
                let Some(message) = self.message_holding(from)? else {
                    return Ok(out);
                };
                (message, self.bounds()?.1)
            }
        };
        while message <= last && out.len() < max {
            let chunk = self.chunk(message)?;
            let (records, err) = decode_chunk(chunk.first_seq, &chunk.bytes);
            // What this reader has seen is a head a writer may expect: a replica that caught
            // up by reading appends there next (before its follower has seen these).
            if err.is_none()
                && let Some(end) = records.last()
            {
                JetStreamLog::saw(
                    &self.seen,
                    Head {
                        record: end.seq,
                        message,
                    },
                );
                let mut head = self.head.lock();
                if end.seq > head.record {
                    *head = Head {
                        record: end.seq,
                        message,
                    };
                }
            }
            out.extend(records.into_iter().filter(|r| r.seq >= from));
            // The good records before a damaged one still answer a read that ends there.
            if let Some(err) = err
                && out.len() < max
            {
                return Err(err);
            }
            message += 1;
        }
        out.truncate(max);
        ipam_store::gap::check_read_start(from, out.first())?;
        Ok(out)
    }

    fn chunks_from(
        &self,
        from: u64,
    ) -> Result<Box<dyn Iterator<Item = Result<RawChunk, StoreError>> + '_>, StoreError> {
        let Some(start) = self.message_holding(from.max(1))? else {
            return Ok(Box::new(std::iter::empty()));
        };
        let (_, last) = self.bounds()?;
        Ok(Box::new((start..=last).map(move |m| self.chunk(m))))
    }

    fn head(&self) -> u64 {
        self.head.lock().record
    }

    /// An acknowledged publish is stored as the stream's `sync_interval` says (`always`
    /// makes it fsynced on a majority of the replicas before the ack).
    fn sync(&self) -> Result<(), StoreError> {
        Ok(())
    }

    fn chunk_bytes(&self) -> usize {
        self.chunk_bytes
    }

    fn shared(&self) -> Option<&dyn ipam_store::SharedLog> {
        Some(self)
    }
}

impl ipam_store::SharedLog for JetStreamLog {
    fn follow(&self, after: u64) -> Result<Box<dyn ipam_store::Follow>, StoreError> {
        Ok(Box::new(JetStreamLog::follow(self, after)?))
    }

    /// The stream's name and the moment it was created (a stream deleted and made again
    /// under the same name is another log).
    fn identity(&self) -> String {
        let info = self.stream.cached_info();
        format!("JetStream stream {} created {}", info.config.name, info.created)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_log_url_names_hosts_and_stream() {
        let c = JetStreamConfig::parse("nats://a:4222,b:4223/IPAM").unwrap();
        assert_eq!(c.servers, "nats://a:4222,nats://b:4223");
        assert_eq!(c.stream, "IPAM");
        for bad in ["http://a/IPAM", "nats://a:4222", "nats:///IPAM", "nats://a/IP.AM"] {
            assert!(JetStreamConfig::parse(bad).is_err(), "{bad}");
        }
    }
}
