//! Golden interop: the engine replays one side of a real Linux rxe capture
//! (`tests/data/rxe-rping.pcap`, rping over RDMA-CM, path MTU 1024). Our QP
//! takes that side's QPN and PSNs; every packet the *peer* sent is fed to it,
//! every request the side posted is posted to it, and every packet it must
//! send is compared **byte for byte** (ICRC aside) with what rxe sent:
//! requests (segmentation, PSNs, AckReq, RETH) and responses (ACK PSNs,
//! syndromes, MSNs, READ responses with their data). Run for both sides of
//! rping, ibv_rc_pingpong (multi-packet SENDs) and ucmatose.

mod wire_support;

use std::collections::BTreeMap;

use softroce::transport::*;
use softroce::wire::frame;
use softroce::wire::ip::RoceDatagram;
use softroce::wire::{Opcode, PacketRepr, Service, ICRC_LEN};
use wire_support::read_capture;

/// Memory that accepts every key and right: a sparse byte store by address.
#[derive(Default)]
struct AnyMemory {
    bytes: BTreeMap<u64, u8>,
}

impl AnyMemory {
    fn put(&mut self, va: u64, data: &[u8]) {
        for (i, &b) in data.iter().enumerate() {
            self.bytes.insert(va + i as u64, b);
        }
    }
    fn get(&self, va: u64, out: &mut [u8]) {
        for (i, b) in out.iter_mut().enumerate() {
            *b = self.bytes.get(&(va + i as u64)).copied().unwrap_or(0);
        }
    }
}

impl MemoryAccess for AnyMemory {
    fn check_remote(&self, _: u32, _: u64, _: u32, _: Access) -> Result<(), AccessError> {
        Ok(())
    }
    fn read(&self, _: Key, addr: u64, out: &mut [u8]) -> Result<(), AccessError> {
        self.get(addr, out);
        Ok(())
    }
    fn write(&mut self, _: Key, addr: u64, data: &[u8]) -> Result<(), AccessError> {
        self.put(addr, data);
        Ok(())
    }
    fn atomic(&mut self, _: u32, _: u64, _: AtomicOp) -> Result<u64, AccessError> {
        Err(AccessError::NoRight)
    }
    fn invalidate_remote(&mut self, _: u32) -> Result<(), AccessError> {
        Ok(())
    }
}

/// One RC packet of the capture: who sent it and its UDP payload.
struct Captured {
    from: [u8; 4],
    roce: Vec<u8>,
}

/// The RC packets of one connection: `me` (IPv4) with QPN `my_qpn`, the
/// other host with `peer_qpn`.
fn rc_packets(file: &str, c: &Conn) -> Vec<Captured> {
    let (me, my_qpn, peer_qpn) = (c.me, c.my_qpn, c.peer_qpn);
    let mut out = Vec::new();
    for f in read_capture(file).into_iter().skip(c.first_frame - 1) {
        let ip = frame::ip_packet(f.link, &f.data).unwrap();
        let d = RoceDatagram::parse(ip).unwrap();
        let p = PacketRepr::parse(d.roce).unwrap();
        let from: [u8; 4] = ip[12..16].try_into().unwrap();
        let dest = if from == me { peer_qpn } else { my_qpn };
        if p.bth.opcode.service() != Service::Rc || p.bth.dest_qp != dest {
            continue;
        }
        out.push(Captured {
            from,
            roce: d.roce.to_vec(),
        });
    }
    out
}

fn parse(c: &Captured) -> PacketRepr<'_> {
    PacketRepr::parse(&c.roce).unwrap()
}

fn is_response(op: Opcode) -> bool {
    op == Opcode::RC_ACKNOWLEDGE || op == Opcode::RC_ATOMIC_ACKNOWLEDGE || op.is_read_response()
}

