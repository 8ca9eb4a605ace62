//! The initiator's side of an SMB Direct connection, sans-IO: it builds the
//! Negotiate Request from a [`Config`] (§3.1.5.2), checks the Negotiate
//! Response and derives the connection's sizes (§3.1.5.7), then frames
//! upper-layer messages into Data Transfer fragments and accounts for
//! credits (§3.1.5.8, §3.1.5.9).
//!
//! Credits: each message we send spends one send credit the peer granted;
//! each message the peer sends consumes one of our posted receives and one
//! receive credit we granted. We only grant credits for receives the caller
//! says it has posted ([`Initiator::receive_posted`]), never more than
//! min(ReceiveCreditTarget, ReceiveCreditMax), and refuse to spend the last
//! send credit without leaving the peer at least one receive credit (else
//! neither side could ever send again).
//!
//! Owns this bookkeeping; must not post, poll or allocate (the caller moves
//! the bytes).

use super::data::{check_data_transfer, DataTransferRepr};
use super::negotiate::{check_response, NegotiateRequestRepr, NegotiateResponseRepr};
use super::{Error, Result, DATA_OFFSET, MIN_RECEIVE_SIZE, NEGOTIATE_REQUEST_LEN, SMBD_VERSION};

/// What the initiator asks for (Connection fields before negotiation,
/// §3.1.1.1). [`Config::default`] is Windows' defaults (MS-SMBD Appendix B
/// <2>) with MaxReadWriteSize 1 MiB (the §4.1 example).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Config {
    /// SendCreditTarget: CreditsRequested of every message we send.
    pub send_credit_target: u16,
    /// ReceiveCreditMax: most receive credits we grant.
    pub receive_credit_max: u16,
    /// MaxSendSize: our PreferredSendSize.
    pub max_send_size: u32,
    /// MaxReceiveSize: the size of each receive buffer we post.
    pub max_receive_size: u32,
    /// MaxFragmentedRecvSize: the largest upper-layer message we reassemble.
    pub max_fragmented_recv_size: u32,
    /// Our implementation's MaxReadWriteSize.
    pub max_read_write_size: u32,
}

impl Default for Config {
    fn default() -> Self {
        Self {
            send_credit_target: 255,
            receive_credit_max: 255,
            max_send_size: 1364,
            max_receive_size: 8192,
            max_fragmented_recv_size: 1_048_576,
            max_read_write_size: 1_048_576,
        }
    }
}

/// The connection's parameters after a good Negotiate Response.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Negotiated {
    /// The response as received.
    pub response: NegotiateResponseRepr,
    /// min(our MaxReceiveSize, peer PreferredSendSize), at least 128.
    pub max_receive_size: u32,
    /// min(our MaxSendSize, peer MaxReceiveSize).
    pub max_send_size: u32,
    /// The peer's MaxFragmentedSize: the largest message we may send.
    pub max_fragmented_send_size: u32,
    /// min(our implementation's value, peer MaxReadWriteSize).
    pub max_read_write_size: u32,
    /// The peer's CreditsRequested.
    pub receive_credit_target: u16,
    /// Send credits the response granted.
    pub send_credits: u16,
}

/// What a received message was.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Received<'a> {
    /// The Negotiate Response passed §3.1.5.7: the connection is up.
    Negotiated(Negotiated),
    /// A Data Transfer message: one fragment of an upper-layer message
    /// (`last`: RemainingDataLength was 0), or no data at all (credits or a
    /// keepalive). `respond`: the peer asked for a prompt message back.
    Data {
        header: DataTransferRepr,
        data: &'a [u8],
        last: bool,
        respond: bool,
    },
}

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum State {
    Start,
    Negotiating,
    Connected(Negotiated),
    Failed,
}

/// An SMB Direct initiator's state (one connection).
#[derive(Debug, Clone)]
pub struct Initiator {
    cfg: Config,
    state: State,
    /// Receives posted and not yet completed.
    posted: u16,
    /// Credits granted to the peer and not yet used by it.
    receive_credits: u16,
    /// Credits the peer granted us and we have not spent.
    send_credits: u16,
    /// RemainingDataLength the next fragment must carry plus its data
    /// (`Some` while reassembling).
    expect_total: Option<u32>,
}

impl Initiator {
    pub fn new(cfg: Config) -> Self {
        Self {
            cfg,
            state: State::Start,
            posted: 0,
            receive_credits: 0,
            send_credits: 0,
            expect_total: None,
        }
    }

    /// The configuration.
    pub fn config(&self) -> &Config {
        &self.cfg
    }

    /// The negotiated parameters, once connected.
    pub fn negotiated(&self) -> Option<Negotiated> {
        match self.state {
            State::Connected(n) => Some(n),
            _ => None,
        }
    }

