//! The HTTP server loop: the router over hyper's HTTP/1.1 with the limits
//! `axum::serve` does not set. A client must send a request's headers
//! within `header_read_timeout` (which also ends a keep-alive connection
//! idle that long), so slow or silent connections cannot pile up; and at
//! most `max_connections` are served at once. Past the cap a connection is
//! not dropped unanswered: it gets the shed service, where `/healthz`
//! still answers and everything else is 503 with `Retry-After`, and is
//! closed.

use std::sync::Arc;
use std::time::Duration;

use axum::Router;
use axum::extract::ConnectInfo;
use axum::http::header;
use axum::response::IntoResponse;
use hyper::body::Incoming;
use hyper_util::rt::{TokioIo, TokioTimer};
use hyper_util::service::TowerToHyperService;
use serde::{Deserialize, Serialize};
use tokio::net::TcpListener;
use tokio::sync::Semaphore;
use tokio_util::sync::CancellationToken;
use tokio_util::task::TaskTracker;
use tower::ServiceExt;

/// How many connections, and how patiently.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(default, deny_unknown_fields)]
pub struct HttpLimits {
    /// Connections served at once; more are answered 503 and closed.
    /// Default 1024.
    pub max_connections: usize,
    /// A request's headers must arrive within this; a keep-alive
    /// connection silent this long is closed. Default 10.
    pub header_read_timeout_secs: u64,
    /// A request's body must arrive within this. Default 30.
    pub body_read_timeout_secs: u64,
    /// Bytes of bodies being read at once for requests whose headers
    /// carry no valid key (dialects that take the key in the body); past
    /// it they are refused (503). Default 67108864 (64 MiB).
    pub unauthenticated_body_budget: usize,
}

impl Default for HttpLimits {
    fn default() -> Self {
        HttpLimits {
            max_connections: 1024,
            header_read_timeout_secs: 10,
            body_read_timeout_secs: 30,
            unauthenticated_body_budget: 64 * 1024 * 1024,
        }
    }
}

/// Serves `app` on `listener` until `stop`, then lets the requests in
/// flight finish.
pub async fn serve(
    listener: TcpListener,
    app: Router,
    limits: &HttpLimits,
    stop: CancellationToken,
) -> std::io::Result<()> {
    let slots = Arc::new(Semaphore::new(limits.max_connections.max(1)));
    let header_timeout = Duration::from_secs(limits.header_read_timeout_secs.max(1));
    let connections = TaskTracker::new();
    let shed = shed_router();
    loop {
        let (socket, peer) = tokio::select! {
            accepted = listener.accept() => match accepted {
                Ok(a) => a,
                Err(e) => {
                    // Out of descriptors and the like: wait, do not spin.
                    tracing::warn!(error = %e, "accept failed");
                    tokio::time::sleep(Duration::from_millis(50)).await;
                    continue;
                }
            },
            _ = stop.cancelled() => break,
        };
        let _ = socket.set_nodelay(true);
        let slot = slots.clone().try_acquire_owned().ok();
        let service = match slot {
            Some(_) => app.clone(),
            None => {
                metrics::counter!("smsgate_http_connections_shed_total").increment(1);
                shed.clone()
            }
        };
        let stop = stop.clone();
        connections.spawn(async move {
            let _slot = slot;
            let shedding = _slot.is_none();
            let service = service.map_request(move |mut req: hyper::Request<Incoming>| {
                req.extensions_mut().insert(ConnectInfo(peer));
                req.map(axum::body::Body::new)
            });
            let mut builder = hyper::server::conn::http1::Builder::new();
            builder
                .timer(TokioTimer::new())
                .header_read_timeout(if shedding {
                    Duration::from_secs(2)
                } else {
                    header_timeout
                })
                .keep_alive(!shedding);
            let conn =
                builder.serve_connection(TokioIo::new(socket), TowerToHyperService::new(service));
            tokio::pin!(conn);
            tokio::select! {
                _ = conn.as_mut() => {}
                _ = stop.cancelled() => {
                    conn.as_mut().graceful_shutdown();
                    let _ = conn.await;
                }
            }
        });
    }
    connections.close();
    connections.wait().await;
    Ok(())
}

/// What a connection past the cap is served.
fn shed_router() -> Router {
    Router::new()
        .route("/healthz", axum::routing::get(|| async { "ok" }))
        .fallback(|| async {
            (
                [(header::CONNECTION, "close")],
                crate::problem::Problem::unavailable("too many connections; try again in a moment"),
            )
                .into_response()
        })
}