/// One side of a captured connection.
struct Conn {
    /// Our IPv4 address and QPN, and the peer's QPN.
    me: [u8; 4],
    my_qpn: u32,
    peer_qpn: u32,
    /// The connection's first frame (QPNs are reused by later connections).
    first_frame: usize,
    /// The capture ends mid-connection: what we would send after it is not compared.
    truncated: bool,
}

fn conn(me: [u8; 4], my_qpn: u32, peer_qpn: u32) -> Conn {
    Conn {
        me,
        my_qpn,
        peer_qpn,
        first_frame: 1,
        truncated: false,
    }
}

/// Replays one side of a captured connection; returns (packets compared, completions).
fn replay(file: &str, conn: Conn) -> (usize, Vec<Completion>) {
    let pkts = rc_packets(file, &conn);
    let (me, my_qpn, peer_qpn) = (conn.me, conn.my_qpn, conn.peer_qpn);
    let mine = |c: &&Captured| c.from == me;
    let theirs = |c: &&Captured| c.from != me;
    let first_req = |side: &dyn Fn(&&Captured) -> bool| {
        pkts.iter()
            .filter(side)
            .map(parse)
            .find(|p| !is_response(p.bth.opcode))
            .map(|p| p.bth.psn)
    };
    let mut cfg = QpConfig::new(
        my_qpn,
        peer_qpn,
        first_req(&mine).unwrap_or(0),
        first_req(&theirs).unwrap_or(0),
    );
    cfg.path_mtu = Mtu::Mtu1024;
    let mut qp = RcQp::new(cfg).unwrap();
    let mut mem = AnyMemory::default();
    let mtu = 1024u64;

    // Receives for the peer's SENDs (rping posts them; sizes are generous).
    for i in 0..16u64 {
        qp.post_recv(&RecvRequest {
            wr_id: 1000 + i,
            sges: &[Sge {
                lkey: 1,
                addr: 0x7000_0000 + i * 65536,
                len: 65536,
            }],
        })
        .unwrap();
    }
    let mut local = 0x1000_0000u64; // where our own request data and READ sinks live
    let mut buf = vec![0u8; qp.max_packet_len()];
    let now = Instant(0);
    let mut compared = 0;
    // What we sent, per stream (requests; responses), in order: rxe answers each
    // packet as it arrives, so we transmit right after each input too. The
    // relative order of the two streams is not meaningful.
    let mut sent: [std::collections::VecDeque<Vec<u8>>; 2] = Default::default();
    let mut drain = |qp: &mut RcQp,
                     mem: &mut AnyMemory,
                     sent: &mut [std::collections::VecDeque<Vec<u8>>; 2]| {
        while let Some(n) = qp.poll_transmit(now, mem, &mut buf) {
            let op = PacketRepr::parse(&buf[..n]).unwrap().bth.opcode;
            sent[usize::from(is_response(op))].push_back(buf[..n - ICRC_LEN].to_vec());
        }
    };
    let mut wr_id = 0;
    for (i, c) in pkts.iter().enumerate() {
        let p = parse(c);
        if c.from != me {
            if let (Opcode::RC_RDMA_READ_REQUEST, Some(r)) = (p.bth.opcode, p.reth) {
                // rping rewrites that buffer between iterations: put what it held
                // when rxe answered this READ (rxe's responses that follow).
                let n = r.dma_len.div_ceil(1024).max(1);
                for q in pkts[i..]
                    .iter()
                    .filter(mine)
                    .map(parse)
                    .filter(|q| q.bth.opcode.is_read_response())
                {
                    let k = q.bth.psn.wrapping_sub(p.bth.psn) & 0xFF_FFFF;
                    if k >= n {
                        break;
                    }
                    mem.put(r.va + u64::from(k) * mtu, q.payload);
                }
            }
            qp.handle_packet(now, &p, &mut mem);
            drain(&mut qp, &mut mem, &mut sent);
            continue;
        }
        let op = p.bth.opcode;
        // A new request of ours: post the work request rxe's side had posted.
        let first_of_msg = !is_response(op)
            && matches!(
                op.position(),
                None | Some(softroce::wire::Position::First | softroce::wire::Position::Only)
            );
        if first_of_msg {
            let len = match (p.reth, op) {
                (Some(r), _) => r.dma_len,
                _ => {
                    // A SEND: its length is the sum of its packets' payloads.
                    let mut n = 0u32;
                    for q in pkts[i..].iter().filter(mine).map(parse) {
                        n += q.payload.len() as u32;
                        if matches!(
                            q.bth.opcode.position(),
                            Some(softroce::wire::Position::Last | softroce::wire::Position::Only)
                        ) {
                            break;
                        }
                    }
                    n
                }
            };
            if !op.is_read_response() && op != Opcode::RC_RDMA_READ_REQUEST {
                // Our source data is exactly what went on the wire.
                let mut at = local;
                for q in pkts[i..]
                    .iter()
                    .filter(mine)
                    .map(parse)
                    .filter(|q| !is_response(q.bth.opcode))
                {
                    mem.put(at, q.payload);
                    at += q.payload.len() as u64;
                    if at - local >= u64::from(len) {
                        break;
                    }
                }
            }
            let kind = if op == Opcode::RC_RDMA_READ_REQUEST {
                let r = p.reth.unwrap();
                WrKind::Read {
                    remote_va: r.va,
                    rkey: r.rkey,
                }
            } else if let Some(r) = p.reth {
                WrKind::Write {
                    remote_va: r.va,
                    rkey: r.rkey,
                    imm: None,
                }
            } else {
                WrKind::Send {
                    imm: None,
                    invalidate: None,
                }
            };
            let sge = [Sge {
                lkey: 1,
                addr: local,
                len,
            }];
            qp.post_send(&WorkRequest {
                wr_id,
                kind,
                sges: &sge,
                signaled: true,
                fence: false,
                solicited: p.bth.solicited,
            })
            .unwrap();
            wr_id += 1;
            local += u64::from(len).max(1) + 4096;
        }
        drain(&mut qp, &mut mem, &mut sent);
        let ours = sent[usize::from(is_response(op))]
            .pop_front()
            .unwrap_or_else(|| panic!("packet {i}: we had nothing to send, rxe sent {p}"));
        let want = &c.roce[..c.roce.len() - ICRC_LEN];
        assert_eq!(
            &ours[..],
            want,
            "packet {i}: ours {} vs rxe {p}",
            PacketRepr::parse(&[&ours[..], &[0u8; 4]].concat()).unwrap()
        );
        compared += 1;
    }
    assert!(
        conn.truncated || sent.iter().all(|q| q.is_empty()),
        "we sent more than rxe did"
    );
    eprintln!("{file} {me:?}: {compared} packets identical to rxe's");
    assert_eq!(qp.state(), QpState::Ready);
    (
        compared,
        std::iter::from_fn(|| qp.poll_completion()).collect(),
    )
}

