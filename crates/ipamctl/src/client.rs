//! The connection to ipamd, errors a person can act on, and running an operation: start it,
//! follow its progress with a bar (fed by WatchOperation), then print its outcome.

use crate::output::{Format, Printer, to_json};
use crate::rows;
use anyhow::{Context, anyhow, bail};
use indicatif::{ProgressBar, ProgressStyle};
use ipam_proto::credentials::{Bearer, Conn, with_credentials};
use ipam_proto::pb;
use ipam_proto::pb::access_client::AccessClient;
use ipam_proto::pb::operation_params::Params;
use ipam_proto::pb::{
    admin_client::AdminClient, dhcp_client::DhcpClient, event_log_client::EventLogClient,
    ipam_client::IpamClient, operations_client::OperationsClient,
};
use std::path::{Path, PathBuf};
use std::time::Duration;
use tonic::transport::{Certificate, ClientTlsConfig, Endpoint, Identity};

const MAX_MESSAGE: usize = 64 << 20;

/// Where ipamd is and how to prove who we are (global options of every online command).
#[derive(clap::Args, Debug, Clone)]
pub struct ConnectArgs {
    /// ipamd's gRPC address (https:// for TLS).
    #[arg(
        long,
        env = "IPAMCTL_SERVER",
        default_value = "http://127.0.0.1:50051",
        global = true
    )]
    pub server: String,
    /// The token to call with. Prefer IPAMCTL_TOKEN or --token-file: a command line is
    /// visible to other users of the machine.
    #[arg(long, env = "IPAMCTL_TOKEN", hide_env_values = true, global = true)]
    pub token: Option<String>,
    /// A file holding the token (default: ./data/admin.token when it exists, the first
    /// token of a server started with `make run`).
    #[arg(long, env = "IPAMCTL_TOKEN_FILE", global = true)]
    pub token_file: Option<PathBuf>,
    /// PEM CA that signed the server's certificate (https:// servers).
    #[arg(long, env = "IPAMCTL_CA_CERT", global = true)]
    pub ca_cert: Option<PathBuf>,
    /// PEM client certificate for mutual TLS (its subject's CN is the principal).
    #[arg(long, env = "IPAMCTL_CLIENT_CERT", requires = "client_key", global = true)]
    pub client_cert: Option<PathBuf>,
    /// PEM private key of --client-cert.
    #[arg(long, env = "IPAMCTL_CLIENT_KEY", requires = "client_cert", global = true)]
    pub client_key: Option<PathBuf>,
}

/// The first token `make run` writes.
const DEFAULT_TOKEN_FILE: &str = "data/admin.token";

impl ConnectArgs {
    fn token(&self) -> anyhow::Result<Option<String>> {
        if let Some(t) = &self.token {
            return Ok(Some(t.clone()));
        }
        let (path, given) = match &self.token_file {
            Some(p) => (p.clone(), true),
            None => (PathBuf::from(DEFAULT_TOKEN_FILE), false),
        };
        match std::fs::read_to_string(&path) {
            Ok(text) => Ok(Some(text.trim().to_string())),
            Err(e) if !given && e.kind() == std::io::ErrorKind::NotFound => Ok(None),
            Err(e) => Err(anyhow!("reading the token file {}: {e}", path.display())),
        }
    }

    fn tls(&self) -> anyhow::Result<Option<ClientTlsConfig>> {
        let read = |p: &Path| std::fs::read(p).with_context(|| format!("reading {}", p.display()));
        if !self.server.starts_with("https://") {
            if self.ca_cert.is_some() || self.client_cert.is_some() {
                bail!("--ca-cert and --client-cert need an https:// --server");
            }
            return Ok(None);
        }
        let Some(ca) = &self.ca_cert else {
            bail!("an https:// server needs --ca-cert (the PEM CA that signed its certificate)");
        };
        let mut tls = ClientTlsConfig::new().ca_certificate(Certificate::from_pem(read(ca)?));
        if let (Some(cert), Some(key)) = (&self.client_cert, &self.client_key) {
            tls = tls.identity(Identity::from_pem(read(cert)?, read(key)?));
        }
        Ok(Some(tls))
    }
}

