//! Reading and writing SMPP's primitive fields over a byte slice.
//!
//! Lenient in, strict out: a C-string longer than the standard allows is
//! read whole and reported, not rejected, because real SMSCs send them;
//! but every read is bounded by the PDU's own length, so hostile input can
//! never make us read past it or allocate more than it holds.

use crate::DecodeError;

/// A cursor over one PDU body.
pub(crate) struct Reader<'a> {
    buf: &'a [u8],
    pos: usize,
    /// C-strings that were longer than the standard's maximum.
    pub(crate) overlong: Vec<&'static str>,
}

impl<'a> Reader<'a> {
    pub(crate) fn new(buf: &'a [u8]) -> Reader<'a> {
        Reader {
            buf,
            pos: 0,
            overlong: Vec::new(),
        }
    }

    pub(crate) fn remaining(&self) -> usize {
        self.buf.len() - self.pos
    }

    pub(crate) fn u8(&mut self, field: &'static str) -> Result<u8, DecodeError> {
        let b = *self
            .buf
            .get(self.pos)
            .ok_or(DecodeError::Truncated(field))?;
        self.pos += 1;
        Ok(b)
    }

    pub(crate) fn u16(&mut self, field: &'static str) -> Result<u16, DecodeError> {
        let b = self.bytes(2, field)?;
        Ok(u16::from_be_bytes([b[0], b[1]]))
    }

    pub(crate) fn bytes(&mut self, n: usize, field: &'static str) -> Result<&'a [u8], DecodeError> {
        let end = self
            .pos
            .checked_add(n)
            .filter(|&e| e <= self.buf.len())
            .ok_or(DecodeError::Truncated(field))?;
        let b = &self.buf[self.pos..end];
        self.pos = end;
        Ok(b)
    }

    /// A NUL-terminated string of at most `max` octets including the NUL.
    /// Longer ones are accepted and noted in `overlong`; a missing NUL is
    /// an error.
    pub(crate) fn cstring(
        &mut self,
        max: usize,
        field: &'static str,
    ) -> Result<Vec<u8>, DecodeError> {
        let rest = &self.buf[self.pos..];
        let len = rest
            .iter()
            .position(|&b| b == 0)
            .ok_or(DecodeError::Unterminated(field))?;
        if len + 1 > max {
            self.overlong.push(field);
        }
        self.pos += len + 1;
        Ok(rest[..len].to_vec())
    }

    /// `sm_length` (one octet) and that many octets of `short_message`.
    pub(crate) fn short_message(&mut self) -> Result<Vec<u8>, DecodeError> {
        let len = self.u8("sm_length")?;
        Ok(self.bytes(usize::from(len), "short_message")?.to_vec())
    }

    pub(crate) fn rest(&mut self) -> &'a [u8] {
        let b = &self.buf[self.pos..];
        self.pos = self.buf.len();
        b
    }
}

pub(crate) fn put_u8(out: &mut Vec<u8>, v: u8) {
    out.push(v);
}

pub(crate) fn put_u16(out: &mut Vec<u8>, v: u16) {
    out.extend_from_slice(&v.to_be_bytes());
}

pub(crate) fn put_u32(out: &mut Vec<u8>, v: u32) {
    out.extend_from_slice(&v.to_be_bytes());
}

/// Writes a C-string, cut to the standard's maximum (strict out).
pub(crate) fn put_cstring(out: &mut Vec<u8>, s: &[u8], max: usize) {
    let s = &s[..s.len().min(max.saturating_sub(1))];
    let s = s.iter().position(|&b| b == 0).map_or(s, |nul| &s[..nul]);
    out.extend_from_slice(s);
    out.push(0);
}

/// Writes `sm_length` and `short_message`, cut to 254 octets (longer
/// content belongs in `message_payload`).
pub(crate) fn put_short_message(out: &mut Vec<u8>, sm: &[u8]) {
    let sm = &sm[..sm.len().min(254)];
    put_u8(out, sm.len() as u8);
    out.extend_from_slice(sm);
}
