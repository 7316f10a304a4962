//! A kea-dhcp4 daemon of our own on this machine, for the end-to-end tests and the
//! benchmarks: its own directory (config, control socket, memfile lease file, pid and lock
//! files), no interfaces (so no DHCP traffic), the lease_cmds and stat_cmds hooks, and a
//! control agent in front of it when asked. It is the real Debian daemon, not a fake;
//! this is only how to start and stop one.

use serde_json::{Value, json};
use std::io::{Read, Write};
use std::os::unix::net::UnixStream;
use std::path::{Path, PathBuf};
use std::process::{Child, Command, Stdio};
use std::time::{Duration, Instant};

pub const KEA_DHCP4: &str = "/usr/sbin/kea-dhcp4";
const HOOKS: &str = "/usr/lib/x86_64-linux-gnu/kea/hooks";
/// How long a daemon may take to answer after it starts, or after a new configuration.
const DEADLINE: Duration = Duration::from_secs(30);

/// Whether Debian's kea-dhcp4-server is installed (`make kea-deps` installs it).
pub fn installed() -> bool {
    Path::new(KEA_DHCP4).exists()
}

pub const KEA_CTRL_AGENT: &str = "/usr/sbin/kea-ctrl-agent";

pub struct LocalKea {
    dir: PathBuf,
    child: Option<Child>,
    /// The control agent in front of the daemon, if one was started, and its port.
    agent: Option<(Child, u16)>,
}

impl LocalKea {
    /// Writes a configuration with `subnets` (the operator's own, which IPAM must leave
    /// alone) and starts the daemon; returns once it answers on its control socket.
    pub fn start(dir: &Path, subnets: Value) -> std::io::Result<LocalKea> {
        std::fs::create_dir_all(dir)?;
        let config = json!({"Dhcp4": {
            "interfaces-config": {"interfaces": []},
            "control-socket": {"socket-type": "unix", "socket-name": dir.join("ctrl.sock")},
            "lease-database": {"type": "memfile", "name": dir.join("leases.csv"), "lfc-interval": 0},
            "hooks-libraries": [
                {"library": format!("{HOOKS}/libdhcp_lease_cmds.so")},
                {"library": format!("{HOOKS}/libdhcp_stat_cmds.so")}
            ],
            "subnet4": subnets,
            "loggers": [{"name": "kea-dhcp4", "severity": "WARN",
                         "output_options": [{"output": dir.join("kea.log")}]}]
        }});
        std::fs::write(dir.join("kea.json"), config.to_string())?;
        let mut kea = LocalKea {
            dir: dir.to_path_buf(),
            child: None,
            agent: None,
        };
        kea.spawn()?;
        Ok(kea)
    }

    /// Starts the daemon again on its (possibly config-written) configuration and lease
    /// file; returns once it answers.
    pub fn spawn(&mut self) -> std::io::Result<()> {
        let _ = std::fs::remove_file(self.socket());
        let child = Command::new(KEA_DHCP4)
            .arg("-c")
            .arg(self.dir.join("kea.json"))
            .env("KEA_PIDFILE_DIR", &self.dir)
            .env("KEA_LOCKFILE_DIR", &self.dir)
            .stdout(Stdio::null())
            .stderr(std::fs::File::create(self.dir.join("stderr.log"))?)
            .spawn()?;
        self.child = Some(child);
        let started = Instant::now();
        // The daemon gives no readiness signal but its socket: poll it, bounded.
        while self.try_command("version-get", None).is_err() {
            if started.elapsed() > DEADLINE {
                return Err(std::io::Error::other(format!(
                    "kea-dhcp4 in {} did not answer within {DEADLINE:?}",
                    self.dir.display()
                )));
            }
            std::thread::sleep(Duration::from_millis(20));
        }
        Ok(())
    }

    pub fn stop(&mut self) {
        if let Some(mut child) = self.child.take() {
            let _ = child.kill();
            let _ = child.wait();
        }
    }

