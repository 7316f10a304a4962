//! Several ipamd replicas on one NATS JetStream log, for the tests: a three-node
//! nats-server cluster on loopback, replicas on its stream, and the checks that they
//! agree.

use crate::Server;
use ipam_jetstream::local::LocalNats;
use ipam_proto::pb;
use std::collections::HashSet;

/// A three-node NATS cluster in a directory of its own.
pub struct Nats {
    pub nodes: Vec<LocalNats>,
    _dir: tempfile::TempDir,
}

impl Nats {
    pub fn cluster() -> Nats {
        let dir = tempfile::tempdir().expect("temp dir");
        let nodes = LocalNats::cluster(dir.path(), 3).expect("a three-node nats cluster");
        Nats { nodes, _dir: dir }
    }

    pub fn log_url(&self) -> String {
        LocalNats::log_url(&self.nodes.iter().collect::<Vec<_>>(), "IPAM")
    }
}

/// An ipamd replica named `name` on the cluster's stream, with an empty data directory.
pub fn replica(nats: &Nats, name: &str) -> Server {
    Server::start_with(&[
        "--log",
        &nats.log_url(),
        "--log-copies",
        "3",
        "--replica",
        name,
        "--auth",
        "none",
    ])
}

/// The replica's head and state hash once position `seq` is in its tables.
pub async fn head_at(server: &Server, seq: u64) -> pb::LogHead {
    server
        .events()
        .await
        .get_head(pb::GetHeadRequest {
            with_state_hash: true,
            wait_for_seq: seq,
        })
        .await
        .unwrap_or_else(|s| panic!("GetHead(wait_for_seq {seq}) on {}: {s:?}", server.addr))
        .into_inner()
}

/// Asserts every replica's tables end at `newest` (nothing was written after it) with one
/// state hash; returns it.
pub async fn one_hash_at(replicas: &[&Server], newest: u64) -> String {
    let mut hashes = HashSet::new();
    for r in replicas {
        let h = head_at(r, newest).await;
        assert_eq!(
            h.head_seq, newest,
            "{}: nothing was written after {newest}",
            r.addr
        );
        hashes.insert(h.state_hash);
    }
    assert_eq!(hashes.len(), 1, "the replicas disagree: {hashes:?}");
    hashes.into_iter().next().expect("one hash")
}
