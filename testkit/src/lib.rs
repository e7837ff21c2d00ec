//! Test helpers shared by every crate's tests.
//!
//! [`RedisServer`] starts a private `redis-server` (with taskq's launcher,
//! `taskq::redis_server`) on a free port (never 6379) in a temporary
//! folder, and kills it when dropped: tests can stop,
//! restart (same port, same data) and break it at will. Variants: AOF
//! persistence, a one-node Redis Cluster, TLS with a CA made for the test.
//! [`wait_until`] polls a condition with a generous deadline: no fixed sleeps.
//! [`client`] has short-hands for the queue client.

pub mod client;

use std::net::{TcpListener, TcpStream};
use std::path::{Path, PathBuf};
use std::process::{Command, Stdio};
use std::time::{Duration, Instant};

use taskq::Config;
use taskq::redis_server::{Launch, RedisProcess, Tls};

/// How a test server is set up.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Mode {
    /// In memory only.
    Plain,
    /// Append-only file, fsync always: survives a restart.
    Aof,
    /// A one-node cluster owning every slot.
    Cluster,
    /// A cluster node owning no slot yet, to join to a [`Mode::Cluster`]
    /// server ([`RedisServer::join`]).
    ClusterNode,
    /// TLS only, with a CA made for the test.
    Tls,
}

/// A private redis-server, killed on drop.
pub struct RedisServer {
    /// The running server; `None` while killed.
    process: Option<RedisProcess>,
    /// Kept across restarts, so clients reconnect to the same address.
    port: u16,
    /// How it is set up, again at every restart.
    mode: Mode,
    /// Its data and certificates, removed on drop.
    dir: tempfile::TempDir,
}

impl RedisServer {
    /// A plain in-memory server.
    pub fn start() -> Self {
        Self::start_mode(Mode::Plain)
    }

    /// A server in `mode`.
    pub fn start_mode(mode: Mode) -> Self {
        let dir = tempfile::tempdir().expect("temp dir");
        if mode == Mode::Tls {
            make_certs(dir.path());
        }
        let mut s = RedisServer { process: None, port: free_port(), mode, dir };
        // Another process may take the port between our probe and the bind: try others.
        for _ in 0..5 {
            if s.spawn() {
                if mode == Mode::Cluster {
                    s.cli(&["cluster", "addslotsrange", "0", "16383"]);
                    wait_until("cluster state ok", Duration::from_secs(20), || {
                        s.cli(&["cluster", "info"]).contains("cluster_state:ok")
                    });
                }
                return s;
            }
            s.kill();
            s.port = free_port();
        }
        panic!("redis-server did not start (is it installed?)");
    }

    /// Starts the process on its port and waits until it answers PING;
    /// false when it exits first (the port was taken) or does not answer.
    fn spawn(&mut self) -> bool {
        let dir = self.dir.path();
        let mut launch = Launch::new(self.port, dir);
        if self.mode == Mode::Tls {
            let tls = Tls { cert: dir.join("server.crt"), key: dir.join("server.key"), ca: dir.join("ca.crt") };
            launch.tls = Some(tls);
        }
        launch = match self.mode {
            Mode::Aof => launch.args(["--appendonly", "yes", "--appendfsync", "always"]),
            _ => launch.args(["--appendonly", "no"]),
        };
        if matches!(self.mode, Mode::Cluster | Mode::ClusterNode) {
            let nodes = dir.join("nodes.conf").to_str().expect("utf-8 path").to_owned();
            launch = launch.args(["--cluster-enabled".to_owned(), "yes".into(), "--cluster-config-file".into(), nodes]);
        }
        let mut process = launch.spawn().expect("redis-server must be installed");
        let ready = process.wait_ready(Duration::from_secs(10), || {
            TcpStream::connect(("127.0.0.1", self.port)).is_ok() && self.cli(&["ping"]).contains("PONG")
        });
        self.process = Some(process);
        ready.is_ok()
    }

    /// Its port.
    pub fn port(&self) -> u16 {
        self.port
    }

    /// Its folder (AOF, certificates).
    pub fn dir(&self) -> &Path {
        self.dir.path()
    }

    /// A URL for clients (`rediss://` in TLS mode).
    pub fn url(&self) -> String {
        match self.mode {
            Mode::Tls => format!("rediss://localhost:{}/0", self.port),
            _ => format!("redis://127.0.0.1:{}/0", self.port),
        }
    }

    /// The CA file clients must trust (TLS mode).
    pub fn ca_file(&self) -> PathBuf {
        self.dir.path().join("ca.crt")
    }

    /// A configuration pointing at this server, with short intervals for tests.
    pub fn config(&self) -> Config {
        Config {
            redis_url: self.url(),
            redis_timeout: Duration::from_secs(2),
            worker_heartbeat: Duration::from_millis(300),
            shutdown_grace: Duration::from_secs(5),
            redis_tls_ca_file: (self.mode == Mode::Tls).then(|| self.ca_file().to_str().expect("utf-8").to_owned()),
            ..Config::default()
        }
    }

