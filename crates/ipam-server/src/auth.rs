//! Who is calling: every gRPC call (but health) carries `authorization: Bearer <token>`, or
//! comes over mutual TLS with a client certificate the server's CA signed. The check runs
//! in an interceptor, on the metadata alone, before any request body is read; the caller it
//! finds travels to the handlers in the request's extensions.
//!
//! A token reads `ipam_<key>_<secret>`: the key (16 hex digits) is public and finds the
//! token; the secret (64 hex digits, 32 random bytes) is checked against the SHA-256 the
//! server keeps, in constant time. A secret is never logged, stored or returned after it is
//! made.

use ipam_core::access::Authority;
use ipam_jobs::Caller;
use ipam_store::Engine;
use parking_lot::Mutex;
use ring::rand::SecureRandom;
use std::collections::HashMap;
use std::sync::Arc;
use tonic::{Request, Status};

/// How callers are authenticated.
#[derive(Clone, Copy, Debug, PartialEq, Eq, clap::ValueEnum)]
pub enum AuthMode {
    /// Bearer tokens, and client certificates with `--client-ca`.
    Token,
    /// Nobody is asked: every caller is the server itself (tests and demos on loopback).
    None,
}

/// A freshly made token: what the caller gets once, and what the server keeps.
pub struct NewToken {
    pub token: String,
    pub key: [u8; 8],
    pub secret_sha256: [u8; 32],
}

/// Makes a token from the system's random numbers.
pub fn new_token() -> Result<NewToken, Status> {
    let rng = ring::rand::SystemRandom::new();
    let mut key = [0u8; 8];
    let mut secret = [0u8; 32];
    rng.fill(&mut key)
        .and_then(|_| rng.fill(&mut secret))
        .map_err(|_| Status::internal("the system gave no random numbers"))?;
    Ok(NewToken {
        token: format!("ipam_{}_{}", hex(&key), hex(&secret)),
        key,
        secret_sha256: sha256(&secret),
    })
}

pub fn hex(bytes: &[u8]) -> String {
    bytes.iter().map(|b| format!("{b:02x}")).collect()
}

fn unhex<const N: usize>(text: &str) -> Option<[u8; N]> {
    if text.len() != 2 * N {
        return None;
    }
    let mut out = [0u8; N];
    for (i, byte) in out.iter_mut().enumerate() {
        *byte = u8::from_str_radix(text.get(2 * i..2 * i + 2)?, 16).ok()?;
    }
    Some(out)
}

fn sha256(bytes: &[u8]) -> [u8; 32] {
    let digest = ring::digest::digest(&ring::digest::SHA256, bytes);
    digest.as_ref().try_into().expect("SHA-256 is 32 bytes")
}

/// Equal in time that does not depend on where the two first differ.
fn same(a: &[u8; 32], b: &[u8; 32]) -> bool {
    a.iter().zip(b).fold(0u8, |acc, (x, y)| acc | (x ^ y)) == 0
}

/// The caller of a request, as the interceptor found it.
#[derive(Clone, Debug)]
pub struct Authenticated {
    pub caller: Caller,
    /// "token", "certificate" or "none".
    pub method: &'static str,
}

impl Authenticated {
    pub fn authority(&self) -> Authority<'_> {
        self.caller.authority()
    }
}

/// The caller of `request` (set by the interceptor; a request that reached a handler
/// without one is a bug, answered as unauthenticated).
pub fn caller<T>(request: &Request<T>) -> Result<Authenticated, Status> {
    request
        .extensions()
        .get::<Authenticated>()
        .cloned()
        .ok_or_else(|| Status::unauthenticated("no credentials were checked"))
}

/// The interceptor of every service but health.
#[derive(Clone)]
pub struct Authenticator {
    pub mode: AuthMode,
    pub engine: Engine,
    /// Tokens checked since the access tables last changed, by key: a call with one of
    /// them is checked against the kept hash without the tables' lock.
    pub checked: Arc<Mutex<HashMap<[u8; 8], Checked>>>,
}

/// A token as the tables said when it was last checked.
pub struct Checked {
    secret_sha256: [u8; 32],
    principal: String,
    enabled: bool,
    expires_unix_ms: i64,
    /// `Engine::access_generation` when it was read: good while that stays the same.
    generation: u64,
}

/// At most this many tokens are kept checked; past it the cache starts over.
const MAX_CHECKED: usize = 4096;

impl Authenticator {
    pub fn new(mode: AuthMode, engine: Engine) -> Authenticator {
        Authenticator {
            mode,
            engine,
            checked: Default::default(),
        }
    }
}

