//! outbind (SMPP 3.4 §4.1.7): an SMSC asks an ESME to bind as receiver.
//!
//! ```text
//! system_id C16 | password C9
//! ```

use crate::DecodeError;
use crate::wire::{Reader, put_cstring};

#[derive(Debug, Clone, PartialEq, Eq, Default)]
pub struct Outbind {
    pub system_id: Vec<u8>,
    pub password: Vec<u8>,
}

impl Outbind {
    pub(crate) fn read(r: &mut Reader<'_>) -> Result<Outbind, DecodeError> {
        Ok(Outbind {
            system_id: r.cstring(16, "system_id")?,
            password: r.cstring(9, "password")?,
        })
    }

    pub(crate) fn write(&self, out: &mut Vec<u8>) {
        put_cstring(out, &self.system_id, 16);
        put_cstring(out, &self.password, 9);
    }
}
