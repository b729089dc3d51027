//! Message text: choosing GSM-7 or UCS-2 and cutting text into segments.
//!
//! A single SMS carries 140 octets: 160 GSM-7 septets or 70 UCS-2 code
//! units. A concatenated message loses 6 octets per part to the UDH, leaving
//! 153 septets or 67 code units. Two things must never be cut in half: a
//! GSM-7 extension character (escape + character, two septets) and a
//! UTF-16 surrogate pair (a character outside the BMP). Counting and
//! splitting share one walk so that the segment count we charge for is the
//! number of parts the connector sends.

use serde::{Deserialize, Serialize};

use crate::gsm7;

/// The alphabet a message is sent in.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize, Deserialize)]
#[serde(rename_all = "lowercase")]
pub enum Encoding {
    /// GSM 03.38 default alphabet with its extension table.
    Gsm7,
    /// UCS-2 (UTF-16 code units on the wire).
    Ucs2,
}

impl Encoding {
    pub fn as_str(self) -> &'static str {
        match self {
            Encoding::Gsm7 => "gsm7",
            Encoding::Ucs2 => "ucs2",
        }
    }

    pub fn parse(s: &str) -> Option<Encoding> {
        match s {
            "gsm7" => Some(Encoding::Gsm7),
            "ucs2" => Some(Encoding::Ucs2),
            _ => None,
        }
    }

    /// Units (septets or code units) that fit in a message of one part.
    pub const fn single_part_units(self) -> usize {
        match self {
            Encoding::Gsm7 => 160,
            Encoding::Ucs2 => 70,
        }
    }

    /// Units that fit in each part of a concatenated message.
    pub const fn multi_part_units(self) -> usize {
        match self {
            Encoding::Gsm7 => 153,
            Encoding::Ucs2 => 67,
        }
    }

    /// Units one character costs, or `None` if it cannot be encoded.
    fn units(self, c: char) -> Option<usize> {
        match self {
            Encoding::Gsm7 => gsm7::septets(c),
            Encoding::Ucs2 => Some(c.len_utf16()),
        }
    }
}

/// What the client asked for; `Auto` picks GSM-7 when every character has
/// a GSM-7 code and UCS-2 otherwise.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default, Serialize, Deserialize)]
#[serde(rename_all = "lowercase")]
pub enum EncodingChoice {
    #[default]
    Auto,
    Gsm7,
    Ucs2,
}

impl EncodingChoice {
    pub fn parse(s: &str) -> Option<EncodingChoice> {
        match s {
            "auto" => Some(EncodingChoice::Auto),
            "gsm7" => Some(EncodingChoice::Gsm7),
            "ucs2" => Some(EncodingChoice::Ucs2),
            _ => None,
        }
    }
}

/// Why a text cannot be sent.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum TextError {
    #[error("text must not be empty")]
    Empty,
    #[error(
        "character {character:?} at position {position} has no GSM-7 code; use encoding \"ucs2\" or \"auto\""
    )]
    NotGsm7 { character: char, position: usize },
    #[error("text needs {parts} parts, more than the {max} allowed for this account")]
    TooManyParts { parts: usize, max: usize },
}

/// The result of measuring a text: its encoding, its length in units and
/// the number of parts it is sent in.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
pub struct Segments {
    pub encoding: Encoding,
    /// Septets (GSM-7) or UTF-16 code units (UCS-2).
    pub units: usize,
    pub parts: usize,
}

/// Picks the encoding for `text`.
pub fn choose_encoding(text: &str, choice: EncodingChoice) -> Result<Encoding, TextError> {
    match choice {
        EncodingChoice::Ucs2 => Ok(Encoding::Ucs2),
        EncodingChoice::Auto => Ok(if text.chars().all(gsm7::is_encodable) {
            Encoding::Gsm7
        } else {
            Encoding::Ucs2
        }),
        EncodingChoice::Gsm7 => match text.chars().position(|c| !gsm7::is_encodable(c)) {
            None => Ok(Encoding::Gsm7),
            Some(position) => Err(TextError::NotGsm7 {
                character: text.chars().nth(position).unwrap_or_default(),
                position,
            }),
        },
    }
}