const RPING: &str = "rxe-rping.pcap";
const VERBS: &str = "rxe-verbs.pcap";
const CLIENT: [u8; 4] = [10, 99, 0, 12];
const SERVER: [u8; 4] = [10, 99, 0, 11];

#[test]
fn rping_client_side_matches_rxe_byte_for_byte() {
    let (n, cs) = replay(RPING, conn(CLIENT, 0x11, 0x11));
    assert!(n >= 10, "compared {n}");
    assert!(cs.iter().all(|c| c.status == WcStatus::Success), "{cs:?}");
    assert!(
        cs.iter().any(|c| c.queue == WcQueue::Send) && cs.iter().any(|c| c.queue == WcQueue::Recv)
    );
}

#[test]
fn rping_server_side_matches_rxe_byte_for_byte() {
    let (n, cs) = replay(RPING, conn(SERVER, 0x11, 0x11));
    assert!(n >= 10, "compared {n}");
    assert!(cs.iter().all(|c| c.status == WcStatus::Success), "{cs:?}");
    assert!(
        cs.iter().any(|c| c.opcode == WcOpcode::RdmaRead)
            && cs.iter().any(|c| c.opcode == WcOpcode::RdmaWrite)
    );
}

#[test]
fn rc_pingpong_multi_packet_sends_match_rxe_both_sides() {
    // ibv_rc_pingpong: 4096-byte SENDs (FIRST/MIDDLE/LAST at MTU 1024), QPN 0x11 on both hosts.
    for me in [CLIENT, SERVER] {
        let (n, cs) = replay(VERBS, conn(me, 0x11, 0x11));
        assert!(n >= 40, "compared {n}");
        assert!(cs.iter().all(|c| c.status == WcStatus::Success), "{cs:?}");
        assert!(
            cs.iter()
                .any(|c| c.queue == WcQueue::Recv && c.byte_len == 4096),
            "{cs:?}"
        );
    }
}