pub struct Client {
    channel: Conn,
    pub printer: Printer,
    /// Start operations and return at once (print the operation, do not wait).
    pub no_wait: bool,
    pub request_id: Option<String>,
    /// `--at`: reads answer as of this moment (None: now).
    pub as_of: Option<pb::AsOf>,
}

/// `--at SEQ|TIME`: digits are a sequence number; otherwise a UTC time, `YYYY-MM-DD`,
/// `YYYY-MM-DDTHH:MM[:SS[.fff]]` with an optional `Z`.
pub fn parse_at(text: &str) -> anyhow::Result<pb::AsOf> {
    let text = text.trim();
    if !text.is_empty() && text.bytes().all(|b| b.is_ascii_digit()) {
        let seq: u64 = text.parse().map_err(|_| anyhow!("--at {text}: too large"))?;
        if seq == 0 {
            bail!("--at 0: sequence numbers start at 1");
        }
        return Ok(pb::AsOf { seq, unix_ms: 0 });
    }
    let unix_ms = parse_utc(text)
        .ok_or_else(|| anyhow!("--at {text}: not a sequence number or a UTC time (2026-12-01T09:30:00Z)"))?;
    Ok(pb::AsOf { seq: 0, unix_ms })
}

/// Milliseconds since 1970 of a UTC date or date and time.
pub fn parse_utc(text: &str) -> Option<i64> {
    let text = text.strip_suffix('Z').unwrap_or(text);
    let (date, time) = text.split_once(['T', ' ']).unwrap_or((text, "00:00"));
    let mut d = date.splitn(3, '-').map(|p| p.parse::<i64>().ok());
    let (y, m, day) = (d.next()??, d.next()??, d.next()??);
    if !(1..=12).contains(&m) || !(1..=31).contains(&day) {
        return None;
    }
    let mut t = time.splitn(3, ':');
    let hour: i64 = t.next()?.parse().ok()?;
    let minute: i64 = t.next()?.parse().ok()?;
    let seconds: f64 = t.next().map_or(Some(0.0), |s| s.parse().ok())?;
    if hour > 23 || minute > 59 || !(0.0..61.0).contains(&seconds) {
        return None;
    }
    // Days from 1970-01-01 of a proleptic Gregorian date (Howard Hinnant's algorithm).
    let (y, m) = if m <= 2 { (y - 1, m + 9) } else { (y, m - 3) };
    let era = y.div_euclid(400);
    let yoe = y - era * 400;
    let doy = (153 * m + 2) / 5 + day - 1;
    let doe = yoe * 365 + yoe / 4 - yoe / 100 + doy;
    let days = era * 146_097 + doe - 719_468;
    Some(((days * 86_400 + hour * 3600 + minute * 60) as f64 * 1000.0 + seconds * 1000.0) as i64)
}

impl Client {
    pub async fn connect(args: &ConnectArgs, printer: Printer) -> anyhow::Result<Client> {
        let url = &args.server;
        let mut endpoint = Endpoint::from_shared(url.to_string())
            .with_context(|| format!("--server {url} is not a URL (for example http://127.0.0.1:50051)"))?
            .connect_timeout(Duration::from_secs(5));
        if let Some(tls) = args.tls()? {
            endpoint = endpoint.tls_config(tls).context("configuring TLS")?;
        }
        let bearer = Bearer::new(args.token()?.as_deref()).map_err(|e| anyhow!("the token: {e}"))?;
        let channel = endpoint.connect().await.map_err(|e| {
            let cause = std::error::Error::source(&e).map_or(e.to_string(), |s| s.to_string());
            anyhow!("cannot reach ipamd at {url}: {cause}\n(is it running? `make run` starts one; --server or IPAMCTL_SERVER picks another)")
        })?;
        Ok(Client {
            channel: with_credentials(channel, bearer),
            printer,
            no_wait: false,
            request_id: None,
            as_of: None,
        })
    }

    pub fn ipam(&self) -> IpamClient<Conn> {
        IpamClient::new(self.channel.clone())
            .max_decoding_message_size(MAX_MESSAGE)
            .max_encoding_message_size(MAX_MESSAGE)
    }

    pub fn dhcp(&self) -> DhcpClient<Conn> {
        DhcpClient::new(self.channel.clone())
            .max_decoding_message_size(MAX_MESSAGE)
            .max_encoding_message_size(MAX_MESSAGE)
    }

