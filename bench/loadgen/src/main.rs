//! `loadgen`: closed-loop HTTP load against a running smsgate.
//!
//! Each worker holds one keep-alive HTTP/1.1 connection and sends its next
//! request when the previous answer arrived, so concurrency is exact. Every
//! request goes to a distinct recipient. Prints one JSON line of results.

use std::sync::Arc;
use std::sync::atomic::{AtomicBool, AtomicU64, Ordering};
use std::time::{Duration, Instant};

use anyhow::{Context, bail};
use clap::{Parser, Subcommand};
use http_body_util::{BodyExt, Full};
use hyper::body::Bytes;
use hyper::{Method, Request};
use serde_json::{Value, json};
use tokio::net::TcpStream;

#[derive(Parser)]
struct Cli {
    /// host:port of smsgate.
    #[arg(long, default_value = "127.0.0.1:8080")]
    addr: String,
    /// API key of the sending account.
    #[arg(long, env = "SMSGATE_API_KEY")]
    key: String,
    #[arg(long, default_value_t = 64)]
    concurrency: usize,
    /// Seconds of measured load (after a 2 s warm-up).
    #[arg(long, default_value_t = 20)]
    duration: u64,
    /// Recipients per second to offer in total (0: as fast as answered).
    #[arg(long, default_value_t = 0)]
    rate: u64,
    #[command(subcommand)]
    scenario: Scenario,
}

#[derive(Subcommand, Clone)]
enum Scenario {
    /// POST /v1/messages, one recipient each.
    Messages {
        /// Schedule every message this many days ahead, so that only
        /// intake is measured; 0 sends now.
        #[arg(long, default_value_t = 0)]
        schedule_days: u64,
    },
    /// POST /api/http/sms/send (the `ultimate` dialect), one recipient
    /// each, the key as a bearer token.
    Ultimate {
        #[arg(long, default_value_t = 0)]
        schedule_days: u64,
    },
    /// POST /v1/batches with this many personalised items each.
    Batches {
        #[arg(long, default_value_t = 1000)]
        items: usize,
        /// Schedule every message this many days ahead (for the memory
        /// benchmark); 0 sends now.
        #[arg(long, default_value_t = 0)]
        schedule_days: u64,
        /// Stop after this many recipients in total (0: run for --duration).
        #[arg(long, default_value_t = 0)]
        total: u64,
    },
}

struct Stats {
    ok: AtomicU64,
    failed: AtomicU64,
    recipients: AtomicU64,
    latencies_us: std::sync::Mutex<Vec<u32>>,
    first_failure: std::sync::Mutex<Option<String>>,
}

static NEXT: AtomicU64 = AtomicU64::new(0);

fn number(n: u64) -> String {
    // Valid Dutch mobile numbers, distinct for 5·10^7 requests and spread
    // over the 500 ranges +316100… to +316599… as real traffic is (one
    // range takes 6,000 a minute before its velocity limit).
    let n = n % 50_000_000;
    format!("+316{}{:02}{:05}", 1 + n % 500 / 100, n % 100, n / 500)
}

fn body(scenario: &Scenario) -> (String, Vec<u8>, u64) {
    match scenario {
        Scenario::Messages { schedule_days } => {
            let n = NEXT.fetch_add(1, Ordering::Relaxed);
            let mut b = json!({"to": number(n), "from": "Bench", "text": "Your code is 123456"});
            if *schedule_days > 0 {
                b["schedule_at"] = json!(schedule_at(*schedule_days));
            }
            ("/v1/messages".into(), b.to_string().into_bytes(), 1)
        }
        Scenario::Ultimate { schedule_days } => {
            let n = NEXT.fetch_add(1, Ordering::Relaxed);
            let mut b = json!({"recipient": number(n).trim_start_matches('+'), "sender_id": "Bench",
                               "type": "plain", "message": "Your code is 123456"});
            if *schedule_days > 0 {
                // The dialect's `Y-m-d H:i`, in the account's zone (UTC).
                let at =
                    time::OffsetDateTime::now_utc() + time::Duration::days(*schedule_days as i64);
                b["schedule_time"] = json!(format!(
                    "{:04}-{:02}-{:02} {:02}:{:02}",
                    at.year(),
                    u8::from(at.month()),
                    at.day(),
                    at.hour(),
                    at.minute()
                ));
            }
            ("/api/http/sms/send".into(), b.to_string().into_bytes(), 1)
        }
        Scenario::Batches {
            items,
            schedule_days,
            ..
        } => {
            let start = NEXT.fetch_add(*items as u64, Ordering::Relaxed);
            let items: Vec<Value> = (0..*items as u64)
                .map(|i| json!({"to": number(start + i), "text": format!("Hello customer {}", start + i)}))
                .collect();
            let mut b = json!({"from": "Bench", "items": items});
            if *schedule_days > 0 {
                b["schedule_at"] = json!(schedule_at(*schedule_days));
            }
            (
                "/v1/batches".into(),
                b.to_string().into_bytes(),
                items.len() as u64,
            )
        }
    }
}

