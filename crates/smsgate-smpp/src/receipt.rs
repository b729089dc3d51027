//! Delivery receipts: the standard receipt text (SMPP 3.4 Appendix B) and
//! the `message_state` TLV. Matching the receipt's id to a message is
//! `smsgate_core::carrier_id`'s business.
//!
//! ```text
//! id:0123456789 sub:001 dlvrd:001 submit date:2611221337 done date:2611221338 stat:DELIVRD err:000 text:Hello
//! ```
//!
//! Real SMSCs vary: ids longer than 10 characters, upper-case keys,
//! `Text:` with a capital, missing fields, extra spaces. Parsing is lenient
//! and never fails outright: what cannot be read is `None`.

/// The final (or intermediate) state a receipt reports.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum MessageState {
    Enroute,
    Delivered,
    Expired,
    Deleted,
    Undeliverable,
    Accepted,
    Unknown,
    Rejected,
}

impl MessageState {
    /// From the receipt text's `stat:` word.
    pub fn from_stat(word: &str) -> Option<MessageState> {
        Some(match word.to_ascii_uppercase().as_str() {
            "ENROUTE" => MessageState::Enroute,
            "DELIVRD" | "DELIVERED" => MessageState::Delivered,
            "EXPIRED" => MessageState::Expired,
            "DELETED" => MessageState::Deleted,
            "UNDELIV" | "UNDELIVERABLE" => MessageState::Undeliverable,
            "ACCEPTD" | "ACCEPTED" => MessageState::Accepted,
            "UNKNOWN" => MessageState::Unknown,
            "REJECTD" | "REJECTED" => MessageState::Rejected,
            _ => return None,
        })
    }

    /// From the `message_state` TLV (one octet).
    pub fn from_tlv(value: u8) -> Option<MessageState> {
        Some(match value {
            1 => MessageState::Enroute,
            2 => MessageState::Delivered,
            3 => MessageState::Expired,
            4 => MessageState::Deleted,
            5 => MessageState::Undeliverable,
            6 => MessageState::Accepted,
            7 => MessageState::Unknown,
            8 => MessageState::Rejected,
            _ => return None,
        })
    }

    /// Whether the message will not change state any more.
    pub fn is_final(self) -> bool {
        !matches!(
            self,
            MessageState::Enroute | MessageState::Accepted | MessageState::Unknown
        )
    }
}

/// The fields of a receipt text.
#[derive(Debug, Clone, PartialEq, Eq, Default)]
pub struct ReceiptText {
    pub id: Option<String>,
    pub submitted: Option<u32>,
    pub delivered: Option<u32>,
    pub submit_date: Option<String>,
    pub done_date: Option<String>,
    pub state: Option<MessageState>,
    pub err: Option<String>,
    pub text: Option<String>,
}

/// The keys of the receipt text, in their usual order. `text` is last and
/// takes the rest of the line.
const KEYS: [&str; 8] = [
    "id",
    "sub",
    "dlvrd",
    "submit date",
    "done date",
    "stat",
    "err",
    "text",
];

/// Reads a receipt text leniently.
pub fn parse_receipt(text: &str) -> ReceiptText {
    let lower = text.to_ascii_lowercase();
    // Where each key's value starts: after "key:" found at a word boundary.
    let mut found: Vec<(usize, usize, &str)> = Vec::new(); // (key start, value start, key)
    for key in KEYS {
        let pattern = format!("{key}:");
        let mut from = 0;
        while let Some(pos) = lower[from..].find(&pattern).map(|p| p + from) {
            let at_boundary = pos == 0 || lower.as_bytes()[pos - 1].is_ascii_whitespace();
            // "submit date:" contains "date:" but is its own key; and "id:"
            // must not match inside another word.
            if at_boundary {
                found.push((pos, pos + pattern.len(), key));
                break;
            }
            from = pos + 1;
        }
    }
    found.sort_by_key(|f| f.0);
    let mut r = ReceiptText::default();
    for (i, &(_, start, key)) in found.iter().enumerate() {
        let end = if key == "text" {
            text.len()
        } else {
            found.get(i + 1).map_or(text.len(), |f| f.0)
        };
        let value = text[start..end].trim();
        let value = (!value.is_empty()).then(|| value.to_string());
        match key {
            "id" => r.id = value,
            "sub" => r.submitted = value.and_then(|v| v.parse().ok()),
            "dlvrd" => r.delivered = value.and_then(|v| v.parse().ok()),
            "submit date" => r.submit_date = value,
            "done date" => r.done_date = value,
            "stat" => r.state = value.and_then(|v| MessageState::from_stat(&v)),
            "err" => r.err = value,
            _ => r.text = value,
        }
    }
    r
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_standard_receipt_text() {
        let r = parse_receipt(
            "id:0123456789 sub:001 dlvrd:001 submit date:2611221337 done date:2611221338 stat:DELIVRD err:000 text:Hello world",
        );
        assert_eq!(r.id.as_deref(), Some("0123456789"));
        assert_eq!((r.submitted, r.delivered), (Some(1), Some(1)));
        assert_eq!(r.submit_date.as_deref(), Some("2611221337"));
        assert_eq!(r.done_date.as_deref(), Some("2611221338"));
        assert_eq!(r.state, Some(MessageState::Delivered));
        assert_eq!(r.err.as_deref(), Some("000"));
        assert_eq!(r.text.as_deref(), Some("Hello world"));
    }

    #[test]
    fn what_real_smscs_send() {
        // Long hex id, capital keys, `Text:`, odd spacing.
        let r = parse_receipt(
            "ID:5F3A9C1D2E4B6A7F SUB:001 DLVRD:000 SUBMIT DATE:2611221337 DONE DATE:2611221400 STAT:UNDELIV ERR:034 Text:",
        );
        assert_eq!(r.id.as_deref(), Some("5F3A9C1D2E4B6A7F"));
        assert_eq!(r.state, Some(MessageState::Undeliverable));
        assert_eq!(r.err.as_deref(), Some("034"));
        assert_eq!(r.text, None);
        // Fields missing and out of order; an unknown stat word.
        let r = parse_receipt("stat:EXPIRED id:42");
        assert_eq!(
            (r.id.as_deref(), r.state),
            (Some("42"), Some(MessageState::Expired))
        );
        assert_eq!(parse_receipt("stat:WEIRD").state, None);
        assert_eq!(
            parse_receipt("not a receipt at all"),
            ReceiptText::default()
        );
    }

    #[test]
    fn message_state_tlv_and_finality() {
        assert_eq!(MessageState::from_tlv(2), Some(MessageState::Delivered));
        assert_eq!(MessageState::from_tlv(9), None);
        assert!(MessageState::Rejected.is_final() && !MessageState::Enroute.is_final());
    }
}