    pub fn ops(&self) -> OperationsClient<Conn> {
        OperationsClient::new(self.channel.clone())
            .max_decoding_message_size(MAX_MESSAGE)
            .max_encoding_message_size(MAX_MESSAGE)
    }

    pub fn admin(&self) -> AdminClient<Conn> {
        AdminClient::new(self.channel.clone())
    }

    pub fn access(&self) -> AccessClient<Conn> {
        AccessClient::new(self.channel.clone())
    }

    pub fn events(&self) -> EventLogClient<Conn> {
        EventLogClient::new(self.channel.clone()).max_decoding_message_size(MAX_MESSAGE)
    }

    /// Starts an operation (its kind follows from the parameters), follows it to the end and
    /// prints its result; fails (non-zero exit) when the operation does not succeed.
    pub async fn run(&self, params: Params) -> anyhow::Result<()> {
        let started = self
            .ops()
            .start_operation(pb::StartOperationRequest {
                kind: pb::OperationKind::Unspecified as i32,
                params: Some(pb::OperationParams { params: Some(params) }),
                request_id: self.request_id.clone().unwrap_or_default(),
            })
            .await
            .map_err(status_error)?
            .into_inner();
        if self.no_wait {
            self.printer.record(&started);
            return Ok(());
        }
        let op = self.follow(started.id).await?;
        self.print_outcome(&op);
        outcome(&op)
    }

    /// Streams an operation's progress to a bar on stderr (hidden when stderr is not a
    /// terminal) and returns its final record with every item.
    pub async fn follow(&self, id: u64) -> anyhow::Result<pb::Operation> {
        let mut stream = self
            .ops()
            .watch_operation(pb::WatchOperationRequest { id })
            .await
            .map_err(status_error)?
            .into_inner();
        let bar = ProgressBar::new(0).with_style(
            ProgressStyle::with_template(
                "{spinner} op {prefix} [{bar:32}] {pos}/{len} {percent:>3}% {wide_msg}",
            )
            .expect("a valid template")
            .progress_chars("=> "),
        );
        bar.set_prefix(id.to_string());
        bar.enable_steady_tick(Duration::from_millis(120));
        while let Some(p) = stream.message().await.map_err(status_error)? {
            bar.set_length(u64::from(p.items_total.max(1)));
            bar.set_position(u64::from(p.items_done));
            bar.set_message(p.status_message.clone());
            for item in p
                .items
                .iter()
                .filter(|i| i.status == pb::ItemStatus::Failed as i32)
            {
                bar.println(format!("item {} failed: {}", item.index, item_message(item)));
            }
            if p.done {
                break;
            }
        }
        bar.finish_and_clear();
        let op = self
            .ops()
            .get_operation(pb::GetOperationRequest {
                id,
                include_items: true,
            })
            .await
            .map_err(status_error)?
            .into_inner();
        Ok(op)
    }

    /// The result record of a one-item operation; the item table of a longer one.
    pub fn print_outcome(&self, op: &pb::Operation) {
        if self.printer.format == Format::Json {
            self.printer.json_line(&to_json(op));
            return;
        }
        let result = op.result.as_ref().and_then(|r| r.result.as_ref());
        if op.items_total > 1 || result.is_none() {
            self.printer.rows(&op.items);
            if op.items_omitted > 0 {
                eprintln!(
                    "({} more item results: ipamctl op items {})",
                    op.items_omitted, op.id
                );
            }
        } else if let Some(result) = result {
            print_result(&self.printer, result);
            if let Some(item) = op.items.first().filter(|i| !i.dhcp_pushes.is_empty()) {
                eprintln!("DHCP servers: {}", rows::dhcp_pushes(&item.dhcp_pushes));
            }
        }
        // The status message already says how it ended ("succeeded", "failed: ...");
        // only spell the state out when the server left the message empty.
        if op.status_message.is_empty() {
            eprintln!("operation {}: {}", op.id, rows::state(op.state));
        } else {
            eprintln!("operation {}: {}", op.id, op.status_message);
        }
    }
}

