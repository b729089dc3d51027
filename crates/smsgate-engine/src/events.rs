//! Events as clients see them: the same JSON in `GET /v1/events` and in
//! webhook deliveries.
//!
//! ```text
//! {"id": "ev_3f9c2a7b1e04d855", "type": "message.delivered", "created_at": "…", "sequence": 3,
//!  "data": {"message": {"id": "…", "to": "+316…", "status": "delivered", …}, "detail": "…"}}
//! ```

use serde_json::{Value, json};
use sha2::{Digest, Sha256};
use smsgate_core::CallbackFormat;
use smsgate_core::Timestamp;
use smsgate_core::optout::OptOutAction;
use smsgate_store::{EventRecord, EventType, MessageRecord};

/// Event ids as clients see them: `ev_` and 16 hex digits, a keyed
/// permutation of the store's sequence, so ids say nothing of how many
/// events other accounts have and cannot be counted through; they still
/// decode to the sequence, so they work as cursors. The key is the
/// installation's (kept in the database).
#[derive(Clone)]
pub struct EventIds {
    key: [u8; 32],
}

const EVENT_PREFIX: &str = "ev_";

impl EventIds {
    pub fn new(key: [u8; 32]) -> EventIds {
        EventIds { key }
    }

    /// A 4-round Feistel network over the two 32-bit halves: a
    /// permutation of `u64` for any round function.
    fn round(&self, i: u8, half: u32) -> u32 {
        let mut h = Sha256::new();
        h.update(self.key);
        h.update([i]);
        h.update(half.to_be_bytes());
        let d = h.finalize();
        u32::from_be_bytes([d[0], d[1], d[2], d[3]])
    }

    pub fn show(&self, id: i64) -> String {
        let v = id as u64;
        let (mut l, mut r) = ((v >> 32) as u32, v as u32);
        for i in 0..4 {
            (l, r) = (r, l ^ self.round(i, r));
        }
        format!("{EVENT_PREFIX}{:016x}", (u64::from(l) << 32) | u64::from(r))
    }

    /// The sequence of an id this server showed; plain numbers are still
    /// read (cursors and ids given before ids were opaque).
    pub fn read(&self, s: &str) -> Option<i64> {
        let s = s.trim();
        let Some(hex) = s.strip_prefix(EVENT_PREFIX) else {
            return s.parse().ok().filter(|n: &i64| *n >= 0);
        };
        if hex.len() != 16 {
            return None;
        }
        let v = u64::from_str_radix(hex, 16).ok()?;
        let (mut l, mut r) = ((v >> 32) as u32, v as u32);
        for i in (0..4).rev() {
            (l, r) = (r ^ self.round(i, l), l);
        }
        i64::try_from((u64::from(l) << 32) | u64::from(r)).ok()
    }
}

/// The status a message event reports (the message may have moved on).
fn status_of(t: EventType) -> Option<&'static str> {
    Some(match t {
        EventType::MessageQueued => "queued",
        EventType::MessageSent => "sent",
        EventType::MessageDelivered => "delivered",
        EventType::MessageUndelivered => "undelivered",
        EventType::MessageExpired => "expired",
        EventType::MessageRejected => "rejected",
        EventType::MessageFailed => "failed",
        EventType::MessageCanceled => "canceled",
        _ => return None,
    })
}

pub fn event_json(e: &EventRecord, ids: &EventIds) -> Value {
    let mut data = serde_json::Map::new();
    if let Some(m) = &e.message {
        data.insert(
            "message".into(),
            json!({
                "id": m.id.to_string(),
                "to": m.to,
                "from": m.from,
                "status": status_of(e.event_type).unwrap_or(m.status.as_str()),
                "reference": m.reference,
                "batch_id": m.batch_id.map(|b| b.to_string()),
                "segments": m.segments,
                "cost": m.cost,
                "connector": m.connector,
                "carrier_id": m.carrier_id,
                "in_reply_to": m.in_reply_to.map(|i| i.to_string()),
            }),
        );
    }
    if let Some(i) = &e.inbound {
        data.insert(
            "inbound".into(),
            json!({
                "id": i.id.to_string(),
                "from": i.from,
                "to": i.to,
                "text": i.text,
                "parts": i.parts,
                "received_at": i.received_at.to_rfc3339(),
                "optout": i.optout,
            }),
        );
    }
    if let Some(o) = &e.optout {
        data.insert(
            "optout".into(),
            json!({
                "number": o.number,
                "opted_out": o.action == OptOutAction::OptOut,
                "source": o.source,
                "keyword": o.keyword,
            }),
        );
    }
    if let Some(d) = &e.detail {
        data.insert("detail".into(), json!(d));
    }
    json!({
        "id": ids.show(e.id),
        "type": e.event_type.as_str(),
        "created_at": Timestamp::to_rfc3339(e.created_at),
        "sequence": e.seq,
        "data": data,
    })
}

