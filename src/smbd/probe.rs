//! The SMB Direct probe's client, sans-IO: SMBD negotiation, then one SMB2
//! NEGOTIATE request carried in Data Transfer messages and its response
//! reassembled and parsed. The caller posts receives (telling the probe with
//! [`Probe::receive_posted`]), sends what [`Probe::start`] and
//! [`Probe::next_send`] write, and feeds every completed receive to
//! [`Probe::on_receive`]. The hosted `softroce smbd-probe` tool drives it over
//! the NDK dispatch tables; `tests/smbd_selftest.rs` drives the same code
//! against an in-process responder over SimNet.
//! Owns the probe's sequencing; must not post, poll or touch the provider.

use alloc::vec::Vec;

use super::initiator::{Config, Initiator, Negotiated, Received};
use super::smb2::{self, NegotiateRequest, NegotiateResponse};
use super::{Error, FLAG_RESPONSE_REQUESTED};

/// What the SMB2 NEGOTIATE response said (owned).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Smb2Negotiated {
    pub dialect: u16,
    pub security_mode: u16,
    pub capabilities: u32,
    pub max_transact_size: u32,
    pub max_read_size: u32,
    pub max_write_size: u32,
    pub server_guid: [u8; 16],
    pub security_buffer_len: usize,
    pub negotiate_contexts: u16,
    /// Credits the SMB2 header granted.
    pub credits: u16,
}

/// Why the probe stopped.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum ProbeError {
    /// SMB Direct refused a message (terminate the connection).
    Smbd(Error),
    /// The SMB2 response did not parse or reported an error.
    Smb2(smb2::Error),
    /// The server chose a dialect we did not offer.
    Dialect(u16),
}

impl core::fmt::Display for ProbeError {
    fn fmt(&self, f: &mut core::fmt::Formatter<'_>) -> core::fmt::Result {
        match self {
            ProbeError::Smbd(e) => write!(f, "SMB Direct: {e}"),
            ProbeError::Smb2(e) => write!(f, "SMB2: {e}"),
            ProbeError::Dialect(d) => write!(f, "server chose dialect {d:#06x}, not offered"),
        }
    }
}

impl From<Error> for ProbeError {
    fn from(e: Error) -> Self {
        ProbeError::Smbd(e)
    }
}

/// What a receive led to.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Step {
    /// SMB Direct is negotiated; [`Probe::next_send`] has the SMB2 request.
    Negotiated(Negotiated),
    /// Nothing to report (a fragment, or a credit-only message).
    Continue,
    /// The SMB2 NEGOTIATE response arrived and parsed.
    Done(Smb2Negotiated),
}

/// The probe's state.
#[derive(Debug, Clone)]
pub struct Probe {
    smbd: Initiator,
    dialects: Vec<u16>,
    /// The SMB2 request and how much of it was sent.
    request: Vec<u8>,
    sent: usize,
    /// The peer asked for a prompt message.
    owe_response: bool,
    reassembly: Vec<u8>,
    done: bool,
}

impl Probe {
    /// A probe offering `dialects` (0x0311 adds the preauth context with
    /// `salt`) as client `guid`.
    pub fn new(cfg: Config, dialects: &[u16], guid: [u8; 16], salt: [u8; 32]) -> Self {
        let mut request = Vec::new();
        NegotiateRequest {
            message_id: 0,
            security_mode: smb2::SIGNING_ENABLED,
            capabilities: 0,
            client_guid: guid,
            dialects: dialects.to_vec(),
            salt,
        }
        .emit(&mut request);
        Self {
            smbd: Initiator::new(cfg),
            dialects: dialects.to_vec(),
            request,
            sent: 0,
            owe_response: false,
            reassembly: Vec::new(),
            done: false,
        }
    }

    /// The SMB Direct state (sizes, credits).
    pub fn smbd(&self) -> &Initiator {
        &self.smbd
    }

    /// The SMB2 NEGOTIATE request's bytes.
    pub fn smb2_request(&self) -> &[u8] {
        &self.request
    }