/// Measures `text`, refusing empty texts and texts over `max_parts` parts.
pub fn measure(
    text: &str,
    choice: EncodingChoice,
    max_parts: usize,
) -> Result<Segments, TextError> {
    if text.is_empty() {
        return Err(TextError::Empty);
    }
    let encoding = choose_encoding(text, choice)?;
    let mut parts = 0;
    let units = walk(text, encoding, |_| parts += 1);
    if parts > max_parts {
        return Err(TextError::TooManyParts {
            parts,
            max: max_parts,
        });
    }
    Ok(Segments {
        encoding,
        units,
        parts,
    })
}

/// Splits `text` into the parts it is sent in. The text must be encodable
/// in `encoding` (as [`measure`] guarantees).
pub fn split(text: &str, encoding: Encoding) -> Vec<&str> {
    let mut starts = Vec::new();
    walk(text, encoding, |start| starts.push(start));
    let mut parts = Vec::with_capacity(starts.len());
    for (i, &start) in starts.iter().enumerate() {
        let end = starts.get(i + 1).copied().unwrap_or(text.len());
        parts.push(&text[start..end]);
    }
    parts
}

/// Walks `text` once, calling `part_starts(byte_offset)` at the start of
/// every part, and returns the total units. Characters that cannot be
/// encoded count as one unit (callers validate first).
fn walk(text: &str, encoding: Encoding, mut part_starts: impl FnMut(usize)) -> usize {
    let units_of = |c: char| encoding.units(c).unwrap_or(1);
    let total: usize = text.chars().map(units_of).sum();
    if text.is_empty() {
        return 0;
    }
    part_starts(0);
    if total <= encoding.single_part_units() {
        return total;
    }
    let limit = encoding.multi_part_units();
    let mut used = 0;
    for (offset, c) in text.char_indices() {
        let cost = units_of(c);
        if used + cost > limit {
            part_starts(offset);
            used = 0;
        }
        used += cost;
    }
    total
}

#[cfg(test)]
mod tests {
    use super::*;
    use proptest::prelude::*;

    fn units(text: &str, e: Encoding) -> usize {
        text.chars().map(|c| e.units(c).unwrap()).sum()
    }

    #[test]
    fn plain_ascii_is_gsm7_and_fits_160() {
        let s = measure(&"a".repeat(160), EncodingChoice::Auto, 10).unwrap();
        assert_eq!((s.encoding, s.units, s.parts), (Encoding::Gsm7, 160, 1));
        let s = measure(&"a".repeat(161), EncodingChoice::Auto, 10).unwrap();
        assert_eq!(s.parts, 2);
        assert_eq!(
            measure(&"a".repeat(306), EncodingChoice::Auto, 10)
                .unwrap()
                .parts,
            2
        );
        assert_eq!(
            measure(&"a".repeat(307), EncodingChoice::Auto, 10)
                .unwrap()
                .parts,
            3
        );
    }

    #[test]
    fn extension_characters_cost_two_septets() {
        let s = measure(&"€".repeat(80), EncodingChoice::Auto, 10).unwrap();
        assert_eq!((s.encoding, s.units, s.parts), (Encoding::Gsm7, 160, 1));
        assert_eq!(
            measure(&"€".repeat(81), EncodingChoice::Auto, 10)
                .unwrap()
                .parts,
            2
        );
    }

    #[test]
    fn extension_character_is_never_split() {
        // 152 septets, then '{' (2 septets) would straddle 153: it moves whole.
        let text = format!("{}{{{}", "a".repeat(152), "b".repeat(10));
        let parts = split(&text, Encoding::Gsm7);
        assert_eq!(parts[0], "a".repeat(152));
        assert!(parts[1].starts_with('{'));
    }

