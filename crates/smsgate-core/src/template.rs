//! Content templates (the DLT model): registered text in which each
//! `{#var#}` stands for one variable part of up to 30 characters. A
//! message sent with a template must be the template with its variables
//! filled in.

use std::fmt;

/// The placeholder of a variable part.
pub const VAR: &str = "{#var#}";
/// Characters a variable part may hold at most.
pub const MAX_VAR_CHARS: usize = 30;
const MAX_TEMPLATE_CHARS: usize = 2_000;

/// A template's text split at its variables: `literals.len() == vars + 1`.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Template {
    literals: Vec<Vec<char>>,
}

#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum TemplateError {
    #[error("the template text is empty")]
    Empty,
    #[error("the template text is longer than {MAX_TEMPLATE_CHARS} characters")]
    TooLong,
}

/// Why a text does not fit a template.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[error("the message does not match the template: {0}")]
pub struct Mismatch(String);

impl Template {
    pub fn parse(text: &str) -> Result<Template, TemplateError> {
        if text.trim().is_empty() {
            return Err(TemplateError::Empty);
        }
        if text.chars().count() > MAX_TEMPLATE_CHARS {
            return Err(TemplateError::TooLong);
        }
        Ok(Template {
            literals: text.split(VAR).map(|l| l.chars().collect()).collect(),
        })
    }

    pub fn variables(&self) -> usize {
        self.literals.len() - 1
    }

    /// Whether `text` (which begins with the first literal) is the rest of
    /// the template with each variable 1 to 30 characters: the positions
    /// where the template so far can end, literal by literal, with a
    /// window over the last 30 of them. Time is the text's length times
    /// the template's, whatever the variables (a search with backtracking
    /// took 16 s on a template of 285 variables).
    fn fits(&self, text: &[char]) -> bool {
        let n = text.len();
        let mut ends = vec![false; n + 1];
        ends[self.literals[0].len()] = true;
        for literal in &self.literals[1..] {
            let mut next = vec![false; n + 1];
            // Ends of the template so far in [q - 30, q - 1].
            let mut window = 0usize;
            for q in 0..=n {
                if q >= 1 && ends[q - 1] {
                    window += 1;
                }
                if q > MAX_VAR_CHARS && ends[q - MAX_VAR_CHARS - 1] {
                    window -= 1;
                }
                if window > 0 && text[q..].starts_with(literal) {
                    next[q + literal.len()] = true;
                }
            }
            ends = next;
        }
        ends[n]
    }

    /// Whether `text` is this template with each variable replaced by 1
    /// to 30 characters.
    pub fn check(&self, text: &str) -> Result<(), Mismatch> {
        let text: Vec<char> = text.chars().collect();
        let first = &self.literals[0];
        if !text.starts_with(first) {
            return Err(Mismatch(format!(
                "it should begin with {:?}",
                first.iter().collect::<String>()
            )));
        }
        if self.fits(&text) {
            Ok(())
        } else if self.variables() == 0 {
            Err(Mismatch("the text differs from the template".into()))
        } else {
            Err(Mismatch(format!(
                "the fixed text differs, or a variable part is empty or longer than {MAX_VAR_CHARS} characters"
            )))
        }
    }
}

impl fmt::Display for Template {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        let parts: Vec<String> = self.literals.iter().map(|l| l.iter().collect()).collect();
        f.write_str(&parts.join(VAR))
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn variables_take_one_to_thirty_characters() {
        let t = Template::parse("Dear {#var#}, your OTP is {#var#}. Do not share it.").unwrap();
        assert_eq!(t.variables(), 2);
        assert!(
            t.check("Dear Ann, your OTP is 123456. Do not share it.")
                .is_ok()
        );
        assert!(
            t.check("Dear Ann Marie, your OTP is 12. Do not share it.")
                .is_ok()
        );
        assert!(
            t.check("Dear , your OTP is 123456. Do not share it.")
                .is_err(),
            "empty"
        );
        let long = "x".repeat(31);
        assert!(
            t.check(&format!("Dear {long}, your OTP is 1. Do not share it."))
                .is_err()
        );
        let thirty = "x".repeat(30);
        assert!(
            t.check(&format!("Dear {thirty}, your OTP is 1. Do not share it."))
                .is_ok()
        );
        assert!(
            t.check("Dear Ann, your code is 123456. Do not share it.")
                .is_err()
        );
        assert!(
            t.check("Dear Ann, your OTP is 123456. Do not share it!")
                .is_err()
        );
        assert!(
            t.check("Hi Ann, your OTP is 123456. Do not share it.")
                .is_err()
        );
        assert_eq!(
            t.to_string(),
            "Dear {#var#}, your OTP is {#var#}. Do not share it."
        );
    }

    #[test]
    fn a_variable_may_hold_text_that_looks_like_the_template() {
        let t = Template::parse("{#var#} paid {#var#}").unwrap();
        assert!(t.check("Ann paid Bob paid 5").is_ok());
        // Many variables and a text that fits none: still quick.
        let many = Template::parse(&"{#var#}".repeat(20)).unwrap();
        assert!(many.check(&"x".repeat(601)).is_err());
        assert!(many.check(&"x".repeat(600)).is_ok());
        let fixed = Template::parse("Hello").unwrap();
        assert!(fixed.check("Hello").is_ok());
        assert!(fixed.check("Hello!").is_err());
        assert_eq!(Template::parse(" "), Err(TemplateError::Empty));
    }
}

#[cfg(test)]
mod adversarial {
    use super::*;

    #[test]
    fn many_variables_next_to_each_other_match_in_one_pass() {
        // 285 variables side by side: 285 to 8,550 characters fit.
        let t = Template::parse(&VAR.repeat(285)).unwrap();
        assert!(t.check(&"a".repeat(285)).is_ok());
        assert!(t.check(&"a".repeat(8_550)).is_ok());
        assert!(t.check(&"a".repeat(284)).is_err());
        assert!(t.check(&"a".repeat(8_551)).is_err());
        // A near miss at the very end, the worst case for a search.
        let t = Template::parse(&format!("{}!", "{#var#} ".repeat(240))).unwrap();
        let text = format!("{}?", "ab ".repeat(240));
        assert!(t.check(&text).is_err());
        assert!(t.check(&format!("{}!", "ab ".repeat(240))).is_ok());
    }
}
