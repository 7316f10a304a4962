//! Damage to a stopped data directory is found, never served as a smaller truth. A
//! directory with acknowledged operations (a block and 60 ranges, written over two runs so
//! sled has a snapshot file of its own too) is stopped by SIGKILL or by SIGTERM; then, on a
//! copy each time, one byte is flipped at positions spread over every file, every file is
//! cut short and deleted, and ipamd is started on it. Each start must either serve exactly
//! what was acknowledged (same head, state hash, ranges and operations) or exit non-zero
//! with a report that names the ways back. Serving less without saying so fails the test.

use ipam_e2e::{FIRST_START_OPERATIONS, Server, binary, block_params};
use ipam_proto::pb;
use std::io::{BufRead, BufReader};
use std::path::{Path, PathBuf};
use std::process::{Child, Command, Stdio};
use std::sync::mpsc;
use std::time::Duration;

/// Flipped bytes per file (every byte of a smaller file).
const POSITIONS: usize = 40;
/// The longest a damaged start may take to serve or to exit.
const START_LIMIT: Duration = Duration::from_secs(60);

/// What clients were told before the server stopped.
#[derive(Clone, Debug, PartialEq, Eq)]
struct Seen {
    head: u64,
    state_hash: String,
    ranges: usize,
    operations: usize,
}

/// What a server serves, asked with the administrator's `token` (the original directory's:
/// the copy's admin.token may be one of the damaged files).
async fn seen(endpoint: String, token: &str) -> Result<Seen, String> {
    let channel = tonic::transport::Channel::from_shared(endpoint)
        .map_err(|e| e.to_string())?
        .connect()
        .await
        .map_err(|e| format!("connect: {e}"))?;
    let bearer = ipam_proto::credentials::Bearer::new(Some(token)).map_err(|e| e.to_string())?;
    let channel = ipam_proto::credentials::with_credentials(channel, bearer);
    let head = ipam_e2e::EventLogClient::new(channel.clone())
        .get_head(pb::GetHeadRequest {
            with_state_hash: true,
            ..Default::default()
        })
        .await
        .map_err(|s| format!("GetHead: {s}"))?
        .into_inner();
    let page = Some(pb::PageRequest {
        page_size: 1000,
        page_token: String::new(),
    });
    let ranges = ipam_e2e::IpamClient::new(channel.clone())
        .list_ranges(pb::ListRangesRequest {
            page,
            ..Default::default()
        })
        .await
        .map_err(|s| format!("ListRanges: {s}"))?
        .into_inner()
        .ranges
        .len();
    let operations = ipam_e2e::OperationsClient::new(channel)
        .list_operations(pb::ListOperationsRequest {
            page_size: 1000,
            ..Default::default()
        })
        .await
        .map_err(|s| format!("ListOperations: {s}"))?
        .into_inner()
        .operations
        .len();
    Ok(Seen {
        head: head.head_seq,
        state_hash: head.state_hash,
        ranges,
        operations,
    })
}

async fn create_ranges(server: &Server, from: u32, to: u32) {
    let mut ipam = server.ipam().await;
    for i in from..to {
        ipam.create_range(pb::CreateRangeParams {
            network: format!("10.1.{i}.0/24"),
            ..Default::default()
        })
        .await
        .expect("create range");
    }
}

/// A block and 60 ranges, acknowledged one by one, in one run or two (sled writes a
/// snapshot file of its own at the second open); stopped by SIGKILL or SIGTERM.
async fn acknowledged_directory(two_runs: bool, kill: bool) -> (Server, Seen) {
    let mut server = Server::start();
    server
        .ipam()
        .await
        .create_block(block_params("10.0.0.0/8"))
        .await
        .expect("create block");
    create_ranges(&server, 0, 30).await;
    if two_runs {
        server.stop();
        server.restart();
    }
    create_ranges(&server, 30, 60).await;
    let acknowledged = seen(server.endpoint(), server.token.as_deref().expect("a token"))
        .await
        .expect("the live server answers");
    assert_eq!(
        (acknowledged.ranges, acknowledged.operations),
        (60, 61 + FIRST_START_OPERATIONS)
    );
    if kill {
        server.kill();
    } else {
        server.stop();
    }
    (server, acknowledged)
}

/// How one start on a damaged copy ended.
enum Outcome {
    Served(Result<Seen, String>),
    Refused { status: String, report: String },
    Hung,
}

/// Kills the child on every way out, failures included.
struct Running(Child);

impl Drop for Running {
    fn drop(&mut self) {
        let _ = self.0.kill();
        let _ = self.0.wait();
    }
}