    /// Environment variables equal to [`RedisServer::config`], for child processes.
    pub fn env(&self) -> Vec<(String, String)> {
        let mut v = vec![
            ("REDIS_URL".to_owned(), self.url()),
            ("WORKER_HEARTBEAT".into(), "0.3".into()),
            ("SHUTDOWN_GRACE".into(), "5".into()),
        ];
        if self.mode == Mode::Tls {
            v.push(("REDIS_TLS_CA_FILE".into(), self.ca_file().to_str().expect("utf-8").to_owned()));
        }
        v
    }

    /// Runs `redis-cli` against it and returns what it printed.
    pub fn cli(&self, args: &[&str]) -> String {
        let mut cmd = Command::new("redis-cli");
        cmd.args(["-h", "127.0.0.1", "-p", &self.port.to_string()]);
        if self.mode == Mode::Tls {
            cmd.args(["--tls", "--cacert"]).arg(self.ca_file());
        }
        let out = cmd.args(args).stderr(Stdio::null()).output().expect("redis-cli must be installed");
        String::from_utf8_lossy(&out.stdout).into_owned()
    }

    /// Joins this cluster node to `other`'s cluster and waits until both
    /// see each other and the cluster is up for both.
    pub fn join(&self, other: &RedisServer) {
        assert!(self.cli(&["cluster", "meet", "127.0.0.1", &other.port.to_string()]).contains("OK"));
        wait_until("the nodes meet", Duration::from_secs(20), || {
            [self, other].iter().all(|s| {
                let nodes = s.cli(&["cluster", "nodes"]);
                nodes.lines().count() == 2 && !nodes.contains("handshake")
            }) && self.cli(&["cluster", "info"]).contains("cluster_state:ok")
        });
    }

    /// Its cluster node id.
    pub fn node_id(&self) -> String {
        self.cli(&["cluster", "myid"]).trim().to_owned()
    }

    /// Kills it (SIGKILL): clients see a dead server.
    pub fn kill(&mut self) {
        if let Some(mut p) = self.process.take() {
            p.kill();
        }
    }

    /// Starts it again on the same port with the same folder (and data, with AOF).
    pub fn restart(&mut self) {
        self.kill();
        let deadline = Instant::now() + Duration::from_secs(20);
        while !self.spawn() {
            self.kill();
            assert!(Instant::now() < deadline, "redis-server did not restart on port {}", self.port);
            std::thread::sleep(Duration::from_millis(200));
        }
    }
}

/// A TCP port nobody listens on now (never 6379).
pub fn free_port() -> u16 {
    loop {
        let port = TcpListener::bind("127.0.0.1:0").expect("bind").local_addr().expect("addr").port();
        if port != 6379 {
            return port;
        }
    }
}

/// Polls `cond` every 20 ms until it holds; panics with `what` after `deadline`.
pub fn wait_until(what: &str, deadline: Duration, mut cond: impl FnMut() -> bool) {
    let end = Instant::now() + deadline;
    while !cond() {
        assert!(Instant::now() < end, "timed out after {deadline:?} waiting for: {what}");
        std::thread::sleep(Duration::from_millis(20));
    }
}

/// Async version of [`wait_until`] for tests on a Tokio runtime.
pub async fn wait_for<F, Fut>(what: &str, deadline: Duration, mut cond: F)
where
    F: FnMut() -> Fut,
    Fut: std::future::Future<Output = bool>,
{
    let end = Instant::now() + deadline;
    while !cond().await {
        assert!(Instant::now() < end, "timed out after {deadline:?} waiting for: {what}");
        tokio::time::sleep(Duration::from_millis(20)).await;
    }
}

/// Makes a CA and a server certificate for `localhost` and 127.0.0.1 with openssl.
fn make_certs(dir: &Path) {
    let run = |args: &[&str]| {
        let ok =
            Command::new("openssl").args(args).current_dir(dir).stdout(Stdio::null()).stderr(Stdio::null()).status();
        assert!(ok.map(|s| s.success()).unwrap_or(false), "openssl {args:?} failed (is openssl installed?)");
    };
    run(&[
        "req",
        "-x509",
        "-newkey",
        "rsa:2048",
        "-nodes",
        "-keyout",
        "ca.key",
        "-out",
        "ca.crt",
        "-days",
        "2",
        "-subj",
        "/CN=taskq test CA",
    ]);
    run(&[
        "req",
        "-newkey",
        "rsa:2048",
        "-nodes",
        "-keyout",
        "server.key",
        "-out",
        "server.csr",
        "-subj",
        "/CN=localhost",
    ]);
    std::fs::write(dir.join("ext.cnf"), "subjectAltName=DNS:localhost,IP:127.0.0.1\n").expect("write ext");
    run(&[
        "x509",
        "-req",
        "-in",
        "server.csr",
        "-CA",
        "ca.crt",
        "-CAkey",
        "ca.key",
        "-CAcreateserial",
        "-out",
        "server.crt",
        "-days",
        "2",
        "-extfile",
        "ext.cnf",
    ]);
}
