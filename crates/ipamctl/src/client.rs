//! The connection to ipamd, errors a person can act on, and running an operation: start it,
//! follow its progress with a bar (fed by WatchOperation), then print its outcome.

use crate::output::{Format, Printer, to_json};
use crate::rows;
use anyhow::{Context, anyhow, bail};
use indicatif::{ProgressBar, ProgressStyle};
use ipam_proto::pb;
use ipam_proto::pb::operation_params::Params;
use ipam_proto::pb::{
    admin_client::AdminClient, dhcp_client::DhcpClient, event_log_client::EventLogClient,
    ipam_client::IpamClient, operations_client::OperationsClient,
};
use std::time::Duration;
use tonic::transport::{Channel, Endpoint};

const MAX_MESSAGE: usize = 64 << 20;

pub struct Client {
    channel: Channel,
    pub printer: Printer,
    /// Start operations and return at once (print the operation, do not wait).
    pub no_wait: bool,
    pub request_id: Option<String>,
}

impl Client {
    pub async fn connect(url: &str, printer: Printer) -> anyhow::Result<Client> {
        let endpoint = Endpoint::from_shared(url.to_string())
            .with_context(|| format!("--server {url} is not a URL (for example http://127.0.0.1:50051)"))?
            .connect_timeout(Duration::from_secs(5));
        let channel = endpoint.connect().await.map_err(|e| {
            let cause = std::error::Error::source(&e).map_or(e.to_string(), |s| s.to_string());
            anyhow!("cannot reach ipamd at {url}: {cause}\n(is it running? `make run` starts one; --server or IPAMCTL_SERVER picks another)")
        })?;
        Ok(Client {
            channel,
            printer,
            no_wait: false,
            request_id: None,
        })
    }

    pub fn ipam(&self) -> IpamClient<Channel> {
        IpamClient::new(self.channel.clone())
            .max_decoding_message_size(MAX_MESSAGE)
            .max_encoding_message_size(MAX_MESSAGE)
    }

    pub fn dhcp(&self) -> DhcpClient<Channel> {
        DhcpClient::new(self.channel.clone())
            .max_decoding_message_size(MAX_MESSAGE)
            .max_encoding_message_size(MAX_MESSAGE)
    }

    pub fn ops(&self) -> OperationsClient<Channel> {
        OperationsClient::new(self.channel.clone())
            .max_decoding_message_size(MAX_MESSAGE)
            .max_encoding_message_size(MAX_MESSAGE)
    }

    pub fn admin(&self) -> AdminClient<Channel> {
        AdminClient::new(self.channel.clone())
    }

    pub fn events(&self) -> EventLogClient<Channel> {
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
        } else if let Some(result) = result {
            print_result(&self.printer, result);
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
        // Most messages already start with the field ("network: ..."); only name it
        // when they do not.
        (code, Some(field)) if !field.is_empty() && !s.message().starts_with(&format!("{field}:")) => {
            anyhow!("{code:?}: {} (field {field})", s.message())
        }
        (code, _) => anyhow!("{code:?}: {}", s.message()),
    }
}
