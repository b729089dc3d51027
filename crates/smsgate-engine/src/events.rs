//! Events as clients see them: the same JSON in `GET /v1/events` and in
//! webhook deliveries.
//!
//! ```text
//! {"id": "42", "type": "message.delivered", "created_at": "…", "sequence": 3,
//!  "data": {"message": {"id": "…", "to": "+316…", "status": "delivered", …}, "detail": "…"}}
//! ```

use serde_json::{Value, json};
use smsgate_core::CallbackFormat;
use smsgate_core::Timestamp;
use smsgate_core::optout::OptOutAction;
use smsgate_store::{EventRecord, EventType, MessageRecord};

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

pub fn event_json(e: &EventRecord) -> Value {
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
                "cost": m.cost.units(),
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
        "id": e.id.to_string(),
        "type": e.event_type.as_str(),
        "created_at": Timestamp::to_rfc3339(e.created_at),
        "sequence": e.seq,
        "data": data,
    })
}

/// What a message's own callback receives: the event in the body shape of
/// the face that sent the message.
pub fn callback_json(e: &EventRecord) -> Value {
    match &e.message {
        Some(m) if m.callback_format == CallbackFormat::Smsmanager => smsmanager_json(e, m),
        Some(m) if m.callback_format == CallbackFormat::Action => action_json(e, m),
        _ => event_json(e),
    }
}

/// The `smsmanager` dialect's delivery notification: the message id its
/// client was given (`<request message_id>-<index>`), the status, times,
/// and the client's payload echoed back.
fn smsmanager_json(e: &EventRecord, m: &MessageRecord) -> Value {
    let message_id = match m.batch_id {
        Some(b) => format!("{b}-{}", m.item),
        None => m.id.to_string(),
    };
    let payload = m
        .payload
        .as_deref()
        .and_then(|p| serde_json::from_str::<Value>(p).ok());
    json!({
        "message_id": message_id,
        "phone_number": m.to.trim_start_matches('+'),
        "status": status_of(e.event_type).unwrap_or(m.status.as_str()),
        "channel": "sms",
        "timestamp": e.created_at.to_rfc3339(),
        "created_at": m.created_at.to_rfc3339(),
        "tag": m.reference,
        "error": e.detail,
        "payload": payload,
    })
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
