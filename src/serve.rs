//! `smsgate serve`: opens the database, bootstraps a fresh install, starts
//! the engine and the HTTP server, and shuts down cleanly on SIGTERM or
//! Ctrl-C (stop taking requests, commit what was accepted, let submits in
//! flight finish).

use smsgate_engine::By;
use std::sync::Arc;
use std::time::Duration;

use anyhow::Context;
use metrics_exporter_prometheus::{Matcher, PrometheusBuilder};
use smsgate_api::AppState;
use smsgate_core::Amount;
use smsgate_engine::{AccountRequest, Engine, accounts::hash_key};
use smsgate_store::Store;
use tokio_util::sync::CancellationToken;

use crate::config::{Config, LogFormat};
use crate::database::Opened;

const ADMIN_TOKEN_SETTING: &str = "admin_token_sha256";

pub async fn run(mut config: Config) -> anyhow::Result<()> {
    init_logging(config.log_format);
    let metrics = PrometheusBuilder::new()
        .set_buckets_for_metric(
            Matcher::Suffix("seconds".into()),
            &[
                0.0005, 0.001, 0.0025, 0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1.0, 2.5, 5.0,
            ],
        )
        .and_then(|b| {
            b.set_buckets_for_metric(
                Matcher::Prefix("smsgate_intake_group".into()),
                &[
                    1.0, 2.0, 5.0, 10.0, 20.0, 50.0, 100.0, 200.0, 500.0, 1000.0, 5000.0,
                ],
            )
        })
        .context("metrics buckets")?
        .install_recorder()
        .ok();
    crate::metrics_catalog::describe();

    let opened = Opened::open(&config.db, true)?;
    let store: Arc<dyn Store> = opened.store();
    let listener = tokio::net::TcpListener::bind(config.listen)
        .await
        .with_context(|| format!("cannot listen on {}", config.listen))?;
    let addr = listener.local_addr()?;
    // Short links point back here unless the config says where clients
    // reach this server.
    config
        .engine
        .public_url
        .get_or_insert_with(|| format!("http://{addr}"));
    let engine = Engine::start(store.clone(), config.engine.clone()).await?;
    let base = format!("http://{addr}");
    let json = config.log_format == LogFormat::Json;
    if json {
        tracing::info!(
            target: "smsgate::start",
            version = env!("CARGO_PKG_VERSION"),
            address = %base,
            database = %config.db,
            "listening"
        );
    } else {
        println!(
            "smsgate {} listening on {base} (database {})",
            env!("CARGO_PKG_VERSION"),
            config.db
        );
    }

    let admin_token_hash = admin_token(store.as_ref(), config.admin_token.as_deref(), json).await?;
    bootstrap(&engine, &config, &base).await?;

    let render: Option<smsgate_api::MetricsRender> = metrics.clone().map(|handle| {
        let render: smsgate_api::MetricsRender = Arc::new(move || handle.render());
        render
    });
    if let Some(handle) = metrics {
        tokio::spawn(async move {
            loop {
                tokio::time::sleep(Duration::from_secs(5)).await;
                handle.run_upkeep();
            }
        });
    }
    let app = smsgate_api::router(AppState {
        engine: engine.clone(),
        admin_token_hash,
        metrics: render,
        dialects: config.dialects.clone(),
        bodies: smsgate_api::bodies::BodyLimits::new(&config.http),
    });

    let stop = CancellationToken::new();
    tokio::spawn(wait_for_signal(stop.clone()));
    smsgate_api::server::serve(listener, app, &config.http, stop.clone())
        .await
        .context("HTTP server failed")?;
    tracing::info!("HTTP server stopped; finishing accepted work");
    engine.shutdown().await;
    opened.close().await;
    tracing::info!("stopped cleanly");
    Ok(())
}

async fn wait_for_signal(stop: CancellationToken) {
    let ctrl_c = tokio::signal::ctrl_c();
    #[cfg(unix)]
    {
        let mut term =
            match tokio::signal::unix::signal(tokio::signal::unix::SignalKind::terminate()) {
                Ok(s) => s,
                Err(e) => {
                    tracing::error!(error = %e, "cannot listen for SIGTERM");
                    let _ = ctrl_c.await;
                    stop.cancel();
                    return;
                }
            };
        tokio::select! {
            _ = ctrl_c => {}
            _ = term.recv() => {}
        }
    }
    #[cfg(not(unix))]
    let _ = ctrl_c.await;
    tracing::info!("shutting down");
    stop.cancel();
}