    /// One more receive of [`Initiator::receive_size`] bytes is posted.
    pub fn receive_posted(&mut self) {
        self.smbd.receive_posted();
    }

    /// The SMBD Negotiate Request (needs one receive posted).
    pub fn start(&mut self, out: &mut [u8]) -> Result<usize, ProbeError> {
        Ok(self.smbd.negotiate_request(out)?)
    }

    /// The next message to send, if any: the SMB2 request's next fragment,
    /// or an empty message the peer asked for. `Ok(None)`: nothing to send
    /// now (all sent, or no credit yet).
    pub fn next_send(&mut self, out: &mut [u8]) -> Result<Option<usize>, ProbeError> {
        if self.smbd.negotiated().is_none() || self.smbd.send_credits() == 0 {
            return Ok(None);
        }
        let max = self.smbd.max_fragment_data().unwrap_or(0);
        let rest = self.request.get(self.sent..).unwrap_or(&[]);
        if rest.is_empty() && !self.owe_response {
            return Ok(None);
        }
        let take = rest.len().min(max);
        let chunk = rest.get(..take).unwrap_or(&[]);
        let remaining = u32::try_from(rest.len() - take).map_err(|_| Error::State)?;
        // Ask for a response to the last fragment's credits only if we would
        // otherwise run dry before the reply.
        let flags = if remaining == 0 && self.smbd.send_credits() == 1 && !rest.is_empty() {
            FLAG_RESPONSE_REQUESTED
        } else {
            0
        };
        let n = self.smbd.send(out, chunk, remaining, flags)?;
        self.sent += take;
        self.owe_response = false;
        Ok(Some(n))
    }

    /// A receive completed with `message`; the receive is consumed (post a
    /// new one and call [`receive_posted`](Self::receive_posted)).
    pub fn on_receive(&mut self, message: &[u8]) -> Result<Step, ProbeError> {
        match self.smbd.on_receive(message)? {
            Received::Negotiated(n) => Ok(Step::Negotiated(n)),
            Received::Data {
                data,
                last,
                respond,
                ..
            } => {
                self.owe_response |= respond;
                if data.is_empty() {
                    return Ok(Step::Continue);
                }
                if self.done || self.sent < self.request.len() {
                    // Nothing else was asked for.
                    return Err(Error::State.into());
                }
                self.reassembly.extend_from_slice(data);
                if !last {
                    return Ok(Step::Continue);
                }
                let r = NegotiateResponse::parse(&self.reassembly).map_err(ProbeError::Smb2)?;
                if !self.dialects.contains(&r.dialect) {
                    return Err(ProbeError::Dialect(r.dialect));
                }
                self.done = true;
                Ok(Step::Done(Smb2Negotiated {
                    dialect: r.dialect,
                    security_mode: r.security_mode,
                    capabilities: r.capabilities,
                    max_transact_size: r.max_transact_size,
                    max_read_size: r.max_read_size,
                    max_write_size: r.max_write_size,
                    server_guid: r.server_guid,
                    security_buffer_len: r.security_buffer.len(),
                    negotiate_contexts: r.negotiate_contexts,
                    credits: r.header.credits,
                }))
            }
        }
    }
}

#[cfg(test)]
mod tests {
    use super::super::{
        check_data_transfer, check_request, DataTransferRepr, NegotiateResponseRepr,
    };
    use super::*;
    use alloc::vec;

    fn response_bytes(granted: u16) -> [u8; 32] {
        let mut b = [0u8; 32];
        NegotiateResponseRepr {
            min_version: 0x0100,
            max_version: 0x0100,
            negotiated_version: 0x0100,
            credits_requested: 255,
            credits_granted: granted,
            status: 0,
            max_read_write_size: 1 << 20,
            preferred_send_size: 1364,
            max_receive_size: 128, // the least allowed: forces the SMB2 request into fragments
            max_fragmented_size: 1 << 20,
        }
        .emit(&mut b)
        .unwrap();
        b
    }

