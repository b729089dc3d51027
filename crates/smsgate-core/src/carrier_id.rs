//! Carrier message ids as receipts are matched by them.
//!
//! The same id comes back in many forms: upper or lower case, with or
//! without leading zeros, and from some SMSCs in decimal in the receipt
//! though the submit response gave it in hex (or the other way round) -
//! the top complaint of Jasmin's users. Ids are stored normalized, and a
//! receipt that matches nothing is tried in its other forms.

/// A carrier message id in the form used to match receipts: trimmed,
/// lower case, without leading zeros (`"0001A2B"` and `"1a2b"` are one id).
pub fn normalize_id(id: &str) -> String {
    let id = id.trim().trim_end_matches('\0').to_ascii_lowercase();
    let stripped = id.trim_start_matches('0');
    if stripped.is_empty() && !id.is_empty() {
        "0".to_string()
    } else {
        stripped.to_string()
    }
}

/// Other forms the same id may take in a receipt: SMSCs that answer
/// submit_sm with a hexadecimal id often put it in decimal in the receipt,
/// and the other way round. Returned in normalized form, without `id`'s
/// own form.
pub fn alternative_ids(id: &str) -> Vec<String> {
    let id = normalize_id(id);
    let mut out = Vec::new();
    if id.len() <= 32
        && id.bytes().all(|b| b.is_ascii_hexdigit())
        && let Ok(n) = u128::from_str_radix(&id, 16)
    {
        out.push(n.to_string());
    }
    if id.len() <= 38
        && id.bytes().all(|b| b.is_ascii_digit())
        && let Ok(n) = id.parse::<u128>()
    {
        out.push(format!("{n:x}"));
    }
    out.retain(|alt| *alt != id);
    out.dedup();
    out
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn ids_match_across_case_leading_zeros_and_bases() {
        assert_eq!(normalize_id(" 0001A2B\0"), "1a2b");
        assert_eq!(normalize_id("000"), "0");
        assert_eq!(alternative_ids("1A2B"), ["6699"]);
        // All digits: may itself be hex (0x6699 = 26265) or decimal (6699 = 0x1a2b).
        assert_eq!(alternative_ids("6699"), ["26265", "1a2b"]);
        assert_eq!(alternative_ids("msg-17"), Vec::<String>::new());
    }
}
