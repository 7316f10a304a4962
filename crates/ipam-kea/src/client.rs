//! Kea's control channel (kea-docs, "Management API"): one JSON command per connection,
//! `{"command": ..., "arguments": ...}`, answered by one JSON object (the daemon's unix
//! socket) or a list of one object per service (the control agent over HTTP). Result 0 is
//! success, 1 an error, 2 unsupported, 3 empty.

use serde_json::{Value, json};
use std::time::Duration;
use tokio::io::{AsyncRead, AsyncReadExt, AsyncWriteExt};

/// How long one command may take, connection included.
const COMMAND_TIMEOUT: Duration = Duration::from_secs(10);
/// The largest answer read (a lease page of 10,000 leases is a few MiB).
const MAX_ANSWER: usize = 256 << 20;

#[derive(Debug, thiserror::Error)]
pub enum KeaError {
    /// The endpoint cannot be reached or answered nonsense: try again later.
    #[error("{0}")]
    Unreachable(String),
    /// Kea answered and said no, in its own words.
    #[error("{command}: {text} (result {result})")]
    Refused {
        command: String,
        result: i64,
        text: String,
    },
    #[error("'{0}' is not a Kea control endpoint")]
    BadEndpoint(String),
}

impl KeaError {
    /// Whether trying again later may succeed without anything changing in IPAM.
    pub fn is_transient(&self) -> bool {
        matches!(self, KeaError::Unreachable(_))
    }
}

/// Where the commands go: `kea+unix:///path` or `kea+http://host:port/path`.
#[derive(Clone, Debug, PartialEq, Eq)]
pub enum Endpoint {
    Unix(String),
    Http { authority: String, path: String },
}

impl Endpoint {
    pub fn parse(url: &str) -> Result<Endpoint, KeaError> {
        if let Some(path) = url.strip_prefix("kea+unix://") {
            return Ok(Endpoint::Unix(path.to_string()));
        }
        if let Some(rest) = url.strip_prefix("kea+http://") {
            let (authority, path) = rest.split_once('/').unwrap_or((rest, ""));
            if authority.is_empty() {
                return Err(KeaError::BadEndpoint(url.into()));
            }
            return Ok(Endpoint::Http {
                authority: authority.to_string(),
                path: format!("/{path}"),
            });
        }
        Err(KeaError::BadEndpoint(url.into()))
    }

    /// Whether this is a control agent (the HA hook's peers talk over HTTP).
    pub fn is_http(&self) -> bool {
        matches!(self, Endpoint::Http { .. })
    }
}

#[derive(Clone, Debug)]
pub struct KeaClient {
    endpoint: Endpoint,
}

impl KeaClient {
    pub fn new(url: &str) -> Result<KeaClient, KeaError> {
        Ok(KeaClient {
            endpoint: Endpoint::parse(url)?,
        })
    }

    pub fn endpoint(&self) -> &Endpoint {
        &self.endpoint
    }

    /// Runs `command` and returns its `arguments` (Null when it has none), or Kea's refusal.
    pub async fn command(&self, command: &str, arguments: Option<Value>) -> Result<Value, KeaError> {
        let mut request = json!({ "command": command });
        if let Some(arguments) = arguments {
            request["arguments"] = arguments;
        }
        if let Endpoint::Http { .. } = self.endpoint {
            // The control agent forwards to the daemons named here.
            request["service"] = json!(["dhcp4"]);
        }
        let body = serde_json::to_vec(&request).expect("a JSON value serializes");
        let answer = tokio::time::timeout(COMMAND_TIMEOUT, self.exchange(&body))
            .await
            .map_err(|_| {
                KeaError::Unreachable(format!("{command}: no answer within {COMMAND_TIMEOUT:?}"))
            })??;
        let answer = match answer {
            Value::Array(mut list) if !list.is_empty() => list.swap_remove(0),
            other => other,
        };
        let result = answer
            .get("result")
            .and_then(Value::as_i64)
            .ok_or_else(|| KeaError::Unreachable(format!("{command}: the answer has no result: {answer}")))?;
        if result != 0 {
            let text = answer
                .get("text")
                .and_then(Value::as_str)
                .unwrap_or("")
                .to_string();
            return Err(KeaError::Refused {
                command: command.into(),
                result,
                text,
            });
        }
        Ok(answer.get("arguments").cloned().unwrap_or(Value::Null))
    }

    async fn exchange(&self, body: &[u8]) -> Result<Value, KeaError> {
        let down = |e: std::io::Error| KeaError::Unreachable(format!("{}: {e}", self.describe()));
        match &self.endpoint {
            Endpoint::Unix(path) => {
                let mut stream = tokio::net::UnixStream::connect(path).await.map_err(down)?;
                stream.write_all(body).await.map_err(down)?;
                read_json(&mut stream).await.map_err(down)
            }
            Endpoint::Http { authority, path } => {
                let mut stream = tokio::net::TcpStream::connect(authority.as_str())
                    .await
                    .map_err(down)?;
                let head = format!(
                    "POST {path} HTTP/1.1\r\nHost: {authority}\r\nContent-Type: application/json\r\n\
                     Content-Length: {}\r\nConnection: close\r\n\r\n",
                    body.len()
                );
                stream.write_all(head.as_bytes()).await.map_err(down)?;
                stream.write_all(body).await.map_err(down)?;
                let mut raw = Vec::new();
                read_limited(&mut stream, &mut raw).await.map_err(down)?;
                http_body(&raw).map_err(down)
            }
        }
    }

