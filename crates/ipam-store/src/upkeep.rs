//! The engine's once-a-second chores, on a thread of their own so that neither costs the
//! flusher anything: fsync the acknowledged watermark if it changed (it is written after
//! every flush without one), and look at the free space on the data directory's disk.

use crate::health::Conditions;
use crate::watermark::Watermark;
use parking_lot::{Condvar, Mutex};
use std::sync::Arc;
use std::thread::JoinHandle;
use std::time::Duration;

const EVERY: Duration = Duration::from_secs(1);

pub(crate) struct Upkeep {
    stop: Arc<(Mutex<bool>, Condvar)>,
    thread: Mutex<Option<JoinHandle<()>>>,
}

impl Upkeep {
    pub(crate) fn start(watermark: Arc<Watermark>, conditions: Arc<Conditions>) -> Upkeep {
        let stop = Arc::new((Mutex::new(false), Condvar::new()));
        let thread = {
            let stop = stop.clone();
            std::thread::Builder::new()
                .name("ipam-upkeep".into())
                .spawn(move || {
                    let (stopped, cv) = &*stop;
                    let mut guard = stopped.lock();
                    while !*guard {
                        cv.wait_for(&mut guard, EVERY);
                        if let Err(e) = watermark.sync() {
                            tracing::error!(error = %e, "cannot sync the acknowledged watermark");
                        }
                        conditions.check_disk();
                    }
                })
                .expect("spawn the upkeep thread")
        };
        Upkeep {
            stop,
            thread: Mutex::new(Some(thread)),
        }
    }

    pub(crate) fn stop(&self) {
        *self.stop.0.lock() = true;
        self.stop.1.notify_all();
        if let Some(thread) = self.thread.lock().take() {
            let _ = thread.join();
        }
    }
}
