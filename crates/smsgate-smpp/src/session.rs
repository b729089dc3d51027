//! The ESME side of an SMPP session, without I/O: binds, sequence numbers,
//! the window of outstanding requests, response timeouts, enquire_link
//! keepalive and liveness, and unbind.
//!
//! The transport feeds it what arrives ([`Session::handle`],
//! [`Session::handle_malformed`]) and the passing of time
//! ([`Session::tick`]), and carries out the [`Action`]s it returns: write a
//! PDU, report a response, close the connection. Time is a parameter, so
//! every timer is tested without sleeping.

use std::collections::{BTreeMap, VecDeque};
use std::time::{Duration, Instant};

use crate::pdu::{Bind, Body, Malformed, Pdu};
use crate::status::CommandStatus;

/// How the ESME binds.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum BindKind {
    Transmitter,
    Receiver,
    Transceiver,
}

impl BindKind {
    pub fn can_send(self) -> bool {
        matches!(self, BindKind::Transmitter | BindKind::Transceiver)
    }

    pub fn can_receive(self) -> bool {
        matches!(self, BindKind::Receiver | BindKind::Transceiver)
    }

    fn request(self, bind: Bind) -> Body {
        match self {
            BindKind::Transmitter => Body::BindTransmitter(bind),
            BindKind::Receiver => Body::BindReceiver(bind),
            BindKind::Transceiver => Body::BindTransceiver(bind),
        }
    }
}

#[derive(Debug, Clone)]
pub struct SessionConfig {
    pub kind: BindKind,
    pub bind: Bind,
    /// Requests sent and not yet answered, at most. Default 50 (elsewhere).
    pub window: usize,
    /// How long a request may wait for its response.
    pub response_timeout: Duration,
    /// Send enquire_link after this long without traffic from the peer.
    pub enquire_link_interval: Duration,
}

/// Where the session is.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum State {
    /// Connected, bind not sent yet.
    Open,
    BindSent,
    Bound,
    Unbinding,
    Closed,
}

/// What the transport must do.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Action<T> {
    /// Write this PDU.
    Send(Pdu),
    /// The bind succeeded; the SMSC's system_id.
    Bound { system_id: Vec<u8> },
    /// The response to a request sent with [`Session::send`].
    Response { tag: T, pdu: Pdu },
    /// No response came in time; the request may or may not have been
    /// processed by the peer.
    TimedOut { tag: T, command_id: u32 },
    /// A request from the peer (deliver_sm, data_sm, alert_notification).
    /// Answer it with [`Session::respond`] once it is handled.
    Inbound(Pdu),
    /// Close the connection. Requests still outstanding are reported as
    /// `TimedOut` before this.
    Close(CloseReason),
}

#[derive(Debug, Clone, PartialEq, Eq)]
pub enum CloseReason {
    BindRefused(CommandStatus),
    BindTimedOut,
    /// The peer did not answer enquire_link in time.
    PeerSilent,
    /// We or the peer unbound.
    Unbound,
}

#[derive(Debug, Clone, Copy, PartialEq, Eq, thiserror::Error)]
pub enum SendError {
    #[error("the session is not bound")]
    NotBound,
    #[error("the bind does not allow sending")]
    ReceiverOnly,
    #[error("the window is full")]
    WindowFull,
}

/// Why a request is outstanding.
#[derive(Debug, Clone)]
enum Pending<T> {
    Bind,
    EnquireLink,
    Unbind,
    User(T),
}

#[derive(Debug, Clone)]
struct Outstanding<T> {
    command_id: u32,
    sent_at: Instant,
    what: Pending<T>,
}

pub struct Session<T> {
    config: SessionConfig,
    state: State,
    next_sequence: u32,
    /// By sequence number.
    outstanding: BTreeMap<u32, Outstanding<T>>,
    last_heard: Instant,
    actions: VecDeque<Action<T>>,
}

impl<T: Clone> Session<T> {
    pub fn new(config: SessionConfig, now: Instant) -> Session<T> {
        Session {
            config,
            state: State::Open,
            next_sequence: 1,
            outstanding: BTreeMap::new(),
            last_heard: now,
            actions: VecDeque::new(),
        }
    }

