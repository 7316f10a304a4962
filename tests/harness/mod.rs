//! Runs the real `ipamd` binary for end-to-end tests: a temp data directory, an ephemeral
//! port (the server prints the address it bound), gRPC clients, graceful stop and SIGKILL.
//! With `--dashboard`, the dashboard's URL is read from its own line the same way.
//!
//! The binary is found next to the test executable's directory (`target/<profile>/ipamd`),
//! or at `$IPAMD_BIN`. `make test` (or `cargo test --workspace`) builds it first.

pub mod kea;
pub mod pki;
pub mod replicas;
pub mod tmpfs;

use ipam_proto::pb;
use std::io::{BufRead, BufReader};
use std::path::{Path, PathBuf};
use std::process::{Child, Command, Stdio};
use std::sync::mpsc;
use std::time::Duration;
use tonic::transport::Channel;

/// A connection whose calls carry a token: what every client here is built on.
pub use ipam_proto::credentials::Conn;
use ipam_proto::credentials::{Bearer, with_credentials};

pub use ipam_proto::pb::access_client::AccessClient;
pub use ipam_proto::pb::admin_client::AdminClient;
pub use ipam_proto::pb::dhcp_client::DhcpClient;
pub use ipam_proto::pb::event_log_client::EventLogClient;
pub use ipam_proto::pb::ipam_client::IpamClient;
pub use ipam_proto::pb::operations_client::OperationsClient;

/// Operations a new server runs at its first start: the administrator's access policy and
/// token (`ipam-server/src/bootstrap.rs`).
pub const FIRST_START_OPERATIONS: usize = 2;
/// The records those operations append: one event of a table each, and each operation's
/// own record (`OperationRan`).
pub const FIRST_START_EVENTS: u64 = 4;

/// How long a server may take to print its address before a test fails.
const START_TIMEOUT: Duration = Duration::from_secs(60);

pub fn binary(name: &str) -> PathBuf {
    let env = format!("{}_BIN", name.to_uppercase());
    if let Ok(path) = std::env::var(env) {
        return PathBuf::from(path);
    }
    let exe = std::env::current_exe().expect("test executable path");
    let dir = exe.parent().and_then(Path::parent).expect("target/<profile>");
    let path = dir.join(name);
    assert!(
        path.exists(),
        "{} is missing: build the binaries first (`make test` or `cargo build --workspace --bins`)",
        path.display()
    );
    path
}

/// Runs `ipamd --listen 127.0.0.1:0 ARGS` to completion: (success, stdout + stderr). The
/// listen address goes first (a top-level flag, before any subcommand), so a serving
/// ipamd never takes the default port.
pub fn run_ipamd<S: AsRef<std::ffi::OsStr>>(args: impl IntoIterator<Item = S>) -> (bool, String) {
    let out = Command::new(binary("ipamd"))
        .args(["--listen", "127.0.0.1:0"])
        .args(args)
        .env("RUST_LOG", "warn")
        .output()
        .expect("run ipamd");
    let text = format!(
        "{}{}",
        String::from_utf8_lossy(&out.stdout),
        String::from_utf8_lossy(&out.stderr)
    );
    (out.status.success(), text)
}

/// A running ipamd.
pub struct Server {
    child: Option<Child>,
    pub addr: String,
    /// The dashboard's URL (`http://host:port`), when started with `--dashboard`.
    pub dashboard: Option<String>,
    pub data: PathBuf,
    pub log: PathBuf,
    /// The first administrator's token, as the server wrote it to `<data>/admin.token`
    /// (None with `--auth none`).
    pub token: Option<String>,
    root: PathBuf,
    _temp: Option<tempfile::TempDir>,
    extra_args: Vec<String>,
}

impl Server {
    /// Starts ipamd on a fresh temp data directory.
    pub fn start() -> Server {
        Server::start_with(&[])
    }

    /// Starts ipamd with its dashboard on an ephemeral port.
    pub fn start_with_dashboard() -> Server {
        Server::start_with(&["--dashboard", "127.0.0.1:0"])
    }

    pub fn start_with(args: &[&str]) -> Server {
        let temp = tempfile::tempdir().expect("temp dir");
        let root = temp.path().to_path_buf();
        Server::launch(root.join("data"), root, temp, args)
    }

    fn launch(data: PathBuf, root: PathBuf, temp: tempfile::TempDir, args: &[&str]) -> Server {
        let mut s = Server {
            child: None,
            addr: String::new(),
            dashboard: None,
            data,
            log: root.join("ipamd.log"),
            token: None,
            root,
            _temp: Some(temp),
            extra_args: args.iter().map(|s| s.to_string()).collect(),
        };
        s.spawn();
        s
    }

