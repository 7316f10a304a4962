//! The thread of a replica on a shared log that applies what the other replicas append
//! (`replica.rs` applies it; this keeps following, and follows again after a failure).

use crate::shared::Shared;

/// Starts the thread that follows the shared log and applies what other replicas append,
/// until the committer stops. A follow that fails (the connection dropped, a server went
/// away) starts again from the tables' position.
pub(crate) fn start_follower(
    committer: std::sync::Arc<crate::committer::Committer>,
    shared: std::sync::Arc<Shared>,
) -> std::thread::JoinHandle<()> {
    use std::time::Duration;
    std::thread::Builder::new()
        .name("ipam-follower".into())
        .spawn(move || {
            let mut follow: Option<Box<dyn crate::log::Follow>> = None;
            let mut failures = 0u32;
            while !committer.is_stopped() {
                let Some(current) = follow.as_mut() else {
                    let from = shared.state.read().position();
                    let Some(log) = shared.store.log.shared() else {
                        return;
                    };
                    match log.follow(from) {
                        Ok(f) => follow = Some(f),
                        Err(e) => {
                            failures += 1;
                            tracing::warn!(error = %e, from, "cannot follow the shared log; trying again");
                            // Not a synchronisation: a pause between attempts to reach a server.
                            std::thread::sleep(Duration::from_millis(100 * u64::from(failures.min(20))));
                        }
                    }
                    continue;
                };
                match current.next(Duration::from_millis(100)) {
                    Ok(Some(records)) => {
                        failures = 0;
                        if !committer.apply_followed(&records) {
                            follow = None;
                        }
                    }
                    Ok(None) => {}
                    Err(e) => {
                        tracing::warn!(error = %e, "following the shared log stopped; following again");
                        follow = None;
                    }
                }
            }
        })
        .expect("spawn the follower")
}
