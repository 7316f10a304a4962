//! A client's credentials, sent on every call as `authorization: Bearer <token>` (ipamctl,
//! the benchmarks and the end-to-end tests share this). The header value is marked
//! sensitive, so HTTP/2 never indexes it and debug output never shows it.

use tonic::metadata::{AsciiMetadataValue, MetadataValue};
use tonic::service::Interceptor;
use tonic::service::interceptor::InterceptedService;
use tonic::transport::Channel;
use tonic::{Request, Status};

/// Adds the token (if any) to every request.
#[derive(Clone, Default)]
pub struct Bearer(Option<AsciiMetadataValue>);

impl Bearer {
    /// None: calls go without credentials (a server run with `--auth none`).
    pub fn new(token: Option<&str>) -> Result<Bearer, String> {
        let Some(token) = token.map(str::trim).filter(|t| !t.is_empty()) else {
            return Ok(Bearer(None));
        };
        let mut value: AsciiMetadataValue = MetadataValue::try_from(format!("Bearer {token}"))
            .map_err(|_| "a token is printable ASCII (ipam_<key>_<secret>)".to_string())?;
        value.set_sensitive(true);
        Ok(Bearer(Some(value)))
    }
}

impl std::fmt::Debug for Bearer {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str(if self.0.is_some() {
            "Bearer(<token>)"
        } else {
            "Bearer(none)"
        })
    }
}

impl Interceptor for Bearer {
    fn call(&mut self, mut request: Request<()>) -> Result<Request<()>, Status> {
        if let Some(value) = &self.0 {
            request.metadata_mut().insert("authorization", value.clone());
        }
        Ok(request)
    }
}

/// A channel whose calls carry credentials: what every client is built on.
pub type Conn = InterceptedService<Channel, Bearer>;

pub fn with_credentials(channel: Channel, bearer: Bearer) -> Conn {
    InterceptedService::new(channel, bearer)
}
