//! ipamctl end to end: the real `ipamctl` binary against the real `ipamd`, then its offline
//! commands on the data directory the server left behind.

use ipam_e2e::{FIRST_START_EVENTS, Server, binary};
use ipam_proto::pb;
use serde_json::Value;
use std::path::Path;
use std::process::{Command, Output};

/// One ipamctl run: its exit status and what it printed.
struct Run {
    ok: bool,
    stdout: String,
    stderr: String,
}

impl Run {
    /// The stdout lines as JSON objects (`-o json` prints one per line).
    fn json(&self) -> Vec<Value> {
        self.stdout
            .lines()
            .filter(|l| !l.trim().is_empty())
            .map(|l| serde_json::from_str(l).unwrap_or_else(|e| panic!("not JSON ({e}): {l}")))
            .collect()
    }

    fn one(&self) -> Value {
        let rows = self.json();
        assert_eq!(rows.len(), 1, "expected one JSON line, got:\n{}", self.stdout);
        rows.into_iter().next().unwrap()
    }
}

fn ipamctl(args: &[&str]) -> Run {
    let Output {
        status,
        stdout,
        stderr,
    } = Command::new(binary("ipamctl"))
        .args(args)
        .env_remove("IPAMCTL_SERVER")
        .env_remove("IPAMCTL_TOKEN")
        .env_remove("IPAMCTL_TOKEN_FILE")
        .env_remove("IPAMD_DATA")
        .output()
        .expect("run ipamctl");
    Run {
        ok: status.success(),
        stdout: String::from_utf8_lossy(&stdout).into_owned(),
        stderr: String::from_utf8_lossy(&stderr).into_owned(),
    }
}

/// Runs an online command against `server` with JSON output; it must succeed.
fn online(server: &Server, args: &[&str]) -> Run {
    let run = as_admin(server, &[&["-o", "json"], args].concat());
    assert!(run.ok, "ipamctl {args:?} failed:\n{}\n{}", run.stdout, run.stderr);
    run
}

/// Runs an online command against `server` with the administrator's token.
fn as_admin(server: &Server, args: &[&str]) -> Run {
    let connect = server.ipamctl_args();
    let mut all: Vec<&str> = connect.iter().map(String::as_str).collect();
    all.extend_from_slice(args);
    ipamctl(&all)
}

fn offline(data: &Path, args: &[&str]) -> Run {
    let data = data.to_str().unwrap();
    let mut all = vec!["-o", "json"];
    all.extend_from_slice(args);
    all.extend_from_slice(&["--data", data]);
    ipamctl(&all)
}

/// The record an operation returned (`-o json` prints the whole operation).
fn result(op: Value, kind: &str) -> Value {
    let row = op["result"][kind].clone();
    assert!(row.is_object(), "no {kind} in the result of {op}");
    row
}

fn id(v: &Value) -> u64 {
    v["id"].as_u64().unwrap_or_else(|| panic!("no id in {v}"))
}

