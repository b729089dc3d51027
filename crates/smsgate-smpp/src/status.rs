//! `command_status` values, and what they mean for retrying.

use std::fmt;

/// An SMPP `command_status`. Unknown values are kept as they are.
#[derive(Clone, Copy, PartialEq, Eq, Hash)]
pub struct CommandStatus(pub u32);

macro_rules! statuses {
    ($($name:ident = $value:expr, $text:expr;)*) => {
        impl CommandStatus {
            $(pub const $name: CommandStatus = CommandStatus($value);)*

            /// The standard name (`ESME_RTHROTTLED`), if the value has one.
            pub fn name(self) -> Option<&'static str> {
                match self.0 {
                    $($value => Some(concat!("ESME_", stringify!($name))),)*
                    _ => None,
                }
            }

            /// What the standard says the value means.
            pub fn description(self) -> &'static str {
                match self.0 {
                    $($value => $text,)*
                    _ => "vendor-specific or unknown error",
                }
            }
        }
    };
}

statuses! {
    ROK = 0x00, "no error";
    RINVMSGLEN = 0x01, "message length is invalid";
    RINVCMDLEN = 0x02, "command length is invalid";
    RINVCMDID = 0x03, "invalid command id";
    RINVBNDSTS = 0x04, "incorrect bind status for the command";
    RALYBND = 0x05, "already bound";
    RINVPRTFLG = 0x06, "invalid priority flag";
    RINVREGDLVFLG = 0x07, "invalid registered delivery flag";
    RSYSERR = 0x08, "system error";
    RINVSRCADR = 0x0A, "invalid source address";
    RINVDSTADR = 0x0B, "invalid destination address";
    RINVMSGID = 0x0C, "invalid message id";
    RBINDFAIL = 0x0D, "bind failed";
    RINVPASWD = 0x0E, "invalid password";
    RINVSYSID = 0x0F, "invalid system id";
    RCANCELFAIL = 0x11, "cancel_sm failed";
    RREPLACEFAIL = 0x13, "replace_sm failed";
    RMSGQFUL = 0x14, "message queue full";
    RINVSERTYP = 0x15, "invalid service type";
    RINVNUMDESTS = 0x33, "invalid number of destinations";
    RINVDLNAME = 0x34, "invalid distribution list name";
    RINVDESTFLAG = 0x40, "invalid destination flag";
    RINVSUBREP = 0x42, "invalid submit with replace request";
    RINVESMCLASS = 0x43, "invalid esm_class";
    RCNTSUBDL = 0x44, "cannot submit to distribution list";
    RSUBMITFAIL = 0x45, "submit_sm or submit_multi failed";
    RINVSRCTON = 0x48, "invalid source address TON";
    RINVSRCNPI = 0x49, "invalid source address NPI";
    RINVDSTTON = 0x50, "invalid destination address TON";
    RINVDSTNPI = 0x51, "invalid destination address NPI";
    RINVSYSTYP = 0x53, "invalid system_type";
    RINVREPFLAG = 0x54, "invalid replace_if_present flag";
    RINVNUMMSGS = 0x55, "invalid number of messages";
    RTHROTTLED = 0x58, "throttling error: the ESME exceeded its allowed message limits";
    RINVSCHED = 0x61, "invalid scheduled delivery time";
    RINVEXPIRY = 0x62, "invalid validity period";
    RINVDFTMSGID = 0x63, "predefined message invalid or not found";
    RX_T_APPN = 0x64, "ESME receiver temporary application error";
    RX_P_APPN = 0x65, "ESME receiver permanent application error";
    RX_R_APPN = 0x66, "ESME receiver reject message error";
    RQUERYFAIL = 0x67, "query_sm failed";
    RINVOPTPARSTREAM = 0xC0, "error in the optional part of the PDU body";
    ROPTPARNOTALLWD = 0xC1, "optional parameter not allowed";
    RINVPARLEN = 0xC2, "invalid parameter length";
    RMISSINGOPTPARAM = 0xC3, "expected optional parameter missing";
    RINVOPTPARAMVAL = 0xC4, "invalid optional parameter value";
    RDELIVERYFAILURE = 0xFE, "delivery failure";
    RUNKNOWNERR = 0xFF, "unknown error";
}

impl CommandStatus {
    pub fn is_ok(self) -> bool {
        self == CommandStatus::ROK
    }

    /// Worth retrying later: the peer is busy or briefly broken.
    pub fn is_transient(self) -> bool {
        matches!(
            self,
            CommandStatus::RMSGQFUL
                | CommandStatus::RTHROTTLED
                | CommandStatus::RSYSERR
                | CommandStatus::RX_T_APPN
        )
    }

    /// A refusal that retrying cannot change.
    pub fn is_permanent(self) -> bool {
        !self.is_ok() && !self.is_transient()
    }

    /// Throttling: slow down, keep the order.
    pub fn is_throttling(self) -> bool {
        matches!(self, CommandStatus::RMSGQFUL | CommandStatus::RTHROTTLED)
    }
}

impl fmt::Display for CommandStatus {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self.name() {
            Some(name) => write!(f, "{name} (0x{:08X}): {}", self.0, self.description()),
            None => write!(f, "0x{:08X}: {}", self.0, self.description()),
        }
    }
}

impl fmt::Debug for CommandStatus {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self.name() {
            Some(name) => f.write_str(name),
            None => write!(f, "CommandStatus(0x{:08X})", self.0),
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn names_and_classification() {
        assert_eq!(CommandStatus::RTHROTTLED.name(), Some("ESME_RTHROTTLED"));
        assert!(
            CommandStatus::RTHROTTLED.is_transient() && CommandStatus::RTHROTTLED.is_throttling()
        );
        assert!(CommandStatus::RINVDSTADR.is_permanent());
        assert!(!CommandStatus::ROK.is_permanent() && !CommandStatus::ROK.is_transient());
        assert_eq!(
            CommandStatus(0x400).to_string(),
            "0x00000400: vendor-specific or unknown error"
        );
        assert!(CommandStatus(0x400).is_permanent());
    }
}