async fn start_on(data: &Path, token: &str) -> Outcome {
    let log = data.with_extension("log");
    let mut child = Command::new(binary("ipamd"))
        .args(["--listen", "127.0.0.1:0", "--scrub-interval-s", "0", "--data"])
        .arg(data)
        .env("RUST_LOG", "warn")
        .stdout(Stdio::piped())
        .stderr(std::fs::File::create(&log).expect("log file"))
        .spawn()
        .expect("spawn ipamd");
    let stdout = child.stdout.take().expect("stdout");
    let mut running = Running(child);
    let (tx, rx) = mpsc::channel();
    std::thread::spawn(move || {
        for line in BufReader::new(stdout).lines().map_while(Result::ok) {
            if let Some(addr) = line.strip_prefix("ipamd listening on ") {
                let _ = tx.send(addr.trim().to_string());
            }
        }
    });
    let answer = tokio::task::spawn_blocking(move || rx.recv_timeout(START_LIMIT))
        .await
        .expect("waiting for ipamd");
    match answer {
        Ok(addr) => Outcome::Served(seen(format!("http://{addr}"), token).await),
        Err(mpsc::RecvTimeoutError::Timeout) => Outcome::Hung,
        Err(mpsc::RecvTimeoutError::Disconnected) => {
            let status = running.0.wait().expect("wait ipamd");
            Outcome::Refused {
                status: status.to_string(),
                report: std::fs::read_to_string(&log).unwrap_or_default(),
            }
        }
    }
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

/// Every file under `dir`, relative to it.
fn files(dir: &Path, under: &Path, out: &mut Vec<PathBuf>) {
    for entry in std::fs::read_dir(dir).unwrap() {
        let entry = entry.unwrap();
        if entry.file_type().unwrap().is_dir() {
            files(&entry.path(), under, out);
        } else {
            out.push(entry.path().strip_prefix(under).unwrap().to_path_buf());
        }
    }
}

#[derive(Clone, Debug)]
enum Damage {
    Flip { at: u64, mask: u8 },
    Truncate(u64),
    Delete,
}

fn damages(len: u64) -> Vec<Damage> {
    let n = (POSITIONS as u64).min(len);
    let mut out: Vec<Damage> = (0..n)
        .map(|k| Damage::Flip {
            at: if n < 2 { 0 } else { k * (len - 1) / (n - 1) },
            mask: 1 << (k % 8),
        })
        .collect();
    let mut cuts = vec![0, len / 2, len.saturating_sub(1)];
    cuts.dedup();
    out.extend(cuts.into_iter().filter(|&c| c < len).map(Damage::Truncate));
    out.push(Damage::Delete);
    out
}

fn apply(path: &Path, damage: &Damage) {
    match damage {
        Damage::Flip { at, mask } => {
            let mut bytes = std::fs::read(path).unwrap();
            bytes[*at as usize] ^= mask;
            std::fs::write(path, bytes).unwrap();
        }
        Damage::Truncate(len) => std::fs::OpenOptions::new()
            .write(true)
            .open(path)
            .unwrap()
            .set_len(*len)
            .unwrap(),
        Damage::Delete => std::fs::remove_file(path).unwrap(),
    }
}

async fn every_damage_is_served_exactly_or_refused(two_runs: bool, kill: bool) {
    let how = format!(
        "{} run(s), then {}",
        if two_runs { 2 } else { 1 },
        if kill { "SIGKILL" } else { "SIGTERM" }
    );
    let (server, acknowledged) = acknowledged_directory(two_runs, kill).await;
    let mut names = Vec::new();
    files(&server.data, &server.data, &mut names);
    names.sort();
    let wanted = ["acknowledged", "conf", "db"];
    for name in wanted {
        assert!(names.iter().any(|n| n == Path::new(name)), "{name} in {names:?}");
    }
    if two_runs {
        assert!(names.iter().any(|n| n.starts_with("snapshots")), "{names:?}");
        assert!(
            names.iter().any(|n| n.to_string_lossy().starts_with("snap.")),
            "sled's own snapshot: {names:?}"
        );
    }
    let scratch = tempfile::tempdir().unwrap();
    let (mut failures, mut tally) = (Vec::new(), Vec::new());
    for name in &names {
        let len = std::fs::metadata(server.data.join(name)).unwrap().len();
        let (mut served, mut refused, mut sample) = (0, 0, String::new());
        for (i, damage) in damages(len).into_iter().enumerate() {
            let copy = scratch.path().join(format!("case-{i}"));
            copy_dir(&server.data, &copy);
            apply(&copy.join(name), &damage);
            let case = format!("{how}, {} {damage:?}", name.display());
            match start_on(&copy, server.token.as_deref().expect("a token")).await {
                Outcome::Served(Ok(state)) if state == acknowledged => served += 1,
                Outcome::Served(Ok(state)) => failures.push(format!(
                    "{case}: SERVED LESS without saying so: {state:?}, acknowledged {acknowledged:?}"
                )),
                Outcome::Served(Err(e)) => failures.push(format!("{case}: served, but cannot answer: {e}")),
                Outcome::Refused { status, report } => {
                    refused += 1;
                    if sample.is_empty() {
                        sample = report
                            .lines()
                            .find(|l| l.starts_with("ipamd:"))
                            .unwrap_or("")
                            .to_string();
                    }
                    if !report.contains("Ways back:") {
                        failures.push(format!(
                            "{case}: refused ({status}) without the ways back:\n{report}"
                        ));
                    }
                }
                Outcome::Hung => failures.push(format!("{case}: neither served nor exited")),
            }
            std::fs::remove_dir_all(&copy).unwrap();
        }
        tally.push(format!(
            "{}: {served} served exactly, {refused} refused {sample:.160}",
            name.display()
        ));
    }
    println!("after {how}:\n  {}", tally.join("\n  "));
    assert!(
        failures.is_empty(),
        "{} bad outcomes:\n{}",
        failures.len(),
        failures.join("\n")
    );
}

/// The layout of the report that started this: one run, then SIGKILL.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn damage_after_sigkill_is_served_exactly_or_refused() {
    every_damage_is_served_exactly_or_refused(false, true).await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn damage_after_a_restart_and_sigkill_is_served_exactly_or_refused() {
    every_damage_is_served_exactly_or_refused(true, true).await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn damage_after_a_clean_shutdown_is_served_exactly_or_refused() {
    every_damage_is_served_exactly_or_refused(true, false).await;
}