    /// Starts a kea-ctrl-agent in front of the daemon on a free loopback port (Kea's HA
    /// partners talk through their agents); returns once it accepts connections.
    pub fn start_agent(&mut self) -> std::io::Result<()> {
        // A free port: bound and released; the agent binds it right after.
        let port = std::net::TcpListener::bind("127.0.0.1:0")?.local_addr()?.port();
        let config = json!({"Control-agent": {
            "http-host": "127.0.0.1",
            "http-port": port,
            "control-sockets": {"dhcp4": {"socket-type": "unix", "socket-name": self.socket()}},
            "loggers": [{"name": "kea-ctrl-agent", "severity": "WARN",
                         "output_options": [{"output": self.dir.join("agent.log")}]}]
        }});
        let path = self.dir.join("agent.json");
        std::fs::write(&path, config.to_string())?;
        let child = Command::new(KEA_CTRL_AGENT)
            .arg("-c")
            .arg(&path)
            .env("KEA_PIDFILE_DIR", &self.dir)
            .env("KEA_LOCKFILE_DIR", &self.dir)
            .stdout(Stdio::null())
            .stderr(std::fs::File::create(self.dir.join("agent.stderr.log"))?)
            .spawn()?;
        self.agent = Some((child, port));
        let started = Instant::now();
        while std::net::TcpStream::connect(("127.0.0.1", port)).is_err() {
            if started.elapsed() > DEADLINE {
                return Err(std::io::Error::other(format!(
                    "kea-ctrl-agent on port {port} did not listen within {DEADLINE:?}"
                )));
            }
            std::thread::sleep(Duration::from_millis(20));
        }
        Ok(())
    }

    /// The control agent's endpoint to give IPAM, if one runs.
    pub fn agent_url(&self) -> Option<String> {
        self.agent
            .as_ref()
            .map(|(_, port)| format!("kea+http://127.0.0.1:{port}/"))
    }

    pub fn dir(&self) -> &Path {
        &self.dir
    }

    pub fn socket(&self) -> PathBuf {
        self.dir.join("ctrl.sock")
    }

    /// The control endpoint to give IPAM.
    pub fn control_url(&self) -> String {
        format!("kea+unix://{}", self.socket().display())
    }

    /// One command on the control socket, and Kea's answer.
    pub fn try_command(&self, command: &str, arguments: Option<Value>) -> std::io::Result<Value> {
        let mut stream = UnixStream::connect(self.socket())?;
        let mut request = json!({ "command": command });
        if let Some(a) = arguments {
            request["arguments"] = a;
        }
        stream.write_all(request.to_string().as_bytes())?;
        let mut answer = String::new();
        stream.read_to_string(&mut answer)?;
        serde_json::from_str(&answer).map_err(std::io::Error::other)
    }

    /// A command that must succeed. The socket is briefly away while Kea applies a new
    /// configuration, so a refused connection is tried again (bounded).
    pub fn command(&self, command: &str, arguments: Option<Value>) -> Value {
        let started = Instant::now();
        let answer = loop {
            match self.try_command(command, arguments.clone()) {
                Ok(answer) => break answer,
                Err(e) if started.elapsed() > DEADLINE => panic!("{command}: kea does not answer: {e}"),
                Err(_) => std::thread::sleep(Duration::from_millis(20)),
            }
        };
        assert_eq!(answer["result"], 0, "{command}: {answer}");
        answer
    }

    /// The running configuration's subnets (config-get).
    pub fn subnets(&self) -> Vec<Value> {
        let config = self.command("config-get", None);
        config["arguments"]["Dhcp4"]["subnet4"]
            .as_array()
            .cloned()
            .unwrap_or_default()
    }

    pub fn subnet(&self, network: &str) -> Option<Value> {
        self.subnets().into_iter().find(|s| s["subnet"] == network)
    }

    /// Replaces the lease file (the daemon must be stopped; it reads the file when it
    /// starts): `leases` as (address, MAC, hostname, subnet id), valid for a day.
    pub fn write_leases(
        &self,
        leases: impl IntoIterator<Item = (String, String, String, u64)>,
    ) -> std::io::Result<()> {
        assert!(
            self.child.is_none(),
            "the lease file is the daemon's while it runs"
        );
        let expire = std::time::SystemTime::now()
            .duration_since(std::time::UNIX_EPOCH)
            .map_or(0, |d| d.as_secs())
            + 86_400;
        let mut text = String::from(
            "address,hwaddr,client_id,valid_lifetime,expire,subnet_id,fqdn_fwd,fqdn_rev,hostname,state,user_context\n",
        );
        for (address, mac, hostname, subnet) in leases {
            text.push_str(&format!(
                "{address},{mac},,86400,{expire},{subnet},0,0,{hostname},0,\n"
            ));
        }
        std::fs::write(self.dir.join("leases.csv"), text)
    }
}

impl Drop for LocalKea {
    fn drop(&mut self) {
        if let Some((mut agent, _)) = self.agent.take() {
            let _ = agent.kill();
            let _ = agent.wait();
        }
        self.stop();
    }
}