    fn describe(&self) -> String {
        match &self.endpoint {
            Endpoint::Unix(path) => format!("kea+unix://{path}"),
            Endpoint::Http { authority, path } => format!("kea+http://{authority}{path}"),
        }
    }
}

fn invalid(what: impl std::fmt::Display) -> std::io::Error {
    std::io::Error::new(std::io::ErrorKind::InvalidData, what.to_string())
}

/// Reads until the bytes hold one complete JSON value (the daemon may keep the socket
/// open after answering) or the peer closes. The end of the value is found by following
/// brackets and strings as the bytes arrive, so a 2 MB answer is parsed once, not once per
/// chunk.
async fn read_json(stream: &mut (impl AsyncRead + Unpin)) -> std::io::Result<Value> {
    let mut buf = Vec::new();
    let mut chunk = vec![0u8; 64 << 10];
    let mut scan = JsonEnd::default();
    loop {
        let n = stream.read(&mut chunk).await?;
        if n == 0 {
            return serde_json::from_slice(&buf).map_err(invalid);
        }
        buf.extend_from_slice(&chunk[..n]);
        if buf.len() > MAX_ANSWER {
            return Err(invalid("the answer is too large"));
        }
        if scan.complete_after(&chunk[..n]) {
            return serde_json::from_slice(&buf).map_err(invalid);
        }
    }
}

/// Follows a JSON text byte by byte: whether its top-level object or array has closed.
#[derive(Default)]
struct JsonEnd {
    depth: usize,
    started: bool,
    in_string: bool,
    escaped: bool,
}

impl JsonEnd {
    fn complete_after(&mut self, bytes: &[u8]) -> bool {
        for &b in bytes {
            if self.in_string {
                match (self.escaped, b) {
                    (true, _) => self.escaped = false,
                    (false, b'\\') => self.escaped = true,
                    (false, b'"') => self.in_string = false,
                    _ => {}
                }
                continue;
            }
            match b {
                b'"' => self.in_string = true,
                b'{' | b'[' => {
                    self.depth += 1;
                    self.started = true;
                }
                b'}' | b']' => {
                    self.depth = self.depth.saturating_sub(1);
                    if self.started && self.depth == 0 {
                        return true;
                    }
                }
                _ => {}
            }
        }
        false
    }
}

async fn read_limited(stream: &mut (impl AsyncRead + Unpin), out: &mut Vec<u8>) -> std::io::Result<()> {
    let mut chunk = vec![0u8; 64 << 10];
    loop {
        let n = stream.read(&mut chunk).await?;
        if n == 0 {
            return Ok(());
        }
        out.extend_from_slice(&chunk[..n]);
        if out.len() > MAX_ANSWER {
            return Err(invalid("the answer is too large"));
        }
    }
}

/// The JSON body of an HTTP/1.1 answer (the agent closes the connection; no chunking).
fn http_body(raw: &[u8]) -> std::io::Result<Value> {
    let split = raw
        .windows(4)
        .position(|w| w == b"\r\n\r\n")
        .ok_or_else(|| invalid("an HTTP answer without a header end"))?;
    let status = std::str::from_utf8(&raw[..split])
        .ok()
        .and_then(|head| head.split_whitespace().nth(1))
        .unwrap_or("");
    let body = &raw[split + 4..];
    if status != "200" {
        return Err(invalid(format!(
            "HTTP {status}: {}",
            String::from_utf8_lossy(&body[..body.len().min(200)])
        )));
    }
    serde_json::from_slice(body).map_err(invalid)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn endpoints_parse() {
        assert_eq!(
            Endpoint::parse("kea+unix:///run/kea/kea4-ctrl-socket").unwrap(),
            Endpoint::Unix("/run/kea/kea4-ctrl-socket".into())
        );
        assert_eq!(
            Endpoint::parse("kea+http://10.0.0.1:8000/").unwrap(),
            Endpoint::Http {
                authority: "10.0.0.1:8000".into(),
                path: "/".into()
            }
        );
        assert!(Endpoint::parse("http://x").is_err());
    }

    #[test]
    fn http_answers_parse() {
        let raw = b"HTTP/1.1 200 OK\r\nContent-Length: 14\r\n\r\n[{\"result\":0}]";
        assert_eq!(http_body(raw).unwrap(), json!([{"result": 0}]));
        assert!(http_body(b"HTTP/1.1 500 Oops\r\n\r\nbad").is_err());
    }

    #[test]
    fn the_end_of_an_answer_is_found_across_chunks_and_inside_strings() {
        let text = br#"{"result": 0, "text": "a } and a \" quote ]", "arguments": {"leases": [{"a": 1}, {"b": [2]}]}}"#;
        for cut in 1..text.len() {
            let mut scan = JsonEnd::default();
            assert!(
                !scan.complete_after(&text[..cut]),
                "complete at {cut} of {}",
                text.len()
            );
            assert!(
                scan.complete_after(&text[cut..]),
                "not complete after the rest ({cut})"
            );
        }
    }
}