/// What a message's own callback receives: the event in the body shape of
/// the face that sent the message.
pub fn callback_json(e: &EventRecord, ids: &EventIds) -> Value {
    match &e.message {
        Some(m) if m.callback_format == CallbackFormat::Smsmanager => smsmanager_json(e, m),
        Some(m) if m.callback_format == CallbackFormat::Action => action_json(e, m),
        _ => event_json(e, ids),
    }
}

/// The `smsmanager` dialect's delivery notification, as its reference
/// has it: an array of one object per message, with the request's
/// `request_id`, the `message_id` its client was given
/// (`<request message_id>-<index>`), the result in that dialect's words and
/// the client's payload echoed back.
fn smsmanager_json(e: &EventRecord, m: &MessageRecord) -> Value {
    let message_id = match m.batch_id {
        Some(b) => format!("{b}-{}", m.item),
        None => m.id.to_string(),
    };
    let payload = m
        .payload
        .as_deref()
        .and_then(|p| serde_json::from_str::<Value>(p).ok());
    let status = status_of(e.event_type).unwrap_or(m.status.as_str());
    let result = match status {
        "delivered" => "delivered",
        "undelivered" | "expired" => "undelivered",
        "rejected" | "canceled" => "rejected",
        "failed" => "failed",
        "sent" => "sent",
        _ => "sending",
    };
    let result_info = match &e.detail {
        Some(d) => format!("[{status}] {d}"),
        None => format!("[{status}]"),
    };
    json!([{
        "request_id": m.batch_reference,
        "message_id": message_id,
        "gateway": "sms",
        "timestamp": e.created_at.0.div_euclid(1000),
        "payload": payload,
        "type": "outgoing",
        "to": {"phone_number": m.to.trim_start_matches('+')},
        "result": result,
        "result_info": result_info,
    }])
}

/// The `action` dialect's postback: the request's tracking-id (the
/// message id its answer gave) and the status in that dialect's words.
fn action_json(e: &EventRecord, m: &MessageRecord) -> Value {
    let status = match status_of(e.event_type) {
        Some("queued") => "Queued",
        Some("sent") => "Sent",
        Some("delivered") => "Delivered",
        Some("undelivered") => "Undelivered",
        Some("expired") => "Expired",
        Some("rejected") | Some("failed") => "Failed",
        Some("canceled") => "Canceled",
        _ if e.event_type == EventType::MessageClicked => "Clicked",
        _ => "Queued",
    };
    json!({
        "tracking-id": m.id.to_string(),
        "to": m.to,
        "from": m.from,
        "status": status,
        "status-details": e.detail,
        "timestamp": e.created_at.to_rfc3339(),
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn event_ids_are_opaque_and_read_back() {
        let ids = EventIds::new([7; 32]);
        let shown: Vec<String> = (1..=3).map(|i| ids.show(i)).collect();
        for (i, s) in shown.iter().enumerate() {
            assert!(s.starts_with("ev_") && s.len() == 19, "{s}");
            assert_eq!(ids.read(s), Some(i as i64 + 1));
        }
        // Neighbours look nothing alike, and another key reads them as
        // something else.
        assert_ne!(shown[0][..10], shown[1][..10]);
        assert_ne!(EventIds::new([8; 32]).read(&shown[0]), Some(1));
        for n in [0, 42, i64::MAX] {
            assert_eq!(ids.read(&ids.show(n)), Some(n));
        }
        assert_eq!(ids.read("42"), Some(42), "cursors given before");
        for bad in ["ev_", "ev_xyz", "ev_0123", "-1", "ev_ffffffffffffffffff"] {
            assert_eq!(ids.read(bad), None, "{bad}");
        }
    }
}
