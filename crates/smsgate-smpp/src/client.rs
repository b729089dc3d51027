//! The ESME client over a connection: binds, then runs the sans-IO
//! [`Session`] in a task of its own, feeding it what the socket reads and
//! the passing of time, and carrying out its actions.
//!
//! Callers hold a [`Client`] and send requests (submit_sm, …) through it;
//! a request waits while the window is full, in the order it was made.
//! Requests from the SMSC (deliver_sm, data_sm) arrive as [`Inbound`]s and
//! are answered through their [`Responder`] once handled; one dropped
//! unanswered is answered `ESME_RX_T_APPN`, so the SMSC tries again.

use std::collections::HashMap;
use std::sync::Arc;
use std::sync::atomic::{AtomicUsize, Ordering};
use std::time::Duration;

use tokio::io::{AsyncRead, AsyncWrite};
use tokio::sync::{mpsc, oneshot};
use tokio::time::Instant;

use crate::pdu::{Body, DataSmResp, Pdu, SmResp};
use crate::session::{Action, CloseReason, Session, SessionConfig};
use crate::status::CommandStatus;
use crate::transport::{Frame, FrameReader, FrameWriter, TransportError};

/// Why a request got no response.
#[derive(Debug, Clone, Copy, PartialEq, Eq, thiserror::Error)]
pub enum RequestError {
    /// The SMSC did not answer within the response timeout; it may or may
    /// not have acted on the request.
    #[error("no response within the timeout")]
    TimedOut,
    /// The connection ended before the request was answered (it may have
    /// been acted on) or before it was sent.
    #[error("the connection is closed")]
    Closed,
    #[error("the bind does not allow sending")]
    ReceiverOnly,
}

/// Why the connection ended.
#[derive(Debug, thiserror::Error)]
pub enum ClientError {
    #[error("bind refused: {0}")]
    BindRefused(CommandStatus),
    #[error("no answer to the bind")]
    BindTimedOut,
    #[error("the SMSC stopped answering enquire_link")]
    PeerSilent,
    #[error("unbound")]
    Unbound,
    #[error("the SMSC closed the connection")]
    PeerClosed,
    #[error(transparent)]
    Transport(#[from] TransportError),
}

impl From<CloseReason> for ClientError {
    fn from(r: CloseReason) -> Self {
        match r {
            CloseReason::BindRefused(s) => ClientError::BindRefused(s),
            CloseReason::BindTimedOut => ClientError::BindTimedOut,
            CloseReason::PeerSilent => ClientError::PeerSilent,
            CloseReason::Unbound => ClientError::Unbound,
        }
    }
}

/// Settings beyond the session's own.
#[derive(Debug, Clone)]
pub struct ClientConfig {
    pub session: SessionConfig,
    /// The largest PDU read; longer ones end the connection.
    pub max_pdu: u32,
}

enum Command {
    Request {
        body: Body,
        reply: oneshot::Sender<Result<Pdu, RequestError>>,
    },
    Unbind,
}

/// A request of the SMSC waiting for its answer.
#[derive(Debug)]
pub struct Inbound {
    pub pdu: Pdu,
    pub responder: Responder,
}

/// Answers one request of the SMSC. Dropped without an answer, it answers
/// `ESME_RX_T_APPN` (temporary error: the SMSC redelivers).
#[derive(Debug)]
pub struct Responder {
    sequence_number: u32,
    data_sm: bool,
    answers: Option<mpsc::UnboundedSender<Pdu>>,
}

impl Responder {
    pub fn respond(mut self, status: CommandStatus) {
        self.send(status);
    }

    fn send(&mut self, status: CommandStatus) {
        if let Some(tx) = self.answers.take() {
            let body = if self.data_sm {
                Body::DataSmResp(DataSmResp::default())
            } else {
                Body::DeliverSmResp(SmResp::default())
            };
            let _ = tx.send(Pdu {
                sequence_number: self.sequence_number,
                status,
                body,
            });
        }
    }
}

impl Drop for Responder {
    fn drop(&mut self) {
        self.send(CommandStatus::RX_T_APPN);
    }
}

/// A bound connection. Cheap to clone; the connection closes when the
/// SMSC or [`Client::unbind`] ends it.
#[derive(Clone)]
pub struct Client {
    commands: mpsc::Sender<Command>,
    in_flight: Arc<AtomicUsize>,
}

impl Client {
    /// Sends a request and waits for its response (waiting first for room
    /// in the window). A response with an error status is still `Ok`.
    pub async fn request(&self, body: Body) -> Result<Pdu, RequestError> {
        let (reply, answer) = oneshot::channel();
        self.commands
            .send(Command::Request { body, reply })
            .await
            .map_err(|_| RequestError::Closed)?;
        answer.await.unwrap_or(Err(RequestError::Closed))
    }

