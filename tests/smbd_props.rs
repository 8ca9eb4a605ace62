//! Property tests of `softroce::smbd`: no parser or check panics on any bytes,
//! whatever parses re-emits to the same bytes (Reserved and padding aside),
//! emit-then-check is the identity for valid messages, and an initiator fed
//! arbitrary messages in any state only ever returns errors.

use proptest::prelude::*;
use softroce::smbd::{
    check_data_transfer, check_request, check_response, smb2, Config, DataTransferPacket,
    DataTransferRepr, Initiator, NegotiateRequestPacket, NegotiateRequestRepr,
    NegotiateResponsePacket, NegotiateResponseRepr, Probe, DATA_OFFSET,
};

proptest! {
    #![proptest_config(ProptestConfig::with_cases(1024))]

    #[test]
    fn nothing_panics_on_arbitrary_bytes(b in proptest::collection::vec(any::<u8>(), 0..300), max in any::<u32>()) {
        let _ = check_request(&b);
        let _ = check_response(&b, max);
        let _ = check_data_transfer(&b, max);
        let _ = smb2::Header::parse(&b);
        let _ = smb2::NegotiateRequest::parse(&b);
        let _ = smb2::NegotiateResponse::parse(&b);
        let d = DataTransferPacket::new_unchecked(&b[..]);
        let _ = (d.data(), d.data_offset(), d.credits_requested());
        let _ = NegotiateResponsePacket::new_unchecked(&b[..]).max_fragmented_size();
    }

    #[test]
    fn parsed_negotiate_messages_reemit(b in proptest::collection::vec(any::<u8>(), 20..40)) {
        if let Ok(p) = NegotiateRequestPacket::new_checked(&b[..]) {
            let r = NegotiateRequestRepr::parse(&p).unwrap();
            let mut out = [0u8; 20];
            r.emit(&mut out).unwrap();
            prop_assert_eq!(&out[..4], &b[..4]);
            prop_assert_eq!(&out[6..], &b[6..20]);
        }
        if let Ok(p) = NegotiateResponsePacket::new_checked(&b[..]) {
            let r = NegotiateResponseRepr::parse(&p).unwrap();
            let mut out = [0u8; 32];
            r.emit(&mut out).unwrap();
            prop_assert_eq!(&out[..6], &b[..6]);
            prop_assert_eq!(&out[8..], &b[8..32]);
        }
    }

    #[test]
    fn data_transfer_round_trips(
        req in 1u16.., granted: u16, flags: u16, remaining in 0u32..65536,
        data in proptest::collection::vec(any::<u8>(), 0..200),
    ) {
        let h = DataTransferRepr::new(req, granted, flags, remaining, data.len() as u32);
        let mut out = vec![0xA5u8; 256];
        let n = h.emit(&mut out, &data).unwrap();
        prop_assert_eq!(n, if data.is_empty() { 20 } else { DATA_OFFSET + data.len() });
        let (back, d) = check_data_transfer(&out[..n], 1 << 20).unwrap();
        prop_assert_eq!(back, h);
        prop_assert_eq!(d, &data[..]);
        if !data.is_empty() {
            prop_assert!(check_data_transfer(&out[..n - 1], 1 << 20).is_err(), "one byte short");
        }
    }

    #[test]
    fn initiator_never_panics(msgs in proptest::collection::vec(proptest::collection::vec(any::<u8>(), 0..80), 1..8), posts in 0usize..4) {
        let mut i = Initiator::new(Config::default());
        for _ in 0..posts { i.receive_posted(); }
        let _ = i.negotiate_request(&mut [0u8; 20]);
        let mut out = [0u8; 2048];
        for m in &msgs {
            let _ = i.on_receive(m);
            i.receive_posted();
            let _ = i.send(&mut out, &m[..m.len().min(16)], 0, 0);
        }
        let mut p = Probe::new(Config::default(), &[0x0302], [0; 16], [0; 32]);
        p.receive_posted();
        let _ = p.start(&mut out);
        for m in &msgs {
            let _ = p.on_receive(m);
            p.receive_posted();
            let _ = p.next_send(&mut out);
        }
    }
}
