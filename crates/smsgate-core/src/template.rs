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
        let mut failed = std::collections::HashSet::new();
        if fits(&text, first.len(), &self.literals, 1, &mut failed) {
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

/// Whether `text[at..]` is, for each literal from `next` on, a variable
/// part then the literal. Positions already known not to fit are in
/// `failed`, so that many variables cannot make this exponential.
fn fits(
    text: &[char],
    at: usize,
    literals: &[Vec<char>],
    next: usize,
    failed: &mut std::collections::HashSet<(usize, usize)>,
) -> bool {
    let Some(literal) = literals.get(next) else {
        return at == text.len();
    };
    if failed.contains(&(at, next)) {
        return false;
    }
    let rest = &text[at..];
    let found = (1..=MAX_VAR_CHARS.min(rest.len())).any(|n| {
        rest[n..].starts_with(literal)
            && fits(text, at + n + literal.len(), literals, next + 1, failed)
    });
    if !found {
        failed.insert((at, next));
    }
    found
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