fn schedule_at(days: u64) -> String {
    let at = time::OffsetDateTime::now_utc() + time::Duration::days(days as i64);
    at.format(&time::format_description::well_known::Rfc3339)
        .unwrap_or_default()
}

async fn worker(
    cli: Arc<Cli>,
    stats: Arc<Stats>,
    measuring: Arc<AtomicBool>,
    stop: Arc<AtomicBool>,
) -> anyhow::Result<()> {
    let stream = TcpStream::connect(&cli.addr).await.context("connect")?;
    stream.set_nodelay(true)?;
    let io = hyper_util_io::TokioIo(stream);
    let (mut sender, conn) = hyper::client::conn::http1::handshake(io).await?;
    tokio::spawn(conn);
    let mut local = Vec::with_capacity(100_000);
    let auth = format!("Bearer {}", cli.key);
    let paced_from = Instant::now();
    let mut sent_recipients: u64 = 0;
    while !stop.load(Ordering::Relaxed) {
        let (path, bytes, recipients) = body(&cli.scenario);
        if cli.rate > 0 {
            // This worker's share of the rate: one request every `interval`.
            let due = paced_from
                + Duration::from_secs_f64(
                    sent_recipients as f64 * cli.concurrency as f64 / cli.rate as f64,
                );
            tokio::time::sleep_until(due.into()).await;
            sent_recipients += recipients;
        }
        let req = Request::builder()
            .method(Method::POST)
            .uri(path)
            .header("host", &cli.addr)
            .header("authorization", &auth)
            .header("content-type", "application/json")
            .body(Full::new(Bytes::from(bytes)))?;
        let started = Instant::now();
        let res = sender.send_request(req).await?;
        let status = res.status();
        let answer = res.into_body().collect().await?.to_bytes();
        // 202 from the native API, 200 from the dialects.
        if !status.is_success() {
            let mut first = stats.first_failure.lock().unwrap();
            if first.is_none() {
                *first = Some(format!("{status}: {}", String::from_utf8_lossy(&answer)));
            }
        }
        let elapsed = started.elapsed();
        if !measuring.load(Ordering::Relaxed) {
            continue;
        }
        if status.is_success() {
            stats.ok.fetch_add(1, Ordering::Relaxed);
            let total = stats.recipients.fetch_add(recipients, Ordering::Relaxed) + recipients;
            if let Scenario::Batches { total: limit, .. } = cli.scenario
                && limit > 0
                && total >= limit
            {
                stop.store(true, Ordering::Relaxed);
            }
        } else {
            stats.failed.fetch_add(1, Ordering::Relaxed);
        }
        local.push(elapsed.as_micros().min(u32::MAX as u128) as u32);
    }
    stats.latencies_us.lock().unwrap().extend(local);
    Ok(())
}

/// tokio's TcpStream as hyper's I/O, without pulling in hyper-util.
mod hyper_util_io {
    use std::pin::Pin;
    use std::task::{Context, Poll};

    use hyper::rt::{Read, ReadBufCursor, Write};
    use tokio::io::{AsyncRead, AsyncWrite, ReadBuf};

    pub struct TokioIo(pub tokio::net::TcpStream);

