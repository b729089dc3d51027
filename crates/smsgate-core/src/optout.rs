//! Opt-out: the keywords with which a recipient stops (and restarts) an
//! account's messages, and how an inbound text is read for them.
//!
//! Keywords are single words, compared without regard to case; the text
//! is compared after trimming and collapsing whitespace, so " stop\n" is
//! STOP. A text is a keyword only when it is the whole text, or the first
//! of two words whose second is a routing keyword of a shared number
//! ("STOP ACME"): "please stop sending" is a message, not an opt-out.

use serde::{Deserialize, Serialize};

/// Keywords that opt a recipient out unless the account sets its own.
pub const DEFAULT_STOP: [&str; 6] = ["STOP", "STOPALL", "UNSUBSCRIBE", "CANCEL", "END", "QUIT"];
/// Keywords that opt a recipient back in unless the account sets its own.
pub const DEFAULT_START: [&str; 2] = ["START", "UNSTOP"];

const MAX_KEYWORDS: usize = 50;
const MAX_KEYWORD_CHARS: usize = 32;

/// What an inbound keyword asks for.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum OptOutAction {
    OptOut,
    OptIn,
}

/// An account's opt-out and opt-in keywords, normalised (upper case).
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct OptOutKeywords {
    stop: Vec<String>,
    start: Vec<String>,
}

/// Why a keyword list was refused.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum KeywordError {
    #[error("keyword {0:?} is empty or contains whitespace")]
    NotAWord(String),
    #[error("keyword {0:?} is longer than {MAX_KEYWORD_CHARS} characters")]
    TooLong(String),
    #[error("at most {MAX_KEYWORDS} keywords per list")]
    TooMany,
    #[error("the stop list needs at least one keyword")]
    NoStop,
    #[error("keyword {0:?} is in both lists")]
    InBoth(String),
}

/// A keyword in its compared form, or why it is not one.
pub fn normalize_keyword(word: &str) -> Result<String, KeywordError> {
    let w = word.trim();
    if w.is_empty() || w.chars().any(char::is_whitespace) {
        return Err(KeywordError::NotAWord(word.to_string()));
    }
    if w.chars().count() > MAX_KEYWORD_CHARS {
        return Err(KeywordError::TooLong(word.to_string()));
    }
    Ok(w.to_uppercase())
}

impl Default for OptOutKeywords {
    fn default() -> Self {
        OptOutKeywords {
            stop: DEFAULT_STOP.iter().map(|s| s.to_string()).collect(),
            start: DEFAULT_START.iter().map(|s| s.to_string()).collect(),
        }
    }
}

impl OptOutKeywords {
    pub fn new<S: AsRef<str>>(stop: &[S], start: &[S]) -> Result<Self, KeywordError> {
        if stop.len() > MAX_KEYWORDS || start.len() > MAX_KEYWORDS {
            return Err(KeywordError::TooMany);
        }
        let list = |words: &[S]| -> Result<Vec<String>, KeywordError> {
            let mut out: Vec<String> = Vec::with_capacity(words.len());
            for w in words {
                let w = normalize_keyword(w.as_ref())?;
                if !out.contains(&w) {
                    out.push(w);
                }
            }
            Ok(out)
        };
        let (stop, start) = (list(stop)?, list(start)?);
        if stop.is_empty() {
            return Err(KeywordError::NoStop);
        }
        if let Some(both) = stop.iter().find(|w| start.contains(w)) {
            return Err(KeywordError::InBoth(both.clone()));
        }
        Ok(OptOutKeywords { stop, start })
    }

    /// Reads lists as stored (words separated by spaces); `None` is the
    /// default list.
    pub fn from_stored(stop: Option<&str>, start: Option<&str>) -> Result<Self, KeywordError> {
        let d = OptOutKeywords::default();
        let split = |s: &str| s.split_whitespace().map(str::to_string).collect::<Vec<_>>();
        let stop = stop.map_or(d.stop, split);
        let start = start.map_or(d.start, split);
        OptOutKeywords::new(&stop, &start)
    }

    pub fn stop(&self) -> &[String] {
        &self.stop
    }

    pub fn start(&self) -> &[String] {
        &self.start
    }

    /// What `word` (one word, any case) asks for, if it is a keyword.
    pub fn action(&self, word: &str) -> Option<OptOutAction> {
        let w = word.to_uppercase();
        if self.stop.contains(&w) {
            Some(OptOutAction::OptOut)
        } else if self.start.contains(&w) {
            Some(OptOutAction::OptIn)
        } else {
            None
        }
    }
}

/// The words of an inbound text as keywords compare them: at most the
/// first `n`, upper case, with the total number of words.
pub fn leading_words(text: &str, n: usize) -> (Vec<String>, usize) {
    let mut words = text.split_whitespace();
    let first: Vec<String> = words.by_ref().take(n).map(str::to_uppercase).collect();
    let count = first.len() + words.count();
    (first, count)
}

/// Whose an inbound text is, among the accounts a shared number's
/// routing keywords and the number itself name.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum InboundOwner {
    /// The account whose routing keyword is the first word.
    FirstWord,
    /// The account whose routing keyword is the second word ("STOP ACME").
    SecondWord,
    /// The number's owner.
    Number,
    /// Nobody's.
    Nobody,
}

/// What the words of an inbound text make of it: whose it is, and the
/// opt-out or opt-in keyword it is (the word as compared), if it is one.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct InboundRoute {
    pub owner: InboundOwner,
    pub optout: Option<(OptOutAction, String)>,
}

