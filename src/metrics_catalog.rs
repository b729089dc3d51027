//! Every metric smsgate records, with its HELP text; described at start,
//! and the ones without labels (and the known values of a few labels) set
//! to zero, so that `/metrics` shows them before the first event.

use smsgate_core::Status;

#[derive(Clone, Copy)]
enum Kind {
    Counter,
    Gauge,
    Histogram,
}

use Kind::{Counter, Gauge, Histogram};

/// (name, kind, whether it has labels, HELP).
const CATALOG: &[(&str, Kind, bool, &str)] = &[
    (
        "smsgate_build_info",
        Gauge,
        true,
        "1, labelled with the running version",
    ),
    (
        "smsgate_messages_accepted_total",
        Counter,
        false,
        "Messages accepted (stored and charged)",
    ),
    (
        "smsgate_message_transitions_total",
        Counter,
        true,
        "Message status changes, by the new status",
    ),
    (
        "smsgate_status_updates_ignored_total",
        Counter,
        false,
        "Status updates that did not apply (late or out of order)",
    ),
    (
        "smsgate_queue_depth",
        Gauge,
        true,
        "Messages waiting, by status",
    ),
    (
        "smsgate_intake_group_requests",
        Histogram,
        false,
        "Requests committed per intake transaction",
    ),
    (
        "smsgate_intake_group_messages",
        Histogram,
        false,
        "Messages committed per intake transaction",
    ),
    (
        "smsgate_store_group_commit_jobs",
        Histogram,
        false,
        "Jobs per store write transaction",
    ),
    (
        "smsgate_dispatch_claimed",
        Histogram,
        false,
        "Messages claimed per dispatch round",
    ),
    (
        "smsgate_connector_submit_seconds",
        Histogram,
        true,
        "Time to submit a message to a connector",
    ),
    (
        "smsgate_receipts_total",
        Counter,
        true,
        "Delivery receipts applied, by status",
    ),
    (
        "smsgate_part_receipts_total",
        Counter,
        false,
        "Receipts of single parts of long messages",
    ),
    (
        "smsgate_receipts_deferred_total",
        Counter,
        false,
        "Receipts that arrived before their submit was recorded, kept for later",
    ),
    (
        "smsgate_receipts_matched_late_total",
        Counter,
        false,
        "Deferred receipts matched to their message",
    ),
    (
        "smsgate_inbound_stored_total",
        Counter,
        false,
        "Inbound messages stored",
    ),
    (
        "smsgate_smpp_submits_total",
        Counter,
        true,
        "submit_sm sent, by connector",
    ),
    (
        "smsgate_smpp_responses_total",
        Counter,
        true,
        "submit_sm responses, by connector and outcome",
    ),
    (
        "smsgate_smpp_response_seconds",
        Histogram,
        true,
        "Time from submit_sm to its response, by connector",
    ),
    (
        "smsgate_smpp_binds",
        Gauge,
        true,
        "SMPP binds, by connector and state (connecting, bound, backoff)",
    ),
    (
        "smsgate_smpp_reconnects_total",
        Counter,
        true,
        "SMPP connections ended and bound again, by connector",
    ),
    (
        "smsgate_smpp_receipts_total",
        Counter,
        true,
        "Receipts received over SMPP, by connector",
    ),
    (
        "smsgate_smpp_inbound_total",
        Counter,
        true,
        "Mobile-originated messages received over SMPP, by connector",
    ),
    (
        "smsgate_smpp_possible_duplicates_total",
        Counter,
        true,
        "Submits whose response never came (the SMSC may have the message), by connector",
    ),
    (
        "smsgate_http_requests_total",
        Counter,
        true,
        "HTTP requests, by route and status",
    ),
    (
        "smsgate_http_request_duration_seconds",
        Histogram,
        true,
        "HTTP request latency, by route",
    ),
    (
        "smsgate_http_connections_shed_total",
        Counter,
        false,
        "Connections refused past [http] max_connections",
    ),
    (
        "smsgate_http_bodies_refused_total",
        Counter,
        false,
        "Bodies of keyless requests refused past the upload budget",
    ),
    (
        "smsgate_requests_limited_total",
        Counter,
        true,
        "Requests refused by a rate limit, by limit",
    ),
    (
        "smsgate_login_failures_total",
        Counter,
        false,
        "Failed password logins",
    ),
    (
        "smsgate_login_lockouts_total",
        Counter,
        false,
        "Logins refused while a name or address is locked out",
    ),
    (
        "smsgate_login_overloaded_total",
        Counter,
        false,
        "Logins refused because too many password checks waited",
    ),
    (
        "smsgate_recipients_refused_total",
        Counter,
        true,
        "Recipients refused one by one, by reason code",
    ),
    (
        "smsgate_velocity_blocks_total",
        Counter,
        true,
        "Velocity blocks started, by scope (prefix, account)",
    ),
    (
        "smsgate_protected_sender_refused_total",
        Counter,
        false,
        "Sends from a protected sender ID the account has not had approved",
    ),
    (
        "smsgate_clicks_ignored_total",
        Counter,
        false,
        "Clicks on short links not counted (repeated or over the limit)",
    ),
    (
        "smsgate_webhook_attempts_total",
        Counter,
        true,
        "Webhook delivery attempts, by outcome",
    ),
    (
        "smsgate_webhook_refused_total",
        Counter,
        false,
        "Webhook deliveries refused by the destination policy",
    ),
    (
        "smsgate_webhook_loops_refused_total",
        Counter,
        false,
        "Requests refused because they carried smsgate's own webhook signature",
    ),
];

