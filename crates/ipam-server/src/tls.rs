//! TLS for ipamd's gRPC port (`--tls-cert`, `--tls-key`), and mutual TLS with `--client-ca`:
//! a client certificate that CA signed authenticates its subject's common name as the
//! principal. Client certificates are optional, so token callers can use the same port.

use anyhow::Context;
use std::path::Path;
use tonic::transport::{Certificate, Identity, ServerTlsConfig};

pub fn server_config(cert: &Path, key: &Path, client_ca: Option<&Path>) -> anyhow::Result<ServerTlsConfig> {
    let read = |p: &Path, what: &str| {
        std::fs::read(p).with_context(|| format!("reading the {what} {}", p.display()))
    };
    let identity = Identity::from_pem(read(cert, "TLS certificate")?, read(key, "TLS key")?);
    let mut config = ServerTlsConfig::new().identity(identity);
    if let Some(ca) = client_ca {
        config = config
            .client_ca_root(Certificate::from_pem(read(ca, "client CA")?))
            .client_auth_optional(true);
    }
    Ok(config)
}

/// The common name (2.5.4.3) of an X.509 certificate's subject, read from its DER; the
/// subject's other attributes are not needed to name a principal.
pub fn subject_name(der: &[u8]) -> Option<String> {
    let (cert, _) = element(der, 0x30)?;
    let (tbs, _) = element(cert, 0x30)?;
    let mut rest = tbs;
    // version [0] EXPLICIT, optional.
    if rest.first() == Some(&0xa0) {
        rest = element(rest, 0xa0)?.1;
    }
    for _ in 0..4 {
        // serialNumber, signature, issuer, validity
        rest = skip(rest)?;
    }
    let (subject, _) = element(rest, 0x30)?;
    let mut rdns = subject;
    while !rdns.is_empty() {
        let (set, next) = element(rdns, 0x31)?;
        let (pair, _) = element(set, 0x30)?;
        let (oid, value) = element(pair, 0x06)?;
        if oid == [0x55, 0x04, 0x03] {
            let (tag, len, header) = header(value)?;
            // UTF8String, PrintableString, IA5String, T61String
            if matches!(tag, 0x0c | 0x13 | 0x16 | 0x14) {
                return std::str::from_utf8(value.get(header..header + len)?)
                    .ok()
                    .map(str::to_string);
            }
        }
        rdns = next;
    }
    None
}

/// (tag, content length, header length) of the DER element at the start of `bytes`.
fn header(bytes: &[u8]) -> Option<(u8, usize, usize)> {
    let tag = *bytes.first()?;
    let first = *bytes.get(1)? as usize;
    if first < 0x80 {
        return Some((tag, first, 2));
    }
    let n = first & 0x7f;
    if n == 0 || n > 4 {
        return None;
    }
    let mut len = 0usize;
    for i in 0..n {
        len = len << 8 | *bytes.get(2 + i)? as usize;
    }
    Some((tag, len, 2 + n))
}

/// The content of the element at the start of `bytes` (which must have `tag`), and what
/// follows it.
fn element(bytes: &[u8], tag: u8) -> Option<(&[u8], &[u8])> {
    let (t, len, h) = header(bytes)?;
    if t != tag || bytes.len() < h + len {
        return None;
    }
    Some((&bytes[h..h + len], &bytes[h + len..]))
}

fn skip(bytes: &[u8]) -> Option<&[u8]> {
    let (_, len, h) = header(bytes)?;
    bytes.get(h + len..)
}

#[cfg(test)]
mod tests {
    use super::*;

    fn seq(tag: u8, parts: &[&[u8]]) -> Vec<u8> {
        let body: Vec<u8> = parts.concat();
        let mut out = vec![tag];
        if body.len() < 0x80 {
            out.push(body.len() as u8);
        } else {
            out.extend_from_slice(&[0x82, (body.len() >> 8) as u8, body.len() as u8]);
        }
        out.extend(body);
        out
    }

    #[test]
    fn the_common_name_is_read_from_the_subject() {
        let cn = seq(
            0x30,
            &[&[0x06, 0x03, 0x55, 0x04, 0x03], &seq(0x0c, &[b"dhcp-admin"])],
        );
        let o = seq(0x30, &[&[0x06, 0x03, 0x55, 0x04, 0x0a], &seq(0x0c, &[b"corp"])]);
        let subject = seq(0x30, &[&seq(0x31, &[&o]), &seq(0x31, &[&cn])]);
        let issuer = seq(0x30, &[&seq(0x31, &[&o])]);
        let tbs = seq(
            0x30,
            &[
                &seq(0xa0, &[&[0x02, 0x01, 0x02]]),
                &[0x02, 0x01, 0x07],
                &seq(0x30, &[&[0x06, 0x01, 0x01]]),
                &issuer,
                &seq(0x30, &[&[0x17, 0x00], &[0x17, 0x00]]),
                &subject,
            ],
        );
        let cert = seq(0x30, &[&tbs, &seq(0x30, &[]), &[0x03, 0x01, 0x00]]);
        assert_eq!(subject_name(&cert).as_deref(), Some("dhcp-admin"));
        assert_eq!(subject_name(&cert[..10]), None);
    }
}
