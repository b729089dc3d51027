//! An SMPP connector's settings, as written in the TOML config
//! (`[[connectors]]` with `kind = "smpp"`) and the admin API.

use crate::config::{ConfigError, ConnectorProblem};
use serde::{Deserialize, Deserializer, Serialize, Serializer};
use smsgate_smpp::coding::TextCoding;
use smsgate_smpp::concat::Concatenation;
use smsgate_smpp::session::BindKind;

/// How the connector binds: one kind per connection, or a transmitter and
/// a receiver side by side.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize, Default)]
#[serde(rename_all = "lowercase")]
pub enum BindMode {
    #[default]
    Transceiver,
    Transmitter,
    Receiver,
    /// A transmitter and a receiver for each of `binds`.
    Pair,
}

impl BindMode {
    /// The connections one "bind" of this mode opens.
    pub fn kinds(self) -> &'static [BindKind] {
        match self {
            BindMode::Transceiver => &[BindKind::Transceiver],
            BindMode::Transmitter => &[BindKind::Transmitter],
            BindMode::Receiver => &[BindKind::Receiver],
            BindMode::Pair => &[BindKind::Transmitter, BindKind::Receiver],
        }
    }
}

/// How the SMSC's receipts write the ids its submit_sm_resp gave.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize, Default)]
#[serde(rename_all = "lowercase")]
pub enum ReceiptIds {
    /// As given, up to case and leading zeros; a receipt that matches
    /// nothing is tried in hex and decimal. An all-digit hex id can then
    /// match the wrong message: name the base when it is known.
    #[default]
    Auto,
    /// In decimal, where submit_sm_resp gave hex.
    Decimal,
    /// In hex, where submit_sm_resp gave decimal.
    Hex,
}

impl ReceiptIds {
    /// The receipt's id in the form submit_sm_resp gave it.
    pub fn to_response_form(self, id: &str) -> String {
        let id = id.trim();
        let converted = match self {
            ReceiptIds::Auto => None,
            ReceiptIds::Decimal => id.parse::<u128>().ok().map(|n| format!("{n:x}")),
            ReceiptIds::Hex => u128::from_str_radix(id, 16).ok().map(|n| n.to_string()),
        };
        converted.unwrap_or_else(|| id.to_string())
    }
}

#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct SmppConfig {
    pub name: String,
    pub host: String,
    pub port: u16,
    pub system_id: String,
    /// The bind password; or, with `password_env`, "" (read from that
    /// environment variable instead, so it is in neither the config file
    /// nor the database).
    #[serde(default)]
    pub password: String,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub password_env: Option<String>,
    /// Default "".
    #[serde(default)]
    pub system_type: String,
    #[serde(default)]
    pub bind: BindMode,
    /// Connections of `bind`'s kind (pairs for "pair"). Default 1.
    #[serde(default = "one")]
    pub binds: u32,
    /// Requests outstanding per bind. Default 50.
    #[serde(default = "fifty")]
    pub window: usize,
    /// Segments per second over all binds; 0 = unlimited (default).
    #[serde(default)]
    pub tps: u32,
    /// "udh" (8-bit reference, default), "udh16", "sar" or "payload".
    #[serde(
        default,
        deserialize_with = "concatenation_de",
        serialize_with = "concatenation_ser"
    )]
    pub concatenation: Concatenation,
    /// How texts in the GSM alphabet are written: "gsm7" (unpacked,
    /// default), "gsm7-packed", "latin1" (data_coding 3) or "ascii" (1).
    #[serde(
        default,
        deserialize_with = "text_coding_de",
        serialize_with = "text_coding_ser"
    )]
    pub gsm7_coding: TextCoding,
    /// data_coding sent with GSM-alphabet texts, instead of the coding's own.
    #[serde(default)]
    pub data_coding_gsm7: Option<u8>,
    /// data_coding sent with UCS-2 texts, instead of 8.
    #[serde(default)]
    pub data_coding_ucs2: Option<u8>,
    /// Source TON/NPI; by default 5/0 for alphanumeric senders, 1/1 for
    /// international numbers, 0/1 for short codes.
    #[serde(default)]
    pub source_ton: Option<u8>,
    #[serde(default)]
    pub source_npi: Option<u8>,
    /// Destination TON/NPI. Default 1/1 (international, E.164).
    #[serde(default = "one_u8")]
    pub dest_ton: u8,
    #[serde(default = "one_u8")]
    pub dest_npi: u8,
    /// Default "".
    #[serde(default)]
    pub service_type: String,
    /// How receipts write message ids: "auto" (default), "decimal" (the
    /// SMSC answers submits in hex, receipts in decimal) or "hex".
    #[serde(default)]
    pub receipt_ids: ReceiptIds,
    /// Ask for delivery receipts. Default true.
    #[serde(default = "yes")]
    pub registered_delivery: bool,
    /// A message acknowledged and not receipted for this long ends
    /// `expired` (its receipt is not coming). Default: the server's
    /// `[engine.dispatch] receipt_timeout_secs`; 0: never. Without
    /// `registered_delivery` no receipt is awaited.
    #[serde(default)]
    pub receipt_timeout_secs: Option<u64>,
    /// How long a request waits for its response. Default 10 000.
    #[serde(default = "ten_thousand")]
    pub response_timeout_ms: u64,
    /// enquire_link after this much silence. Default 30.
    #[serde(default = "thirty")]
    pub enquire_link_secs: u64,
    /// Reconnect backoff: first delay, doubling to the longest, with
    /// jitter. Defaults 1 000 and 60 000.
    #[serde(default = "thousand")]
    pub reconnect_min_ms: u64,
    #[serde(default = "sixty_thousand")]
    pub reconnect_max_ms: u64,
    /// TCP connect and bind answer, at most. Default 10 000.
    #[serde(default = "ten_thousand")]
    pub connect_timeout_ms: u64,
    /// Connect over TLS. Default false.
    #[serde(default)]
    pub tls: bool,
    /// With `tls`: trust only the CA certificates in this PEM file
    /// (carriers often use their own CA). Default: the system's roots.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub tls_ca_file: Option<std::path::PathBuf>,
    /// With `tls`: the name the SMSC's certificate must carry. Default:
    /// `host`.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub tls_server_name: Option<String>,
    /// The largest PDU read. Default 65 536.
    #[serde(default = "max_pdu")]
    pub max_pdu: u32,
}

