//! SMB Direct over the provider, without the lab: two hosted adapters on one
//! SimNet connect through the NDK connector verbs to port 445; the client
//! runs `softroce::smbd::Probe` (the code `softroce smbd-probe` runs) and the
//! server a tiny SMBD responder written here from the same `softroce::smbd`
//! checks and reprs (§3.1.5.3/§3.1.5.6 answers, credits it may only spend
//! when the client granted them, SMB2 NEGOTIATE answered with the highest
//! offered dialect). Every byte moves through NdkReceive/NdkSend and the RC
//! data path. Variants force fragmentation both ways (128-byte receive
//! sizes) and show that the probe refuses a failure status and a malformed
//! Data Transfer message.

mod ndk_common;
mod ndk_conn_common;

use std::time::Duration;

use softroce::smbd::{
    check_data_transfer, check_request, smb2, Config, DataTransferRepr, Error,
    NegotiateResponseRepr, Probe, ProbeError, Smb2Negotiated, Step, DATA_OFFSET,
    STATUS_NOT_SUPPORTED,
};

use ndk_common::*;
use ndk_conn_common::*;

const TIMEWAIT: Duration = Duration::from_secs(5);
const RECEIVES: usize = 8;
const RECV: usize = 100;
const SEND: usize = 1;
const SLOTS: usize = 4;

/// Registered receive buffers (one slot per receive) and send slots.
struct Buffers {
    recv: Vec<u8>,
    send: Vec<u8>,
    size: usize,
    send_size: usize,
    next_send: usize,
    mrs: Vec<*mut NDK_MR>,
    /// Boxed: the provider holds their addresses.
    #[allow(clippy::vec_box)]
    _mdls: Vec<Box<MDL>>,
    rtok: u32,
    stok: u32,
}

impl Buffers {
    fn new(side: &Side, size: usize, send_size: usize) -> Buffers {
        let mut recv = vec![0u8; size * RECEIVES];
        let mut send = vec![0u8; send_size * SLOTS];
        let (rmr, rmdl) = registered_mr(side.pd, &mut recv, NDK_MR_FLAG_ALLOW_LOCAL_WRITE);
        let (smr, smdl) = registered_mr(side.pd, &mut send, NDK_MR_FLAG_ALLOW_LOCAL_WRITE);
        Buffers {
            rtok: mr_token(rmr, false),
            stok: mr_token(smr, false),
            recv,
            send,
            size,
            send_size,
            next_send: 0,
            mrs: vec![rmr, smr],
            _mdls: vec![rmdl, smdl],
        }
    }

    fn post_recv(&self, qp: *mut NDK_QP, i: usize) {
        let a = self.recv.as_ptr() as u64 + (i * self.size) as u64;
        assert_eq!(
            receive(qp, RECV + i, &[sge(a, self.size as u32, self.rtok)]),
            STATUS_SUCCESS
        );
    }

    fn received(&self, i: usize, len: u32) -> &[u8] {
        &self.recv[i * self.size..i * self.size + len as usize]
    }

    /// Copies `msg` into the next send slot and sends it.
    fn send(&mut self, qp: *mut NDK_QP, msg: &[u8]) {
        let slot = self.next_send % SLOTS;
        self.next_send += 1;
        let at = slot * self.send_size;
        self.send[at..at + msg.len()].copy_from_slice(msg);
        let a = self.send.as_ptr() as u64 + at as u64;
        assert_eq!(
            post_send(qp, SEND, &[sge(a, msg.len() as u32, self.stok)]),
            STATUS_SUCCESS
        );
    }

    fn close(self) {
        for mr in self.mrs {
            assert_eq!(close_obj(mr, None), STATUS_SUCCESS);
        }
    }
}

/// How the responder misbehaves (or not).
#[derive(Clone, Copy, PartialEq)]
enum Fault {
    None,
    /// A Negotiate Response failure with STATUS_NOT_SUPPORTED.
    FailStatus,
    /// The SMB2 response at a DataOffset that is not 8-byte aligned.
    BadOffset,
}

/// The tiny SMB Direct responder (listener side).
struct Responder {
    max_receive: u32,
    preferred_send: u32,
    fault: Fault,
    /// Send credits the client granted (the Negotiate Request grants none).
    send_credits: u32,
    negotiated_send: usize,
    reassembly: Vec<u8>,
    /// Dialects the client offered, as the responder parsed them.
    offered: Vec<u16>,
    /// Data Transfer messages received and sent.
    received: usize,
    sent: usize,
}

