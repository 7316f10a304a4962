//! EventLog.Backup: a consistent online backup. The tables' position and state hash are
//! taken at one moment once that position is durable; the log up to it is then streamed
//! in the export format (`ipam-store/src/export.rs`), so `ipamd import` restores it and
//! checks the hash. Writes go on meanwhile: they are after the backup's head. One blocking
//! thread reads and encodes; a channel of a few chunks is the back-pressure, so a slow
//! client holds a few hundred KiB, not the log.

use crate::status;
use ipam_proto::pb;
use ipam_store::Engine;
use std::io::Write;
use tokio::sync::mpsc;
use tonic::Status;

/// Bytes per streamed message.
const CHUNK: usize = 256 * 1024;

pub type Chunks = mpsc::Receiver<Result<pb::BackupChunk, Status>>;

pub async fn start(engine: &Engine) -> Result<Chunks, Status> {
    // The hash reads every row under the tables' read lock: a backup holds writers back
    // for about as long as GetHead with a state hash does.
    let (head, hash) = engine
        .read_durable(|s| (s.position(), s.hash()))
        .await
        .map_err(status::store_error)?;
    let (tx, rx) = mpsc::channel(4);
    let log = engine.log().clone();
    tokio::task::spawn_blocking(move || {
        let mut out = Sender {
            tx: tx.clone(),
            buf: Vec::with_capacity(CHUNK),
            first: Some((head, format!("{hash:032x}"))),
        };
        let sent = ipam_store::export::export(&*log, head, hash, &mut out).and_then(|summary| {
            out.send(Some(summary.records))
                .map_err(|e| ipam_store::StoreError::Io(e.to_string()))
        });
        if let Err(e) = sent {
            tracing::warn!(error = %e, head, "backup stopped");
            let _ = tx.blocking_send(Err(Status::data_loss(format!("the backup stopped: {e}"))));
        } else {
            tracing::info!(head, "backup streamed");
        }
    });
    Ok(rx)
}

/// The export's bytes, as messages of about CHUNK bytes.
struct Sender {
    tx: mpsc::Sender<Result<pb::BackupChunk, Status>>,
    buf: Vec<u8>,
    /// The head and hash, sent with the first message.
    first: Option<(u64, String)>,
}

impl Sender {
    /// Sends what is buffered; `records` marks the last message.
    fn send(&mut self, records: Option<u64>) -> std::io::Result<()> {
        let (head_seq, state_hash) = self.first.take().unwrap_or_default();
        let chunk = pb::BackupChunk {
            data: std::mem::replace(&mut self.buf, Vec::with_capacity(CHUNK)),
            head_seq,
            state_hash,
            complete: records.is_some(),
            records: records.unwrap_or(0),
        };
        self.tx
            .blocking_send(Ok(chunk))
            .map_err(|_| std::io::Error::new(std::io::ErrorKind::BrokenPipe, "the client went away"))
    }
}

impl Write for Sender {
    fn write(&mut self, bytes: &[u8]) -> std::io::Result<usize> {
        self.buf.extend_from_slice(bytes);
        if self.buf.len() >= CHUNK {
            self.send(None)?;
        }
        Ok(bytes.len())
    }

    fn flush(&mut self) -> std::io::Result<()> {
        Ok(())
    }
}
