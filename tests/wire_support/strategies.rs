//! proptest strategies for the wire reprs, shared by the `wire_*` tests.

use proptest::prelude::*;
use softroce::wire::ip::IpRepr;
use softroce::wire::{
    AethRepr, AtomicAckEthRepr, AtomicEthRepr, BthRepr, DethRepr, Headers, Ipv4Repr, Ipv6Repr,
    Opcode, PacketRepr, RethRepr, Syndrome,
};

/// Every opcode softroce knows.
pub fn known_opcodes() -> Vec<Opcode> {
    (0..=255u8).map(Opcode).filter(|o| o.is_known()).collect()
}

prop_compose! {
    /// A BTH whose fields all fit (TVer 0; pad_count to be fixed by the caller).
    pub fn bth(opcode: Opcode)(
        solicited: bool, mig_req: bool, pkey: u16, fecn: bool, becn: bool,
        resv6 in 0u8..0x40, dest_qp in 0u32..0x100_0000, ack_req: bool,
        resv7 in 0u8..0x80, psn in 0u32..0x100_0000,
    ) -> BthRepr {
        BthRepr {
            opcode, solicited, mig_req, pad_count: 0, tver: 0, pkey, fecn, becn,
            resv6, dest_qp, ack_req, resv7, psn,
        }
    }
}

prop_compose! {
    pub fn deth()(qkey: u32, src_qp in 0u32..0x100_0000, resv8: u8) -> DethRepr {
        DethRepr { qkey, src_qp, resv8 }
    }
}

prop_compose! {
    pub fn reth()(va: u64, rkey: u32, dma_len: u32) -> RethRepr {
        RethRepr { va, rkey, dma_len }
    }
}

prop_compose! {
    pub fn aeth()(syndrome: u8, msn in 0u32..0x100_0000) -> AethRepr {
        AethRepr { syndrome: Syndrome::from_byte(syndrome), msn }
    }
}

prop_compose! {
    pub fn atomic_eth()(va: u64, rkey: u32, swap_add: u64, compare: u64) -> AtomicEthRepr {
        AtomicEthRepr { va, rkey, swap_add, compare }
    }
}

prop_compose! {
    pub fn atomic_ack_eth()(orig_data: u64) -> AtomicAckEthRepr {
        AtomicAckEthRepr { orig_data }
    }
}

/// An owned packet description (a `PacketRepr` borrows its payload).
#[derive(Debug, Clone)]
pub struct GenPacket {
    pub repr: PacketRepr<'static>,
    pub payload: Vec<u8>,
}

impl GenPacket {
    pub fn repr(&self) -> PacketRepr<'_> {
        PacketRepr {
            payload: &self.payload,
            ..self.repr
        }
    }
}

prop_compose! {
    /// A packet of `opcode` with exactly the headers it calls for, a payload
    /// (if allowed) of 0..=max_payload bytes and the PadCnt emit will write.
    pub fn packet_of(opcode: Opcode, max_payload: usize)(
        bth in bth(opcode), deth in deth(), reth in reth(), aeth in aeth(),
        atomic_eth in atomic_eth(), atomic_ack_eth in atomic_ack_eth(),
        imm: u32, ieth: u32, cnp in any::<[u8; 16]>(),
        payload in proptest::collection::vec(any::<u8>(), 0..=max_payload),
    ) -> GenPacket {
        let h = opcode.headers().unwrap();
        let payload = if h.contains(Headers::PAYLOAD) { payload } else { Vec::new() };
        let pad = (payload.len().wrapping_neg() & 3) as u8;
        let repr = PacketRepr {
            bth: BthRepr { pad_count: pad, ..bth },
            deth: h.contains(Headers::DETH).then_some(deth),
            reth: h.contains(Headers::RETH).then_some(reth),
            atomic_eth: h.contains(Headers::ATOMIC_ETH).then_some(atomic_eth),
            aeth: h.contains(Headers::AETH).then_some(aeth),
            atomic_ack_eth: h.contains(Headers::ATOMIC_ACK_ETH).then_some(atomic_ack_eth),
            imm: h.contains(Headers::IMM_DT).then_some(imm),
            ieth: h.contains(Headers::IETH).then_some(ieth),
            cnp_reserved: h.contains(Headers::CNP_RESERVED).then_some(cnp),
            payload: &[],
        };
        GenPacket { repr, payload }
    }
}

/// A packet of any known opcode.
pub fn packet(max_payload: usize) -> impl Strategy<Value = GenPacket> {
    proptest::sample::select(known_opcodes()).prop_flat_map(move |op| packet_of(op, max_payload))
}

prop_compose! {
    pub fn ipv4()(
        src_addr: [u8; 4], dst_addr: [u8; 4], tos: u8, ident: u16, dont_frag: bool, ttl: u8,
    ) -> IpRepr {
        IpRepr::V4(Ipv4Repr {
            src_addr, dst_addr, tos, ident, dont_frag, ttl, protocol: 17, payload_len: 0,
        })
    }
}

prop_compose! {
    pub fn ipv6()(
        src_addr: [u8; 16], dst_addr: [u8; 16], traffic_class: u8,
        flow_label in 0u32..0x10_0000, hop_limit: u8,
    ) -> IpRepr {
        IpRepr::V6(Ipv6Repr {
            src_addr, dst_addr, traffic_class, flow_label, next_header: 17, hop_limit,
            payload_len: 0,
        })
    }
}

/// An IPv4 or IPv6 header (lengths are filled in by `emit_roce_headers`).
pub fn ip() -> impl Strategy<Value = IpRepr> {
    prop_oneof![ipv4(), ipv6()]
}
