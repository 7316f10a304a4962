//! The dashboard in a real browser. ipamd runs with `--dashboard`; headless Chromium
//! (Debian's `chromium`), driven by `dashboard/check.mjs` with playwright-core, opens the
//! page. The test starts an operation of a few thousand items over gRPC; the page must show
//! it reach 100% with every item's result, its events in the log's tail and its rows in
//! the table counts, all through the event stream (the page is never reloaded). A full-page
//! screenshot is left in `target/dashboard.png`.
//!
//! The script and the test talk over the script's stdin and stdout: it prints `ready` once
//! the page is connected, reads `<operation id> <items>`, and prints one JSON line with
//! what the page showed. Every wait is on a page condition or a line, with a timeout.
//!
//! Needs `make browser-deps` (chromium and `tests/dashboard/node_modules`). With
//! `IPAM_SKIP_BROWSER=1` the test prints SKIPPED and passes instead.

use ipam_e2e::{FIRST_START_EVENTS, FIRST_START_OPERATIONS, Server, http_get, many_ranges, metric, start};
use ipam_proto::pb;
use std::io::{BufRead, BufReader, Write};
use std::path::{Path, PathBuf};
use std::process::{Child, ChildStdin, Command, ExitStatus, Stdio};
use std::sync::mpsc;
use std::time::Duration;

/// Items of the operation the page watches: enough that it runs for a while.
const ITEMS: u32 = 3000;
/// The description of one block: markup that the page must show as text.
const MARKUP: &str = "<b>lab</b>";

fn script_dir() -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR")).join("dashboard")
}

fn chromium() -> PathBuf {
    std::env::var_os("CHROMIUM").map_or_else(|| PathBuf::from("/usr/bin/chromium"), PathBuf::from)
}

/// Whether the browser and the script's packages are installed. If not: a failure that
/// says how to install them, or with `IPAM_SKIP_BROWSER=1` a loud skip.
fn browser_ready() -> bool {
    let mut missing = Vec::new();
    if !chromium().exists() {
        missing.push(format!("{} (Debian's chromium package)", chromium().display()));
    }
    if Command::new("node").arg("--version").output().is_err() {
        missing.push("node".to_string());
    }
    if !script_dir()
        .join("node_modules/playwright-core/package.json")
        .exists()
    {
        missing.push("tests/dashboard/node_modules (playwright-core)".to_string());
    }
    if missing.is_empty() {
        return true;
    }
    if std::env::var("IPAM_SKIP_BROWSER").as_deref() == Ok("1") {
        eprintln!(
            "\n********\nSKIPPED the dashboard browser test (IPAM_SKIP_BROWSER=1): missing {}\n********\n",
            missing.join(", ")
        );
        return false;
    }
    panic!(
        "the dashboard browser test needs {}: run `make browser-deps` (or set IPAM_SKIP_BROWSER=1 to skip it)",
        missing.join(", ")
    );
}

/// `target/`, found from this test's executable (`target/<profile>/deps/dashboard-...`).
fn target_dir() -> PathBuf {
    let exe = std::env::current_exe().expect("test executable path");
    exe.ancestors()
        .nth(3)
        .expect("target/<profile>/deps")
        .to_path_buf()
}

/// The browser script, running.
struct Check {
    child: Child,
    stdin: ChildStdin,
    lines: mpsc::Receiver<String>,
    stdout: Vec<String>,
    stderr: PathBuf,
}

impl Check {
    fn spawn(url: &str, token: &str, screenshot: &Path, stderr: PathBuf) -> Check {
        let mut child = Command::new("node")
            .arg(script_dir().join("check.mjs"))
            .arg(url)
            .arg(screenshot)
            .env("CHROMIUM", chromium())
            .env("IPAM_TOKEN", token)
            .stdin(Stdio::piped())
            .stdout(Stdio::piped())
            .stderr(Stdio::from(std::fs::File::create(&stderr).expect("stderr file")))
            .spawn()
            .expect("run node");
        let stdin = child.stdin.take().expect("stdin");
        let stdout = child.stdout.take().expect("stdout");
        let (tx, lines) = mpsc::channel();
        std::thread::spawn(move || {
            for line in BufReader::new(stdout).lines().map_while(Result::ok) {
                if tx.send(line).is_err() {
                    return;
                }
            }
        });
        Check {
            child,
            stdin,
            lines,
            stdout: Vec::new(),
            stderr,
        }
    }

    fn fail(&mut self, what: &str) -> ! {
        let _ = self.child.kill();
        let _ = self.child.wait();
        panic!(
            "{what}\nthe script's stdout:\n{}\nits stderr:\n{}",
            self.stdout.join("\n"),
            std::fs::read_to_string(&self.stderr).unwrap_or_default()
        );
    }