#[test]
fn online_commands_drive_the_server_and_offline_commands_explain_its_log() {
    let mut server = Server::start();

    // --- the address space -------------------------------------------------------------
    let block = result(online(&server, &["block", "create", "10.0.0.0/8"]).one(), "block");
    assert_eq!(block["network"], "10.0.0.0/8");
    let range = online(
        &server,
        &[
            "range",
            "create",
            "10.1.0.0/24",
            "--start",
            "10.1.0.10",
            "--end",
            "10.1.0.99",
        ],
    )
    .one();
    let range = result(range, "range");
    assert_eq!(
        range["parent_block_id"].as_u64(),
        Some(id(&block)),
        "mapped under the block: {range}"
    );
    let blocks = online(&server, &["block", "list"]).json();
    assert_eq!(blocks.len(), 1);
    assert_eq!(blocks[0]["range_count"].as_u64(), Some(1), "{}", blocks[0]);

    // Bad input: the server's error names the field, ipamctl exits non-zero, nothing runs.
    let bad = as_admin(&server, &["block", "create", "10.0.0.0/99"]);
    assert!(!bad.ok);
    assert!(bad.stderr.contains("network"), "{}", bad.stderr);

    // --- DHCP: servers, a scope, failover, replication (dry run first) ------------------
    let s1 = id(&result(
        online(&server, &["server", "create", "dhcp1.example"]).one(),
        "dhcp_server",
    ));
    let s2 = id(&result(
        online(&server, &["server", "create", "dhcp2.example"]).one(),
        "dhcp_server",
    ));
    let scope = online(
        &server,
        &[
            "scope",
            "create",
            &s1.to_string(),
            "10.2.0.0/24",
            "--name",
            "lab",
            "--start",
            "10.2.0.10",
            "--end",
            "10.2.0.200",
        ],
    )
    .one();
    let scope_id = id(&result(scope, "dhcp_scope")).to_string();
    online(
        &server,
        &[
            "failover",
            "create",
            "--server1",
            &s1.to_string(),
            "--server2",
            &s2.to_string(),
            "--scope",
            &scope_id,
            "--name",
            "fo1",
            "--mode",
            "hot-standby",
        ],
    );
    let head_before_dry_run = server_head(&server);
    let dry = online(&server, &["scope", "replicate", &scope_id, "--dry-run"]).one();
    assert_eq!(dry["state"], "OPERATION_STATE_SUCCEEDED", "{dry}");
    // A dry run writes nothing to the address plan: only the operation's own records.
    let written = block_on(server.records_after(head_before_dry_run));
    assert!(!written.is_empty());
    for r in &written {
        assert!(ipam_e2e::is_operation_record(r), "a dry run wrote {}", r.summary);
    }
    let replicated = online(&server, &["scope", "replicate", &scope_id]).one();
    assert_eq!(replicated["state"], "OPERATION_STATE_SUCCEEDED", "{replicated}");
    let on_partner = online(&server, &["scope", "list", "--server-id", &s2.to_string()]).json();
    assert_eq!(on_partner.len(), 1, "the partner got the scope");
    assert_eq!(on_partner[0]["network"], "10.2.0.0/24");

    // --- operations and the log ---------------------------------------------------------
    let ops = online(&server, &["op", "list"]).json();
    assert!(ops.len() >= 7, "{} operations listed", ops.len());
    let replicate_op = replicated["id"].as_u64().unwrap();
    let shown = online(&server, &["op", "show", &replicate_op.to_string()]).one();
    assert_eq!(shown["kind"], "OPERATION_KIND_REPLICATE_SCOPE");
    let tail = online(&server, &["events", "tail", "-n", "3"]).json();
    assert_eq!(tail.len(), 3);
    let head = server_head(&server);
    assert_eq!(tail.last().unwrap()["seq"].as_u64(), Some(head));

    // A request id makes a retried create return the first operation, not a second block.
    let first = online(
        &server,
        &["--request-id", "r-1", "block", "create", "192.168.0.0/16"],
    );
    let again = online(
        &server,
        &["--request-id", "r-1", "block", "create", "192.168.0.0/16"],
    );
    assert_eq!(first.one()["id"], again.one()["id"]);
    assert_eq!(online(&server, &["block", "list"]).json().len(), 2);
    let head = server_head(&server);

    // --- offline, on the directory the stopped server left ------------------------------
    server.stop();
    let data = server.data.clone();

    let counts = offline(&data, &["state", "--counts"]).json();
    let rows = |table: &str| {
        counts
            .iter()
            .find(|c| c["table"] == table)
            .and_then(|c| c["rows"].as_u64())
            .unwrap()
    };
    assert_eq!(rows("blocks"), 2);
    assert_eq!(rows("dhcp-scopes"), 2);

    // The tables as of the first block's event (after the server's first two operations,
    // the administrator's policy and token): only that block.
    // (Its acceptance comes first: ipamctl starts operations with StartOperation.)
    let first_block = (FIRST_START_EVENTS + 2).to_string();
    let early = offline(&data, &["state", "--at", &first_block, "--table", "blocks"]).json();
    assert_eq!(early.len(), 1);
    assert_eq!(early[0]["row"]["network"], "10.0.0.0/8");

    // What replication changed: the partner's scope appeared.
    let diff = offline(&data, &["diff", "--from", &head_before_dry_run.to_string()]).json();
    assert!(
        diff.iter()
            .any(|d| d["table"] == "dhcp-scopes" && d["change"] == "added"),
        "diff: {diff:?}"
    );
    let none = offline(&data, &["diff", "--from", &head.to_string()]).json();
    assert!(none.is_empty(), "nothing changed after the head: {none:?}");

    let explained = offline(&data, &["explain", &replicate_op.to_string()]).one();
    assert_eq!(explained["operation"]["id"].as_u64(), Some(replicate_op));
    let events = explained["events"].as_array().unwrap();
    assert!(!events.is_empty());
    assert!(
        events
            .iter()
            .all(|e| e["operation_id"].as_u64() == Some(replicate_op))
    );

    let verified = offline(&data, &["replay", "verify"]).one();
    assert_eq!(verified["consistent"], true, "{verified}");
    assert_eq!(verified["head"].as_u64(), Some(head));

    let reexecuted = offline(&data, &["replay", "reexecute"]);
    assert!(reexecuted.ok, "{}\n{}", reexecuted.stdout, reexecuted.stderr);

    // The offline commands worked on copies: the server reopens its directory as it left it.
    server.restart();
    assert_eq!(server_head(&server), head);
}