    #[test]
    fn fragments_the_request_and_reassembles_the_reply() {
        let mut p = Probe::new(
            Config::default(),
            &[0x0202, 0x0210, 0x0300, 0x0302],
            [1; 16],
            [0; 32],
        );
        let mut buf = vec![0u8; 2048];
        assert!(p.start(&mut buf).is_err(), "no receive posted");
        p.receive_posted();
        let n = p.start(&mut buf).unwrap();
        check_request(&buf[..n]).unwrap();
        assert_eq!(p.next_send(&mut buf).unwrap(), None, "not negotiated yet");
        let Step::Negotiated(neg) = p.on_receive(&response_bytes(5)).unwrap() else {
            panic!("negotiated");
        };
        assert_eq!(neg.max_send_size, 128);
        for _ in 0..4 {
            p.receive_posted();
        }
        // 108-byte request, 104 bytes per fragment: two messages.
        let mut got = Vec::new();
        let mut msgs = 0;
        while let Some(n) = p.next_send(&mut buf).unwrap() {
            let (h, d) = check_data_transfer(&buf[..n], 1 << 20).unwrap();
            assert!(n <= 128);
            assert_eq!(
                h.remaining_data_length as usize,
                p.smb2_request().len() - got.len() - d.len()
            );
            got.extend_from_slice(d);
            msgs += 1;
        }
        assert_eq!((msgs, &got[..]), (2, p.smb2_request()));
        // The reply in two fragments.
        let mut reply = Vec::new();
        smb2::NegotiateResponse {
            header: smb2::Header {
                credit_charge: 0,
                status: 0,
                command: smb2::NEGOTIATE,
                credits: 1,
                flags: smb2::FLAGS_SERVER_TO_REDIR,
                message_id: 0,
            },
            security_mode: 1,
            dialect: 0x0302,
            server_guid: [7; 16],
            capabilities: 0x44,
            max_transact_size: 1 << 20,
            max_read_size: 1 << 20,
            max_write_size: 1 << 20,
            system_time: 0,
            security_buffer: b"token",
            negotiate_contexts: 0,
        }
        .emit(&mut reply);
        let (a, b) = reply.split_at(50);
        let mut m = vec![0u8; 256];
        let len = DataTransferRepr::new(255, 1, 0, b.len() as u32, a.len() as u32)
            .emit(&mut m, a)
            .unwrap();
        assert_eq!(p.on_receive(&m[..len]).unwrap(), Step::Continue);
        let len = DataTransferRepr::new(255, 0, 0, 0, b.len() as u32)
            .emit(&mut m, b)
            .unwrap();
        let Step::Done(r) = p.on_receive(&m[..len]).unwrap() else {
            panic!("done");
        };
        assert_eq!(
            (r.dialect, r.capabilities, r.security_buffer_len),
            (0x0302, 0x44, 5)
        );
    }

    #[test]
    fn a_dialect_not_offered_is_an_error() {
        let mut p = Probe::new(Config::default(), &[0x0202], [1; 16], [0; 32]);
        p.receive_posted();
        p.start(&mut [0u8; 20]).unwrap();
        p.on_receive(&response_bytes(5)).unwrap();
        p.receive_posted();
        let mut buf = vec![0u8; 256];
        while p.next_send(&mut buf).unwrap().is_some() {}
        let mut reply = Vec::new();
        smb2::NegotiateResponse {
            header: smb2::Header {
                credit_charge: 0,
                status: 0,
                command: 0,
                credits: 1,
                flags: 1,
                message_id: 0,
            },
            security_mode: 1,
            dialect: 0x0311,
            server_guid: [0; 16],
            capabilities: 0,
            max_transact_size: 0,
            max_read_size: 0,
            max_write_size: 0,
            system_time: 0,
            security_buffer: &[],
            negotiate_contexts: 0,
        }
        .emit(&mut reply);
        let mut m = vec![0u8; 256];
        let len = DataTransferRepr::new(1, 0, 0, 0, reply.len() as u32)
            .emit(&mut m, &reply)
            .unwrap();
        assert_eq!(p.on_receive(&m[..len]), Err(ProbeError::Dialect(0x0311)));
    }
}
