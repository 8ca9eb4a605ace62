//! Hostile input never panics the CM engine nor grows it: every length of
//! random bytes, every truncation of real MADs, and many random mutations of
//! real MADs (including ones that still parse) are fed to engines with
//! listeners and connections in every state; the engines stay bounded and
//! still work afterwards.

mod cm_link;

use std::net::{IpAddr, Ipv4Addr, SocketAddr};

use cm_link::*;
use softroce::cm::CmEvent;
use softroce::wire::mad::MAD_LEN;

/// xorshift64*: deterministic test randomness.
struct Rng(u64);
impl Rng {
    fn next(&mut self) -> u64 {
        self.0 ^= self.0 >> 12;
        self.0 ^= self.0 << 25;
        self.0 ^= self.0 >> 27;
        self.0.wrapping_mul(0x2545_f491_4f6c_dd1d)
    }
    fn below(&mut self, n: usize) -> usize {
        (self.next() % n as u64) as usize
    }
}

/// A link with connections in several states, and samples of every message
/// kind the engines sent (REQ, MRA, REP, RTU, REJ, DREQ, DREP).
fn busy_link() -> (Link, Vec<[u8; MAD_LEN]>) {
    let mut l = Link::new();
    l.b.listen(B4, PORT, 64).unwrap();
    l.b.listen(B6, PORT, 64).unwrap();
    let mut samples = Vec::new();
    let now = l.now;
    // Record every MAD by draining manually once, then pumping the rest.
    let remote = SocketAddr::new(B4, PORT);
    let mut conns = Vec::new();
    for _ in 0..6 {
        conns.push(
            l.a.connect(now, &params(SocketAddr::new(A4, 0), remote, b"fuzz"))
                .unwrap(),
        );
    }
    let (_, req) = l.a.poll_transmit().unwrap();
    samples.push(req);
    l.b.handle_mad(now, A4, &req);
    l.b.handle_mad(now, A4, &req); // MRA
    l.pump();
    // B: accept some, reject one, leave one pending.
    let reqs: Vec<_> = l
        .events_b
        .drain(..)
        .filter_map(|e| match e {
            CmEvent::ConnectRequest(r) => Some(r),
            _ => None,
        })
        .collect();
    assert_eq!(reqs.len(), 6);
    for r in &reqs[..4] {
        l.b.accept(now, r.conn, &accept_params(b"ok")).unwrap();
    }
    l.b.reject(reqs[4].conn, b"no").unwrap();
    while let Some((_, m)) = l.b.poll_transmit() {
        samples.push(m);
        l.a.handle_mad(now, B4, &m);
    }
    l.pump();
    // A: complete three, then disconnect one of them.
    let replies: Vec<_> = l
        .events_a
        .drain(..)
        .filter_map(|e| match e {
            CmEvent::ConnectReply(r) => Some(r.conn),
            _ => None,
        })
        .collect();
    for c in &replies[..3] {
        l.a.complete_connect(*c).unwrap();
    }
    l.a.disconnect(now, replies[0]).unwrap();
    while let Some((_, m)) = l.a.poll_transmit() {
        samples.push(m);
        l.b.handle_mad(now, A4, &m);
    }
    while let Some((_, m)) = l.b.poll_transmit() {
        samples.push(m);
        l.a.handle_mad(now, B4, &m);
    }
    l.pump();
    l.events_a.clear();
    l.events_b.clear();
    (l, samples)
}

fn feed_both(l: &mut Link, from4: bool, bytes: &[u8]) {
    let (src_a, src_b) = if from4 { (B4, A4) } else { (B6, A6) };
    l.a.handle_mad(l.now, src_a, bytes);
    l.b.handle_mad(l.now, src_b, bytes);
}

/// Drops the collected events, keeping B's new connectors to close later.
fn collect(l: &mut Link, requests: &mut Vec<softroce::cm::ConnId>) {
    l.events_a.clear();
    for e in l.events_b.drain(..) {
        if let CmEvent::ConnectRequest(r) = e {
            requests.push(r.conn);
        }
    }
}

fn assert_bounded(l: &Link) {
    for e in [&l.a, &l.b] {
        let s = e.stats();
        assert!(s.connections <= 64, "{s:?}");
        assert!(s.queued_mads <= 64 * 2 + 64, "{s:?}");
        assert!(s.queued_events <= 64 * 4 + 32, "{s:?}");
    }
}