/// Rewrites the parameters in operation `id`'s acceptance record (with a checksum that
/// matches, as a changed delegate would see it), in a stopped data directory.
fn doctor_acceptance(data: &std::path::Path, id: u64, change: impl FnOnce(&mut pb::OperationParams)) {
    use prost::Message;
    let db = ipam_store::store::open_sled(&ipam_store::store::sled_config(data)).expect("open the copy");
    let events = db.open_tree("events").unwrap();
    for chunk in events.iter() {
        let (key, value) = chunk.unwrap();
        let first = u64::from_be_bytes(key.as_ref().try_into().unwrap());
        let (mut records, damage) = ipam_store::record::decode_chunk(first, &value);
        assert!(damage.is_none());
        let Some(r) = records
            .iter_mut()
            .find(|r| matches!(r.event(), Ok(ipam_core::Event::OperationAccepted(a)) if a.id == id))
        else {
            continue;
        };
        let Ok(ipam_core::Event::OperationAccepted(mut accepted)) = r.event() else {
            unreachable!()
        };
        let mut params = pb::OperationParams::decode(accepted.params.as_slice()).unwrap();
        change(&mut params);
        accepted.params = params.encode_to_vec();
        r.payload = ipam_proto::event_codec::encode(&ipam_core::Event::OperationAccepted(accepted));
        r.crc = r.compute_crc();
        events
            .insert(key, ipam_store::record::encode_chunk(&records))
            .unwrap();
        db.flush().unwrap();
        return;
    }
    panic!("no acceptance of operation {id} in the log");
}

/// Doctor one operation's parameters (on a copy of the data directory), as a changed
/// delegate or a corrupted record would: reexecute must report the operation and fail.
#[test]
fn reexecute_reports_an_operation_whose_events_would_now_differ() {
    let mut server = Server::start();
    online(&server, &["block", "create", "10.0.0.0/8"]);
    let target = online(&server, &["block", "create", "172.16.0.0/12"]).one();
    online(&server, &["block", "create", "192.168.0.0/16"]);
    let op_id = target["id"].as_u64().unwrap();
    server.stop();

    let doctored = tempfile::tempdir().unwrap();
    copy_dir(&server.data, doctored.path());
    doctor_acceptance(doctored.path(), op_id, |params| {
        let Some(pb::operation_params::Params::CreateBlock(params)) = params.params.as_mut() else {
            panic!("not a create-block operation: {params:?}");
        };
        params.network = "172.20.0.0/16".into();
    });

    let clean = offline(&server.data, &["replay", "reexecute"]);
    assert!(
        clean.ok,
        "the untouched log re-executes cleanly: {}",
        clean.stderr
    );
    let run = offline(doctored.path(), &["replay", "reexecute"]);
    assert!(!run.ok, "a difference must fail the command:\n{}", run.stdout);
    let reported: Vec<Value> = run.json();
    assert!(
        reported.iter().any(|r| r["operation"].as_u64() == Some(op_id)),
        "operation {op_id} reported: {}",
        run.stdout
    );
    assert!(
        run.stderr.contains("would now commit different events"),
        "{}",
        run.stderr
    );
}

