//! Clients of an authenticating ipamd beyond plain gRPC: mutual TLS (a client
//! certificate's common name is the principal) and ipamctl over https, ipamctl's token
//! commands, and the dashboard's sign-in.

use ipam_e2e::pki::Pki;
use ipam_e2e::*;
use ipam_proto::pb;
use std::process::Command;
use tonic::Code;

const IPAM_USER: u64 = 8;

async fn tls_channel(
    server: &Server,
    tls: tonic::transport::ClientTlsConfig,
) -> Result<tonic::transport::Channel, tonic::transport::Error> {
    let port = server.addr.rsplit(':').next().unwrap();
    tonic::transport::Channel::from_shared(format!("https://localhost:{port}"))
        .unwrap()
        .tls_config(tls)?
        .connect()
        .await
}

async fn who_am_i(conn: Conn) -> Result<pb::Principal, tonic::Status> {
    AccessClient::new(conn)
        .who_am_i(pb::WhoAmIRequest {})
        .await
        .map(|r| r.into_inner())
}

#[tokio::test(flavor = "multi_thread")]
async fn mutual_tls_names_the_principal_by_its_certificate() {
    use ipam_proto::credentials::{Bearer, with_credentials};
    let pki = Pki::make();
    let server = Server::start_with(&[
        "--tls-cert",
        &pki.path("server.pem"),
        "--tls-key",
        &pki.path("server.key"),
        "--client-ca",
        &pki.path("ca.pem"),
    ]);
    let admin = server.token.clone().unwrap();

    // A verified client certificate is a principal: its common name.
    let channel = tls_channel(&server, pki.client(Some("client")))
        .await
        .expect("mTLS connect");
    let me = who_am_i(with_credentials(channel, Bearer::new(None).unwrap()))
        .await
        .unwrap_or_else(|e| panic!("WhoAmI: {e:?}\n{}", server.log_text()));
    assert_eq!(
        (me.name.as_str(), me.method.as_str()),
        ("cert-user", "certificate")
    );
    assert!(!me.administrator && me.grants.is_empty(), "{me:?}");

    // A token works over TLS without a client certificate.
    let channel = tls_channel(&server, pki.client(None)).await.expect("TLS connect");
    let conn = with_credentials(channel, Bearer::new(Some(&admin)).unwrap());
    let me = who_am_i(conn.clone()).await.expect("WhoAmI with the token");
    assert_eq!((me.name.as_str(), me.administrator), ("admin", true));
    let head = |conn: Conn| async move {
        EventLogClient::new(conn)
            .get_head(pb::GetHeadRequest {
                with_state_hash: true,
                ..Default::default()
            })
            .await
            .unwrap()
            .into_inner()
    };
    let before = head(conn.clone()).await;

    // A certificate another CA signed gets no call through (with TLS 1.3 the refusal may
    // come after the handshake: the call then fails as the connection closes).
    let stranger = match tls_channel(&server, pki.client(Some("stranger"))).await {
        Err(_) => None,
        Ok(channel) => Some(
            IpamClient::new(with_credentials(channel, Bearer::new(None).unwrap()))
                .create_block(block_params("10.0.0.0/8"))
                .await
                .expect_err("a certificate from another CA"),
        ),
    };
    if let Some(status) = stranger {
        assert!(
            matches!(
                status.code(),
                Code::Unauthenticated | Code::Unavailable | Code::Unknown | Code::Cancelled
            ),
            "{status:?}"
        );
    }
    // Plain text to a TLS port gets nothing either.
    let plain = IpamClient::new(server.channel().await)
        .create_block(block_params("10.0.0.0/8"))
        .await;
    assert!(plain.is_err(), "plain text reached a TLS port");
    assert_eq!(head(conn).await, before, "nothing was written");

    // ipamctl over https, trusting the CA.
    let out = Command::new(binary("ipamctl"))
        .env_remove("IPAMCTL_TOKEN")
        .env_remove("IPAMCTL_TOKEN_FILE")
        .args([
            &format!(
                "--server=https://localhost:{}",
                server.addr.rsplit(':').next().unwrap()
            ),
            &format!("--ca-cert={}", pki.path("ca.pem")),
            &format!("--token-file={}", server.data.join("admin.token").display()),
            "access",
            "whoami",
        ])
        .output()
        .expect("ipamctl");
    let stdout = String::from_utf8_lossy(&out.stdout);
    assert!(
        out.status.success(),
        "{stdout}{}",
        String::from_utf8_lossy(&out.stderr)
    );
    assert!(stdout.contains("admin"), "{stdout}");
}

