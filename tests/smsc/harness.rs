//! Starts the third-party test SMSC (`tests/smsc/smsc.js`, node-smpp) and
//! steers it over its HTTP control port. Shared by the test crates that
//! need a real SMPP peer (`#[path]`-included), std only.
#![allow(dead_code)]

use std::io::{BufRead, BufReader, Read, Write};
use std::net::TcpStream;
use std::path::PathBuf;
use std::process::{Child, Command, Stdio};
use std::time::{Duration, Instant};

use serde_json::Value;

pub struct Smsc {
    child: Child,
    pub smpp_port: u16,
    pub control_port: u16,
}

fn script_dir() -> PathBuf {
    PathBuf::from(env!("CARGO_MANIFEST_DIR"))
        .ancestors()
        .find(|d| d.join("tests/smsc/smsc.js").exists())
        .expect("tests/smsc/smsc.js above the crate")
        .join("tests/smsc")
}

impl Smsc {
    /// Starts the SMSC on free loopback ports, installing its npm package
    /// (pinned by the lock file) on first use.
    pub fn start() -> Smsc {
        Smsc::start_with(&[])
    }

    /// With extra arguments, e.g. `--tls-key FILE --tls-cert FILE`.
    pub fn start_with(args: &[&str]) -> Smsc {
        let dir = script_dir();
        install(&dir);
        let mut child = Command::new("node")
            .arg(dir.join("smsc.js"))
            .args(args)
            .stdout(Stdio::piped())
            .stderr(Stdio::inherit())
            .spawn()
            .expect("node must be installed to run the SMPP tests");
        let mut line = String::new();
        BufReader::new(child.stdout.take().expect("stdout"))
            .read_line(&mut line)
            .expect("SMSC output");
        let ports: Value = serde_json::from_str(&line).expect("SMSC announces its ports");
        Smsc {
            child,
            smpp_port: ports["smpp"].as_u64().expect("smpp port") as u16,
            control_port: ports["control"].as_u64().expect("control port") as u16,
        }
    }

    fn call(&self, method: &str, path: &str, body: &Value) -> Value {
        let mut s = TcpStream::connect(("127.0.0.1", self.control_port)).expect("SMSC control");
        let body = body.to_string();
        write!(
            s,
            "{method} {path} HTTP/1.0\r\nHost: smsc\r\nContent-Type: application/json\r\nContent-Length: {}\r\n\r\n{body}",
            body.len()
        )
        .expect("write control request");
        let mut answer = String::new();
        s.read_to_string(&mut answer).expect("read control answer");
        let json = answer.split("\r\n\r\n").nth(1).unwrap_or("{}");
        serde_json::from_str(json).unwrap_or(Value::Null)
    }

    pub fn state(&self) -> Value {
        self.call("GET", "/state", &Value::Null)
    }

    /// Changes behaviour, e.g. `json!({"fail_next": 3, "fail_status": 0x58})`.
    pub fn configure(&self, changes: Value) {
        self.call("POST", "/config", &changes);
    }

    pub fn post(&self, path: &str, body: Value) -> Value {
        self.call("POST", path, &body)
    }

    pub fn submits(&self) -> Vec<Value> {
        self.state()["submits"]
            .as_array()
            .cloned()
            .unwrap_or_default()
    }

    pub fn counter(&self, name: &str) -> u64 {
        self.state()["counters"][name].as_u64().unwrap_or(0)
    }

    /// Polls until `check` holds (panics after `secs`).
    pub fn wait_until(
        &self,
        secs: u64,
        what: &str,
        mut check: impl FnMut(&Value) -> bool,
    ) -> Value {
        let deadline = Instant::now() + Duration::from_secs(secs);
        loop {
            let state = self.state();
            if check(&state) {
                return state;
            }
            assert!(Instant::now() < deadline, "SMSC never saw {what}: {state}");
            std::thread::sleep(Duration::from_millis(20));
        }
    }
}

/// `npm ci` once per test process, when the package is missing.
fn install(dir: &std::path::Path) {
    static INSTALLED: std::sync::OnceLock<()> = std::sync::OnceLock::new();
    INSTALLED.get_or_init(|| {
        if dir.join("node_modules/smpp").exists() {
            return;
        }
        let status = Command::new("npm")
            .args(["ci", "--no-audit", "--no-fund", "--prefix"])
            .arg(dir)
            .stdout(Stdio::null())
            .status()
            .expect("npm must be installed to run the SMPP tests");
        assert!(status.success(), "npm ci in {} failed", dir.display());
    });
}

impl Drop for Smsc {
    fn drop(&mut self) {
        let _ = self.child.kill();
        let _ = self.child.wait();
    }
}
