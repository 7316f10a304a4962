//! The free-space guard. sled 0.34 enters a permanent error state after a failed write, so
//! running out of space must not be how ipamd learns of it: when the data directory's
//! filesystem has less than `min_free` left, appends are refused before anything is
//! staged, and they resume once space is freed. Checked once a second (`upkeep.rs`) and,
//! while writes are refused, again on a refused write (at most every 100 ms), so writes
//! come back as soon as there is room.

use parking_lot::Mutex;
use std::path::{Path, PathBuf};
use std::sync::atomic::{AtomicBool, AtomicU64, Ordering};
use std::time::{Duration, Instant};

/// The shortest time between two checks made for refused writes.
const RECHECK: Duration = Duration::from_millis(100);

pub struct DiskGuard {
    dir: PathBuf,
    min_free: u64,
    low: AtomicBool,
    free: AtomicU64,
    last_check: Mutex<Option<Instant>>,
}

const MIB: u64 = 1 << 20;

impl DiskGuard {
    /// A guard for the filesystem holding `dir` (`min_free` 0: never refuses).
    pub fn new(dir: &Path, min_free: u64) -> DiskGuard {
        DiskGuard {
            dir: dir.to_path_buf(),
            min_free,
            low: AtomicBool::new(false),
            free: AtomicU64::new(u64::MAX),
            last_check: Mutex::new(None),
        }
    }

    /// Looks at the free space now; true when that changed whether writes are refused.
    pub fn check(&self) -> bool {
        if self.min_free == 0 {
            return false;
        }
        *self.last_check.lock() = Some(Instant::now());
        let free = match fs2::available_space(&self.dir) {
            Ok(free) => free,
            Err(e) => {
                // Not knowing is no reason to stop writing; sled reports real failures.
                tracing::warn!(dir = %self.dir.display(), error = %e, "cannot read the free space");
                return false;
            }
        };
        self.free.store(free, Ordering::Relaxed);
        let low = free < self.min_free;
        let was = self.low.swap(low, Ordering::AcqRel);
        if low != was {
            if low {
                tracing::error!(reason = %self.message(free), "refusing writes until space is freed");
            } else {
                tracing::info!(free_mib = free / MIB, "disk space freed; writes resume");
            }
        }
        low != was
    }

    /// Why writes are refused now, if they are. With room to spare this is one atomic load;
    /// while refused, free space is looked at again (at most every 100 ms). The flag tells
    /// whether the state changed with this call.
    pub fn refusal(&self) -> (Option<String>, bool) {
        if !self.low.load(Ordering::Acquire) {
            return (None, false);
        }
        let due = self.last_check.lock().is_none_or(|t| t.elapsed() >= RECHECK);
        let changed = due && self.check();
        if self.low.load(Ordering::Acquire) {
            (Some(self.message(self.free_bytes())), changed)
        } else {
            (None, changed)
        }
    }

    pub fn is_low(&self) -> bool {
        self.low.load(Ordering::Acquire)
    }

    /// Free bytes at the last check (u64::MAX before the first, or when the guard is off).
    pub fn free_bytes(&self) -> u64 {
        self.free.load(Ordering::Relaxed)
    }

    pub fn min_free(&self) -> u64 {
        self.min_free
    }

    fn message(&self, free: u64) -> String {
        format!(
            "disk almost full: {} MiB free on {}, ipamd needs {} MiB (--min-free-mb); free space to resume writing",
            free / MIB,
            self.dir.display(),
            self.min_free.div_ceil(MIB)
        )
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn writes_are_refused_below_the_minimum_and_the_message_says_why() {
        let dir = tempfile::tempdir().unwrap();
        let off = DiskGuard::new(dir.path(), 0);
        assert!(!off.check());
        assert_eq!(off.refusal(), (None, false));

        let roomy = DiskGuard::new(dir.path(), 1);
        assert!(!roomy.check(), "a byte is always free here");
        assert_eq!(roomy.refusal(), (None, false));

        // More than any disk has: always low.
        let full = DiskGuard::new(dir.path(), u64::MAX);
        assert!(full.check(), "the state changed to low");
        assert!(!full.check(), "and stays there");
        let (reason, _) = full.refusal();
        let reason = reason.expect("refused");
        assert!(reason.starts_with("disk almost full: "), "{reason}");
        assert!(reason.contains(&dir.path().display().to_string()), "{reason}");
        assert!(full.is_low());
    }
}