#[tokio::test(flavor = "multi_thread")]
async fn ipamctl_makes_a_token_that_authenticates_its_principal() {
    let server = Server::start();
    let ipamctl = |args: &[&str], token: Option<&str>| {
        let mut cmd = Command::new(binary("ipamctl"));
        cmd.env_remove("IPAMCTL_TOKEN").env_remove("IPAMCTL_TOKEN_FILE");
        match token {
            Some(t) => {
                cmd.arg(format!("--server={}", server.endpoint()))
                    .env("IPAMCTL_TOKEN", t);
            }
            None => {
                cmd.args(server.ipamctl_args());
            }
        }
        let out = cmd.args(args).output().expect("ipamctl");
        (
            out.status.success(),
            String::from_utf8_lossy(&out.stdout).into_owned(),
            String::from_utf8_lossy(&out.stderr).into_owned(),
        )
    };
    let (ok, _, err) = ipamctl(
        &[
            "access",
            "policy",
            "set",
            "ops-bot",
            "--grant",
            "IPAM User@\\Global",
        ],
        None,
    );
    assert!(ok, "{err}");
    let (ok, token, err) = ipamctl(&["access", "token", "create", "--principal", "ops-bot"], None);
    assert!(ok, "{err}");
    let token = token.trim().to_string();
    assert!(
        token.starts_with("ipam_") && !token.contains('\n'),
        "the token alone: {token}"
    );
    let (ok, who, err) = ipamctl(&["-o", "json", "access", "whoami"], Some(&token));
    assert!(ok, "{err}");
    let who: serde_json::Value = serde_json::from_str(&who).expect("json");
    assert_eq!(who["name"], "ops-bot", "{who}");
    // The token list shows the key, never the secret.
    let (ok, list, err) = ipamctl(&["-o", "json", "access", "token", "list"], None);
    assert!(ok, "{err}");
    let secret = token.rsplit('_').next().unwrap();
    assert!(!list.contains(secret), "a token list holds no secret: {list}");
    // Read-only: a write is refused with the role it needs.
    let (ok, _, err) = ipamctl(&["block", "create", "10.0.0.0/8"], Some(&token));
    assert!(!ok);
    assert!(
        err.contains("may not run CreateBlock") && err.contains("needs the role"),
        "{err}"
    );
}

/// An HTTP/1.0 request to the dashboard with extra headers and a body: status line, head
/// and body.
async fn http(
    base: &str,
    method: &str,
    path: &str,
    headers: &[(&str, &str)],
    body: &str,
) -> (String, String, String) {
    use tokio::io::{AsyncReadExt, AsyncWriteExt};
    let host = base.strip_prefix("http://").expect("an http URL");
    let mut stream = tokio::net::TcpStream::connect(host).await.expect("connect");
    let mut request = format!(
        "{method} {path} HTTP/1.0\r\nHost: {host}\r\nContent-Length: {}\r\n",
        body.len()
    );
    for (k, v) in headers {
        request.push_str(&format!("{k}: {v}\r\n"));
    }
    request.push_str("\r\n");
    request.push_str(body);
    stream.write_all(request.as_bytes()).await.expect("send");
    let mut response = String::new();
    stream.read_to_string(&mut response).await.expect("read");
    let (head, body) = response.split_once("\r\n\r\n").expect("a complete response");
    (
        head.lines().next().unwrap_or_default().to_string(),
        head.to_string(),
        body.to_string(),
    )
}

#[tokio::test(flavor = "multi_thread")]
async fn the_dashboard_asks_for_a_token_and_keeps_it_out_of_scripts() {
    let server = Server::start_with_dashboard();
    let base = server.dashboard.clone().unwrap();
    let admin = server.token.clone().unwrap();
    let lab = created_id(
        server
            .access()
            .await
            .create_access_scope(pb::CreateAccessScopeParams {
                label: "Lab".into(),
                ..Default::default()
            })
            .await,
    );
    let scoped = server.token_for("lab-viewer", &[(IPAM_USER, lab)]).await;

    let (status, _, _) = http(&base, "GET", "/api/operations", &[], "").await;
    assert!(status.contains("401"), "{status}");
    let bearer = format!("Bearer {admin}");
    let (status, _, body) = http(&base, "GET", "/api/operations", &[("Authorization", &bearer)], "").await;
    assert!(status.contains("200"), "{status} {body}");
    let bearer = format!("Bearer {scoped}");
    let (status, _, _) = http(&base, "GET", "/api/operations", &[("Authorization", &bearer)], "").await;
    assert!(
        status.contains("403"),
        "a viewer of one scope does not read the whole log: {status}"
    );

    let (status, head, _) = http(&base, "POST", "/login", &[], &admin).await;
    assert!(status.contains("20"), "{status}");
    let cookie = head
        .lines()
        .find(|l| l.to_ascii_lowercase().starts_with("set-cookie:"))
        .expect("a session cookie");
    assert!(
        cookie.contains("HttpOnly") && cookie.contains("SameSite=Strict"),
        "{cookie}"
    );
    let pair = cookie
        .split_once(':')
        .unwrap()
        .1
        .trim()
        .split(';')
        .next()
        .unwrap()
        .to_string();
    let (status, _, _) = http(&base, "GET", "/api/operations", &[("Cookie", &pair)], "").await;
    assert!(status.contains("200"), "{status}");
    let (status, _, _) = http(&base, "POST", "/login", &[], "ipam_0123456789abcdef_00").await;
    assert!(status.contains("401"), "{status}");
    // Metrics and the HTTP health probe stay open for scrapers and kubelets.
    let (status, _, _) = http(&base, "GET", "/metrics", &[], "").await;
    assert!(status.contains("200"), "{status}");
    let (status, _, body) = http(&base, "GET", "/healthz", &[], "").await;
    assert!(
        status.contains("200") && body.starts_with("SERVING"),
        "{status} {body}"
    );
}
