//! The report of a data directory that lost acknowledged history, or cannot tell whether it
//! did, with the ways back. Plain data: the check that finds it is `history.rs`.

use std::fmt;
use std::path::PathBuf;

/// Records that were once durable are missing from the data directory.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct HistoryGap {
    pub data: PathBuf,
    /// Where the log ends now.
    pub log_head: u64,
    /// The highest sequence number known to have been durable.
    pub acknowledged: u64,
    /// What says so: the watermark file, or a snapshot (written only once durable).
    pub evidence: String,
    /// sled's flush marker is behind the watermark's: writes an acknowledged flush covered
    /// are gone (job records too, even when every event is there).
    pub writes_lost: Option<(u64, u64)>,
    /// Operations whose records may be gone: after the last one that survives, up to the
    /// last one handed out.
    pub operations: Option<(u64, u64)>,
}

impl HistoryGap {
    /// The sequence numbers lost (empty when only other writes were).
    pub fn missing(&self) -> Option<(u64, u64)> {
        (self.acknowledged > self.log_head).then_some((self.log_head + 1, self.acknowledged))
    }
}

impl fmt::Display for HistoryGap {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(
            f,
            "the data directory {} has lost acknowledged history: ",
            self.data.display()
        )?;
        match self.missing() {
            Some((first, last)) => write!(
                f,
                "events {first}..={last} were durable ({}), but the log ends at {}",
                self.evidence, self.log_head
            )?,
            None => write!(f, "the log still reaches event {}, but", self.log_head)?,
        }
        if let Some((sled, file)) = self.writes_lost {
            let and = if self.missing().is_some() { "; and" } else { "" };
            write!(
                f,
                "{and} sled kept flushes only up to number {sled} of the {file} acknowledged, so writes \
                 made before an acknowledged flush are gone"
            )?;
        }
        if let Some((first, last)) = self.operations {
            write!(f, "; operations {first}..={last} may have lost their records")?;
        }
        write!(
            f,
            ". ipamd will not serve a smaller truth.\n{}",
            ways_back(&self.data)
        )
    }
}

/// The watermark a data directory recorded is missing or unreadable.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct WatermarkLost {
    pub data: PathBuf,
    pub path: PathBuf,
    pub reason: String,
}

impl fmt::Display for WatermarkLost {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(
            f,
            "cannot tell whether the data directory {} has lost acknowledged history: its watermark {} {}, \
             and the directory recorded one. ipamd will not serve what may be a smaller truth.\n{}",
            self.data.display(),
            self.path.display(),
            self.reason,
            ways_back(&self.data)
        )
    }
}

/// What an operator can do about a data directory that lost history.
pub fn ways_back(data: &std::path::Path) -> String {
    let data = data.display();
    format!(
        "Ways back:\n  \
         * restore the newest backup (`ipamctl backup FILE`) or export into a new data directory: \
         `ipamd import --data NEW_DIR --in FILE`, then serve NEW_DIR;\n  \
         * or serve what survives, recording the loss as an event in the log: \
         `ipamd repair --accept-loss --data {data}`;\n  \
         * or, once this server is one replica of several, rebuild it from the shared log."
    )
}