    /// Starts ipamd on an existing data directory (a copy, a filesystem a test made), which
    /// stays when the server is dropped; its log goes to a temp directory.
    pub fn start_on(data: &Path, args: &[&str]) -> Server {
        let temp = tempfile::tempdir().expect("temp dir");
        let root = temp.path().to_path_buf();
        Server::launch(data.to_path_buf(), root, temp, args)
    }

    fn spawn(&mut self) {
        let log = std::fs::OpenOptions::new()
            .create(true)
            .append(true)
            .open(&self.log)
            .expect("log file");
        let mut child = Command::new(binary("ipamd"))
            .arg("--listen")
            .arg("127.0.0.1:0")
            .arg("--data")
            .arg(&self.data)
            .args(&self.extra_args)
            .env(
                "RUST_LOG",
                std::env::var("IPAMD_TEST_LOG").unwrap_or_else(|_| "info".into()),
            )
            .stdout(Stdio::piped())
            .stderr(Stdio::from(log))
            .spawn()
            .expect("spawn ipamd");
        let stdout = child.stdout.take().expect("stdout");
        let (tx, rx) = mpsc::channel();
        std::thread::spawn(move || {
            // ipamd prints the dashboard's line (if any) before the gRPC one.
            let mut dashboard = None;
            for line in BufReader::new(stdout).lines() {
                let Ok(line) = line else { return };
                if let Some(url) = line.strip_prefix("ipamd dashboard on ") {
                    dashboard = Some(url.trim().to_string());
                }
                if let Some(addr) = line.strip_prefix("ipamd listening on ") {
                    let _ = tx.send((addr.trim().to_string(), dashboard.take()));
                }
            }
        });
        match rx.recv_timeout(START_TIMEOUT) {
            Ok((addr, dashboard)) => {
                self.addr = addr;
                self.dashboard = dashboard;
                // Written before the server listens, on its first start. A directory
                // restored from another server's log has none: the token it had works.
                if let Ok(token) = std::fs::read_to_string(self.data.join("admin.token")) {
                    self.token = Some(token.trim().to_string());
                }
            }
            Err(_) => {
                let _ = child.kill();
                panic!("ipamd did not start; its log:\n{}", self.log_text());
            }
        }
        self.child = Some(child);
    }

    pub fn endpoint(&self) -> String {
        format!("http://{}", self.addr)
    }

    /// ipamctl's options to reach this server as its administrator.
    pub fn ipamctl_args(&self) -> Vec<String> {
        let token_file = self.data.join("admin.token");
        vec![
            format!("--server={}", self.endpoint()),
            format!("--token-file={}", token_file.display()),
        ]
    }

    pub fn root(&self) -> &Path {
        &self.root
    }

    pub fn log_text(&self) -> String {
        std::fs::read_to_string(&self.log).unwrap_or_default()
    }

    /// A connection without credentials.
    pub async fn raw_channel(&self) -> Channel {
        Channel::from_shared(self.endpoint())
            .expect("endpoint")
            .connect()
            .await
            .expect("connect to ipamd")
    }

    /// A connection whose calls carry the administrator's token.
    pub async fn channel(&self) -> Conn {
        self.channel_as(self.token.as_deref()).await
    }

    /// A connection whose calls carry `token` (None: no credentials).
    pub async fn channel_as(&self, token: Option<&str>) -> Conn {
        with_credentials(self.raw_channel().await, Bearer::new(token).expect("a token"))
    }

    /// A connection whose HTTP/2 receive windows are `bytes`: a reader that stops reading
    /// makes the server stop sending after that much.
    pub async fn channel_with_window(&self, bytes: u32) -> Conn {
        let channel = Channel::from_shared(self.endpoint())
            .expect("endpoint")
            .initial_stream_window_size(bytes)
            .initial_connection_window_size(bytes)
            .connect()
            .await
            .expect("connect to ipamd");
        with_credentials(channel, Bearer::new(self.token.as_deref()).expect("a token"))
    }

    pub async fn ipam(&self) -> IpamClient<Conn> {
        IpamClient::new(self.channel().await)
            .max_decoding_message_size(64 << 20)
            .max_encoding_message_size(64 << 20)
    }

    pub async fn dhcp(&self) -> DhcpClient<Conn> {
        DhcpClient::new(self.channel().await)
            .max_decoding_message_size(64 << 20)
            .max_encoding_message_size(64 << 20)
    }

    pub async fn access(&self) -> AccessClient<Conn> {
        AccessClient::new(self.channel().await)
    }

