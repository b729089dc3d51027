//! Identifiers. Messages and batches get UUIDv7 ids (time-ordered, so
//! store indexes append); accounts and keys are small integers, seen by
//! operators only; the other objects a tenant owns show clients a
//! [`PublicId`].

use std::fmt;
use std::str::FromStr;

use serde::{Deserialize, Serialize};
use uuid::Uuid;

macro_rules! uuid_id {
    ($(#[$doc:meta])* $name:ident) => {
        $(#[$doc])*
        #[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord, Serialize, Deserialize)]
        #[serde(transparent)]
        pub struct $name(pub Uuid);

        impl $name {
            /// A new, time-ordered id.
            pub fn generate() -> Self {
                $name(Uuid::now_v7())
            }

            pub fn as_bytes(&self) -> &[u8; 16] {
                self.0.as_bytes()
            }

            pub fn from_bytes(bytes: [u8; 16]) -> Self {
                $name(Uuid::from_bytes(bytes))
            }
        }

        impl fmt::Display for $name {
            fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
                self.0.hyphenated().fmt(f)
            }
        }

        impl FromStr for $name {
            type Err = uuid::Error;
            fn from_str(s: &str) -> Result<Self, Self::Err> {
                Uuid::parse_str(s).map($name)
            }
        }
    };
}

uuid_id!(
    /// The id of one outbound message (one recipient).
    MessageId
);
uuid_id!(
    /// The id of a batch: one send request with many recipients.
    BatchId
);
uuid_id!(
    /// The id of one inbound (mobile-originated) message.
    InboundId
);

macro_rules! int_id {
    ($(#[$doc:meta])* $name:ident) => {
        $(#[$doc])*
        #[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord, Serialize, Deserialize)]
        #[serde(transparent)]
        pub struct $name(pub i64);

        impl fmt::Display for $name {
            fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
                self.0.fmt(f)
            }
        }
    };
}

int_id!(
    /// The id of a customer account.
    AccountId
);
int_id!(
    /// The id of an API key (not the key itself, which is never stored).
    KeyId
);
int_id!(
    /// The id of a rate plan (a named price list).
    PlanId
);

/// The id clients see of an object a tenant owns (webhook endpoint,
/// delivery, sender ID, template): a kind prefix and 128 random bits in
/// hex, made by the store when the object is made. Never a count, never
/// reused, so neither guessable nor inherited by the next object.
///
/// ```text
/// wh_8c1f0e5a9d3b47e2a6f1c0d9b8e7a654
/// ```
#[derive(Debug, Clone, PartialEq, Eq, Hash, PartialOrd, Ord, Serialize)]
#[serde(transparent)]
pub struct PublicId(String);

impl PublicId {
    /// A well-formed id (`[a-z]{2}_` and 32 lower-case hex digits), else
    /// `None`: such a string names nothing, so it is looked up nowhere.
    pub fn parse(s: &str) -> Option<PublicId> {
        let b = s.as_bytes();
        let well_formed = b.len() == 35
            && b[..2].iter().all(u8::is_ascii_lowercase)
            && b[2] == b'_'
            && b[3..]
                .iter()
                .all(|c| c.is_ascii_digit() || (b'a'..=b'f').contains(c));
        well_formed.then(|| PublicId(s.to_string()))
    }

    pub fn as_str(&self) -> &str {
        &self.0
    }
}

impl fmt::Display for PublicId {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(&self.0)
    }
}

#[cfg(test)]
mod tests {
    use super::PublicId;

    #[test]
    fn public_ids_are_prefixed_random_hex_and_nothing_else() {
        let id = "wh_8c1f0e5a9d3b47e2a6f1c0d9b8e7a654";
        assert_eq!(PublicId::parse(id).unwrap().as_str(), id);
        for bad in [
            "",
            "1",
            "42",
            "wh_8c1f0e5a9d3b47e2a6f1c0d9b8e7a65",
            "wh_8c1f0e5a9d3b47e2a6f1c0d9b8e7a6544",
            "WH_8c1f0e5a9d3b47e2a6f1c0d9b8e7a654",
            "wh-8c1f0e5a9d3b47e2a6f1c0d9b8e7a654",
            "wh_8C1F0E5A9D3B47E2A6F1C0D9B8E7A654",
            "wh_8c1f0e5a9d3b47e2a6f1c0d9b8e7a65g",
        ] {
            assert_eq!(PublicId::parse(bad), None, "{bad:?}");
        }
    }
}
int_id!(
    /// The id of an operator (a person or system running the gateway).
    OperatorId
);
int_id!(
    /// The id of an operator's API token.
    OperatorTokenId
);