    /// The script's next line, or None once it has closed its stdout.
    fn next_line(&mut self, timeout: Duration) -> Option<String> {
        match self.lines.recv_timeout(timeout) {
            Ok(line) => {
                self.stdout.push(line.clone());
                Some(line)
            }
            Err(mpsc::RecvTimeoutError::Disconnected) => None,
            Err(mpsc::RecvTimeoutError::Timeout) => {
                self.fail(&format!("the script said nothing for {timeout:?}"))
            }
        }
    }

    fn expect_ready(&mut self, timeout: Duration) {
        match self.next_line(timeout) {
            Some(line) if line == "ready" => {}
            _ => self.fail("the page did not load and connect"),
        }
    }

    fn send(&mut self, line: &str) {
        if writeln!(self.stdin, "{line}").is_err() {
            self.fail("the script stopped reading");
        }
    }

    /// Waits for the script to end; its exit status and its last line.
    fn finish(&mut self, timeout: Duration) -> (ExitStatus, String) {
        let mut last = String::new();
        while let Some(line) = self.next_line(timeout) {
            last = line;
        }
        let status = self.child.wait().expect("wait for node");
        (status, last)
    }
}

/// Blocks to chart (one with markup in its description), a range and a few addresses.
async fn setup(server: &Server) {
    let mut ipam = server.ipam().await;
    let blocks = [
        ("10.0.0.0/8", "corporate"),
        ("172.16.0.0/16", "bulk ranges"),
        ("192.168.10.0/24", MARKUP),
    ];
    for (network, description) in blocks {
        ipam.create_block(pb::CreateBlockParams {
            network: network.into(),
            description: description.into(),
            ..Default::default()
        })
        .await
        .expect("create block");
    }
    ipam.create_range(pb::CreateRangeParams {
        network: "192.168.10.0/25".into(),
        ..Default::default()
    })
    .await
    .expect("create range");
    // Every range over 20 % utilized has an alert: the /25 below, at 40 of 128, has one.
    ipam.set_range_thresholds(pb::SetRangeThresholdsParams {
        range_id: 0,
        under_percent: None,
        over_percent: Some(20),
    })
    .await
    .expect("set thresholds");
    for host in 1..=40 {
        ipam.create_address(pb::CreateAddressParams {
            address: format!("192.168.10.{host}"),
            ..Default::default()
        })
        .await
        .expect("create address");
    }
    // A managed DHCP server that cannot be reached: the reconciler records the failure.
    server
        .dhcp()
        .await
        .create_server(pb::CreateDhcpServerParams {
            name: "dhcp-down.test".into(),
            control: "kea+unix:///nonexistent/kea4-ctrl-socket".into(),
            ..Default::default()
        })
        .await
        .expect("create a DHCP server");
}