    /// Send credits left.
    pub fn send_credits(&self) -> u16 {
        self.send_credits
    }

    /// Receive credits the peer holds.
    pub fn receive_credits(&self) -> u16 {
        self.receive_credits
    }

    /// Receives posted and not completed.
    pub fn posted_receives(&self) -> u16 {
        self.posted
    }

    /// The size every receive buffer must have: our MaxReceiveSize (before
    /// negotiation: the configured one; it can only shrink).
    pub fn receive_size(&self) -> u32 {
        match self.state {
            State::Connected(n) => n.max_receive_size,
            _ => self.cfg.max_receive_size,
        }
    }

    /// The caller posted one more receive of [`receive_size`](Self::receive_size) bytes.
    pub fn receive_posted(&mut self) {
        self.posted = self.posted.saturating_add(1);
    }

    /// Credits the next message would grant: posted receives not yet backed
    /// by a credit, up to min(ReceiveCreditTarget, ReceiveCreditMax).
    pub fn grantable(&self) -> u16 {
        let State::Connected(n) = self.state else {
            return 0;
        };
        let cap = n.receive_credit_target.min(self.cfg.receive_credit_max);
        self.posted.min(cap).saturating_sub(self.receive_credits)
    }

    /// Writes the Negotiate Request (20 bytes) into `out` (§3.1.5.2). Needs
    /// one posted receive for the response.
    pub fn negotiate_request(&mut self, out: &mut [u8]) -> Result<usize> {
        if self.state != State::Start {
            return Err(Error::State);
        }
        if self.posted == 0 {
            return Err(Error::NoReceiveCredits);
        }
        NegotiateRequestRepr {
            min_version: SMBD_VERSION,
            max_version: SMBD_VERSION,
            credits_requested: self.cfg.send_credit_target,
            preferred_send_size: self.cfg.max_send_size,
            max_receive_size: self.cfg.max_receive_size,
            max_fragmented_size: self.cfg.max_fragmented_recv_size,
        }
        .emit(out)?;
        self.state = State::Negotiating;
        Ok(NEGOTIATE_REQUEST_LEN)
    }

    /// A receive completed with `message` (its bytes). Consumes the posted
    /// receive; checks it per §3.1.5.7 (the first) or §3.1.5.8. An error
    /// leaves the connection failed: terminate it.
    pub fn on_receive<'a>(&mut self, message: &'a [u8]) -> Result<Received<'a>> {
        let r = self.receive(message);
        if r.is_err() {
            self.state = State::Failed;
        }
        r
    }

    fn receive<'a>(&mut self, message: &'a [u8]) -> Result<Received<'a>> {
        self.posted = self.posted.checked_sub(1).ok_or(Error::NoReceiveCredits)?;
        let limit = self.receive_size();
        if message.len() > limit as usize {
            return Err(Error::MessageTooLarge {
                len: message.len(),
                max: limit,
            });
        }
        match self.state {
            State::Negotiating => {
                let r = check_response(message, self.cfg.max_receive_size)?;
                let n = Negotiated {
                    response: r,
                    max_receive_size: self
                        .cfg
                        .max_receive_size
                        .min(r.preferred_send_size)
                        .max(MIN_RECEIVE_SIZE),
                    max_send_size: self.cfg.max_send_size.min(r.max_receive_size),
                    max_fragmented_send_size: r.max_fragmented_size,
                    max_read_write_size: self.cfg.max_read_write_size.min(r.max_read_write_size),
                    receive_credit_target: r.credits_requested,
                    send_credits: r.credits_granted,
                };
                self.send_credits = r.credits_granted;
                self.state = State::Connected(n);
                Ok(Received::Negotiated(n))
            }
            State::Connected(_) => {
                self.receive_credits = self
                    .receive_credits
                    .checked_sub(1)
                    .ok_or(Error::NoReceiveCredits)?;
                let (h, data) = check_data_transfer(message, self.cfg.max_fragmented_recv_size)?;
                let this = h
                    .data_length
                    .checked_add(h.remaining_data_length)
                    .ok_or(Error::BadFragment)?;
                if let Some(expect) = self.expect_total {
                    if this != expect || h.data_length == 0 {
                        return Err(Error::BadFragment);
                    }
                }
                self.expect_total =
                    (h.remaining_data_length != 0).then_some(h.remaining_data_length);
                self.send_credits = self
                    .send_credits
                    .checked_add(h.credits_granted)
                    .ok_or(Error::BadFragment)?;
                Ok(Received::Data {
                    header: h,
                    data,
                    last: h.remaining_data_length == 0,
                    respond: h.response_requested(),
                })
            }
            State::Start | State::Failed => Err(Error::State),
        }
    }

    /// Most data bytes one Data Transfer message may carry.
    pub fn max_fragment_data(&self) -> Option<usize> {
        let n = self.negotiated()?;
        (n.max_send_size as usize).checked_sub(DATA_OFFSET)
    }

    /// Writes one Data Transfer message into `out`: `data` (at most
    /// [`max_fragment_data`](Self::max_fragment_data) bytes) with
    /// `remaining` bytes of the upper-layer message still to follow; spends
    /// a send credit and grants what [`grantable`](Self::grantable) allows.
    /// Returns the message length.
    pub fn send(
        &mut self,
        out: &mut [u8],
        data: &[u8],
        remaining: u32,
        flags: u16,
    ) -> Result<usize> {
        let State::Connected(n) = self.state else {
            return Err(Error::State);
        };
        if self.send_credits == 0 {
            return Err(Error::NoSendCredits);
        }
        let total = (data.len() as u64).saturating_add(u64::from(remaining));
        if total > u64::from(n.max_fragmented_send_size) {
            return Err(Error::TooLong {
                total,
                max: n.max_fragmented_send_size,
            });
        }
        let grant = self.grantable();
        if self.send_credits == 1 && self.receive_credits.saturating_add(grant) == 0 {
            // The last credit must leave the peer a way to grant more.
            return Err(Error::NoReceiveCredits);
        }
        let len = u32::try_from(data.len()).map_err(|_| Error::MessageTooLarge {
            len: data.len(),
            max: n.max_send_size,
        })?;
        let h = DataTransferRepr::new(self.cfg.send_credit_target, grant, flags, remaining, len);
        let msg_len = h.message_len().ok_or(Error::BadDataOffset(h.data_offset))?;
        if msg_len > n.max_send_size as usize {
            return Err(Error::MessageTooLarge {
                len: msg_len,
                max: n.max_send_size,
            });
        }
        let written = h.emit(out, data)?;
        self.send_credits -= 1;
        self.receive_credits = self.receive_credits.saturating_add(grant);
        Ok(written)
    }
}

