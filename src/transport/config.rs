//! Queue pair configuration: [`QpConfig`], the path [`Mtu`] and validation of
//! the limits. Owns the static parameters of a QP; must not hold runtime state.

use super::psn::Psn;

/// Path MTU (payload bytes per packet), the IB enum 1..=5. Ordered by size.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Hash)]
pub enum Mtu {
    Mtu256 = 1,
    Mtu512 = 2,
    Mtu1024 = 3,
    Mtu2048 = 4,
    Mtu4096 = 5,
}

impl Mtu {
    /// From the IB enum (1=256 .. 5=4096).
    pub const fn from_ib_enum(v: u8) -> Option<Mtu> {
        match v {
            1 => Some(Mtu::Mtu256),
            2 => Some(Mtu::Mtu512),
            3 => Some(Mtu::Mtu1024),
            4 => Some(Mtu::Mtu2048),
            5 => Some(Mtu::Mtu4096),
            _ => None,
        }
    }

    /// From a byte count that must be exactly one of 256, 512, 1024, 2048, 4096.
    pub const fn from_bytes(v: u32) -> Option<Mtu> {
        match v {
            256 => Some(Mtu::Mtu256),
            512 => Some(Mtu::Mtu512),
            1024 => Some(Mtu::Mtu1024),
            2048 => Some(Mtu::Mtu2048),
            4096 => Some(Mtu::Mtu4096),
            _ => None,
        }
    }

    /// Bytes a RoCEv2 packet adds to its payload inside the IP MTU over IPv4:
    /// rxe's `RXE_MAX_HDR_LENGTH` (80, `rxe_set_mtu`: the port's active MTU
    /// is the largest IB MTU <= netdev MTU - 80), which covers IPv4 20 + UDP
    /// 8 + BTH 12 + RETH 16 + ImmDt 4 + ICRC 4 with room to spare.
    pub const IPV4_OVERHEAD: usize = 80;
    /// The same over IPv6 (its header is 20 bytes longer).
    pub const IPV6_OVERHEAD: usize = 100;

    /// The largest path MTU whose packets fit a link of IP MTU `ip_mtu`
    /// (`None`: not even 256 fits). `ROCE-FACTS` 1.6: 1500 -> 1024,
    /// 9000 -> 4096.
    pub const fn fitting(ip_mtu: usize, ipv6: bool) -> Option<Mtu> {
        let overhead = if ipv6 {
            Self::IPV6_OVERHEAD
        } else {
            Self::IPV4_OVERHEAD
        };
        let room = ip_mtu.saturating_sub(overhead);
        if room >= 4096 {
            Some(Mtu::Mtu4096)
        } else if room >= 2048 {
            Some(Mtu::Mtu2048)
        } else if room >= 1024 {
            Some(Mtu::Mtu1024)
        } else if room >= 512 {
            Some(Mtu::Mtu512)
        } else if room >= 256 {
            Some(Mtu::Mtu256)
        } else {
            None
        }
    }

    /// The IB enum value.
    pub const fn ib_enum(self) -> u8 {
        self as u8
    }

    /// Payload bytes per packet.
    pub const fn bytes(self) -> u32 {
        128u32 << (self as u32)
    }

    /// Packets (and PSNs) a message of `len` bytes uses: `max(1, ceil(len / mtu))`.
    pub const fn packets(self, len: u32) -> u32 {
        let b = self.bytes();
        if len == 0 {
            1
        } else {
            len / b + if len.is_multiple_of(b) { 0 } else { 1 }
        }
    }
}

/// Everything a reliable-connected QP needs to know, fixed at creation
/// (the RTR/RTS attributes of a modify-QP, gathered).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct QpConfig {
    /// Our QP number (24 bits).
    pub qpn: u32,
    /// The peer's QP number, written into every BTH we send.
    pub remote_qpn: u32,
    /// The first PSN our requester sends (sq_psn).
    pub send_psn: Psn,
    /// The first PSN our responder expects (rq_psn = the peer's sq_psn).
    pub recv_psn: Psn,
    pub path_mtu: Mtu,
    /// Local ACK timeout exponent (5 bits): 4.096 us * 2^t; 0 = no timer.
    pub local_ack_timeout: u8,
    /// Retries on timeout or sequence NAK (3 bits); 7 = infinite (ROCE-FACTS §1.7).
    pub retry_cnt: u8,
    /// Retries on RNR NAK (3 bits); 7 = infinite.
    pub rnr_retry: u8,
    /// The RNR timer (5-bit encoding) we advertise in our RNR NAKs.
    pub min_rnr_timer: u8,
    /// Inbound RDMA READ/atomic limit (responder resources, max_dest_rd_atomic).
    pub max_dest_rd_atomic: u8,
    /// Outbound RDMA READ/atomic limit (initiator depth, max_rd_atomic).
    pub max_rd_atomic: u8,
    /// Send queue depth (work requests).
    pub sq_depth: u16,
    /// Receive queue depth (work requests).
    pub rq_depth: u16,
    /// Maximum SGEs per send work request.
    pub max_send_sge: u8,
    /// Maximum SGEs per receive work request.
    pub max_recv_sge: u8,
}

