//! Read your own writes through any replica. A call may carry the metadata
//! `ipam-min-seq: N` (a position a write returned: an operation's `last_event_seq`): it is
//! answered only once this server's tables hold position N, and only after the call is
//! authenticated (a caller without credentials cannot make the server wait). Every answer
//! of the IPAM services (not health or reflection) carries `ipam-seq`: the position the
//! server's tables held, durable, when the call began, which what it read reflects at
//! least. With one server on its own log every position it acknowledged is there already;
//! with replicas on a shared log, a read through one replica then sees what a write
//! through another acknowledged. (GetHead's `wait_for_seq` is the same wait, for callers
//! that would rather ask once.)

use ipam_store::Engine;
use std::task::{Context, Poll};
use std::time::Duration;
use tonic::Status;
use tonic::codegen::{BoxFuture, Service, http};

/// The metadata a call asks for a position with, and the one every answer carries.
pub const MIN_SEQ: &str = "ipam-min-seq";
pub const SEQ: &str = "ipam-seq";

/// The longest a call waits for its position to arrive.
pub const MAX_WAIT: Duration = Duration::from_secs(30);

/// Waits until position `seq` is in this server's tables (durable), at most `MAX_WAIT`.
/// `field` names what asked for it in the error.
pub async fn wait_for(engine: &Engine, seq: u64, field: &str) -> Result<(), Status> {
    match tokio::time::timeout(MAX_WAIT, engine.durability().wait_seq(seq)).await {
        Ok(true) => Ok(()),
        Ok(false) => Err(Status::unavailable(format!(
            "{field}: position {seq} will not reach this server's tables: {}",
            engine.poisoned().unwrap_or_else(|| "it is stopping".into())
        ))),
        Err(_) => Err(Status::deadline_exceeded(format!(
            "{field}: position {seq} did not reach this server's tables in {} s (they are at {})",
            MAX_WAIT.as_secs(),
            engine.durable_seq()
        ))),
    }
}

/// A gRPC service that answers at a position: it waits for `ipam-min-seq` and sets
/// `ipam-seq`. Inside the authentication interceptor (`server.rs`, `guard`), so only an
/// authenticated call may wait.
#[derive(Clone)]
pub struct AtPosition<S> {
    inner: S,
    engine: Engine,
}

impl<S> AtPosition<S> {
    pub fn new(engine: Engine, inner: S) -> AtPosition<S> {
        AtPosition { inner, engine }
    }
}

impl<S: tonic::server::NamedService> tonic::server::NamedService for AtPosition<S> {
    const NAME: &'static str = S::NAME;
}

impl<S, B> Service<http::Request<B>> for AtPosition<S>
where
    S: Service<http::Request<B>, Response = http::Response<tonic::body::Body>> + Clone + Send + 'static,
    S::Future: Send + 'static,
    B: Send + 'static,
{
    type Response = http::Response<tonic::body::Body>;
    type Error = S::Error;
    type Future = BoxFuture<Self::Response, Self::Error>;

    fn poll_ready(&mut self, cx: &mut Context<'_>) -> Poll<Result<(), Self::Error>> {
        self.inner.poll_ready(cx)
    }

    fn call(&mut self, request: http::Request<B>) -> Self::Future {
        // The service that was made ready answers this call; a clone waits for the next.
        let ready = self.inner.clone();
        let mut inner = std::mem::replace(&mut self.inner, ready);
        let engine = self.engine.clone();
        Box::pin(async move {
            let wanted = match request.headers().get(MIN_SEQ) {
                None => None,
                Some(v) => match v.to_str().ok().and_then(|s| s.trim().parse::<u64>().ok()) {
                    Some(seq) => Some(seq),
                    None => {
                        let status = Status::invalid_argument(format!(
                            "{MIN_SEQ}: {v:?} is not a log position (a number, e.g. an operation's last_event_seq)"
                        ));
                        return Ok(status.into_http());
                    }
                },
            };
            if let Some(seq) = wanted.filter(|&seq| seq > 0)
                && let Err(status) = wait_for(&engine, seq, MIN_SEQ).await
            {
                return Ok(status.into_http());
            }
            let at = engine.durable_seq();
            let mut response = inner.call(request).await?;
            response.headers_mut().insert(SEQ, http::HeaderValue::from(at));
            Ok(response)
        })
    }
}