#[cfg(test)]
mod tests {
    use super::super::NEGOTIATE_RESPONSE_LEN;
    use super::*;

    fn response(granted: u16, preferred: u32, max_receive: u32) -> [u8; 32] {
        let mut b = [0u8; NEGOTIATE_RESPONSE_LEN];
        NegotiateResponseRepr {
            min_version: 0x0100,
            max_version: 0x0100,
            negotiated_version: 0x0100,
            credits_requested: 255,
            credits_granted: granted,
            status: 0,
            max_read_write_size: 8 << 20,
            preferred_send_size: preferred,
            max_receive_size: max_receive,
            max_fragmented_size: 1 << 20,
        }
        .emit(&mut b)
        .unwrap();
        b
    }

    fn connected(granted: u16) -> Initiator {
        let mut i = Initiator::new(Config::default());
        i.receive_posted();
        let mut req = [0u8; 20];
        assert_eq!(i.negotiate_request(&mut req), Ok(20));
        assert!(matches!(
            i.on_receive(&response(granted, 1364, 1364)),
            Ok(Received::Negotiated(_))
        ));
        i
    }

    #[test]
    fn request_carries_the_config() {
        let mut i = Initiator::new(Config::default());
        let mut req = [0u8; 20];
        assert_eq!(
            i.negotiate_request(&mut req),
            Err(Error::NoReceiveCredits),
            "post first"
        );
        i.receive_posted();
        i.negotiate_request(&mut req).unwrap();
        let r = super::super::check_request(&req).unwrap();
        assert_eq!(
            (
                r.credits_requested,
                r.preferred_send_size,
                r.max_receive_size,
                r.max_fragmented_size
            ),
            (255, 1364, 8192, 1_048_576)
        );
        assert_eq!(
            i.negotiate_request(&mut req),
            Err(Error::State),
            "only once"
        );
    }

    #[test]
    fn negotiated_sizes_follow_3_1_5_7() {
        let mut i = Initiator::new(Config {
            max_send_size: 4096,
            max_read_write_size: 1 << 20,
            ..Config::default()
        });
        i.receive_posted();
        i.negotiate_request(&mut [0u8; 20]).unwrap();
        let Ok(Received::Negotiated(n)) = i.on_receive(&response(7, 100, 1364)) else {
            panic!("negotiated");
        };
        assert_eq!(n.max_receive_size, 128, "min(8192, 100) floored at 128");
        assert_eq!(n.max_send_size, 1364, "min(4096, peer 1364)");
        assert_eq!(n.max_read_write_size, 1 << 20, "min(ours, peer 8 MiB)");
        assert_eq!((n.send_credits, n.receive_credit_target), (7, 255));
        assert_eq!(i.send_credits(), 7);
        assert_eq!(i.receive_size(), 128);
        assert_eq!(i.max_fragment_data(), Some(1364 - 24));
    }

