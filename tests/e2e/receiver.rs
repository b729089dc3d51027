//! A webhook receiver on loopback for the tests: plain HTTP/1.1 over a
//! tokio socket, answering each request as told (fail, hang, succeed) and
//! keeping what arrived.

use std::sync::{Arc, Mutex};
use std::time::Duration;

use serde_json::Value;
use tokio::io::{AsyncBufReadExt, AsyncReadExt, AsyncWriteExt, BufReader};
use tokio::net::TcpListener;

/// How the receiver answers its n-th request (0-based).
pub type Behaviour = Arc<dyn Fn(usize) -> Answer + Send + Sync>;

#[derive(Clone, Debug)]
pub enum Answer {
    Status(u16),
    /// 302 to this URL.
    Redirect(String),
    /// Never answer (the sender's timeout fires).
    Hang,
}

#[derive(Clone, Debug)]
pub struct Request {
    pub headers: Vec<(String, String)>,
    pub body: Vec<u8>,
    pub answered: Option<u16>,
}

impl Request {
    pub fn header(&self, name: &str) -> Option<&str> {
        self.headers
            .iter()
            .find(|(n, _)| n.eq_ignore_ascii_case(name))
            .map(|(_, v)| v.as_str())
    }

    pub fn json(&self) -> Value {
        serde_json::from_slice(&self.body).unwrap_or(Value::Null)
    }
}

pub struct Receiver {
    pub url: String,
    pub requests: Arc<Mutex<Vec<Request>>>,
    task: tokio::task::JoinHandle<()>,
}

impl Receiver {
    pub async fn start(behaviour: Behaviour) -> Receiver {
        Receiver::on("127.0.0.1:0", behaviour).await
    }

    pub async fn on(addr: &str, behaviour: Behaviour) -> Receiver {
        let listener = TcpListener::bind(addr).await.expect("bind receiver");
        let url = format!("http://{}/hook", listener.local_addr().unwrap());
        let requests: Arc<Mutex<Vec<Request>>> = Arc::default();
        let seen = requests.clone();
        let task = tokio::spawn(async move {
            loop {
                let Ok((socket, _)) = listener.accept().await else {
                    return;
                };
                let (seen, behaviour) = (seen.clone(), behaviour.clone());
                tokio::spawn(async move {
                    let (read, mut write) = socket.into_split();
                    let mut read = BufReader::new(read);
                    let mut headers = Vec::new();
                    let mut line = String::new();
                    if read.read_line(&mut line).await.unwrap_or(0) == 0 {
                        return;
                    }
                    loop {
                        line.clear();
                        if read.read_line(&mut line).await.unwrap_or(0) == 0 {
                            return;
                        }
                        let l = line.trim_end();
                        if l.is_empty() {
                            break;
                        }
                        if let Some((n, v)) = l.split_once(':') {
                            headers.push((n.trim().to_string(), v.trim().to_string()));
                        }
                    }
                    let len: usize = headers
                        .iter()
                        .find(|(n, _)| n.eq_ignore_ascii_case("content-length"))
                        .and_then(|(_, v)| v.parse().ok())
                        .unwrap_or(0);
                    let mut body = vec![0; len];
                    if read.read_exact(&mut body).await.is_err() {
                        return;
                    }
                    let n = {
                        let mut all = seen.lock().unwrap();
                        all.push(Request {
                            headers,
                            body,
                            answered: None,
                        });
                        all.len() - 1
                    };
                    match behaviour(n) {
                        Answer::Hang => {
                            tokio::time::sleep(Duration::from_secs(30)).await;
                        }
                        answer => {
                            let (code, location) = match answer {
                                Answer::Redirect(to) => (302, format!("location: {to}\r\n")),
                                Answer::Status(code) => (code, String::new()),
                                Answer::Hang => unreachable!(),
                            };
                            seen.lock().unwrap()[n].answered = Some(code);
                            let reply = format!(
                                "HTTP/1.1 {code} X\r\n{location}content-length: 0\r\nconnection: close\r\n\r\n"
                            );
                            let _ = write.write_all(reply.as_bytes()).await;
                            let _ = write.shutdown().await;
                        }
                    }
                });
            }
        });
        Receiver {
            url,
            requests,
            task,
        }
    }

    /// Requests answered 2xx.
    pub fn delivered(&self) -> Vec<Request> {
        self.requests
            .lock()
            .unwrap()
            .iter()
            .filter(|r| r.answered.is_some_and(|c| (200..300).contains(&c)))
            .cloned()
            .collect()
    }
}

impl Drop for Receiver {
    fn drop(&mut self) {
        self.task.abort();
    }
}