fn init_logging(format: LogFormat) {
    let filter = tracing_subscriber::EnvFilter::try_from_env("SMSGATE_LOG")
        .unwrap_or_else(|_| tracing_subscriber::EnvFilter::new("info"));
    let ansi = std::io::IsTerminal::is_terminal(&std::io::stderr());
    let builder = tracing_subscriber::fmt()
        .with_env_filter(filter)
        .with_ansi(ansi)
        .with_writer(std::io::stderr);
    let _ = match format {
        LogFormat::Text => builder.try_init(),
        // Flat: a line's fields sit beside `message`, not under `fields`.
        LogFormat::Json => builder
            .json()
            .flatten_event(true)
            .with_current_span(false)
            .with_span_list(false)
            .try_init(),
    };
}

/// The admin token's hash: from the configuration, else the one stored at
/// first start, else a new token shown once (on stdout, or as a JSON log
/// line: the one line that carries a secret, on purpose).
async fn admin_token(
    store: &dyn Store,
    configured: Option<&str>,
    json: bool,
) -> anyhow::Result<[u8; 32]> {
    if let Some(token) = configured {
        check_admin_token(token)?;
        return Ok(hash_key(token));
    }
    if let Some(stored) = store.setting(ADMIN_TOKEN_SETTING).await? {
        let bytes = hex::decode(stored).context("stored admin token hash is corrupt")?;
        return bytes
            .try_into()
            .map_err(|_| anyhow::anyhow!("stored admin token hash is corrupt"));
    }
    let mut raw = [0u8; 24];
    getrandom::fill(&mut raw).map_err(|e| anyhow::anyhow!("no randomness: {e}"))?;
    let token = format!("sgadm_{}", hex::encode(raw));
    let hash = hash_key(&token);
    store
        .set_setting(
            ADMIN_TOKEN_SETTING,
            &hex::encode(hash),
            &smsgate_store::Audit::gateway(smsgate_core::clock::Clock::now(
                &smsgate_core::clock::SystemClock,
            )),
        )
        .await?;
    if json {
        tracing::info!(target: "smsgate::start", admin_token = %token, "admin token created (shown once; set SMSGATE_ADMIN_TOKEN to choose your own)");
    } else {
        println!("admin token (shown once; set SMSGATE_ADMIN_TOKEN to choose your own): {token}");
    }
    Ok(hash)
}

/// The admin token holds every account's money: a chosen one must look
/// random (32 characters or more, of at least 10 different ones), as the
/// generated ones are (`sgadm_` and 48 hex digits). Only its SHA-256 is
/// kept.
fn check_admin_token(token: &str) -> anyhow::Result<()> {
    let distinct: std::collections::HashSet<char> = token.chars().collect();
    anyhow::ensure!(
        token.chars().count() >= 32 && distinct.len() >= 10,
        "the admin token (SMSGATE_ADMIN_TOKEN) must be at least 32 random characters \
         (e.g. `openssl rand -hex 24`); this one is too short or too repetitive"
    );
    Ok(())
}

/// On a database without accounts, creates the demo account and shows how
/// to send the first message.
async fn bootstrap(engine: &Engine, config: &Config, base: &str) -> anyhow::Result<()> {
    if config.demo_credits <= Amount::ZERO || !engine.admin().accounts().await?.is_empty() {
        return Ok(());
    }
    let (account, key) = engine
        .create_account(
            &By::cli(),
            AccountRequest {
                name: "demo".into(),
                credits: Some(config.demo_credits),
                ..AccountRequest::default()
            },
        )
        .await?;
    if config.log_format == LogFormat::Json {
        let first_send = format!(
            "curl -s {base}/v1/messages -H 'Authorization: Bearer {}' -H 'Content-Type: application/json' -d '{{\"to\": \"+31612345678\", \"from\": \"smsgate\", \"text\": \"Hello from smsgate\"}}'",
            key.secret
        );
        tracing::info!(
            target: "smsgate::start",
            account = %account.name,
            credits = %account.balance,
            api_key = %key.secret,
            first_send,
            "demo account created (its API key is shown once)"
        );
        return Ok(());
    }
    println!(
        "demo account {:?} created with {} credits; its API key (shown once): {}",
        account.name, account.balance, key.secret
    );
    println!("send your first message through the built-in carrier simulator:");
    println!(
        "  curl -s {base}/v1/messages -H 'Authorization: Bearer {}' -H 'Content-Type: application/json' \\\n    -d '{{\"to\": \"+31612345678\", \"from\": \"smsgate\", \"text\": \"Hello from smsgate\"}}'",
        key.secret
    );
    println!(
        "then follow it: curl -s {base}/v1/messages/<id> -H 'Authorization: Bearer {}'",
        key.secret
    );
    Ok(())
}

#[cfg(test)]
mod tests {
    #[test]
    fn weak_admin_tokens_are_refused() {
        for weak in [
            "",
            "admin",
            "test-admin-token-0123456789",
            "aaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaa",
            "abababababababababababababababababab",
        ] {
            assert!(super::check_admin_token(weak).is_err(), "{weak}");
        }
        super::check_admin_token("sgadm_test_4f1c9a7e2b8d6053e1a9c7f4b2d8e6a0").unwrap();
    }
}