    #[test]
    fn bad_response_fails_the_connection() {
        let mut i = Initiator::new(Config::default());
        i.receive_posted();
        i.negotiate_request(&mut [0u8; 20]).unwrap();
        assert_eq!(
            i.on_receive(&response(0, 1364, 1364)),
            Err(Error::NoCreditsGranted)
        );
        assert_eq!(i.negotiated(), None);
        i.receive_posted();
        assert_eq!(i.on_receive(&response(5, 1364, 1364)), Err(Error::State));
    }

    #[test]
    fn credits_are_spent_and_granted() {
        let mut i = connected(2);
        let mut out = [0u8; 2048];
        // No receive posted: the last credit cannot be spent, the first can.
        assert_eq!(i.grantable(), 0);
        let n = i.send(&mut out, b"one", 0, 0).unwrap();
        assert_eq!(n, 27);
        assert_eq!(i.send_credits(), 1);
        assert_eq!(i.send(&mut out, b"two", 0, 0), Err(Error::NoReceiveCredits));
        i.receive_posted();
        i.receive_posted();
        assert_eq!(i.grantable(), 2);
        let n = i.send(&mut out, b"two", 0, 0).unwrap();
        let (h, _) = check_data_transfer(&out[..n], 1 << 20).unwrap();
        assert_eq!((h.credits_requested, h.credits_granted), (255, 2));
        assert_eq!((i.send_credits(), i.receive_credits()), (0, 2));
        assert_eq!(i.send(&mut out, b"three", 0, 0), Err(Error::NoSendCredits));
        // The peer answers, granting 3: one receive and one credit consumed.
        let mut m = [0u8; 64];
        let len = DataTransferRepr::new(255, 3, 0, 0, 4)
            .emit(&mut m, b"resp")
            .unwrap();
        let Ok(Received::Data { data, last, .. }) = i.on_receive(&m[..len]) else {
            panic!("data");
        };
        assert_eq!((data, last), (&b"resp"[..], true));
        assert_eq!(
            (i.send_credits(), i.receive_credits(), i.posted_receives()),
            (3, 1, 1)
        );
    }

    #[test]
    fn peer_without_credit_is_refused() {
        let mut i = connected(1);
        i.receive_posted(); // posted, but never granted
        let mut m = [0u8; 64];
        let len = DataTransferRepr::new(1, 0, 0, 0, 0)
            .emit(&mut m, &[])
            .unwrap();
        assert_eq!(i.on_receive(&m[..len]), Err(Error::NoReceiveCredits));
    }

    #[test]
    fn fragments_must_continue() {
        let mut i = connected(5);
        for _ in 0..4 {
            i.receive_posted();
        }
        let mut out = [0u8; 64];
        i.send(&mut out, b"x", 0, 0).unwrap(); // grants 4
        let mut m = [0u8; 64];
        let len = DataTransferRepr::new(1, 0, 0, 6, 4)
            .emit(&mut m, b"abcd")
            .unwrap();
        assert!(matches!(
            i.on_receive(&m[..len]),
            Ok(Received::Data { last: false, .. })
        ));
        let len = DataTransferRepr::new(1, 0, 0, 0, 6)
            .emit(&mut m, b"efghij")
            .unwrap();
        assert!(matches!(
            i.on_receive(&m[..len]),
            Ok(Received::Data { last: true, .. })
        ));
        let len = DataTransferRepr::new(1, 0, 0, 6, 4)
            .emit(&mut m, b"abcd")
            .unwrap();
        i.on_receive(&m[..len]).unwrap();
        let len = DataTransferRepr::new(1, 0, 0, 0, 5)
            .emit(&mut m, b"efghi")
            .unwrap();
        assert_eq!(
            i.on_receive(&m[..len]),
            Err(Error::BadFragment),
            "one byte short"
        );
    }

    #[test]
    fn send_respects_sizes() {
        let mut i = connected(5);
        let mut out = vec![0u8; 4096];
        let max = i.max_fragment_data().unwrap();
        assert!(i.send(&mut out, &vec![0; max + 1], 0, 0).is_err());
        assert_eq!(i.send(&mut out, &vec![0; max], 0, 0), Ok(1364));
        assert!(matches!(
            i.send(&mut out, b"a", 1 << 20, 0),
            Err(Error::TooLong { .. })
        ));
    }
}