/// `"key":value` of the script's JSON line, as text.
fn field<'a>(json: &'a str, key: &str) -> &'a str {
    let pattern = format!("\"{key}\":");
    let start = json.find(&pattern).map(|i| i + pattern.len()).unwrap_or_else(|| {
        panic!("the script's report has no {key}: {json}");
    });
    let rest = &json[start..];
    let end = rest.find([',', '}']).unwrap_or(rest.len());
    rest[..end].trim_matches('"')
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn the_dashboard_shows_an_operation_live() {
    if !browser_ready() {
        return;
    }
    let server = Server::start_with_dashboard();
    let url = server.dashboard.clone().expect("ipamd printed no dashboard line");
    setup(&server).await;

    let screenshot = target_dir().join("dashboard.png");
    let _ = std::fs::remove_file(&screenshot);
    let mut check = Check::spawn(
        &url,
        server.token.as_deref().expect("a token"),
        &screenshot,
        server.root().join("check.stderr"),
    );
    check.expect_ready(Duration::from_secs(90));

    let mut ops = server.ops().await;
    let before = server.head().await.durable_seq;
    let op = start(&mut ops, many_ranges(ITEMS))
        .await
        .expect("start the operation");
    check.send(&format!("{} {ITEMS} {before}", op.id));

    let (status, report) = check.finish(Duration::from_secs(180));
    if !status.success() {
        check.fail(&format!("the browser check failed ({status})"));
    }
    println!("the page showed: {report}");
    assert_eq!(field(&report, "operation"), op.id.to_string(), "{report}");
    assert_eq!(field(&report, "state"), "SUCCEEDED", "{report}");
    assert_eq!(field(&report, "percent"), "100", "{report}");
    assert_eq!(field(&report, "percent_text"), "100%", "{report}");
    assert_eq!(field(&report, "bar_width"), "100%", "{report}");
    assert_eq!(field(&report, "succeeded"), ITEMS.to_string(), "{report}");
    assert_eq!(field(&report, "failed"), "0", "{report}");
    assert_ne!(field(&report, "events_of_operation"), "0", "{report}");
    assert_eq!(field(&report, "event_name"), "RangeCreated", "{report}");
    assert!(
        field(&report, "event_sample").starts_with("range "),
        "an event of the operation reads like a range event: {report}"
    );
    assert!(
        field(&report, "ranges").parse::<u32>().unwrap() > ITEMS,
        "{report}"
    );
    assert_eq!(field(&report, "blocks_charted"), "3", "{report}");
    assert_eq!(field(&report, "markup_as_text"), "true", "{report}");
    assert_eq!(field(&report, "not_reloaded"), "true", "{report}");
    // Who did it, on the operation's row and on each of its events.
    assert_eq!(field(&report, "operation_by"), "admin", "{report}");
    assert_eq!(field(&report, "event_by"), "admin", "{report}");
    let failure = field(&report, "dhcp_failure");
    assert!(
        failure.starts_with("failed: ") && failure.contains("/nonexistent/kea4-ctrl-socket"),
        "{report}"
    );

    // The search box tells an address's story: its block, its range, its record.
    let story = field(&report, "story");
    for event in ["BlockCreated", "RangeCreated", "AddressCreated"] {
        assert!(story.contains(event), "{event} in the story {story}: {report}");
    }

    // The browsing panels: the tree down to a range's addresses, its alert, the trend, the
    // operation's page and the time slider.
    assert!(
        field(&report, "tree_roots").contains("192.168.10.0/24"),
        "{report}"
    );
    assert_eq!(field(&report, "range_addresses"), "40", "{report}");
    assert_eq!(field(&report, "range_alert"), "over-utilized", "{report}");
    assert!(
        field(&report, "range_path").contains("192.168.10.0/24"),
        "{report}"
    );
    assert_ne!(field(&report, "trend_points"), "0", "{report}");
    assert_eq!(field(&report, "alerts"), "1", "{report}");
    assert_eq!(field(&report, "operation_params"), "CreateRanges", "{report}");
    assert_ne!(field(&report, "operation_events"), "0", "{report}");
    assert_eq!(
        field(&report, "past_label"),
        format!("as of event {before}"),
        "{report}"
    );
    for name in ["story", "tree", "trend", "range", "alerts", "operation", "time"] {
        let png = std::fs::read(screenshot.with_file_name(format!("dashboard-{name}.png")))
            .unwrap_or_else(|e| panic!("the {name} panel's screenshot: {e}"));
        assert!(png.starts_with(b"\x89PNG"), "{name}");
    }

    // The server agrees with what the page showed.
    let done = ops
        .get_operation(pb::GetOperationRequest {
            id: op.id,
            include_items: false,
        })
        .await
        .expect("get the operation")
        .into_inner();
    assert_eq!(done.state, pb::OperationState::Succeeded as i32);
    assert_eq!(done.items_done, ITEMS);

    let png = std::fs::read(&screenshot).expect("the screenshot");
    assert!(
        png.starts_with(b"\x89PNG"),
        "{} is not a PNG",
        screenshot.display()
    );
    println!("screenshot: {}", screenshot.display());
}

#[tokio::test]
async fn metrics_count_what_the_server_did() {
    let server = Server::start_with_dashboard();
    let url = server.dashboard.clone().expect("dashboard URL");
    let mut ipam = server.ipam().await;
    for network in ["10.0.0.0/8", "172.16.0.0/12"] {
        ipam.create_block(ipam_e2e::block_params(network))
            .await
            .expect("create block");
    }
    let bad = ipam.create_block(ipam_e2e::block_params("10.1.0.0/16x")).await;
    assert!(
        bad.is_err(),
        "a bad network is refused before it becomes an operation"
    );

    let (status, text) = http_get(&url, "/metrics").await;
    assert!(status.contains("200"), "{status}");
    assert_eq!(
        metric(&text, "ipam_jobs_finished_total{state=\"succeeded\"}"),
        2.0 + FIRST_START_OPERATIONS as f64
    );
    assert_eq!(metric(&text, "ipam_jobs{state=\"running\"}"), 0.0);
    assert_eq!(metric(&text, "ipam_queue_depth"), 0.0);
    assert_eq!(metric(&text, "ipam_table_rows{table=\"blocks\"}"), 2.0);
    // Each block: its event and its operation's record, in one append.
    assert_eq!(
        metric(&text, "ipam_log_head_seq"),
        2.0 * 2.0 + FIRST_START_EVENTS as f64
    );
    assert!(metric(&text, "ipam_appends_total") >= 2.0);
    assert!(metric(&text, "ipam_append_seconds_count") >= 2.0);
    assert!(metric(&text, "ipam_commit_round_appends_bucket{le=\"+Inf\"}") >= 1.0);
    assert!(metric(&text, "ipam_flushes_total") >= 1.0);
    assert!(text.contains("# TYPE ipam_append_seconds histogram"));
    assert!(text.contains("# TYPE ipam_replay_seconds gauge"));
}