/// Why a configuration was refused.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum ConfigError {
    /// A QPN above 24 bits, or 0/1 (reserved for SMI/GSI) for an RC QP.
    BadQpn,
    /// A depth of zero.
    BadDepth,
    /// An SGE count of zero or above [`MAX_SGE`].
    BadSge,
    /// A timer or retry value outside its bit width.
    BadField,
    /// The queues could not be allocated.
    NoMemory,
}

/// The largest SGE list a work request may carry.
pub const MAX_SGE: u8 = 32;

impl QpConfig {
    /// A configuration with rxe-like defaults: MTU 1024, timeout 14 (~67 ms),
    /// retry 7, RNR retry 7, min RNR timer 12 (640 us), read limits 16,
    /// depths 128, 4 SGEs.
    pub fn new(qpn: u32, remote_qpn: u32, send_psn: u32, recv_psn: u32) -> QpConfig {
        QpConfig {
            qpn,
            remote_qpn,
            send_psn: Psn::new(send_psn),
            recv_psn: Psn::new(recv_psn),
            path_mtu: Mtu::Mtu1024,
            local_ack_timeout: 14,
            retry_cnt: 7,
            rnr_retry: 7,
            min_rnr_timer: 12,
            max_dest_rd_atomic: 16,
            max_rd_atomic: 16,
            sq_depth: 128,
            rq_depth: 128,
            max_send_sge: 4,
            max_recv_sge: 4,
        }
    }

    /// Checks every field against its width and the engine's limits.
    pub fn validate(&self) -> Result<(), ConfigError> {
        let qpn_ok = |q: u32| q > 1 && q <= 0x00FF_FFFF;
        if !qpn_ok(self.qpn) || !qpn_ok(self.remote_qpn) {
            return Err(ConfigError::BadQpn);
        }
        if self.sq_depth == 0 || self.rq_depth == 0 {
            return Err(ConfigError::BadDepth);
        }
        let sge_ok = |n: u8| (1..=MAX_SGE).contains(&n);
        if !sge_ok(self.max_send_sge) || !sge_ok(self.max_recv_sge) {
            return Err(ConfigError::BadSge);
        }
        if self.local_ack_timeout > 31
            || self.retry_cnt > 7
            || self.rnr_retry > 7
            || self.min_rnr_timer > 31
        {
            return Err(ConfigError::BadField);
        }
        Ok(())
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn mtu_packets_and_validation() {
        assert_eq!(Mtu::Mtu1024.bytes(), 1024);
        assert_eq!(Mtu::Mtu4096.bytes(), 4096);
        assert_eq!(Mtu::Mtu256.bytes(), 256);
        assert_eq!(Mtu::from_ib_enum(3), Some(Mtu::Mtu1024));
        assert_eq!(Mtu::from_bytes(1500), None);
        assert_eq!(Mtu::from_bytes(0), None);
        assert!(Mtu::Mtu256 < Mtu::Mtu512 && Mtu::Mtu2048 < Mtu::Mtu4096);
        assert_eq!(Mtu::Mtu4096.min(Mtu::Mtu1024), Mtu::Mtu1024);
        assert_eq!(Mtu::Mtu256.packets(0), 1);
        assert_eq!(Mtu::Mtu256.packets(256), 1);
        assert_eq!(Mtu::Mtu256.packets(257), 2);
        assert_eq!(Mtu::Mtu256.packets(u32::MAX), 16_777_216);
        let mut c = QpConfig::new(17, 18, 0, 0);
        assert_eq!(c.validate(), Ok(()));
        c.retry_cnt = 8;
        assert_eq!(c.validate(), Err(ConfigError::BadField));
        c.retry_cnt = 7;
        c.qpn = 1;
        assert_eq!(c.validate(), Err(ConfigError::BadQpn));
    }

    #[test]
    fn the_mtu_that_fits_an_ip_mtu_follows_rxe() {
        // rxe: netdev 1500 -> 1024, 9000 -> 4096 (ROCE-FACTS 1.6).
        assert_eq!(Mtu::fitting(1500, false), Some(Mtu::Mtu1024));
        assert_eq!(Mtu::fitting(9000, false), Some(Mtu::Mtu4096));
        // The Windows adapter's jumbo MTU for a 4096 frame (4096 + 128).
        assert_eq!(Mtu::fitting(4224, false), Some(Mtu::Mtu4096));
        assert_eq!(Mtu::fitting(4224, true), Some(Mtu::Mtu4096));
        // Just below the edge on each family.
        assert_eq!(Mtu::fitting(4096 + 79, false), Some(Mtu::Mtu2048));
        assert_eq!(Mtu::fitting(4096 + 99, true), Some(Mtu::Mtu2048));
        assert_eq!(Mtu::fitting(4096 + 100, true), Some(Mtu::Mtu4096));
        assert_eq!(Mtu::fitting(1280, true), Some(Mtu::Mtu1024));
        assert_eq!(Mtu::fitting(576, false), Some(Mtu::Mtu256));
        assert_eq!(Mtu::fitting(335, false), None);
        assert_eq!(Mtu::fitting(0, true), None);
    }
}