    impl Read for TokioIo {
        fn poll_read(
            self: Pin<&mut Self>,
            cx: &mut Context<'_>,
            mut buf: ReadBufCursor<'_>,
        ) -> Poll<std::io::Result<()>> {
            // SAFETY-free path: read into a stack buffer, then copy.
            let mut tmp = [0u8; 16 * 1024];
            let n = {
                let mut rb = ReadBuf::new(&mut tmp[..buf.remaining().min(16 * 1024)]);
                match Pin::new(&mut self.get_mut().0).poll_read(cx, &mut rb) {
                    Poll::Ready(Ok(())) => rb.filled().len(),
                    Poll::Ready(Err(e)) => return Poll::Ready(Err(e)),
                    Poll::Pending => return Poll::Pending,
                }
            };
            buf.put_slice(&tmp[..n]);
            Poll::Ready(Ok(()))
        }
    }

    impl Write for TokioIo {
        fn poll_write(
            self: Pin<&mut Self>,
            cx: &mut Context<'_>,
            buf: &[u8],
        ) -> Poll<std::io::Result<usize>> {
            Pin::new(&mut self.get_mut().0).poll_write(cx, buf)
        }
        fn poll_flush(self: Pin<&mut Self>, cx: &mut Context<'_>) -> Poll<std::io::Result<()>> {
            Pin::new(&mut self.get_mut().0).poll_flush(cx)
        }
        fn poll_shutdown(self: Pin<&mut Self>, cx: &mut Context<'_>) -> Poll<std::io::Result<()>> {
            Pin::new(&mut self.get_mut().0).poll_shutdown(cx)
        }
    }
}

fn percentile(sorted: &[u32], p: f64) -> f64 {
    if sorted.is_empty() {
        return 0.0;
    }
    let i = ((sorted.len() as f64 - 1.0) * p).round() as usize;
    f64::from(sorted[i]) / 1000.0
}

fn main() -> anyhow::Result<()> {
    let cli = Arc::new(Cli::parse());
    // One thread: the load generator shares the 2 cores with the server.
    let rt = tokio::runtime::Builder::new_current_thread()
        .enable_all()
        .build()?;
    rt.block_on(async move {
        let stats = Arc::new(Stats {
            ok: AtomicU64::new(0),
            failed: AtomicU64::new(0),
            recipients: AtomicU64::new(0),
            latencies_us: std::sync::Mutex::new(Vec::new()),
            first_failure: std::sync::Mutex::new(None),
        });
        let measuring = Arc::new(AtomicBool::new(false));
        let stop = Arc::new(AtomicBool::new(false));
        let workers: Vec<_> = (0..cli.concurrency)
            .map(|_| {
                tokio::spawn(worker(
                    cli.clone(),
                    stats.clone(),
                    measuring.clone(),
                    stop.clone(),
                ))
            })
            .collect();
        tokio::time::sleep(Duration::from_secs(2)).await;
        measuring.store(true, Ordering::Relaxed);
        let started = Instant::now();
        let deadline = started + Duration::from_secs(cli.duration);
        while Instant::now() < deadline && !stop.load(Ordering::Relaxed) {
            tokio::time::sleep(Duration::from_millis(50)).await;
        }
        stop.store(true, Ordering::Relaxed);
        let elapsed = started.elapsed().as_secs_f64();
        for w in workers {
            w.await??;
        }
        let mut lat = std::mem::take(&mut *stats.latencies_us.lock().unwrap());
        lat.sort_unstable();
        let ok = stats.ok.load(Ordering::Relaxed);
        let failed = stats.failed.load(Ordering::Relaxed);
        let first_failure = stats.first_failure.lock().unwrap().clone();
        if ok == 0 {
            bail!("no request succeeded ({failed} failed; first: {first_failure:?})");
        }
        let recipients = stats.recipients.load(Ordering::Relaxed);
        println!(
            "{}",
            json!({
                "requests_ok": ok,
                "requests_failed": failed,
                "first_failure": first_failure,
                "seconds": (elapsed * 100.0).round() / 100.0,
                "requests_per_s": (ok as f64 / elapsed).round(),
                "recipients_per_s": (recipients as f64 / elapsed).round(),
                "latency_ms": {
                    "p50": percentile(&lat, 0.50),
                    "p90": percentile(&lat, 0.90),
                    "p99": percentile(&lat, 0.99),
                    "max": percentile(&lat, 1.0),
                },
            })
        );
        Ok(())
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn numbers_are_distinct_valid_dutch_mobiles() {
        assert_eq!(number(7), "+31610700000");
        assert_eq!(number(1_234_567), "+31616702469");
        assert_ne!(number(1), number(2));
    }
}