    pub fn state(&self) -> State {
        self.state
    }

    /// Requests of the user waiting for a response.
    pub fn in_flight(&self) -> usize {
        // Bind, keepalive and unbind do not count against the window.
        self.outstanding
            .values()
            .filter(|o| matches!(o.what, Pending::User(_)))
            .count()
    }

    /// Whether the window has no room for another request.
    pub fn window_full(&self) -> bool {
        self.in_flight() >= self.config.window
    }

    /// Whether [`Session::send`] would accept a request now.
    pub fn can_send(&self) -> bool {
        self.state == State::Bound
            && self.config.kind.can_send()
            && self.in_flight() < self.config.window
    }

    /// The next action for the transport, if any.
    pub fn poll_action(&mut self) -> Option<Action<T>> {
        self.actions.pop_front()
    }

    /// Sends the bind.
    pub fn start(&mut self, now: Instant) {
        if self.state == State::Open {
            let body = self.config.kind.request(self.config.bind.clone());
            self.request(body, Pending::Bind, now);
            self.state = State::BindSent;
        }
    }

    /// Sends a request (submit_sm, query_sm, …); its response comes back
    /// as [`Action::Response`] with `tag`. Returns the sequence number.
    pub fn send(&mut self, body: Body, tag: T, now: Instant) -> Result<u32, SendError> {
        if self.state != State::Bound {
            return Err(SendError::NotBound);
        }
        if !self.config.kind.can_send() {
            return Err(SendError::ReceiverOnly);
        }
        if self.in_flight() >= self.config.window {
            return Err(SendError::WindowFull);
        }
        Ok(self.request(body, Pending::User(tag), now))
    }

    /// Answers a request of the peer.
    pub fn respond(&mut self, sequence_number: u32, body: Body, status: CommandStatus) {
        self.actions.push_back(Action::Send(Pdu {
            sequence_number,
            status,
            body,
        }));
    }

    /// Starts a clean unbind.
    pub fn unbind(&mut self, now: Instant) {
        match self.state {
            State::Bound => {
                self.request(Body::Unbind, Pending::Unbind, now);
                self.state = State::Unbinding;
            }
            State::Open | State::BindSent => self.close(CloseReason::Unbound),
            State::Unbinding | State::Closed => {}
        }
    }

    fn request(&mut self, body: Body, what: Pending<T>, now: Instant) -> u32 {
        let sequence_number = self.next_sequence;
        // Sequence numbers run from 1 to 0x7FFFFFFF and wrap.
        self.next_sequence = if self.next_sequence >= 0x7FFF_FFFF {
            1
        } else {
            self.next_sequence + 1
        };
        let command_id = body.command_id();
        self.outstanding.insert(
            sequence_number,
            Outstanding {
                command_id,
                sent_at: now,
                what,
            },
        );
        self.actions.push_back(Action::Send(Pdu {
            sequence_number,
            status: CommandStatus::ROK,
            body,
        }));
        sequence_number
    }

    /// Something arrived from the peer.
    pub fn handle(&mut self, pdu: Pdu, now: Instant) {
        if self.state == State::Closed {
            return;
        }
        self.last_heard = now;
        if pdu.body.is_response() {
            self.handle_response(pdu);
            return;
        }
        let seq = pdu.sequence_number;
        match pdu.body {
            Body::EnquireLink => self.respond(seq, Body::EnquireLinkResp, CommandStatus::ROK),
            Body::Unbind => {
                self.respond(seq, Body::UnbindResp, CommandStatus::ROK);
                self.close(CloseReason::Unbound);
            }
            Body::DeliverSm(_) | Body::DataSm(_) | Body::AlertNotification(_) => {
                if self.state == State::Bound && self.config.kind.can_receive() {
                    self.actions.push_back(Action::Inbound(pdu));
                } else if matches!(pdu.body, Body::AlertNotification(_)) {
                    // alert_notification has no response.
                } else {
                    let resp = match pdu.body {
                        Body::DataSm(_) => Body::DataSmResp(Default::default()),
                        _ => Body::DeliverSmResp(Default::default()),
                    };
                    self.respond(seq, resp, CommandStatus::RINVBNDSTS);
                }
            }
            // Requests an ESME does not take (submit_sm, bind, …) and
            // commands outside the standard.
            _ => self.respond(seq, Body::GenericNack, CommandStatus::RINVCMDID),
        }
    }

