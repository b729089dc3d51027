//! Long messages: how the parts of one text are marked as belonging
//! together, on the way out and on the way in.
//!
//! Three ways exist and carriers pick one:
//!
//! ```text
//! UDH, 8-bit reference:  05 00 03 ref total seq | content      (esm_class UDHI)
//! UDH, 16-bit reference: 06 08 04 ref ref total seq | content  (esm_class UDHI)
//! SAR TLVs:              sar_msg_ref_num, sar_total_segments, sar_segment_seqnum
//! message_payload:       the whole text in one TLV, one submit_sm
//! ```

use crate::pdu::tlv::{self, Tlv, tag};
use crate::pdu::{ESM_CLASS_UDHI, Sm};

/// How a connector sends a text of several parts.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default)]
pub enum Concatenation {
    /// A user data header with an 8-bit reference (the common choice).
    #[default]
    Udh8,
    /// A user data header with a 16-bit reference.
    Udh16,
    /// The `sar_*` TLVs.
    Sar,
    /// One submit_sm with the whole text in `message_payload`.
    Payload,
}

impl Concatenation {
    /// Octets of UDH in front of each part's content (0 for SAR and
    /// payload).
    pub fn udh_len(self) -> usize {
        match self {
            Concatenation::Udh8 => 6,
            Concatenation::Udh16 => 7,
            Concatenation::Sar | Concatenation::Payload => 0,
        }
    }
}

/// The content of one part, ready for a submit_sm: `short_message`, the
/// esm_class bits and TLVs it needs.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct PartContent {
    pub short_message: Vec<u8>,
    pub esm_class: u8,
    pub tlvs: Vec<Tlv>,
}

/// Marks already-encoded parts as one message. `reference` ties them
/// together (only its low 8 bits for [`Concatenation::Udh8`]). A single
/// part is sent as it is, except in payload mode where content of more
/// than 254 octets must travel in `message_payload`.
pub fn mark_parts(parts: Vec<Vec<u8>>, mode: Concatenation, reference: u16) -> Vec<PartContent> {
    let total = parts.len();
    if mode == Concatenation::Payload {
        let content: Vec<u8> = parts.concat();
        return vec![if content.len() <= 254 && total <= 1 {
            plain(content)
        } else {
            PartContent {
                short_message: Vec::new(),
                esm_class: 0,
                tlvs: vec![Tlv {
                    tag: tag::MESSAGE_PAYLOAD,
                    value: content,
                }],
            }
        }];
    }
    if total <= 1 {
        return parts.into_iter().map(plain).collect();
    }
    let total = total.min(255) as u8;
    let [ref_hi, ref_lo] = reference.to_be_bytes();
    parts
        .into_iter()
        .take(255)
        .enumerate()
        .map(|(i, content)| {
            let seq = i as u8 + 1;
            match mode {
                Concatenation::Udh8 | Concatenation::Udh16 => {
                    let mut sm = if mode == Concatenation::Udh8 {
                        vec![0x05, 0x00, 0x03, ref_lo, total, seq]
                    } else {
                        vec![0x06, 0x08, 0x04, ref_hi, ref_lo, total, seq]
                    };
                    sm.extend_from_slice(&content);
                    PartContent {
                        short_message: sm,
                        esm_class: ESM_CLASS_UDHI,
                        tlvs: Vec::new(),
                    }
                }
                _ => PartContent {
                    short_message: content,
                    esm_class: 0,
                    tlvs: vec![
                        Tlv {
                            tag: tag::SAR_MSG_REF_NUM,
                            value: reference.to_be_bytes().to_vec(),
                        },
                        Tlv {
                            tag: tag::SAR_TOTAL_SEGMENTS,
                            value: vec![total],
                        },
                        Tlv {
                            tag: tag::SAR_SEGMENT_SEQNUM,
                            value: vec![seq],
                        },
                    ],
                },
            }
        })
        .collect()
}

fn plain(content: Vec<u8>) -> PartContent {
    PartContent {
        short_message: content,
        esm_class: 0,
        tlvs: Vec::new(),
    }
}

/// Where one received part belongs.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct PartOf {
    pub reference: u16,
    pub total: u8,
    /// 1-based.
    pub seq: u8,
}

/// The content of a received deliver_sm (or data_sm): its octets without
/// any UDH, the UDH's length, and its place in a long message if it is a
/// part of one.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Received<'a> {
    pub content: &'a [u8],
    pub udh_len: usize,
    pub part: Option<PartOf>,
}

/// Reads the content of a received message: `message_payload` when
/// present, else `short_message`; a UDH (esm_class UDHI) is taken off and
/// its concatenation element read; SAR TLVs are read too.
pub fn received(sm: &Sm) -> Received<'_> {
    let payload = tlv::find(&sm.tlvs, tag::MESSAGE_PAYLOAD);
    let data = payload.unwrap_or(&sm.short_message);
    let mut out = Received {
        content: data,
        udh_len: 0,
        part: sar(&sm.tlvs),
    };
    if sm.esm_class & ESM_CLASS_UDHI != 0
        && let Some(&udhl) = data.first()
    {
        let end = (1 + usize::from(udhl)).min(data.len());
        out.udh_len = end;
        out.content = &data[end..];
        out.part = out.part.or_else(|| udh_part(&data[1..end]));
    }
    out
}