impl Responder {
    /// Handles one received message; sends answers through `bufs`.
    fn on_receive(&mut self, msg: &[u8], bufs: &mut Buffers, qp: *mut NDK_QP) {
        if self.negotiated_send == 0 {
            let req = check_request(msg).expect("a valid Negotiate Request");
            let resp = if self.fault == Fault::FailStatus {
                NegotiateResponseRepr::failure(STATUS_NOT_SUPPORTED)
            } else {
                NegotiateResponseRepr {
                    min_version: 0x0100,
                    max_version: 0x0100,
                    negotiated_version: 0x0100,
                    credits_requested: 255,
                    credits_granted: RECEIVES as u16,
                    status: 0,
                    max_read_write_size: 1 << 20,
                    preferred_send_size: self.preferred_send.min(req.max_receive_size),
                    max_receive_size: self.max_receive,
                    max_fragmented_size: 1 << 20,
                }
            };
            self.negotiated_send = resp.preferred_send_size as usize;
            let mut out = [0u8; 32];
            resp.emit(&mut out).unwrap();
            bufs.send(qp, &out);
            return;
        }
        let (h, data) = check_data_transfer(msg, 1 << 20).expect("a valid Data Transfer");
        assert!(
            msg.len() <= self.max_receive as usize,
            "client kept to our MaxReceiveSize"
        );
        self.received += 1;
        self.send_credits += u32::from(h.credits_granted);
        self.reassembly.extend_from_slice(data);
        if h.remaining_data_length != 0 {
            return;
        }
        let (hdr, dialects) =
            smb2::NegotiateRequest::parse(&self.reassembly).expect("SMB2 NEGOTIATE");
        self.offered = dialects.clone();
        let best = dialects
            .iter()
            .copied()
            .filter(|d| *d <= 0x0302)
            .max()
            .unwrap();
        let mut reply = Vec::new();
        smb2::NegotiateResponse {
            header: smb2::Header {
                credit_charge: 0,
                status: 0,
                command: smb2::NEGOTIATE,
                credits: 1,
                flags: smb2::FLAGS_SERVER_TO_REDIR,
                message_id: hdr.message_id,
            },
            security_mode: smb2::SIGNING_ENABLED,
            dialect: best,
            server_guid: [0x5A; 16],
            capabilities: 0x0000_0044,
            max_transact_size: 8 << 20,
            max_read_size: 8 << 20,
            max_write_size: 8 << 20,
            system_time: 0,
            security_buffer: &[0x60; 74],
            negotiate_contexts: 0,
        }
        .emit(&mut reply);
        // Fragment at the negotiated send size, one send credit each.
        let per = self.negotiated_send - DATA_OFFSET;
        let mut rest = &reply[..];
        while !rest.is_empty() {
            assert!(
                self.send_credits > 0,
                "the client granted credits before we send"
            );
            self.send_credits -= 1;
            let (chunk, tail) = rest.split_at(rest.len().min(per));
            let mut out = vec![0u8; self.negotiated_send];
            let h = DataTransferRepr::new(255, 0, 0, tail.len() as u32, chunk.len() as u32);
            let n = h.emit(&mut out, chunk).unwrap();
            if self.fault == Fault::BadOffset {
                out[12] = 20; // DataOffset 20: not 8-byte aligned
            }
            bufs.send(qp, &out[..n]);
            self.sent += 1;
            rest = tail;
        }
    }
}

/// Runs the probe against the responder; returns the probe's outcome,
/// the responder, and the probe.
fn run(
    cfg: Config,
    dialects: &[u16],
    max_receive: u32,
    preferred_send: u32,
    fault: Fault,
) -> (Result<Smb2Negotiated, ProbeError>, Responder, Probe) {
    let mut net = Net::new(445);
    let a = net.adapter("192.0.2.1");
    let b = net.adapter("192.0.2.2");
    let (l, bound) = b.listen(1, 445);
    let mut cb = Buffers::new(
        &a,
        cfg.max_receive_size as usize,
        cfg.max_send_size as usize,
    );
    let mut sb = Buffers::new(&b, max_receive as usize, preferred_send as usize);
    let mut probe = Probe::new(cfg, dialects, [1; 16], [2; 32]);
    let mut resp = Responder {
        max_receive,
        preferred_send,
        fault,
        send_credits: 0,
        negotiated_send: 0,
        reassembly: Vec::new(),
        offered: Vec::new(),
        received: 0,
        sent: 0,
    };
    // Both sides post their receives before connecting / accepting.
    for i in 0..RECEIVES {
        cb.post_recv(a.qp, i);
        probe.receive_posted();
        sb.post_recv(b.qp, i);
    }
    let c = a.connector();
    assert_eq!(a.connect(c, bound, b"", 10), STATUS_PENDING);
    net.run();
    let p = b.delivered(1)[0];
    assert_eq!(b.accept_on(p, b.qp, 8, 8, b"", 20), STATUS_PENDING);
    net.run();
    assert_eq!(a.completions(10), vec![STATUS_SUCCESS]);
    assert_eq!(a.complete(c, 30), STATUS_SUCCESS);
    net.run();
    assert_eq!(b.completions(20), vec![STATUS_SUCCESS]);

    let mut tmp = vec![0u8; cfg.max_send_size as usize];
    let n = probe.start(&mut tmp).unwrap();
    cb.send(a.qp, &tmp[..n]);
    let mut outcome = None;
    for _ in 0..50 {
        net.run();
        for r in results_ex(b.cq, 16) {
            assert_eq!(r.Status, STATUS_SUCCESS, "server completion");
            if r.RequestContext as usize >= RECV {
                let i = r.RequestContext as usize - RECV;
                let msg = sb.received(i, r.BytesTransferred).to_vec();
                sb.post_recv(b.qp, i);
                resp.on_receive(&msg, &mut sb, b.qp);
            }
        }
        net.run();
        for r in results_ex(a.cq, 16) {
            assert_eq!(r.Status, STATUS_SUCCESS, "client completion");
            if (r.RequestContext as usize) < RECV {
                continue;
            }
            let i = r.RequestContext as usize - RECV;
            let step = probe.on_receive(cb.received(i, r.BytesTransferred));
            cb.post_recv(a.qp, i);
            probe.receive_posted();
            match step {
                Err(e) => outcome = Some(Err(e)),
                Ok(Step::Done(d)) => outcome = Some(Ok(d)),
                Ok(_) => {}
            }
            if outcome.is_some() {
                break;
            }
            while let Some(n) = probe.next_send(&mut tmp).unwrap() {
                cb.send(a.qp, &tmp[..n]);
            }
        }
        if outcome.is_some() {
            break;
        }
    }
    let outcome = outcome.expect("the probe finished");
    assert_eq!(a.disconnect(c, 40), STATUS_PENDING);
    net.run();
    assert_eq!(a.completions(40), vec![STATUS_SUCCESS]);
    for conn in [c, p] {
        assert_eq!(close_obj(conn, None), STATUS_SUCCESS);
    }
    cb.close();
    sb.close();
    assert_eq!(close_obj(l, None), STATUS_SUCCESS);
    net.advance(TIMEWAIT);
    for s in [&a, &b] {
        s.close_objects();
    }
    net.finish();
    (outcome, resp, probe)
}

