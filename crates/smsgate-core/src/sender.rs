//! `SenderId`: who a message says it is from.

use std::fmt;

use serde::{Deserialize, Serialize};

/// An originator: an alphanumeric name (at most 11 GSM characters, not all
/// digits) or a number (short code or full number, at most 15 digits, an
/// optional leading `+`).
#[derive(Debug, Clone, PartialEq, Eq, Hash, Serialize, Deserialize)]
#[serde(try_from = "String", into = "String")]
pub enum SenderId {
    Alphanumeric(String),
    Numeric(String),
}

#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum SenderIdError {
    #[error("sender is empty")]
    Empty,
    #[error("alphanumeric sender is {0} characters long; at most 11 are allowed")]
    TooLong(usize),
    #[error("numeric sender has {0} digits; at most 15 are allowed")]
    TooManyDigits(usize),
    #[error("sender contains {0:?}; use letters, digits, spaces and . - _ & ! only")]
    InvalidCharacter(char),
}

impl SenderId {
    pub fn parse(input: &str) -> Result<SenderId, SenderIdError> {
        let s = input.trim();
        if s.is_empty() {
            return Err(SenderIdError::Empty);
        }
        let numeric = s.strip_prefix('+').unwrap_or(s);
        if !numeric.is_empty() && numeric.bytes().all(|b| b.is_ascii_digit()) {
            if numeric.len() > 15 {
                return Err(SenderIdError::TooManyDigits(numeric.len()));
            }
            return Ok(SenderId::Numeric(numeric.to_string()));
        }
        if let Some(c) = s.chars().find(|c| {
            !(c.is_ascii_alphanumeric() || matches!(c, ' ' | '.' | '-' | '_' | '&' | '!'))
        }) {
            return Err(SenderIdError::InvalidCharacter(c));
        }
        let len = s.chars().count();
        if len > 11 {
            return Err(SenderIdError::TooLong(len));
        }
        Ok(SenderId::Alphanumeric(s.to_string()))
    }

    pub fn as_str(&self) -> &str {
        match self {
            SenderId::Alphanumeric(s) | SenderId::Numeric(s) => s,
        }
    }
}

impl fmt::Display for SenderId {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.as_str())
    }
}

impl TryFrom<String> for SenderId {
    type Error = SenderIdError;
    fn try_from(s: String) -> Result<Self, Self::Error> {
        SenderId::parse(&s)
    }
}

impl From<SenderId> for String {
    fn from(s: SenderId) -> String {
        match s {
            SenderId::Alphanumeric(s) | SenderId::Numeric(s) => s,
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn alphanumeric_and_numeric_senders() {
        assert_eq!(
            SenderId::parse("Acme").unwrap(),
            SenderId::Alphanumeric("Acme".into())
        );
        assert_eq!(
            SenderId::parse("ACME Bank 1").unwrap().as_str(),
            "ACME Bank 1"
        );
        assert_eq!(
            SenderId::parse("+3197010").unwrap(),
            SenderId::Numeric("3197010".into())
        );
        assert_eq!(
            SenderId::parse("12345678901234").unwrap(),
            SenderId::Numeric("12345678901234".into())
        );
    }

    #[test]
    fn bad_senders_say_why() {
        assert_eq!(SenderId::parse(" "), Err(SenderIdError::Empty));
        assert_eq!(
            SenderId::parse("TwelveChars1"),
            Err(SenderIdError::TooLong(12))
        );
        assert_eq!(
            SenderId::parse("1234567890123456"),
            Err(SenderIdError::TooManyDigits(16))
        );
        assert_eq!(
            SenderId::parse("Acme<1>"),
            Err(SenderIdError::InvalidCharacter('<'))
        );
    }
}