impl Authenticator {
    pub fn check(&self, mut request: Request<()>) -> Result<Request<()>, Status> {
        let who = match self.mode {
            AuthMode::None => Authenticated {
                caller: Caller::server("anonymous"),
                method: "none",
            },
            AuthMode::Token => self.authenticate(&request)?,
        };
        request.extensions_mut().insert(who);
        Ok(request)
    }

    fn authenticate(&self, request: &Request<()>) -> Result<Authenticated, Status> {
        if let Some(value) = request.metadata().get("authorization") {
            let text = value
                .to_str()
                .map_err(|_| Status::unauthenticated("the authorization header is not text"))?;
            let token = text
                .strip_prefix("Bearer ")
                .or_else(|| text.strip_prefix("bearer "))
                .ok_or_else(|| Status::unauthenticated("authorization must be `Bearer <token>`"))?;
            return self.by_token(token.trim());
        }
        if let Some(subject) = certificate_subject(request) {
            return Ok(Authenticated {
                caller: Caller::principal(&subject),
                method: "certificate",
            });
        }
        Err(Status::unauthenticated(
            "no credentials: send `authorization: Bearer <token>` (ipamctl --token, IPAMCTL_TOKEN)",
        ))
    }

    /// The principal a token authenticates (the dashboard's session cookie holds one too).
    pub fn by_token(&self, token: &str) -> Result<Authenticated, Status> {
        // One answer for every bad token: it says nothing about which part was wrong.
        let refused = || Status::unauthenticated("the token is unknown, revoked or expired");
        let rest = token.strip_prefix("ipam_").ok_or_else(refused)?;
        let (key, secret) = rest.split_once('_').ok_or_else(refused)?;
        let key: [u8; 8] = unhex(key).ok_or_else(refused)?;
        let secret: [u8; 32] = unhex(secret).ok_or_else(refused)?;
        let presented = sha256(&secret);
        let now = ipam_jobs::record::now_ms();
        // Read before the tables, so an entry never outlives a change it did not see.
        let generation = self.engine.access_generation();
        let known = {
            let checked = self.checked.lock();
            checked.get(&key).filter(|c| c.generation == generation).map(|c| {
                let valid = same(&c.secret_sha256, &presented)
                    && c.enabled
                    && (c.expires_unix_ms == 0 || c.expires_unix_ms > now);
                valid.then(|| c.principal.clone())
            })
        };
        let principal = match known {
            Some(principal) => principal,
            None => {
                let found = self.engine.read(|s| {
                    s.access.token_by_key(&key).map(|t| Checked {
                        secret_sha256: t.secret_sha256,
                        principal: t.principal.clone(),
                        enabled: t.enabled,
                        expires_unix_ms: t.expires_unix_ms,
                        generation,
                    })
                });
                let principal = found.as_ref().and_then(|t| {
                    let valid = same(&t.secret_sha256, &presented)
                        && t.enabled
                        && (t.expires_unix_ms == 0 || t.expires_unix_ms > now);
                    valid.then(|| t.principal.clone())
                });
                if let Some(t) = found {
                    let mut checked = self.checked.lock();
                    if checked.len() >= MAX_CHECKED {
                        checked.clear();
                    }
                    checked.insert(key, t);
                }
                principal
            }
        };
        let principal = principal.ok_or_else(refused)?;
        Ok(Authenticated {
            caller: Caller::principal(&principal),
            method: "token",
        })
    }
}

impl tonic::service::Interceptor for Authenticator {
    fn call(&mut self, request: Request<()>) -> Result<Request<()>, Status> {
        self.check(request)
    }
}

/// The subject's common name of a client certificate the TLS layer verified (mutual TLS
/// with `--client-ca`), as the principal's name; the whole subject when it has no CN.
fn certificate_subject(request: &Request<()>) -> Option<String> {
    let certs = request.peer_certs()?;
    let leaf = certs.first()?;
    crate::tls::subject_name(leaf.as_ref())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_token_is_its_key_and_a_secret_whose_hash_is_kept() {
        let t = new_token().unwrap();
        let rest = t.token.strip_prefix("ipam_").unwrap();
        let (key, secret) = rest.split_once('_').unwrap();
        assert_eq!(unhex::<8>(key), Some(t.key));
        assert_eq!(sha256(&unhex::<32>(secret).unwrap()), t.secret_sha256);
        assert!(same(&t.secret_sha256, &t.secret_sha256));
        let mut other = t.secret_sha256;
        other[31] ^= 1;
        assert!(!same(&t.secret_sha256, &other));
        assert_ne!(new_token().unwrap().token, t.token);
        assert_eq!(unhex::<8>("zz"), None);
    }
}