/// Describes every metric and initialises what can be.
pub fn describe() {
    for &(name, kind, labelled, help) in CATALOG {
        match kind {
            Counter => {
                metrics::describe_counter!(name, help);
                if !labelled {
                    metrics::counter!(name).increment(0);
                }
            }
            Gauge => metrics::describe_gauge!(name, help),
            Histogram => metrics::describe_histogram!(name, help),
        }
    }
    metrics::gauge!("smsgate_build_info", "version" => env!("CARGO_PKG_VERSION")).set(1.0);
    for status in Status::ALL {
        metrics::counter!("smsgate_message_transitions_total", "status" => status.as_str())
            .increment(0);
    }
    for scope in ["prefix", "account"] {
        metrics::counter!("smsgate_velocity_blocks_total", "scope" => scope).increment(0);
    }
}

#[cfg(test)]
mod tests {
    use super::CATALOG;

    /// Every metric the code records has its HELP here: a new one without
    /// is a failing test, not a bare line in `/metrics`.
    #[test]
    fn every_recorded_metric_is_described() {
        let root = std::path::Path::new(env!("CARGO_MANIFEST_DIR"));
        let mut sources = Vec::new();
        let mut dirs = vec![root.join("src"), root.join("crates")];
        while let Some(dir) = dirs.pop() {
            for entry in std::fs::read_dir(&dir).unwrap().flatten() {
                let path = entry.path();
                if path.is_dir() {
                    dirs.push(path);
                } else if path.extension().is_some_and(|e| e == "rs") {
                    sources.push(std::fs::read_to_string(&path).unwrap());
                }
            }
        }
        let mut missing = Vec::new();
        for text in &sources {
            for (i, _) in text.match_indices("\"smsgate_") {
                let name: String = text[i + 1..]
                    .chars()
                    .take_while(|c| c.is_ascii_lowercase() || *c == '_')
                    .collect();
                let before = &text[..i];
                let recorded = ["counter!(", "gauge!(", "histogram!("]
                    .iter()
                    .any(|m| before.trim_end().ends_with(m));
                if recorded && !CATALOG.iter().any(|(n, ..)| *n == name) {
                    missing.push(name);
                }
            }
        }
        missing.sort();
        missing.dedup();
        assert!(missing.is_empty(), "metrics without HELP: {missing:?}");
    }
}