/// Routes an inbound text. `first_word` and `second_word` are the opt-out
/// keyword lists of the accounts whose routing keyword the text's first
/// and second words are (on the number it was sent to), `number` those of
/// the number's owner.
///
/// A routing keyword as the first word picks its account, and is not
/// also an opt-out. "STOP ACME" picks ACME's account by its second word
/// when the first is one of ACME's opt-out or opt-in keywords. Otherwise
/// the number's owner has the text, which is an opt-out or opt-in when it
/// is one of the owner's keywords alone.
pub fn route_inbound(
    text: &str,
    first_word: Option<&OptOutKeywords>,
    second_word: Option<&OptOutKeywords>,
    number: Option<&OptOutKeywords>,
) -> InboundRoute {
    let (words, count) = leading_words(text, 2);
    let route = |owner, optout| InboundRoute { owner, optout };
    if first_word.is_some() {
        return route(InboundOwner::FirstWord, None);
    }
    if count == 2
        && let Some(keywords) = second_word
        && let Some(action) = keywords.action(&words[0])
    {
        return route(InboundOwner::SecondWord, Some((action, words[0].clone())));
    }
    match number {
        None => route(InboundOwner::Nobody, None),
        Some(keywords) => {
            let optout = (count == 1)
                .then(|| keywords.action(&words[0]).map(|a| (a, words[0].clone())))
                .flatten();
            route(InboundOwner::Number, optout)
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn inbound_texts_are_routed_by_keyword_then_by_number() {
        let acme = OptOutKeywords::default();
        let route = |text, first, second, number| route_inbound(text, first, second, number);
        // A routing keyword first: its account, never an opt-out.
        assert_eq!(
            route("ACME stop", Some(&acme), None, Some(&acme)),
            InboundRoute {
                owner: InboundOwner::FirstWord,
                optout: None
            }
        );
        // STOP ACME: ACME's, an opt-out.
        assert_eq!(
            route("stop acme", None, Some(&acme), Some(&acme)),
            InboundRoute {
                owner: InboundOwner::SecondWord,
                optout: Some((OptOutAction::OptOut, "STOP".into()))
            }
        );
        // "hello acme": the second word's account only for its keywords.
        assert_eq!(
            route("hello acme", None, Some(&acme), Some(&acme)).owner,
            InboundOwner::Number
        );
        // The number's owner; a keyword alone is an opt-out, in a sentence not.
        assert_eq!(
            route(" Stop ", None, None, Some(&acme)).optout,
            Some((OptOutAction::OptOut, "STOP".into()))
        );
        assert_eq!(route("please stop", None, None, Some(&acme)).optout, None);
        assert_eq!(
            route("START", None, None, Some(&acme)).optout.unwrap().0,
            OptOutAction::OptIn
        );
        assert_eq!(route("stop", None, None, None).owner, InboundOwner::Nobody);
    }

    #[test]
    fn defaults_match_the_usual_words_in_any_case() {
        let k = OptOutKeywords::default();
        for w in [
            "STOP",
            "stop",
            "Stop",
            "stopall",
            "Unsubscribe",
            "cancel",
            "END",
            "quit",
        ] {
            assert_eq!(k.action(w), Some(OptOutAction::OptOut), "{w}");
        }
        assert_eq!(k.action("start"), Some(OptOutAction::OptIn));
        assert_eq!(k.action("UNSTOP"), Some(OptOutAction::OptIn));
        assert_eq!(k.action("hello"), None);
        assert_eq!(k.action("stopp"), None);
    }

    #[test]
    fn words_are_read_without_regard_to_whitespace() {
        assert_eq!(leading_words("  stop \n", 2), (vec!["STOP".to_string()], 1));
        assert_eq!(
            leading_words("Stop\tacme  now", 2),
            (vec!["STOP".to_string(), "ACME".to_string()], 3)
        );
        assert_eq!(leading_words("", 2), (vec![], 0));
    }

    #[test]
    fn lists_are_checked() {
        let k = OptOutKeywords::new(&["halt", "HALT", "stop"], &["go"]).unwrap();
        assert_eq!(k.stop(), ["HALT", "STOP"]);
        assert_eq!(k.action("Go"), Some(OptOutAction::OptIn));
        assert_eq!(k.action("quit"), None, "an own list replaces the default");
        assert_eq!(
            OptOutKeywords::new(&["two words"], &[]),
            Err(KeywordError::NotAWord("two words".into()))
        );
        assert_eq!(
            OptOutKeywords::new(&[""], &[]),
            Err(KeywordError::NotAWord("".into()))
        );
        assert_eq!(
            OptOutKeywords::new::<&str>(&[], &["go"]),
            Err(KeywordError::NoStop)
        );
        assert_eq!(
            OptOutKeywords::new(&["stop"], &["STOP"]),
            Err(KeywordError::InBoth("STOP".into()))
        );
        assert!(matches!(
            OptOutKeywords::new(&["x".repeat(33).as_str()], &[]),
            Err(KeywordError::TooLong(_))
        ));
    }

    #[test]
    fn stored_lists_round_trip() {
        let k = OptOutKeywords::from_stored(Some("HALT STOP"), None).unwrap();
        assert_eq!(k.stop(), ["HALT", "STOP"]);
        assert_eq!(k.start(), ["START", "UNSTOP"]);
        assert_eq!(
            OptOutKeywords::from_stored(None, None).unwrap(),
            OptOutKeywords::default()
        );
    }
}