const DIALECTS: [u16; 4] = [0x0202, 0x0210, 0x0300, 0x0302];

#[test]
fn probe_negotiates_smbd_and_smb2_over_a_cm_connection() {
    let (r, resp, probe) = run(Config::default(), &DIALECTS, 1364, 1364, Fault::None);
    let r = r.expect("the probe succeeded");
    assert_eq!(r.dialect, 0x0302, "the highest dialect offered");
    assert_eq!(
        (r.capabilities, r.max_read_size, r.security_buffer_len),
        (0x44, 8 << 20, 74)
    );
    assert_eq!(
        resp.offered, DIALECTS,
        "the responder parsed what the probe offered"
    );
    assert_eq!(
        (resp.received, resp.sent),
        (1, 1),
        "one message each way, no fragments"
    );
    let n = probe.smbd().negotiated().unwrap();
    assert_eq!(
        (n.max_send_size, n.max_receive_size, n.send_credits),
        (1364, 1364, 8)
    );
    // The request spent one credit; the responder's reply granted none.
    assert_eq!(probe.smbd().send_credits(), 7);
    // The probe granted a credit for every receive it had posted.
    assert_eq!(resp.send_credits, RECEIVES as u32 - 1);
}

#[test]
fn probe_fragments_and_reassembles_at_128_byte_receive_sizes() {
    let (r, resp, probe) = run(Config::default(), &DIALECTS, 128, 128, Fault::None);
    let r = r.expect("the probe succeeded");
    assert_eq!((r.dialect, r.security_buffer_len), (0x0302, 74));
    // 108-byte request and 208-byte reply, 104 data bytes per message.
    assert_eq!((resp.received, resp.sent), (2, 2));
    let n = probe.smbd().negotiated().unwrap();
    assert_eq!((n.max_send_size, n.max_receive_size), (128, 128));
}

#[test]
fn probe_offers_smb311_with_its_preauth_context() {
    let d = [0x0202, 0x0210, 0x0300, 0x0302, 0x0311];
    let (r, resp, probe) = run(Config::default(), &d, 1364, 1364, Fault::None);
    assert_eq!(r.expect("the probe succeeded").dialect, 0x0302);
    assert_eq!(resp.offered, d);
    let req = probe.smb2_request();
    // The context list follows the dialects, 8-byte aligned: 64+36+10 -> 112.
    assert_eq!(&req[112..116], &[1, 0, 38, 0]);
}

#[test]
fn probe_refuses_a_failure_status() {
    let (r, resp, _) = run(Config::default(), &DIALECTS, 1364, 1364, Fault::FailStatus);
    assert_eq!(r, Err(ProbeError::Smbd(Error::Status(0xC000_00BB))));
    assert_eq!(resp.received, 0, "nothing sent after the refusal");
}

#[test]
fn probe_refuses_a_misaligned_data_offset() {
    let (r, _, _) = run(Config::default(), &DIALECTS, 1364, 1364, Fault::BadOffset);
    assert_eq!(r, Err(ProbeError::Smbd(Error::BadDataOffset(20))));
}