    /// Requests sent and not answered yet.
    pub fn in_flight(&self) -> usize {
        self.in_flight.load(Ordering::Relaxed)
    }

    pub fn is_closed(&self) -> bool {
        self.commands.is_closed()
    }

    /// Starts a clean unbind; [`Bound::closed`] reports its end.
    pub async fn unbind(&self) {
        let _ = self.commands.send(Command::Unbind).await;
    }
}

/// What [`bind`] gives: the client, the SMSC's requests, and the end of
/// the connection.
pub struct Bound {
    pub client: Client,
    /// The SMSC's system_id.
    pub system_id: Vec<u8>,
    pub inbound: mpsc::UnboundedReceiver<Inbound>,
    /// Resolves when the connection has ended, with why.
    pub closed: oneshot::Receiver<ClientError>,
}

/// Binds over `io` and, once bound, runs the connection in a task.
pub async fn bind<IO>(io: IO, config: ClientConfig) -> Result<Bound, ClientError>
where
    IO: AsyncRead + AsyncWrite + Send + 'static,
{
    let (read, write) = tokio::io::split(io);
    let mut driver = Driver {
        session: Session::new(config.session.clone(), Instant::now().into_std()),
        reader: FrameReader::new(read, config.max_pdu),
        writer: FrameWriter::new(write),
        pending: HashMap::new(),
        next_tag: 0,
        inbound: None,
        in_flight: Arc::new(AtomicUsize::new(0)),
        answers: mpsc::unbounded_channel(),
    };
    // Open before the handshake: an SMSC sends the receipts it kept right
    // after the bind_resp, and they may be read with it.
    let (inbound_tx, inbound) = mpsc::unbounded_channel();
    driver.inbound = Some(inbound_tx);
    driver.session.start(Instant::now().into_std());
    let system_id = driver.handshake().await?;
    let (commands, commands_rx) = mpsc::channel(1);
    let (closed_tx, closed) = oneshot::channel();
    let client = Client {
        commands,
        in_flight: driver.in_flight.clone(),
    };
    tokio::spawn(async move {
        let why = driver.run(commands_rx).await;
        let _ = closed_tx.send(why);
    });
    Ok(Bound {
        client,
        system_id,
        inbound,
        closed,
    })
}

struct Driver<R, W> {
    session: Session<u64>,
    reader: FrameReader<R>,
    writer: FrameWriter<W>,
    pending: HashMap<u64, oneshot::Sender<Result<Pdu, RequestError>>>,
    next_tag: u64,
    inbound: Option<mpsc::UnboundedSender<Inbound>>,
    in_flight: Arc<AtomicUsize>,
    answers: (mpsc::UnboundedSender<Pdu>, mpsc::UnboundedReceiver<Pdu>),
}

/// Sleep target when the session has no timer running.
const IDLE: Duration = Duration::from_secs(3600);

impl<R, W> Driver<R, W>
where
    R: AsyncRead + Unpin,
    W: AsyncWrite + Unpin,
{
    /// Until the bind is answered.
    async fn handshake(&mut self) -> Result<Vec<u8>, ClientError> {
        loop {
            if let Some(outcome) = self.carry_out() {
                return outcome;
            }
            self.writer.flush().await?;
            let deadline = self.deadline();
            tokio::select! {
                more = self.reader.fill() => {
                    if !more? { return Err(ClientError::PeerClosed); }
                    self.read_buffered()?;
                }
                _ = tokio::time::sleep_until(deadline) => self.session.tick(Instant::now().into_std()),
            }
        }
    }

    async fn run(mut self, mut commands: mpsc::Receiver<Command>) -> ClientError {
        let why = self.run_loop(&mut commands).await;
        // Whatever was waiting learns the connection is gone.
        for (_, reply) in self.pending.drain() {
            let _ = reply.send(Err(RequestError::Closed));
        }
        commands.close();
        while let Ok(Command::Request { reply, .. }) = commands.try_recv() {
            let _ = reply.send(Err(RequestError::Closed));
        }
        self.in_flight.store(0, Ordering::Relaxed);
        self.writer.shutdown().await;
        why
    }

    async fn run_loop(&mut self, commands: &mut mpsc::Receiver<Command>) -> ClientError {
        let mut commands_open = true;
        loop {
            if let Some(Err(e)) = self.carry_out() {
                let _ = self.writer.flush().await;
                return e;
            }
            if let Err(e) = self.writer.flush().await {
                return e.into();
            }
            // A full window leaves requests waiting in the channel, in order.
            let can_take = commands_open && !self.session.window_full();
            let deadline = self.deadline();
            tokio::select! {
                biased;
                answer = self.answers.1.recv() => {
                    if let Some(pdu) = answer {
                        self.session.respond(pdu.sequence_number, pdu.body, pdu.status);
                    }
                }
                more = self.reader.fill() => match more {
                    Ok(true) => if let Err(e) = self.read_buffered() { return e; },
                    Ok(false) => return ClientError::PeerClosed,
                    Err(e) => return e.into(),
                },
                command = commands.recv(), if can_take => match command {
                    Some(Command::Request { body, reply }) => self.send(body, reply),
                    Some(Command::Unbind) | None => {
                        commands_open = false;
                        self.session.unbind(Instant::now().into_std());
                    }
                },
                _ = tokio::time::sleep_until(deadline) => self.session.tick(Instant::now().into_std()),
            }
        }
    }

    fn send(&mut self, body: Body, reply: oneshot::Sender<Result<Pdu, RequestError>>) {
        let tag = self.next_tag;
        self.next_tag += 1;
        match self.session.send(body, tag, Instant::now().into_std()) {
            Ok(_) => {
                self.pending.insert(tag, reply);
                self.in_flight.fetch_add(1, Ordering::Relaxed);
            }
            Err(crate::session::SendError::ReceiverOnly) => {
                let _ = reply.send(Err(RequestError::ReceiverOnly));
            }
            Err(_) => {
                let _ = reply.send(Err(RequestError::Closed));
            }
        }
    }

    fn deadline(&self) -> Instant {
        self.session
            .next_deadline()
            .map(Instant::from_std)
            .unwrap_or_else(|| Instant::now() + IDLE)
    }

    /// Hands every whole PDU in the read buffer to the session.
    fn read_buffered(&mut self) -> Result<(), ClientError> {
        let now = Instant::now().into_std();
        while let Some(frame) = self.reader.buffered()? {
            match frame {
                Frame::Pdu(d) => {
                    if !d.overlong.is_empty() {
                        tracing::debug!(fields = ?d.overlong, "SMSC sent over-long fields");
                    }
                    self.session.handle(d.pdu, now);
                }
                Frame::Malformed(m) => {
                    tracing::warn!(error = %m, "malformed PDU from the SMSC");
                    self.session.handle_malformed(&m, now);
                }
            }
        }
        Ok(())
    }

    /// Carries out the session's actions. `Some(Ok(system_id))` once bound,
    /// `Some(Err(_))` when the session closed.
    fn carry_out(&mut self) -> Option<Result<Vec<u8>, ClientError>> {
        let mut outcome = None;
        while let Some(action) = self.session.poll_action() {
            match action {
                Action::Send(pdu) => self.writer.queue(&pdu),
                Action::Bound { system_id } => outcome = Some(Ok(system_id)),
                Action::Response { tag, pdu } => self.answer(tag, Ok(pdu)),
                Action::TimedOut { tag, .. } => self.answer(tag, Err(RequestError::TimedOut)),
                // alert_notification has no response, and nothing here
                // uses it.
                Action::Inbound(pdu) if matches!(pdu.body, Body::AlertNotification(_)) => {}
                Action::Inbound(pdu) => {
                    let responder = Responder {
                        sequence_number: pdu.sequence_number,
                        data_sm: matches!(pdu.body, Body::DataSm(_)),
                        answers: Some(self.answers.0.clone()),
                    };
                    if let Some(tx) = &self.inbound {
                        // Dropped unread (nobody listens): answered as a
                        // temporary error by the responder.
                        let _ = tx.send(Inbound { pdu, responder });
                    }
                }
                Action::Close(reason) => outcome = Some(Err(reason.into())),
            }
        }
        outcome
    }

    fn answer(&mut self, tag: u64, result: Result<Pdu, RequestError>) {
        if let Some(reply) = self.pending.remove(&tag) {
            self.in_flight.fetch_sub(1, Ordering::Relaxed);
            let _ = reply.send(result);
        }
    }
}
