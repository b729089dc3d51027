//! Message text on the wire: `data_coding` values, GSM-7 (unpacked or
//! packed into octets), Latin-1, ASCII and UCS-2, both ways.
//!
//! SMPP carries GSM-7 unpacked (one septet per octet) unless a carrier
//! asks for packed septets; some carriers want Latin-1 (`data_coding` 3)
//! or ASCII (1) for texts that fit the GSM alphabet. Which one is a
//! per-connector choice ([`TextCoding`]). Decoding is lenient: what cannot
//! be read becomes U+FFFD, never an error.

use smsgate_core::gsm7;

/// `data_coding` values of SMPP 3.4 §5.2.19 that smsgate writes or reads.
pub mod data_coding {
    /// SMSC default alphabet (GSM-7 for nearly every SMSC).
    pub const DEFAULT: u8 = 0x00;
    pub const ASCII: u8 = 0x01;
    pub const OCTETS: u8 = 0x02;
    pub const LATIN1: u8 = 0x03;
    pub const OCTETS_UNSPECIFIED: u8 = 0x04;
    pub const UCS2: u8 = 0x08;
}

/// How a text that fits the GSM alphabet is written.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default)]
pub enum TextCoding {
    /// GSM-7 septets, one per octet (the SMPP norm), `data_coding` 0.
    #[default]
    Gsm7,
    /// GSM-7 septets packed 8 to 7 octets, `data_coding` 0.
    Gsm7Packed,
    /// ISO-8859-1, `data_coding` 3; characters outside it become `?`.
    Latin1,
    /// IA5/ASCII, `data_coding` 1; characters outside it become `?`.
    Ascii,
}

impl TextCoding {
    /// The `data_coding` this coding is announced with.
    pub fn data_coding(self) -> u8 {
        match self {
            TextCoding::Gsm7 | TextCoding::Gsm7Packed => data_coding::DEFAULT,
            TextCoding::Latin1 => data_coding::LATIN1,
            TextCoding::Ascii => data_coding::ASCII,
        }
    }

    /// Encodes `text` (which fits the GSM alphabet). `udh_len` is the
    /// length of the user data header in front of it, which packed septets
    /// are aligned after.
    pub fn encode(self, text: &str, udh_len: usize) -> Vec<u8> {
        match self {
            TextCoding::Gsm7 => gsm7_septets(text),
            TextCoding::Gsm7Packed => pack_septets(&gsm7_septets(text), fill_bits(udh_len)),
            TextCoding::Latin1 => text
                .chars()
                .map(|c| u8::try_from(u32::from(c)).unwrap_or(b'?'))
                .collect(),
            TextCoding::Ascii => text
                .chars()
                .map(|c| if c.is_ascii() { c as u8 } else { b'?' })
                .collect(),
        }
    }
}

/// UCS-2 on the wire: UTF-16 big-endian code units.
pub fn encode_ucs2(text: &str) -> Vec<u8> {
    text.encode_utf16().flat_map(u16::to_be_bytes).collect()
}

/// GSM-7 septets, one per octet, extension characters as escape + code.
/// Characters without a GSM-7 code become `?`.
pub fn gsm7_septets(text: &str) -> Vec<u8> {
    let mut out = Vec::with_capacity(text.len());
    for c in text.chars() {
        match gsm7::code(c) {
            Some(gsm7::Code::Basic(s)) => out.push(s),
            Some(gsm7::Code::Extended(s)) => out.extend_from_slice(&[gsm7::ESCAPE, s]),
            None => out.push(b'?'),
        }
    }
    out
}

/// Fill bits that align the first septet after a UDH of `udh_len`
/// octets to a septet boundary (3GPP TS 23.040 §9.2.3.24).
pub fn fill_bits(udh_len: usize) -> u32 {
    ((7 - (udh_len * 8) % 7) % 7) as u32
}

/// Packs septets into octets, least significant bits first, after `fill`
/// zero bits.
pub fn pack_septets(septets: &[u8], fill: u32) -> Vec<u8> {
    let bits = fill as usize + septets.len() * 7;
    let mut out = vec![0u8; bits.div_ceil(8)];
    let mut pos = fill as usize;
    for &s in septets {
        let s = u16::from(s & 0x7F) << (pos % 8);
        out[pos / 8] |= s as u8;
        if let Some(next) = out.get_mut(pos / 8 + 1) {
            *next |= (s >> 8) as u8;
        }
        pos += 7;
    }
    out
}

/// Unpacks septets from octets after `fill` bits. A trailing septet made
/// only of padding (a 0 in the last 7 bits of a full octet run) is dropped.
pub fn unpack_septets(octets: &[u8], fill: u32) -> Vec<u8> {
    let bits = octets.len() * 8;
    let mut out = Vec::with_capacity(bits / 7);
    let mut pos = fill as usize;
    while pos + 7 <= bits {
        let lo = u16::from(octets[pos / 8]);
        let hi = u16::from(octets.get(pos / 8 + 1).copied().unwrap_or(0));
        out.push((((hi << 8 | lo) >> (pos % 8)) & 0x7F) as u8);
        pos += 7;
    }
    // When exactly 7 bits are left over they read as a septet of 0: that is
    // padding, unless the text really ended with '@' (indistinguishable in
    // every GSM implementation; 23.038's CR padding is rare over SMPP).
    if bits >= fill as usize + 7
        && (bits - fill as usize).is_multiple_of(7)
        && out.last() == Some(&0)
    {
        out.pop();
    }
    out
}

