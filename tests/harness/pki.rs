//! A throwaway PKI made with the openssl command, for the TLS tests: a CA, a server
//! certificate for localhost and 127.0.0.1, a client certificate (CN=cert-user) and one
//! signed by another CA (CN=intruder).

use std::process::Command;

/// The files of the PKI, in a temp directory: `ca.pem`, `server.pem` / `server.key`,
/// `client.*` and `stranger.*`.
pub struct Pki {
    dir: tempfile::TempDir,
}

impl Pki {
    pub fn make() -> Pki {
        let dir = tempfile::tempdir().unwrap();
        let pki = Pki { dir };
        pki.ca("ca");
        pki.ca("rogue");
        pki.leaf(
            "server",
            "ca",
            "/CN=localhost",
            Some("subjectAltName=DNS:localhost,IP:127.0.0.1"),
        );
        pki.leaf("client", "ca", "/CN=cert-user", None);
        pki.leaf("stranger", "rogue", "/CN=intruder", None);
        pki
    }

    pub fn path(&self, name: &str) -> String {
        self.dir.path().join(name).display().to_string()
    }

    fn openssl(&self, args: &[&str]) {
        let out = Command::new("openssl")
            .args(args)
            .current_dir(self.dir.path())
            .output()
            .expect("openssl");
        assert!(
            out.status.success(),
            "openssl {args:?}: {}",
            String::from_utf8_lossy(&out.stderr)
        );
    }

    fn ca(&self, name: &str) {
        let (key, cert) = (format!("{name}.key"), format!("{name}.pem"));
        self.openssl(&[
            "ecparam",
            "-genkey",
            "-name",
            "prime256v1",
            "-noout",
            "-out",
            &key,
        ]);
        let subject = format!("/CN={name} test CA");
        self.openssl(&[
            "req",
            "-x509",
            "-new",
            "-key",
            &key,
            "-out",
            &cert,
            "-days",
            "2",
            "-subj",
            &subject,
            "-addext",
            "basicConstraints=critical,CA:TRUE",
            "-addext",
            "keyUsage=critical,keyCertSign",
        ]);
    }

    fn leaf(&self, name: &str, ca: &str, subject: &str, san: Option<&str>) {
        let (key, csr, cert) = (
            format!("{name}.key"),
            format!("{name}.csr"),
            format!("{name}.pem"),
        );
        self.openssl(&[
            "ecparam",
            "-genkey",
            "-name",
            "prime256v1",
            "-noout",
            "-out",
            &key,
        ]);
        // rustls reads PKCS#8 keys.
        let pk8 = format!("{name}.pk8");
        self.openssl(&["pkcs8", "-topk8", "-nocrypt", "-in", &key, "-out", &pk8]);
        std::fs::rename(self.dir.path().join(&pk8), self.dir.path().join(&key)).unwrap();
        self.openssl(&["req", "-new", "-key", &key, "-out", &csr, "-subj", subject]);
        let ext = self.dir.path().join(format!("{name}.ext"));
        let usage = if san.is_some() { "serverAuth" } else { "clientAuth" };
        let mut text = format!("basicConstraints=CA:FALSE\nextendedKeyUsage={usage}\n");
        if let Some(san) = san {
            text.push_str(san);
            text.push('\n');
        }
        std::fs::write(&ext, text).unwrap();
        self.openssl(&[
            "x509",
            "-req",
            "-in",
            &csr,
            "-CA",
            &format!("{ca}.pem"),
            "-CAkey",
            &format!("{ca}.key"),
            "-CAcreateserial",
            "-out",
            &cert,
            "-days",
            "2",
            "-extfile",
            &ext.display().to_string(),
        ]);
    }

    fn read(&self, name: &str) -> Vec<u8> {
        std::fs::read(self.dir.path().join(name)).unwrap()
    }

    /// A TLS client config trusting the CA, with the client certificate `who` if any.
    pub fn client(&self, who: Option<&str>) -> tonic::transport::ClientTlsConfig {
        use tonic::transport::{Certificate, ClientTlsConfig, Identity};
        let mut tls = ClientTlsConfig::new()
            .ca_certificate(Certificate::from_pem(self.read("ca.pem")))
            .domain_name("localhost");
        if let Some(who) = who {
            tls = tls.identity(Identity::from_pem(
                self.read(&format!("{who}.pem")),
                self.read(&format!("{who}.key")),
            ));
        }
        tls
    }
}