    /// A token for `principal`, made by the administrator, after setting its access policy
    /// to `grants` as (role id, access scope id) when there are any.
    pub async fn token_for(&self, principal: &str, grants: &[(u64, u64)]) -> String {
        let mut access = self.access().await;
        if !grants.is_empty() {
            access
                .set_access_policy(pb::SetAccessPolicyParams {
                    principal: principal.into(),
                    description: String::new(),
                    grants: grants
                        .iter()
                        .map(|&(role_id, access_scope_id)| pb::AccessGrant {
                            role_id,
                            access_scope_id,
                            ..Default::default()
                        })
                        .collect(),
                })
                .await
                .expect("SetAccessPolicy");
        }
        access
            .create_token(pb::CreateTokenRequest {
                principal: principal.into(),
                ..Default::default()
            })
            .await
            .expect("CreateToken")
            .into_inner()
            .token
    }

    /// The log head and the state hash at it.
    pub async fn head(&self) -> pb::LogHead {
        self.events()
            .await
            .get_head(pb::GetHeadRequest {
                with_state_hash: true,
                ..Default::default()
            })
            .await
            .expect("GetHead")
            .into_inner()
    }

    /// The records after `after` up to the head.
    pub async fn records_after(&self, after: u64) -> Vec<pb::LoggedEvent> {
        let head = self.head().await.head_seq;
        let mut events = self.events().await;
        let mut out = Vec::new();
        for seq in after + 1..=head {
            out.push(
                events
                    .get_event(pb::GetEventRequest { seq })
                    .await
                    .expect("GetEvent")
                    .into_inner(),
            );
        }
        out
    }

    /// Asserts that nothing after `before` changed the address plan: the log gained only
    /// the records of operations (a failed one, a dry run), no event of a table.
    pub async fn assert_plan_unchanged_since(&self, before: &pb::LogHead, what: &str) {
        for r in self.records_after(before.head_seq).await {
            assert!(
                is_operation_record(&r),
                "{what} wrote event {} to the log: {}",
                r.seq,
                r.summary
            );
        }
    }

    pub async fn ops(&self) -> OperationsClient<Conn> {
        OperationsClient::new(self.channel().await)
            .max_decoding_message_size(64 << 20)
            .max_encoding_message_size(64 << 20)
    }

    pub async fn events(&self) -> EventLogClient<Conn> {
        EventLogClient::new(self.channel().await)
    }

    pub async fn admin(&self) -> AdminClient<Conn> {
        AdminClient::new(self.channel().await)
    }

    /// The answer of grpc.health.v1 for the whole server.
    pub async fn health(&self) -> tonic_health::pb::health_check_response::ServingStatus {
        let mut health = tonic_health::pb::health_client::HealthClient::new(self.channel().await);
        let reply = health
            .check(tonic_health::pb::HealthCheckRequest {
                service: String::new(),
            })
            .await
            .expect("health check")
            .into_inner();
        tonic_health::pb::health_check_response::ServingStatus::try_from(reply.status).expect("a status")
    }

    /// SIGTERM, then wait for a clean exit (graceful shutdown).
    pub fn stop(&mut self) {
        if let Some(mut child) = self.child.take() {
            let status = Command::new("kill")
                .arg("-TERM")
                .arg(child.id().to_string())
                .status()
                .expect("kill");
            assert!(status.success());
            let exit = child.wait().expect("wait ipamd");
            assert!(
                exit.success(),
                "ipamd exited with {exit}; log:\n{}",
                self.log_text()
            );
        }
    }

    /// SIGKILL: no shutdown code runs.
    pub fn kill(&mut self) {
        if let Some(mut child) = self.child.take() {
            child.kill().expect("SIGKILL ipamd");
            let _ = child.wait();
        }
    }

    /// Starts ipamd again on the same data directory (after `stop` or `kill`).
    pub fn restart(&mut self) {
        assert!(self.child.is_none(), "stop or kill the server first");
        self.spawn();
    }

    /// Sends `signal` ("STOP", "CONT", ...) to the running server.
    pub fn signal(&self, signal: &str) {
        let child = self.child.as_ref().expect("the server runs");
        let status = Command::new("kill")
            .arg(format!("-{signal}"))
            .arg(child.id().to_string())
            .status()
            .expect("kill");
        assert!(status.success(), "kill -{signal}");
    }

    /// Whether the process is still running.
    pub fn is_running(&mut self) -> bool {
        self.child
            .as_mut()
            .is_some_and(|c| c.try_wait().ok().flatten().is_none())
    }
}

impl Drop for Server {
    fn drop(&mut self) {
        self.kill();
    }
}

