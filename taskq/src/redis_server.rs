//! Starting a private `redis-server` (feature `redis-server`): the one
//! launcher behind `local`'s fallback Redis (AOF in `.taskq/redis`), the
//! benchmark's server and the test servers of `testkit`.
//!
//! It builds the command line (address, port, folder, TLS files, extra
//! options), spawns the process, waits until a probe says it serves, and
//! stops it: SIGTERM with a grace period (so it writes its AOF) or SIGKILL.
//! A [`RedisProcess`] dropped while running is killed. Only std and rustix:
//! the Lambda functions never build it.

use std::io::{Read, Write};
use std::net::TcpStream;
use std::path::{Path, PathBuf};
use std::process::{Child, Command, ExitStatus, Stdio};
use std::time::{Duration, Instant};

/// TLS files of a server that takes only TLS connections.
#[derive(Debug, Clone)]
pub struct Tls {
    /// The server's certificate.
    pub cert: PathBuf,
    /// Its private key.
    pub key: PathBuf,
    /// The CA that signed it (clients are not asked for certificates).
    pub ca: PathBuf,
}

/// How to start a server.
#[derive(Debug, Clone)]
pub struct Launch {
    /// Port on 127.0.0.1 (the TLS port when `tls` is set).
    pub port: u16,
    /// Its working folder: AOF, cluster state.
    pub dir: PathBuf,
    /// Set for a TLS-only server.
    pub tls: Option<Tls>,
    /// Further `--option value` words (persistence, cluster mode).
    pub args: Vec<String>,
    /// Whether its log goes to our stderr (the local stack shows it; tests
    /// keep quiet).
    pub show_log: bool,
}

impl Launch {
    /// An in-memory server (no RDB snapshots) on `port` in `dir`.
    pub fn new(port: u16, dir: impl Into<PathBuf>) -> Self {
        Launch { port, dir: dir.into(), tls: None, args: Vec::new(), show_log: false }
    }

    /// Adds `--option value` words.
    pub fn args<I: IntoIterator<Item = S>, S: Into<String>>(mut self, args: I) -> Self {
        self.args.extend(args.into_iter().map(Into::into));
        self
    }

    /// The full command line after `redis-server`.
    fn command_line(&self) -> Vec<String> {
        let path = |p: &Path| p.to_string_lossy().into_owned();
        let mut a: Vec<String> = vec!["--bind".into(), "127.0.0.1".into(), "--dir".into(), path(&self.dir)];
        a.extend(["--save", "", "--protected-mode", "no"].map(String::from));
        match &self.tls {
            None => a.extend(["--port".into(), self.port.to_string()]),
            Some(tls) => {
                a.extend(["--port".into(), "0".into(), "--tls-port".into(), self.port.to_string()]);
                a.extend(["--tls-cert-file".into(), path(&tls.cert), "--tls-key-file".into(), path(&tls.key)]);
                a.extend(["--tls-ca-cert-file".into(), path(&tls.ca), "--tls-auth-clients".into(), "no".into()]);
            }
        }
        a.extend(self.args.iter().cloned());
        a
    }

    /// Spawns it (does not wait: see [`RedisProcess::wait_ready`]); fails
    /// when `redis-server` cannot be run, e.g. it is not installed.
    pub fn spawn(&self) -> std::io::Result<RedisProcess> {
        let child = Command::new("redis-server")
            .args(self.command_line())
            .stdin(Stdio::null())
            .stdout(Stdio::null())
            .stderr(if self.show_log { Stdio::inherit() } else { Stdio::null() })
            .spawn()?;
        Ok(RedisProcess { child: Some(child), port: self.port })
    }
}

/// Why a started server does not serve.
#[derive(Debug, thiserror::Error)]
pub enum NotReady {
    /// It exited, most often because the port was taken.
    #[error("redis-server exited at start ({status}); is port {port} taken by something else?")]
    Exited {
        /// How it ended.
        status: ExitStatus,
        /// The port it was to listen on.
        port: u16,
    },
    /// It did not pass the probe in time.
    #[error("redis-server did not answer on port {port} within {} s", .within.as_secs())]
    TimedOut {
        /// How long it was given.
        within: Duration,
        /// The port it was to listen on.
        port: u16,
    },
}

/// A redis-server this process started; killed (SIGKILL) if dropped running.
#[derive(Debug)]
pub struct RedisProcess {
    /// `None` once it has been stopped and reaped.
    child: Option<Child>,
    /// Where it listens, for messages and [`ping`].
    port: u16,
}

impl RedisProcess {
    /// Its port.
    pub fn port(&self) -> u16 {
        self.port
    }

    /// Polls `ready` every 20 ms until it holds; fails when the server
    /// exits first or `within` passes. [`ping`] is the probe for plain servers.
    pub fn wait_ready(&mut self, within: Duration, mut ready: impl FnMut() -> bool) -> Result<(), NotReady> {
        let deadline = Instant::now() + within;
        loop {
            if let Some(Ok(Some(status))) = self.child.as_mut().map(Child::try_wait) {
                self.child = None;
                return Err(NotReady::Exited { status, port: self.port });
            }
            if ready() {
                return Ok(());
            }
            if Instant::now() > deadline {
                return Err(NotReady::TimedOut { within, port: self.port });
            }
            std::thread::sleep(Duration::from_millis(20));
        }
    }

    /// Stops it with SIGTERM, so it writes its AOF, and waits for it up to
    /// `grace`; then kills it.
    pub fn stop(&mut self, grace: Duration) {
        let Some(child) = self.child.as_mut() else { return };
        let pid = rustix::process::Pid::from_child(child);
        let _ = rustix::process::kill_process(pid, rustix::process::Signal::TERM);
        let deadline = Instant::now() + grace;
        while Instant::now() < deadline {
            if let Ok(Some(_)) = child.try_wait() {
                self.child = None;
                return;
            }
            std::thread::sleep(Duration::from_millis(20));
        }
        self.kill();
    }

    /// Kills it at once (SIGKILL): clients see a dead server.
    pub fn kill(&mut self) {
        if let Some(mut c) = self.child.take() {
            let _ = c.kill();
            let _ = c.wait();
        }
    }
}

impl Drop for RedisProcess {
    fn drop(&mut self) {
        self.kill();
    }
}

/// Whether a plain (non-TLS) Redis on 127.0.0.1:`port` answers PING with PONG.
pub fn ping(port: u16) -> bool {
    let probe = || -> std::io::Result<bool> {
        let mut s = TcpStream::connect(("127.0.0.1", port))?;
        s.set_read_timeout(Some(Duration::from_secs(1)))?;
        s.write_all(b"PING\r\n")?;
        let mut reply = [0u8; 7];
        s.read_exact(&mut reply)?;
        Ok(&reply == b"+PONG\r\n")
    };
    probe().unwrap_or(false)
}