impl SmppConfig {
    /// Checks what serde cannot.
    pub fn validate(&self) -> Result<(), ConfigError> {
        let name = &self.name;
        if name.is_empty() || name.len() > 64 {
            return Err(ConfigError::ConnectorName);
        }
        let problem = if self.host.is_empty() || self.port == 0 {
            Some(ConnectorProblem::HostAndPort)
        } else if self.password_env.is_some() && !self.password.is_empty() {
            Some(ConnectorProblem::TwoPasswords)
        } else if self
            .password_env
            .as_ref()
            .is_some_and(|var| std::env::var(var).is_err())
        {
            Some(ConnectorProblem::PasswordEnv(
                self.password_env.clone().unwrap_or_default(),
            ))
        } else if self.system_id.len() > 15 || self.password().len() > 8 {
            Some(ConnectorProblem::Credentials)
        } else if !(1..=64).contains(&self.binds) {
            Some(ConnectorProblem::Binds)
        } else if !(1..=10_000).contains(&self.window) {
            Some(ConnectorProblem::Window)
        } else if self.response_timeout_ms == 0 || self.enquire_link_secs == 0 {
            Some(ConnectorProblem::Timeouts)
        } else if self.reconnect_min_ms == 0 || self.reconnect_max_ms < self.reconnect_min_ms {
            Some(ConnectorProblem::Reconnect)
        } else if !self.tls && (self.tls_ca_file.is_some() || self.tls_server_name.is_some()) {
            Some(ConnectorProblem::TlsOptions)
        } else if self.max_pdu < 1024 {
            Some(ConnectorProblem::MaxPdu)
        } else {
            None
        };
        match problem {
            Some(problem) => Err(ConfigError::Connector {
                connector: name.clone(),
                problem,
            }),
            None => Ok(()),
        }
    }

    /// The bind password: `password`, or the value of `password_env`.
    pub fn password(&self) -> String {
        match &self.password_env {
            Some(var) => std::env::var(var).unwrap_or_default(),
            None => self.password.clone(),
        }
    }

    /// The source address as sent, with its TON and NPI.
    pub fn source_address(&self, from: &str) -> (u8, u8, String) {
        let (ton, npi, addr) = if from.chars().any(|c| !c.is_ascii_digit() && c != '+') {
            (5, 0, from.to_string())
        } else if from.starts_with('+') || from.len() > 8 {
            (1, 1, from.trim_start_matches('+').to_string())
        } else {
            (0, 1, from.to_string())
        };
        (
            self.source_ton.unwrap_or(ton),
            self.source_npi.unwrap_or(npi),
            addr,
        )
    }
}

fn one() -> u32 {
    1
}
fn one_u8() -> u8 {
    1
}
fn fifty() -> usize {
    50
}
fn yes() -> bool {
    true
}
fn thirty() -> u64 {
    30
}
fn thousand() -> u64 {
    1_000
}
fn ten_thousand() -> u64 {
    10_000
}
fn sixty_thousand() -> u64 {
    60_000
}
fn max_pdu() -> u32 {
    smsgate_smpp::DEFAULT_MAX_PDU
}

