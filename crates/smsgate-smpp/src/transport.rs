//! The only place that touches a socket: cutting a byte stream into PDUs
//! and writing PDUs back. Works over any `AsyncRead + AsyncWrite` (TCP,
//! TLS, an in-memory pipe in tests).
//!
//! A clean EOF between PDUs is `Ok(None)`; EOF inside a PDU, a length the
//! framing refuses, or an I/O error ends the connection. A PDU whose body
//! cannot be decoded is handed up as [`Frame::Malformed`]: its length was
//! sound, so the stream goes on.

use bytes::{Buf, BytesMut};
use tokio::io::{AsyncRead, AsyncReadExt, AsyncWrite, AsyncWriteExt};

use crate::pdu::{Decoded, Malformed, Pdu, decode, encode};
use crate::{FrameError, frame_length};

/// One unit read from the stream.
#[derive(Debug)]
pub enum Frame {
    Pdu(Decoded),
    Malformed(Malformed),
}

#[derive(Debug, thiserror::Error)]
pub enum TransportError {
    #[error("I/O: {0}")]
    Io(#[from] std::io::Error),
    #[error(transparent)]
    Frame(#[from] FrameError),
    #[error("the peer closed the connection in the middle of a PDU")]
    EofInFrame,
}

/// Reads PDUs from the read half of a connection.
pub struct FrameReader<R> {
    io: R,
    buf: BytesMut,
    max_pdu: u32,
}

impl<R: AsyncRead + Unpin> FrameReader<R> {
    pub fn new(io: R, max_pdu: u32) -> FrameReader<R> {
        FrameReader {
            io,
            buf: BytesMut::with_capacity(8 * 1024),
            max_pdu,
        }
    }

    /// A whole PDU already in the buffer, without reading.
    pub fn buffered(&mut self) -> Result<Option<Frame>, TransportError> {
        let Some(len) = frame_length(&self.buf, self.max_pdu)? else {
            return Ok(None);
        };
        let frame = match decode(&self.buf[..len]) {
            Ok(d) => Frame::Pdu(d),
            Err(m) => Frame::Malformed(m),
        };
        self.buf.advance(len);
        Ok(Some(frame))
    }

    /// Reads more bytes; `Ok(false)` at a clean EOF. Cancel-safe: bytes
    /// read are never lost if the future is dropped.
    pub async fn fill(&mut self) -> Result<bool, TransportError> {
        if self.io.read_buf(&mut self.buf).await? == 0 {
            if self.buf.is_empty() {
                return Ok(false);
            }
            return Err(TransportError::EofInFrame);
        }
        Ok(true)
    }

    /// The next PDU; `Ok(None)` at a clean EOF.
    pub async fn read(&mut self) -> Result<Option<Frame>, TransportError> {
        loop {
            if let Some(f) = self.buffered()? {
                return Ok(Some(f));
            }
            if !self.fill().await? {
                return Ok(None);
            }
        }
    }
}

/// Writes PDUs to the write half of a connection, many per syscall.
pub struct FrameWriter<W> {
    io: W,
    out: Vec<u8>,
}

impl<W: AsyncWrite + Unpin> FrameWriter<W> {
    pub fn new(io: W) -> FrameWriter<W> {
        FrameWriter {
            io,
            out: Vec::with_capacity(8 * 1024),
        }
    }

    /// Queues a PDU; [`FrameWriter::flush`] sends it.
    pub fn queue(&mut self, pdu: &Pdu) {
        self.out.extend_from_slice(&encode(pdu));
    }

    /// Sends what was queued; nothing to do (no syscall) when nothing was.
    pub async fn flush(&mut self) -> Result<(), TransportError> {
        if self.out.is_empty() {
            return Ok(());
        }
        self.io.write_all(&self.out).await?;
        self.out.clear();
        self.io.flush().await?;
        Ok(())
    }

    pub async fn shutdown(&mut self) {
        let _ = self.flush().await;
        let _ = self.io.shutdown().await;
    }
}