#[test]
fn ucmatose_sends_match_rxe_both_sides() {
    for (me, mine, peer) in [(CLIENT, 0x14, 0x13), (SERVER, 0x13, 0x14)] {
        let (n, cs) = replay(VERBS, conn(me, mine, peer));
        assert!(n >= 10, "compared {n}");
        assert!(cs.iter().all(|c| c.status == WcStatus::Success), "{cs:?}");
    }
}

#[test]
fn perftest_read_bw_64k_reads_match_rxe_both_sides() {
    // ib_read_bw from frame 776: 64 KiB READs, 64 responses each (FIRST/MIDDLE/LAST);
    // the capture ends after the sixth request, before its responses.
    let read_bw = |me, my_qpn, peer_qpn| Conn {
        me,
        my_qpn,
        peer_qpn,
        first_frame: 776,
        truncated: true,
    };
    let (n, cs) = replay(VERBS, read_bw(SERVER, 0x17, 0x18));
    assert!(n >= 320, "responder compared {n}");
    assert!(cs.is_empty());
    let (n, cs) = replay(VERBS, read_bw(CLIENT, 0x18, 0x17));
    assert!(n >= 6, "requester compared {n}");
    assert_eq!(
        cs.iter()
            .filter(|c| c.opcode == WcOpcode::RdmaRead && c.byte_len == 65536)
            .count(),
        5
    );
}

#[test]
fn perftest_send_bw_64k_sends_are_acked_like_rxe() {
    // ib_send_bw from frame 175: 64 KiB SENDs (FIRST, 62 MIDDLE, LAST with AckReq);
    // our responder's ACKs (PSN, MSN 1..8) must be rxe's. The capture is cut mid-message.
    let c = Conn {
        me: SERVER,
        my_qpn: 0x15,
        peer_qpn: 0x16,
        first_frame: 175,
        truncated: true,
    };
    let (n, cs) = replay(VERBS, c);
    assert_eq!(n, 8, "eight ACKs compared");
    assert_eq!(cs.len(), 8);
    assert!(
        cs.iter()
            .all(|c| c.status == WcStatus::Success && c.byte_len == 65536),
        "{cs:?}"
    );
}

