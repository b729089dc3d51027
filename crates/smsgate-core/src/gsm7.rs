//! The GSM 03.38 default alphabet and its extension table.
//!
//! Maps characters to septet codes and back. Packing septets into octets is
//! the SMPP connector's business; this module only knows the alphabet.

/// The 128 characters of the default alphabet, indexed by septet code.
/// Code 0x1B is the escape to the extension table (shown as NUL here).
const BASIC: [char; 128] = [
    '@', '£', '$', '¥', 'è', 'é', 'ù', 'ì', 'ò', 'Ç', '\n', 'Ø', 'ø', '\r', 'Å', 'å', //
    'Δ', '_', 'Φ', 'Γ', 'Λ', 'Ω', 'Π', 'Ψ', 'Σ', 'Θ', 'Ξ', '\0', 'Æ', 'æ', 'ß', 'É', //
    ' ', '!', '"', '#', '¤', '%', '&', '\'', '(', ')', '*', '+', ',', '-', '.', '/', //
    '0', '1', '2', '3', '4', '5', '6', '7', '8', '9', ':', ';', '<', '=', '>', '?', //
    '¡', 'A', 'B', 'C', 'D', 'E', 'F', 'G', 'H', 'I', 'J', 'K', 'L', 'M', 'N', 'O', //
    'P', 'Q', 'R', 'S', 'T', 'U', 'V', 'W', 'X', 'Y', 'Z', 'Ä', 'Ö', 'Ñ', 'Ü', '§', //
    '¿', 'a', 'b', 'c', 'd', 'e', 'f', 'g', 'h', 'i', 'j', 'k', 'l', 'm', 'n', 'o', //
    'p', 'q', 'r', 's', 't', 'u', 'v', 'w', 'x', 'y', 'z', 'ä', 'ö', 'ñ', 'ü', 'à', //
];

/// The extension table: (septet code after the escape, character).
const EXTENSION: [(u8, char); 10] = [
    (0x0A, '\u{0C}'),
    (0x14, '^'),
    (0x28, '{'),
    (0x29, '}'),
    (0x2F, '\\'),
    (0x3C, '['),
    (0x3D, '~'),
    (0x3E, ']'),
    (0x40, '|'),
    (0x65, '€'),
];

/// The escape septet that announces an extension character.
pub const ESCAPE: u8 = 0x1B;

/// How a character is written in GSM-7.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Code {
    /// One septet of the default alphabet.
    Basic(u8),
    /// [`ESCAPE`] followed by this septet.
    Extended(u8),
}

/// The GSM-7 code of `c`, if it has one.
pub fn code(c: char) -> Option<Code> {
    // ASCII letters and digits map to themselves except where the table
    // differs; the linear scans below run only for the rest.
    if c.is_ascii_alphanumeric() || matches!(c, ' ' | '!' | '"' | '#' | '%'..='/' | ':'..='?') {
        return Some(Code::Basic(c as u8));
    }
    if c != '\0'
        && let Some(i) = BASIC.iter().position(|&b| b == c)
    {
        return Some(Code::Basic(i as u8));
    }
    EXTENSION
        .iter()
        .find(|(_, e)| *e == c)
        .map(|&(code, _)| Code::Extended(code))
}

/// Septets `c` costs in GSM-7: 1, 2 for an extension character, or `None`.
pub fn septets(c: char) -> Option<usize> {
    code(c).map(|code| match code {
        Code::Basic(_) => 1,
        Code::Extended(_) => 2,
    })
}

pub fn is_encodable(c: char) -> bool {
    code(c).is_some()
}

/// The character of a default-alphabet septet (`None` for the escape).
pub fn basic_char(septet: u8) -> Option<char> {
    match BASIC.get(usize::from(septet)) {
        Some(&'\0') | None => None,
        Some(&c) => Some(c),
    }
}

/// The character of an extension septet (the one after [`ESCAPE`]).
pub fn extended_char(septet: u8) -> Option<char> {
    EXTENSION
        .iter()
        .find(|(code, _)| *code == septet)
        .map(|&(_, c)| c)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn ascii_fast_path_agrees_with_table() {
        for septet in 0..128u8 {
            if let Some(c) = basic_char(septet) {
                assert_eq!(code(c), Some(Code::Basic(septet)), "{c:?}");
            }
        }
        for &(septet, c) in &EXTENSION {
            assert_eq!(code(c), Some(Code::Extended(septet)));
            assert_eq!(extended_char(septet), Some(c));
        }
    }

    #[test]
    fn characters_outside_the_alphabet_have_no_code() {
        for c in ['`', 'á', 'я', '☺', '😀', '\0', '\t'] {
            assert_eq!(code(c), None, "{c:?}");
        }
        // '$' and '@' sit at codes that differ from ASCII.
        assert_eq!(code('@'), Some(Code::Basic(0)));
        assert_eq!(code('$'), Some(Code::Basic(2)));
        assert_eq!(code('_'), Some(Code::Basic(0x11)));
    }
}