/// The concatenation element of a UDH's information elements, if any.
fn udh_part(mut ies: &[u8]) -> Option<PartOf> {
    while let [iei, len, rest @ ..] = ies {
        let len = usize::from(*len);
        let data = rest.get(..len)?;
        match (*iei, data) {
            (0x00, [r, total, seq]) => {
                return valid(u16::from(*r), *total, *seq);
            }
            (0x08, [hi, lo, total, seq]) => {
                return valid(u16::from_be_bytes([*hi, *lo]), *total, *seq);
            }
            _ => {}
        }
        ies = &rest[len..];
    }
    None
}

fn sar(tlvs: &[Tlv]) -> Option<PartOf> {
    let reference = match tlv::find(tlvs, tag::SAR_MSG_REF_NUM)? {
        [hi, lo] => u16::from_be_bytes([*hi, *lo]),
        [lo] => u16::from(*lo),
        _ => return None,
    };
    let total = *tlv::find(tlvs, tag::SAR_TOTAL_SEGMENTS)?.first()?;
    let seq = *tlv::find(tlvs, tag::SAR_SEGMENT_SEQNUM)?.first()?;
    valid(reference, total, seq)
}

fn valid(reference: u16, total: u8, seq: u8) -> Option<PartOf> {
    (total >= 1 && (1..=total).contains(&seq)).then_some(PartOf {
        reference,
        total,
        seq,
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    fn sm_of(p: &PartContent) -> Sm {
        Sm {
            esm_class: p.esm_class,
            short_message: p.short_message.clone(),
            tlvs: p.tlvs.clone(),
            ..Sm::default()
        }
    }

    #[test]
    fn each_mode_marks_and_reads_back() {
        let parts = vec![b"abc".to_vec(), b"de".to_vec()];
        for mode in [
            Concatenation::Udh8,
            Concatenation::Udh16,
            Concatenation::Sar,
        ] {
            let marked = mark_parts(parts.clone(), mode, 0x1234);
            assert_eq!(marked.len(), 2);
            for (i, p) in marked.iter().enumerate() {
                let sm = sm_of(p);
                let r = received(&sm);
                assert_eq!(r.content, &parts[i][..], "{mode:?}");
                assert_eq!(r.udh_len, mode.udh_len());
                let part = r.part.unwrap();
                assert_eq!((part.total, part.seq), (2, i as u8 + 1));
                let expected_ref = if mode == Concatenation::Udh8 {
                    0x34
                } else {
                    0x1234
                };
                assert_eq!(part.reference, expected_ref);
            }
        }
        let udh = &mark_parts(parts.clone(), Concatenation::Udh8, 7)[1].short_message;
        assert_eq!(&udh[..6], [0x05, 0x00, 0x03, 7, 2, 2]);
    }

    #[test]
    fn payload_mode_sends_one_pdu() {
        let marked = mark_parts(
            vec![vec![b'a'; 153], vec![b'b'; 10]],
            Concatenation::Payload,
            1,
        );
        assert_eq!(marked.len(), 1);
        assert!(marked[0].short_message.is_empty());
        let sm = sm_of(&marked[0]);
        let r = received(&sm);
        assert_eq!(r.content.len(), 163);
        assert_eq!(r.part, None);
        // A short text stays in short_message.
        let single = mark_parts(vec![b"hi".to_vec()], Concatenation::Payload, 1);
        assert_eq!(single[0].short_message, b"hi");
    }

    #[test]
    fn single_parts_carry_no_marks() {
        let marked = mark_parts(vec![b"hi".to_vec()], Concatenation::Udh8, 9);
        assert_eq!(marked, [plain(b"hi".to_vec())]);
    }

    #[test]
    fn hostile_headers_are_read_safely() {
        for bytes in [
            vec![0xFF],
            vec![0x05, 0x00, 0x03],
            vec![0x03, 0x00, 0x09, 1, 2],
            vec![0x05, 0x00, 0x03, 1, 0, 0],
            vec![0x05, 0x00, 0x03, 1, 2, 3],
            vec![0x08, 0x24, 0x01, 0x00, 0x00, 0x03, 1, 2, 1, b'x'],
        ] {
            let sm = Sm {
                esm_class: ESM_CLASS_UDHI,
                short_message: bytes.clone(),
                ..Sm::default()
            };
            let r = received(&sm);
            assert!(r.part.is_none() || r.part.unwrap().seq <= r.part.unwrap().total);
        }
        // A header with another element first, then the concatenation one.
        let sm = Sm {
            esm_class: ESM_CLASS_UDHI,
            short_message: vec![0x08, 0x24, 0x01, 0x00, 0x00, 0x03, 1, 2, 1, b'x'],
            ..Sm::default()
        };
        let r = received(&sm);
        assert_eq!(r.content, b"x");
        assert_eq!(
            r.part.map(|p| (p.reference, p.total, p.seq)),
            Some((1, 2, 1))
        );
    }
}