/// Streams WatchOperation to the end; returns every message.
pub async fn watch_to_end(ops: &mut OperationsClient<Conn>, id: u64) -> Vec<pb::OperationProgress> {
    let mut stream = ops
        .watch_operation(pb::WatchOperationRequest { id })
        .await
        .expect("watch")
        .into_inner();
    let mut out = Vec::new();
    while let Some(msg) = stream.message().await.expect("watch message") {
        out.push(msg);
    }
    out
}

/// The addresses mapped to range `range_id` (up to 1,000, one page).
pub async fn range_addresses(ipam: &mut IpamClient<Conn>, range_id: u64) -> Vec<pb::IpAddressRecord> {
    ipam.list_addresses(pb::ListAddressesRequest {
        range_id: Some(range_id),
        page: Some(pb::PageRequest {
            page_size: 1000,
            ..Default::default()
        }),
        ..Default::default()
    })
    .await
    .expect("ListAddresses")
    .into_inner()
    .addresses
}

/// The field named by an INVALID_ARGUMENT status's BadRequest detail.
/// A record of an operation's life rather than of the address plan.
pub fn is_operation_record(r: &pb::LoggedEvent) -> bool {
    use pb::event::Kind;
    matches!(
        r.event.as_ref().and_then(|e| e.kind.as_ref()),
        Some(
            Kind::OperationAccepted(_)
                | Kind::OperationStarted(_)
                | Kind::OperationItemRecorded(_)
                | Kind::OperationFinished(_)
                | Kind::OperationRan(_)
        )
    )
}

pub fn violated_field(status: &tonic::Status) -> Option<String> {
    use tonic_types::StatusExt;
    status
        .get_details_bad_request()
        .and_then(|b| b.field_violations.first().map(|v| v.field.clone()))
}

pub fn block_params(network: &str) -> pb::CreateBlockParams {
    pb::CreateBlockParams {
        network: network.into(),
        ..Default::default()
    }
}

/// The id of the row a unary create call made (its operation's result), or a panic
/// naming why there is none.
pub fn created_id(reply: Result<tonic::Response<pb::Operation>, tonic::Status>) -> u64 {
    let op = reply.expect("create call").into_inner();
    op.result
        .unwrap_or_else(|| panic!("operation {} has no result: {}", op.id, op.status_message))
        .record_id
}

/// `count` /30 ranges from 172.16.0.0 up, one item each, as one CreateRanges operation.
pub fn many_ranges(count: u32) -> pb::operation_params::Params {
    let ranges = (0..count)
        .map(|i| {
            let [a, b, c, d] = (0xac10_0000u32 + i * 4).to_be_bytes();
            pb::CreateRangeParams {
                network: format!("{a}.{b}.{c}.{d}/30"),
                ..Default::default()
            }
        })
        .collect();
    pb::operation_params::Params::CreateRanges(pb::CreateRangesParams { ranges })
}

/// Starts an operation (CreateRanges or CreateBlock) without a request id.
pub async fn start(
    ops: &mut OperationsClient<Conn>,
    params: pb::operation_params::Params,
) -> Result<pb::Operation, tonic::Status> {
    use pb::operation_params::Params;
    let kind = match &params {
        Params::CreateRanges(_) => pb::OperationKind::CreateRanges,
        Params::CreateBlock(_) => pb::OperationKind::CreateBlock,
        other => panic!("no kind for {other:?}"),
    };
    ops.start_operation(pb::StartOperationRequest {
        kind: kind as i32,
        params: Some(pb::OperationParams { params: Some(params) }),
        request_id: String::new(),
    })
    .await
    .map(|r| r.into_inner())
}

/// GET `path` from the dashboard's HTTP server with a plain HTTP/1.0 request: the status
/// line and the body.
pub async fn http_get(base: &str, path: &str) -> (String, String) {
    use tokio::io::{AsyncReadExt, AsyncWriteExt};
    let host = base.strip_prefix("http://").expect("an http URL");
    let mut stream = tokio::net::TcpStream::connect(host).await.expect("connect");
    let request = format!("GET {path} HTTP/1.0\r\nHost: {host}\r\n\r\n");
    stream.write_all(request.as_bytes()).await.expect("send");
    let mut response = String::new();
    stream.read_to_string(&mut response).await.expect("read");
    let (head, body) = response.split_once("\r\n\r\n").expect("a complete response");
    (
        head.lines().next().unwrap_or_default().to_string(),
        body.to_string(),
    )
}

/// The value of the sample `name` (with its labels, as written) in Prometheus text.
pub fn metric(text: &str, name: &str) -> f64 {
    text.lines()
        .find_map(|l| l.strip_prefix(name).and_then(|rest| rest.strip_prefix(' ')))
        .unwrap_or_else(|| panic!("no sample {name} in:\n{text}"))
        .parse()
        .expect("a number")
}