    #[test]
    fn any_non_gsm_character_switches_to_ucs2() {
        let s = measure("hello ☺", EncodingChoice::Auto, 10).unwrap();
        assert_eq!((s.encoding, s.units, s.parts), (Encoding::Ucs2, 7, 1));
        assert_eq!(
            measure(&"я".repeat(70), EncodingChoice::Auto, 10)
                .unwrap()
                .parts,
            1
        );
        assert_eq!(
            measure(&"я".repeat(71), EncodingChoice::Auto, 10)
                .unwrap()
                .parts,
            2
        );
        assert_eq!(
            measure(&"я".repeat(134), EncodingChoice::Auto, 10)
                .unwrap()
                .parts,
            2
        );
        assert_eq!(
            measure(&"я".repeat(135), EncodingChoice::Auto, 10)
                .unwrap()
                .parts,
            3
        );
    }

    #[test]
    fn surrogate_pair_is_never_split() {
        // 66 units then an emoji (2 units) straddles 67: it moves whole.
        let text = format!("{}😀{}", "я".repeat(66), "я".repeat(10));
        let parts = split(&text, Encoding::Ucs2);
        assert_eq!(parts[0], "я".repeat(66));
        assert!(parts[1].starts_with('😀'));
    }

    #[test]
    fn forced_gsm7_names_the_offending_character() {
        assert_eq!(
            measure("ok ☺", EncodingChoice::Gsm7, 10),
            Err(TextError::NotGsm7 {
                character: '☺',
                position: 3
            })
        );
        let s = measure("plain", EncodingChoice::Ucs2, 10).unwrap();
        assert_eq!(s.encoding, Encoding::Ucs2);
    }

    #[test]
    fn limits_are_enforced() {
        assert_eq!(measure("", EncodingChoice::Auto, 10), Err(TextError::Empty));
        assert_eq!(
            measure(&"a".repeat(153 * 3 + 1), EncodingChoice::Auto, 3),
            Err(TextError::TooManyParts { parts: 4, max: 3 })
        );
    }

    fn any_text() -> impl Strategy<Value = String> {
        // Mix GSM basic, GSM extension, BMP and astral characters.
        let ch = prop_oneof![
            4 => proptest::char::range('a', 'z'),
            1 => proptest::sample::select(vec!['€', '{', '}', '[', ']', '~', '\\', '^', '|']),
            1 => proptest::sample::select(vec!['é', 'Ø', 'Δ', '\n', '@', '£']),
            1 => proptest::sample::select(vec!['я', '☺', '中', 'ç']),
            1 => proptest::sample::select(vec!['😀', '𝄞', '🚀']),
        ];
        proptest::collection::vec(ch, 1..1200).prop_map(|v| v.into_iter().collect())
    }

    proptest! {
        #[test]
        fn split_then_join_is_identity_and_parts_fit(text in any_text(), force_ucs2 in any::<bool>()) {
            let choice = if force_ucs2 { EncodingChoice::Ucs2 } else { EncodingChoice::Auto };
            let m = measure(&text, choice, usize::MAX).unwrap();
            let parts = split(&text, m.encoding);
            prop_assert_eq!(parts.concat(), text.clone());
            prop_assert_eq!(parts.len(), m.parts);
            let limit = if parts.len() == 1 {
                m.encoding.single_part_units()
            } else {
                m.encoding.multi_part_units()
            };
            for p in &parts {
                prop_assert!(!p.is_empty());
                prop_assert!(units(p, m.encoding) <= limit);
            }
            // Parts are as full as possible: the next part's first character
            // would not have fitted.
            for w in parts.windows(2) {
                let next = w[1].chars().next().unwrap();
                prop_assert!(units(w[0], m.encoding) + m.encoding.units(next).unwrap() > limit);
            }
        }
    }
}