fn print_result(p: &Printer, result: &pb::operation_result::Result) {
    use pb::operation_result::Result as R;
    match result {
        R::AddressSpace(x) => p.rows(std::slice::from_ref(x)),
        R::Block(x) => p.rows(std::slice::from_ref(x)),
        R::Range(x) => p.rows(std::slice::from_ref(x)),
        R::Address(x) => p.rows(std::slice::from_ref(x)),
        R::DhcpServer(x) => p.rows(std::slice::from_ref(x)),
        R::DhcpScope(x) => p.rows(std::slice::from_ref(x)),
        R::DhcpReservation(x) => p.rows(std::slice::from_ref(x)),
        R::DhcpFailover(x) => p.rows(std::slice::from_ref(x)),
        R::DhcpSuperscope(x) => p.rows(std::slice::from_ref(x)),
        R::DhcpFilter(x) => p.rows(std::slice::from_ref(x)),
        R::DhcpPolicy(x) => p.rows(std::slice::from_ref(x)),
        R::AccessScope(x) => p.rows(std::slice::from_ref(x)),
        R::Role(x) => p.rows(std::slice::from_ref(x)),
        R::AccessPolicy(x) => p.rows(std::slice::from_ref(x)),
        R::Token(x) => p.rows(std::slice::from_ref(x)),
    }
}

fn item_message(item: &pb::ItemResult) -> String {
    match &item.error {
        Some(f) if !f.field.is_empty() => format!("{} (field {})", f.message, f.field),
        Some(f) => f.message.clone(),
        None => item.message.clone(),
    }
}

/// Ok for a succeeded operation; otherwise its fault as the error.
pub fn outcome(op: &pb::Operation) -> anyhow::Result<()> {
    if op.state == pb::OperationState::Succeeded as i32 {
        return Ok(());
    }
    let state = rows::state(op.state);
    match &op.error {
        Some(f) => bail!("operation {} {state}: {}", op.id, fault_text(f)),
        None => bail!("operation {} {state}: {}", op.id, op.status_message),
    }
}

fn fault_text(f: &pb::Fault) -> String {
    let code = tonic::Code::from_i32(f.code);
    let mut text = format!("{:?}: {}", code, f.message);
    if !f.field.is_empty() {
        text.push_str(&format!(" (field {})", f.field));
    }
    if !f.conflicting_ids.is_empty() {
        let ids: Vec<String> = f.conflicting_ids.iter().map(u64::to_string).collect();
        text.push_str(&format!(" (conflicts with {})", ids.join(", ")));
    }
    text
}

/// A gRPC error as a line a person can act on: the code, the message, the field.
pub fn status_error(s: tonic::Status) -> anyhow::Error {
    use tonic_types::StatusExt;
    let field = s
        .get_details_bad_request()
        .and_then(|b| b.field_violations.first().map(|v| v.field.clone()));
    match (s.code(), field) {
        (tonic::Code::Unavailable, _) => anyhow!("ipamd is unavailable: {}", s.message()),
        (tonic::Code::Unauthenticated, _) => anyhow!(
            "Unauthenticated: {}\n(give a token with IPAMCTL_TOKEN, --token-file or --token; a new server \
             writes its first one to <data>/admin.token)",
            s.message()
        ),
        // Most messages already start with the field ("network: ..."); only name it
        // when they do not.
        (code, Some(field)) if !field.is_empty() && !s.message().starts_with(&format!("{field}:")) => {
            anyhow!("{code:?}: {} (field {field})", s.message())
        }
        (code, _) => anyhow!("{code:?}: {}", s.message()),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn at_is_a_sequence_number_or_a_utc_time() {
        assert_eq!(
            parse_at("1200").unwrap(),
            pb::AsOf {
                seq: 1200,
                unix_ms: 0
            }
        );
        assert!(parse_at("0").is_err());
        let at = |t: &str| parse_at(t).unwrap().unix_ms;
        assert_eq!(at("1970-01-01"), 0);
        assert_eq!(at("2026-12-01T09:30:00Z"), 1_796_117_400_000);
        assert_eq!(at("2026-12-01 09:30"), 1_796_117_400_000);
        assert_eq!(at("2000-02-29T00:00:00.250Z"), 951_782_400_250);
        for bad in ["yesterday", "2026-13-01", "2026-12-01T25:00", ""] {
            assert!(parse_at(bad).is_err(), "{bad}");
        }
    }
}