const CONCATENATIONS: [(&str, Concatenation); 4] = [
    ("udh", Concatenation::Udh8),
    ("udh16", Concatenation::Udh16),
    ("sar", Concatenation::Sar),
    ("payload", Concatenation::Payload),
];

const TEXT_CODINGS: [(&str, TextCoding); 4] = [
    ("gsm7", TextCoding::Gsm7),
    ("gsm7-packed", TextCoding::Gsm7Packed),
    ("latin1", TextCoding::Latin1),
    ("ascii", TextCoding::Ascii),
];

fn by_name<'de, D: Deserializer<'de>, T: Copy>(
    d: D,
    table: &[(&str, T)],
    what: &str,
) -> Result<T, D::Error> {
    let s = String::deserialize(d)?;
    table
        .iter()
        .find(|(n, _)| *n == s)
        .map(|(_, v)| *v)
        .ok_or_else(|| {
            let names: Vec<_> = table.iter().map(|(n, _)| *n).collect();
            serde::de::Error::custom(format!(
                "unknown {what} {s:?}, expected one of {}",
                names.join(", ")
            ))
        })
}

fn name_of<S: Serializer, T: PartialEq>(
    s: S,
    v: &T,
    table: &[(&str, T)],
) -> Result<S::Ok, S::Error> {
    let name = table.iter().find(|(_, t)| t == v).map_or("", |(n, _)| n);
    s.serialize_str(name)
}

fn concatenation_de<'de, D: Deserializer<'de>>(d: D) -> Result<Concatenation, D::Error> {
    by_name(d, &CONCATENATIONS, "concatenation")
}

fn concatenation_ser<S: Serializer>(v: &Concatenation, s: S) -> Result<S::Ok, S::Error> {
    name_of(s, v, &CONCATENATIONS)
}

fn text_coding_de<'de, D: Deserializer<'de>>(d: D) -> Result<TextCoding, D::Error> {
    by_name(d, &TEXT_CODINGS, "gsm7_coding")
}

fn text_coding_ser<S: Serializer>(v: &TextCoding, s: S) -> Result<S::Ok, S::Error> {
    name_of(s, v, &TEXT_CODINGS)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_documented_example_parses_with_its_defaults() {
        let c: SmppConfig = toml::from_str(
            r#"
name = "carrier-a"
host = "127.0.0.1"
port = 2775
system_id = "smsgate"
password = "secret"
bind = "transceiver"
binds = 1
window = 50
tps = 0
"#,
        )
        .unwrap();
        c.validate().unwrap();
        assert_eq!(c.bind, BindMode::Transceiver);
        assert_eq!(c.concatenation, Concatenation::Udh8);
        assert_eq!(c.gsm7_coding, TextCoding::Gsm7);
        assert!(c.registered_delivery);
        let back: SmppConfig = serde_json::from_value(serde_json::to_value(&c).unwrap()).unwrap();
        assert_eq!(back, c);
    }

    #[test]
    fn mistakes_are_named() {
        let base = "name = \"a\"\nhost = \"h\"\nport = 1\nsystem_id = \"s\"\npassword = \"p\"\n";
        let e =
            toml::from_str::<SmppConfig>(&format!("{base}concatenation = \"udh9\"")).unwrap_err();
        assert!(e.to_string().contains("udh, udh16, sar, payload"), "{e}");
        let e = toml::from_str::<SmppConfig>(&format!("{base}windw = 5")).unwrap_err();
        assert!(e.to_string().contains("windw"), "{e}");
        let c: SmppConfig = toml::from_str(&base.replace("\"p\"", "\"toolongpw\"")).unwrap();
        assert!(matches!(
            c.validate(),
            Err(ConfigError::Connector {
                problem: ConnectorProblem::Credentials,
                ..
            })
        ));
    }

    #[test]
    fn receipt_ids_in_another_base() {
        assert_eq!(ReceiptIds::Decimal.to_response_form("14"), "e");
        assert_eq!(ReceiptIds::Hex.to_response_form("0000000E"), "14");
        assert_eq!(ReceiptIds::Auto.to_response_form("14"), "14");
        assert_eq!(ReceiptIds::Decimal.to_response_form("msg-1"), "msg-1");
    }

    #[test]
    fn source_addresses_by_shape() {
        let c: SmppConfig = toml::from_str(
            "name = \"a\"\nhost = \"h\"\nport = 1\nsystem_id = \"s\"\npassword = \"p\"",
        )
        .unwrap();
        assert_eq!(c.source_address("Acme"), (5, 0, "Acme".into()));
        assert_eq!(
            c.source_address("+31612345678"),
            (1, 1, "31612345678".into())
        );
        assert_eq!(c.source_address("1234"), (0, 1, "1234".into()));
    }
}