#[test]
fn errors_say_what_is_wrong() {
    // No server listening.
    let down = ipamctl(&["--server", "http://127.0.0.1:1", "block", "list"]);
    assert!(!down.ok);
    assert!(down.stderr.contains("cannot reach ipamd"), "{}", down.stderr);

    // Not a data directory.
    let empty = tempfile::tempdir().unwrap();
    let run = offline(empty.path(), &["state"]);
    assert!(!run.ok);
    assert!(
        run.stderr.contains("not an ipamd data directory"),
        "{}",
        run.stderr
    );

    // A sequence number past the head.
    let mut server = Server::start();
    online(&server, &["block", "create", "10.0.0.0/8"]);
    server.stop();
    let run = offline(&server.data, &["state", "--at", "999"]);
    assert!(!run.ok);
    // ipamctl starts operations (StartOperation): the block's acceptance (durable before
    // the answer), then its event with its result and end (one record).
    let head = format!("past the log's head {}", FIRST_START_EVENTS + 3);
    assert!(run.stderr.contains(&head), "{}", run.stderr);

    // An operation that does not exist.
    let run = offline(&server.data, &["explain", "42"]);
    assert!(!run.ok);
    assert!(run.stderr.contains("no operation 42"), "{}", run.stderr);
}

fn server_head(server: &Server) -> u64 {
    block_on(server.head()).head_seq
}

fn block_on<F: std::future::Future>(f: F) -> F::Output {
    tokio::runtime::Builder::new_current_thread()
        .enable_all()
        .build()
        .unwrap()
        .block_on(f)
}

fn copy_dir(from: &Path, to: &Path) {
    std::fs::create_dir_all(to).unwrap();
    for entry in std::fs::read_dir(from).unwrap() {
        let entry = entry.unwrap();
        let target = to.join(entry.file_name());
        if entry.file_type().unwrap().is_dir() {
            copy_dir(&entry.path(), &target);
        } else {
            std::fs::copy(entry.path(), &target).unwrap();
        }
    }
}

#[test]
fn address_spaces_are_renamed_one_or_many_at_a_time_and_deleted() {
    let server = Server::start();
    let lab = id(&result(
        online(&server, &["space", "create", "lab"]).one(),
        "address_space",
    ));
    let dmz = id(&result(
        online(&server, &["space", "create", "dmz"]).one(),
        "address_space",
    ));
    let (lab_s, dmz_s) = (lab.to_string(), dmz.to_string());
    let renamed = result(
        online(&server, &["space", "update", &lab_s, "--name", "lab-east"]).one(),
        "address_space",
    );
    assert_eq!(renamed["name"], "lab-east");
    // Several ids: one operation, an item per space.
    let op = online(&server, &["space", "update", &lab_s, &dmz_s, "--owner", "netops"]).one();
    assert_eq!(op["items_total"].as_u64(), Some(2), "{op}");
    let spaces = online(&server, &["space", "list"]).json();
    let owners: Vec<&str> = spaces.iter().map(|s| s["owner"].as_str().unwrap()).collect();
    assert_eq!(owners, ["", "netops", "netops"]);
    online(&server, &["space", "delete", &dmz_s]);
    assert_eq!(online(&server, &["space", "list"]).json().len(), 2);
    let default = as_admin(&server, &["space", "delete", "1"]);
    assert!(
        !default.ok && default.stderr.contains("Default"),
        "{}",
        default.stderr
    );
}