    /// A PDU arrived that could not be decoded; it is answered with
    /// generic_nack and the session goes on.
    pub fn handle_malformed(&mut self, malformed: &Malformed, now: Instant) {
        self.last_heard = now;
        let seq = malformed.header.map_or(0, |h| h.sequence_number);
        self.respond(seq, Body::GenericNack, malformed.error.status());
    }

    fn handle_response(&mut self, pdu: Pdu) {
        let Some(out) = self.outstanding.remove(&pdu.sequence_number) else {
            // A late answer to a request that already timed out, or noise.
            return;
        };
        match out.what {
            Pending::Bind => match (&pdu.body, pdu.status.is_ok()) {
                (
                    Body::BindTransmitterResp(r)
                    | Body::BindReceiverResp(r)
                    | Body::BindTransceiverResp(r),
                    true,
                ) => {
                    self.state = State::Bound;
                    self.actions.push_back(Action::Bound {
                        system_id: r.system_id.clone(),
                    });
                }
                _ => {
                    let status = if pdu.status.is_ok() {
                        CommandStatus::RBINDFAIL
                    } else {
                        pdu.status
                    };
                    self.close(CloseReason::BindRefused(status));
                }
            },
            Pending::EnquireLink => {}
            Pending::Unbind => self.close(CloseReason::Unbound),
            Pending::User(tag) => {
                self.actions.push_back(Action::Response { tag, pdu });
            }
        }
    }

    /// Time passed: response timeouts, keepalive and liveness.
    pub fn tick(&mut self, now: Instant) {
        if self.state == State::Closed {
            return;
        }
        let timeout = self.config.response_timeout;
        let expired: Vec<u32> = self
            .outstanding
            .iter()
            .filter(|(_, o)| now.saturating_duration_since(o.sent_at) >= timeout)
            .map(|(&seq, _)| seq)
            .collect();
        for seq in expired {
            let Some(out) = self.outstanding.remove(&seq) else {
                continue;
            };
            match out.what {
                Pending::Bind => return self.close(CloseReason::BindTimedOut),
                Pending::EnquireLink => return self.close(CloseReason::PeerSilent),
                Pending::Unbind => return self.close(CloseReason::Unbound),
                Pending::User(tag) => {
                    self.actions.push_back(Action::TimedOut {
                        tag,
                        command_id: out.command_id,
                    });
                }
            }
        }
        let probing = self
            .outstanding
            .values()
            .any(|o| matches!(o.what, Pending::EnquireLink));
        if self.state == State::Bound
            && !probing
            && now.saturating_duration_since(self.last_heard) >= self.config.enquire_link_interval
        {
            self.request(Body::EnquireLink, Pending::EnquireLink, now);
        }
    }

    /// When [`Session::tick`] next has something to do.
    pub fn next_deadline(&self) -> Option<Instant> {
        let timeouts = self
            .outstanding
            .values()
            .map(|o| o.sent_at + self.config.response_timeout)
            .min();
        let keepalive = (self.state == State::Bound)
            .then(|| self.last_heard + self.config.enquire_link_interval);
        [timeouts, keepalive].into_iter().flatten().min()
    }

    fn close(&mut self, reason: CloseReason) {
        for (_, out) in std::mem::take(&mut self.outstanding) {
            if let Pending::User(tag) = out.what {
                self.actions.push_back(Action::TimedOut {
                    tag,
                    command_id: out.command_id,
                });
            }
        }
        self.state = State::Closed;
        self.actions.push_back(Action::Close(reason));
    }
}

#[cfg(test)]
mod tests;
