//! Protected sender IDs: names people trust (brands that are phished,
//! banks, emergency and public-service numbers) which fraudsters put in the
//! From field. A send from one needs that sender ID registered and approved
//! for the account. Names are compared folded (case, punctuation, and the
//! digits that pass for letters: `PAY-PA1` is `paypal`).

use std::collections::HashSet;

/// The list smsgate protects unless configured otherwise.
pub const DEFAULT: &[&str] = &[
    // Emergency and public-service numbers.
    "112",
    "911",
    "999",
    "000",
    "110",
    "119",
    "100",
    "101",
    "102",
    "108",
    "15",
    "17",
    "18",
    "190",
    "193",
    "197",
    "911911",
    "116000",
    "116111",
    "116117",
    // Brands most used in SMS phishing, and the words of authority.
    "PayPal",
    "Amazon",
    "Apple",
    "iCloud",
    "Google",
    "Microsoft",
    "WhatsApp",
    "Facebook",
    "Instagram",
    "Netflix",
    "DHL",
    "FedEx",
    "UPS",
    "USPS",
    "RoyalMail",
    "PostNL",
    "DPD",
    "Visa",
    "Mastercard",
    "AmEx",
    "HMRC",
    "IRS",
    "Police",
    "Government",
    "Gov",
    "Bank",
    "Verify",
    "Security",
];

/// A set of protected names, folded.
#[derive(Debug, Clone, Default)]
pub struct ProtectedSenders(HashSet<String>);

impl ProtectedSenders {
    pub fn new<S: AsRef<str>>(names: impl IntoIterator<Item = S>) -> ProtectedSenders {
        ProtectedSenders(
            names
                .into_iter()
                .map(|n| fold(n.as_ref()))
                .filter(|n| !n.is_empty())
                .collect(),
        )
    }

    /// Whether `sender` is, or passes for, a protected name.
    pub fn protects(&self, sender: &str) -> bool {
        !self.0.is_empty() && self.0.contains(&fold(sender))
    }
}

/// Lower case, letters and digits only; in a name with letters, digits
/// that pass for letters are read as those letters.
fn fold(s: &str) -> String {
    let kept: String = s
        .chars()
        .filter(|c| c.is_alphanumeric())
        .flat_map(char::to_lowercase)
        .collect();
    if !kept.chars().any(char::is_alphabetic) {
        return kept;
    }
    kept.chars()
        .map(|c| match c {
            '0' => 'o',
            '1' | 'i' => 'l',
            '3' => 'e',
            '4' => 'a',
            '5' => 's',
            '7' => 't',
            '8' => 'b',
            c => c,
        })
        .collect()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn protected_names_are_caught_in_any_spelling() {
        let p = ProtectedSenders::new(DEFAULT);
        for sender in [
            "PayPal", "PAYPAL", "Pay-Pal", "pay pal", "PAYPA1", "P4yP4l", "112", "9 1 1", "DHL",
            "Amaz0n",
        ] {
            assert!(p.protects(sender), "{sender}");
        }
        for sender in ["Acme", "1120", "PayPalz", "+31612345678", "smsgate", "11"] {
            assert!(!p.protects(sender), "{sender}");
        }
        assert!(!ProtectedSenders::new(Vec::<String>::new()).protects("PayPal"));
    }
}