/// Reads GSM-7 septets (one per octet) as text.
pub fn decode_gsm7(septets: &[u8]) -> String {
    let mut out = String::with_capacity(septets.len());
    let mut it = septets.iter().map(|s| s & 0x7F);
    while let Some(s) = it.next() {
        if s == gsm7::ESCAPE {
            if let Some(e) = it.next() {
                out.push(gsm7::extended_char(e).unwrap_or(' '));
            }
        } else {
            out.push(gsm7::basic_char(s).unwrap_or('\u{FFFD}'));
        }
    }
    out
}

/// Reads UTF-16 big-endian code units; unpaired surrogates and an odd last
/// octet become U+FFFD.
pub fn decode_ucs2(octets: &[u8]) -> String {
    let units = octets.chunks(2).map(|c| {
        if c.len() == 2 {
            u16::from_be_bytes([c[0], c[1]])
        } else {
            0xFFFD
        }
    });
    char::decode_utf16(units)
        .map(|c| c.unwrap_or('\u{FFFD}'))
        .collect()
}

/// Reads message content by its `data_coding`. `packed` says the SMSC's
/// default alphabet arrives as packed septets; `udh_len` is the UDH in
/// front of the content (for the fill bits of packed septets).
pub fn decode_text(dc: u8, content: &[u8], packed: bool, udh_len: usize) -> String {
    match dc {
        data_coding::DEFAULT if packed => decode_gsm7(&unpack_septets(content, fill_bits(udh_len))),
        data_coding::DEFAULT => decode_gsm7(content),
        data_coding::UCS2 => decode_ucs2(content),
        data_coding::LATIN1 => content.iter().map(|&b| char::from(b)).collect(),
        data_coding::ASCII => content
            .iter()
            .map(|&b| {
                if b.is_ascii() {
                    char::from(b)
                } else {
                    '\u{FFFD}'
                }
            })
            .collect(),
        // The general data coding group (00xx xxxx) says the alphabet in
        // bits 2-3: 00 GSM-7, 01 8-bit, 10 UCS-2.
        dc if dc & 0xC0 == 0 && dc & 0x0C == 0x08 => decode_ucs2(content),
        dc if dc & 0xC0 == 0 && dc & 0x0C == 0x00 && dc & 0x20 == 0 => decode_gsm7(content),
        dc if dc & 0xF0 == 0xF0 && dc & 0x04 == 0 => decode_gsm7(content),
        // Binary or unknown: Latin-1 keeps every octet visible.
        _ => content.iter().map(|&b| char::from(b)).collect(),
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use proptest::prelude::*;

    #[test]
    fn packs_like_the_standard_example() {
        // "hellohello" packed (3GPP 23.038 worked example).
        let packed = pack_septets(&gsm7_septets("hellohello"), 0);
        assert_eq!(
            packed,
            [0xE8, 0x32, 0x9B, 0xFD, 0x46, 0x97, 0xD9, 0xEC, 0x37]
        );
        assert_eq!(decode_gsm7(&unpack_septets(&packed, 0)), "hellohello");
    }

    #[test]
    fn fill_bits_after_a_udh() {
        assert_eq!(fill_bits(0), 0);
        assert_eq!(fill_bits(6), 1); // 8-bit reference UDH
        assert_eq!(fill_bits(7), 0); // 16-bit reference UDH
    }

    #[test]
    fn extension_characters_and_codings() {
        assert_eq!(gsm7_septets("€["), [0x1B, 0x65, 0x1B, 0x3C]);
        assert_eq!(decode_gsm7(&[0x1B, 0x65, 0x00]), "€@");
        assert_eq!(TextCoding::Latin1.encode("é€", 0), [0xE9, b'?']);
        assert_eq!(TextCoding::Ascii.encode("aé", 0), [b'a', b'?']);
        assert_eq!(encode_ucs2("я😀"), [0x04, 0x4F, 0xD8, 0x3D, 0xDE, 0x00]);
        assert_eq!(decode_ucs2(&[0x04, 0x4F, 0xD8, 0x3D, 0xDE, 0x00]), "я😀");
        assert_eq!(decode_ucs2(&[0xD8, 0x3D, 0x00]), "\u{FFFD}\u{FFFD}");
        assert_eq!(decode_text(3, &[0xE9], false, 0), "é");
        assert_eq!(decode_text(0x18, &[0x04, 0x4F], false, 0), "я");
    }

    proptest! {
        #[test]
        fn packed_septets_round_trip(septets in proptest::collection::vec(1u8..128, 0..200), fill in 0u32..7) {
            let packed = pack_septets(&septets, fill);
            prop_assert_eq!(unpack_septets(&packed, fill), septets);
        }

        #[test]
        fn gsm_text_round_trips(text in "[A-Za-z0-9 @£$¥èéùìòÇØøÅåΔ_ΦΓΛΩΠΨΣΘΞÆæßÉ!\"#¤%&'()*+,./:;<=>?¡ÄÖÑÜ§¿äöñüà€\\[\\]{}~^|]{0,200}") {
            prop_assert_eq!(decode_gsm7(&gsm7_septets(&text)), text.clone());
            // A final '@' packed into a full octet run reads as padding.
            prop_assume!(!text.ends_with('@'));
            let packed = TextCoding::Gsm7Packed.encode(&text, 6);
            prop_assert_eq!(decode_text(0, &packed, true, 6), text);
        }

        #[test]
        fn decoding_never_panics(dc in any::<u8>(), bytes in proptest::collection::vec(any::<u8>(), 0..300), packed in any::<bool>(), udh in 0usize..12) {
            let _ = decode_text(dc, &bytes, packed, udh);
        }
    }
}
