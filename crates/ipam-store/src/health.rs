//! What makes the store unhealthy short of a failed write (which poisons the engine for
//! good): the disk almost full, which refuses writes until space is freed, and damage a
//! background scrub found, which is reported until a restart looks at the directory again
//! (writes go on: the damage is in what was written before). A watch channel tells the
//! server's health reporter when either changes.

use crate::disk::DiskGuard;
use crate::scrub::ScrubReport;
use parking_lot::Mutex;
use std::time::Duration;
use tokio::sync::watch;

/// The background scrub's figures, for metrics.
#[derive(Clone, Debug, Default)]
pub struct ScrubStatus {
    pub runs: u64,
    /// The last completed run and how long it took.
    pub last: Option<(ScrubReport, Duration)>,
    /// The first damage any run found.
    pub damage: Option<String>,
}

pub struct Conditions {
    pub disk: DiskGuard,
    scrub: Mutex<ScrubStatus>,
    changed: watch::Sender<u64>,
}

impl Conditions {
    pub(crate) fn new(disk: DiskGuard) -> Conditions {
        Conditions {
            disk,
            scrub: Mutex::new(ScrubStatus::default()),
            changed: watch::channel(0).0,
        }
    }

    fn bump(&self) {
        self.changed.send_modify(|v| *v += 1);
    }

    /// Why writes are refused now, if they are (cheap while there is room).
    pub fn write_refusal(&self) -> Option<String> {
        let (refusal, changed) = self.disk.refusal();
        if changed {
            self.bump();
        }
        refusal
    }

    /// The periodic look at free space.
    pub fn check_disk(&self) {
        if self.disk.check() {
            self.bump();
        }
    }

    /// Records a finished scrub; the first damage found stays.
    pub fn record_scrub(&self, report: ScrubReport, took: Duration) {
        let mut status = self.scrub.lock();
        status.runs += 1;
        let found = status.damage.is_none() && report.damage.is_some();
        if found {
            status.damage = report
                .damage
                .as_ref()
                .map(|d| format!("the scrub found damage: {d}"));
        }
        status.last = Some((report, took));
        drop(status);
        if found {
            self.bump();
        }
    }

    pub fn scrub_status(&self) -> ScrubStatus {
        self.scrub.lock().clone()
    }

    /// Why the store should not be reported healthy, other than a failed write.
    pub fn unhealthy(&self) -> Option<String> {
        self.write_refusal().or_else(|| self.scrub.lock().damage.clone())
    }

    /// Changes whenever `unhealthy` may have.
    pub fn subscribe(&self) -> watch::Receiver<u64> {
        self.changed.subscribe()
    }
}