/// Replays one side's UD datagrams to `dest_qpn` (or from the peer to `qpn`):
/// ours must be byte-identical to rxe's; theirs must be received intact.
fn replay_ud(
    file: &str,
    me: [u8; 4],
    qpn: u32,
    dest_qpn: u32,
    qkey: u32,
    first: usize,
    last: usize,
) -> (usize, usize) {
    let mut frames = Vec::new();
    for f in read_capture(file)
        .into_iter()
        .skip(first - 1)
        .take(last + 1 - first)
    {
        let ip = frame::ip_packet(f.link, &f.data).unwrap();
        let d = RoceDatagram::parse(ip).unwrap();
        let from: [u8; 4] = ip[12..16].try_into().unwrap();
        frames.push((from, d.roce.to_vec()));
    }
    let mine: Vec<_> = frames
        .iter()
        .filter(|(from, r)| *from == me && PacketRepr::parse(r).unwrap().bth.dest_qp == dest_qpn)
        .collect();
    let Some(first_psn) = mine
        .first()
        .map(|(_, r)| PacketRepr::parse(r).unwrap().bth.psn)
    else {
        panic!("no datagram of ours");
    };
    let cfg = UdConfig {
        qpn,
        qkey,
        mtu: Mtu::Mtu4096,
        sq_depth: 4,
        rq_depth: 64,
        max_sge: 1,
        send_psn: first_psn,
    };
    let mut qp = UdQp::new(cfg).expect("UD QP");
    let mut mem = AnyMemory::default();
    for i in 0..64u64 {
        qp.post_recv(&RecvRequest {
            wr_id: i,
            sges: &[Sge {
                lkey: 1,
                addr: 0x5000_0000 + i * 8192,
                len: 8192,
            }],
        })
        .unwrap();
    }
    let mut buf = vec![0u8; qp.max_packet_len()];
    let (mut sent, mut received) = (0, 0);
    for (from, roce) in &frames {
        let p = PacketRepr::parse(roce).unwrap();
        if *from != me {
            if p.bth.dest_qp == qpn {
                qp.handle_packet(&p, 7, &mut mem);
                let c = qp.poll_completion().unwrap();
                assert_eq!(
                    (c.completion.status, c.completion.byte_len),
                    (WcStatus::Success, p.payload.len() as u32)
                );
                let mut got = vec![0u8; p.payload.len()];
                mem.get(0x5000_0000 + c.completion.wr_id * 8192, &mut got);
                assert_eq!(got, p.payload);
                received += 1;
            }
            continue;
        }
        if p.bth.dest_qp != dest_qpn {
            continue;
        }
        mem.put(0x6000_0000, p.payload);
        let sge = [Sge {
            lkey: 1,
            addr: 0x6000_0000,
            len: p.payload.len() as u32,
        }];
        let deth = p.deth.unwrap();
        qp.post_send(&UdSendRequest {
            wr_id: 0,
            ah: 9,
            dest_qpn,
            dest_qkey: deth.qkey,
            imm: p.imm,
            sges: &sge,
            signaled: false,
        })
        .unwrap();
        let tx = qp.poll_transmit(&mem, &mut buf).unwrap();
        assert_eq!(tx.ah, 9);
        assert_eq!(
            &buf[..tx.len - ICRC_LEN],
            &roce[..roce.len() - ICRC_LEN],
            "ours {} vs rxe {p}",
            PacketRepr::parse(&buf[..tx.len]).unwrap()
        );
        sent += 1;
    }
    (sent, received)
}

#[test]
fn qp1_mads_and_ud_pingpong_match_rxe() {
    // rping's CM exchange on QP1 (frames 1..65), both sides.
    for me in [CLIENT, SERVER] {
        let (sent, received) = replay_ud(RPING, me, 1, 1, softroce::wire::GSI_QKEY, 1, 65);
        assert!(sent >= 2 && received >= 2, "{sent} {received}");
    }
    // ucmatose/rdma_server CM on QP1 (frames 121..174), both sides.
    for me in [CLIENT, SERVER] {
        let (sent, received) = replay_ud(VERBS, me, 1, 1, softroce::wire::GSI_QKEY, 121, 174);
        assert!(sent >= 4 && received >= 4, "{sent} {received}");
    }
    // ibv_ud_pingpong (frames 101..120): QPN 0x13 on .12 and 0x12 on .11, Q_Key 0x11111111.
    let (sent, received) = replay_ud(VERBS, CLIENT, 0x13, 0x12, 0x1111_1111, 101, 120);
    assert_eq!((sent, received), (10, 10));
    let (sent, received) = replay_ud(VERBS, SERVER, 0x12, 0x13, 0x1111_1111, 101, 120);
    assert_eq!((sent, received), (10, 10));
}