#[test]
fn random_bytes_of_every_length() {
    let (mut l, _) = busy_link();
    let mut rng = Rng(0x1234_5678);
    let before = l.a.stats().dropped_malformed;
    for len in 0..=300usize {
        let bytes: Vec<u8> = (0..len).map(|_| rng.next() as u8).collect();
        l.a.handle_mad(l.now, B4, &bytes);
    }
    // None of them is a CM MAD (class 7, version 2 would need luck at bytes 1-2).
    assert!(l.a.stats().dropped_malformed >= before + 256);
    assert_eq!(l.a.poll_transmit(), None);
    assert_eq!(l.a.poll_event(), None);
}

#[test]
fn every_truncation_of_real_mads() {
    let (mut l, samples) = busy_link();
    let before = l.a.stats().dropped_malformed + l.b.stats().dropped_malformed;
    let mut short = 0u64;
    for s in &samples {
        for len in 0..MAD_LEN {
            feed_both(&mut l, true, &s[..len]);
            short += 2;
        }
    }
    let after = l.a.stats().dropped_malformed + l.b.stats().dropped_malformed;
    assert_eq!(
        after - before,
        short,
        "every truncated MAD is dropped as malformed"
    );
    assert_eq!((l.a.poll_transmit(), l.b.poll_transmit()), (None, None));
}

#[test]
fn mutated_real_mads_never_panic_and_engines_recover() {
    let (mut l, samples) = busy_link();
    assert!(samples.len() >= 7, "{}", samples.len());
    let mut rng = Rng(0xdead_beef_cafe_f00d);
    let mut requests = Vec::new();
    for i in 0..30_000usize {
        let mut m = samples[rng.below(samples.len())];
        let flips = 1 + rng.below(8);
        for _ in 0..flips {
            // Bias towards the header and the first data bytes, where the
            // attribute, comm IDs and state-changing fields live.
            let at = if rng.below(2) == 0 {
                rng.below(64)
            } else {
                rng.below(MAD_LEN)
            };
            m[at] = rng.next() as u8;
        }
        let extra = rng.below(3);
        let mut v = m.to_vec();
        v.extend((0..extra).map(|_| 0xAA));
        feed_both(&mut l, i % 3 != 0, &v);
        if i % 97 == 0 {
            l.pump();
            collect(&mut l, &mut requests);
        }
        if i % 1000 == 0 {
            l.run_for(std::time::Duration::from_secs(5));
            collect(&mut l, &mut requests);
        }
        assert_bounded(&l);
    }
    l.pump();
    collect(&mut l, &mut requests);
    assert!(!requests.is_empty(), "some mutated REQs got through");
    // The consumer closes every connector the flood produced (as the NDK
    // layer does when its consumer closes them); after timewait the engines
    // are back to what they held before, and still do their job.
    for c in requests {
        let _ = l.b.close_conn(l.now, c);
    }
    l.pump();
    l.run_for(l.b.config().timewait + std::time::Duration::from_secs(1));
    let a =
        l.a.connect(
            l.now,
            &params(SocketAddr::new(A4, 0), SocketAddr::new(B4, PORT), b"after"),
        )
        .unwrap();
    l.pump();
    let req = l
        .events_b
        .iter()
        .find_map(|e| match e {
            CmEvent::ConnectRequest(r) if r.private_data.as_slice().starts_with(b"after") => {
                Some(*r)
            }
            _ => None,
        })
        .expect("a fresh connect still arrives");
    l.b.accept(l.now, req.conn, &accept_params(b"")).unwrap();
    l.pump();
    assert!(l
        .events_a
        .iter()
        .any(|e| matches!(e, CmEvent::ConnectReply(r) if r.conn == a)));
}

#[test]
fn random_bodies_under_valid_cm_headers() {
    let (mut l, samples) = busy_link();
    let mut rng = Rng(42);
    let foreign = IpAddr::V4(Ipv4Addr::new(10, 99, 0, 200));
    for i in 0..20_000usize {
        let mut m = samples[rng.below(samples.len())];
        // Keep the 24-byte header (a valid CM Send), randomize the body.
        for b in m[24..].iter_mut() {
            *b = rng.next() as u8;
        }
        // Attribute: the seven CM messages, SIDR, LAP/APR and unknowns.
        m[16] = 0;
        m[17] = 0x10 + rng.below(12) as u8;
        let src = if i % 5 == 0 { foreign } else { B4 };
        l.a.handle_mad(l.now, src, &m);
        l.b.handle_mad(l.now, A4, &m);
        if i % 50 == 0 {
            l.pump();
            l.events_a.clear();
            l.events_b.clear();
        }
        assert_bounded(&l);
    }
}
