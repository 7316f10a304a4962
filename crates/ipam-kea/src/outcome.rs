//! What became of a change on a managed server, read from the tables: an operation's item
//! results say per server whether the reconciler pushed what the item committed, failed
//! (with Kea's message), or has not got there yet. Pure: the tables in, a verdict out.

use crate::render::ServerConfig;
use ipam_core::ids::ServerId;
use ipam_core::tables::State;

#[derive(Clone, Debug, PartialEq, Eq)]
pub enum PushOutcome {
    /// Not pushed yet: the reconciler has not tried since the change (a server that was
    /// already failing is tried with backoff, and pushed when it is back). Carries the
    /// last failure, if the server's last try failed.
    Pending { last_failure: String },
    /// The server runs a configuration that includes the change.
    Pushed,
    /// The server refused it (or the last try failed), in the server's own words.
    Failed(String),
}

/// The outcome on `server` of changes committed up to log position `seq`.
///
/// Pushed: the server accepted the desired state of a position at or after `seq`, or what
/// it runs is what the tables want now (a change that alters nothing the server is given,
/// such as a scope's description, needs no push). Failed: the last attempt, made at or
/// after `seq`, failed. Pending otherwise.
pub fn push_outcome(state: &State, server: ServerId, seq: u64) -> PushOutcome {
    let Some(push) = state.dhcp.push_of(server) else {
        return PushOutcome::Pending {
            last_failure: String::new(),
        };
    };
    // The server accepted a configuration that includes the change, whatever a later try
    // (of a later change) did.
    if push.pushed_seq >= seq {
        return PushOutcome::Pushed;
    }
    if push.failure.is_empty() {
        if push.config_hash == ServerConfig::of(state, server).hash() {
            return PushOutcome::Pushed;
        }
    } else if push.attempted_seq >= seq {
        return PushOutcome::Failed(push.failure.clone());
    }
    PushOutcome::Pending {
        last_failure: push.failure.clone(),
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use ipam_core::events::Event;
    use ipam_core::tables::dhcp::servers::{DhcpServer, ServerPush};

    fn managed() -> (State, ServerId) {
        let mut state = State::default();
        let server = DhcpServer {
            id: ServerId(1),
            name: "dhcp1".into(),
            address: None,
            description: String::new(),
            dns_update_type: Default::default(),
            dns_name_protection: false,
            discard_dns_on_lease_deletion: false,
            options: Vec::new(),
            control: "kea+unix:///tmp/none.sock".into(),
        };
        state
            .apply(Event::DhcpServerCreated(server), &mut Vec::new())
            .unwrap();
        (state, ServerId(1))
    }

    fn record(state: &mut State, push: ServerPush) {
        state
            .apply(Event::DhcpServerPushRecorded(push), &mut Vec::new())
            .unwrap();
    }

    #[test]
    fn outcomes_follow_the_push_records() {
        let (mut state, server) = managed();
        let pending = PushOutcome::Pending {
            last_failure: String::new(),
        };
        assert_eq!(push_outcome(&state, server, 5), pending);
        // Pushed at or after the change.
        let pushed = ServerPush {
            server,
            attempted_seq: 7,
            pushed_seq: 7,
            config_hash: "not the desired hash".into(),
            failure: String::new(),
        };
        record(&mut state, pushed.clone());
        assert_eq!(push_outcome(&state, server, 7), PushOutcome::Pushed);
        // Pushed before the change, and the server's config is not what the tables want.
        assert_eq!(push_outcome(&state, server, 8), pending);
        // ... unless the change altered nothing the server is given.
        let desired = ServerConfig::of(&state, server).hash();
        record(
            &mut state,
            ServerPush {
                config_hash: desired,
                ..pushed.clone()
            },
        );
        assert_eq!(push_outcome(&state, server, 8), PushOutcome::Pushed);
        // A failed try after the change fails it; one before leaves it pending, with why.
        record(
            &mut state,
            ServerPush {
                attempted_seq: 9,
                failure: "config-test: bad option".into(),
                ..pushed
            },
        );
        assert_eq!(
            push_outcome(&state, server, 9),
            PushOutcome::Failed("config-test: bad option".into())
        );
        assert_eq!(
            push_outcome(&state, server, 10),
            PushOutcome::Pending {
                last_failure: "config-test: bad option".into()
            }
        );
        // A change the server accepted stays pushed when a later change is refused.
        assert_eq!(push_outcome(&state, server, 7), PushOutcome::Pushed);
    }
}
