//! The NDK performance counters an adapter keeps (OID_NDK_STATISTICS,
//! perfmon "NetworkDirect Activity", `Get-NetAdapterStatistics`
//! RdmaStatistics): lock-free `AtomicU64`s the `ndk`/`cm`/`transport` layers
//! bump, and a snapshot in the NDIS_NDK_PERFORMANCE_COUNTERS layout. Lives
//! in the seam (not in `ndk`) so the Windows miniport and the hosted tools
//! read the same numbers without depending on the NDK object model.
//!
//! Owns: the counters and their snapshot. Must not decide when they move
//! (the `ndk` layer does: `ndk/net/stats.rs` has the table; one set per
//! NDK-capable adapter, shared by its NDK instances through an `Arc`).

use core::sync::atomic::{AtomicU64, Ordering};

use crate::abi::NDIS_NDK_PERFORMANCE_COUNTERS;

/// Counters of one adapter. All `Relaxed`: statistics, not synchronisation.
#[derive(Debug, Default)]
pub struct NdkCounters {
    /// Active connections completed (NdkCompleteConnect(Ex) succeeded).
    pub connect: AtomicU64,
    /// Passive connections completed (NdkAccept(Ex) completed with success).
    pub accept: AtomicU64,
    /// Started connects/accepts (REQ or REP queued) that ended without
    /// success (REJ, timeout, abort, reject after the REP, close).
    pub connect_failure: AtomicU64,
    /// Connections whose QP transport failed on its own (retry
    /// exhaustion, fatal NAK), once each.
    pub connection_error: AtomicU64,
    /// Connections currently established (up and down, not a total).
    pub active_connection: AtomicU64,
    /// CQ overruns (once per CQ).
    pub cq_error: AtomicU64,
    /// RoCEv2 UDP payload bytes (BTH through ICRC) received and sent, at
    /// the carrier (data path and QP1).
    pub rdma_in_octets: AtomicU64,
    pub rdma_out_octets: AtomicU64,
    /// RoCEv2 datagrams received (valid, for us) and sent (accepted by the
    /// carrier).
    pub rdma_in_frames: AtomicU64,
    pub rdma_out_frames: AtomicU64,
}

impl NdkCounters {
    /// All zero.
    pub const fn new() -> Self {
        NdkCounters {
            connect: AtomicU64::new(0),
            accept: AtomicU64::new(0),
            connect_failure: AtomicU64::new(0),
            connection_error: AtomicU64::new(0),
            active_connection: AtomicU64::new(0),
            cq_error: AtomicU64::new(0),
            rdma_in_octets: AtomicU64::new(0),
            rdma_out_octets: AtomicU64::new(0),
            rdma_in_frames: AtomicU64::new(0),
            rdma_out_frames: AtomicU64::new(0),
        }
    }

    /// Adds `n` to a counter.
    ///
    /// IRQL: any.
    #[inline]
    pub fn add(counter: &AtomicU64, n: u64) {
        counter.fetch_add(n, Ordering::Relaxed);
    }

    /// Subtracts 1 from a gauge (active connections), never below 0.
    ///
    /// IRQL: any.
    #[inline]
    pub fn dec(counter: &AtomicU64) {
        let _ = counter.fetch_update(Ordering::Relaxed, Ordering::Relaxed, |v| v.checked_sub(1));
    }

    /// The counters in OID_NDK_STATISTICS order (reserved ones 0).
    ///
    /// IRQL: any.
    pub fn snapshot(&self) -> NDIS_NDK_PERFORMANCE_COUNTERS {
        let r = |c: &AtomicU64| c.load(Ordering::Relaxed);
        NDIS_NDK_PERFORMANCE_COUNTERS {
            Connect: r(&self.connect),
            Accept: r(&self.accept),
            ConnectFailure: r(&self.connect_failure),
            ConnectionError: r(&self.connection_error),
            ActiveConnection: r(&self.active_connection),
            CQError: r(&self.cq_error),
            RDMAInOctets: r(&self.rdma_in_octets),
            RDMAOutOctets: r(&self.rdma_out_octets),
            RDMAInFrames: r(&self.rdma_in_frames),
            RDMAOutFrames: r(&self.rdma_out_frames),
            ..NDIS_NDK_PERFORMANCE_COUNTERS::default()
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn snapshot_maps_each_counter_to_its_field() {
        let c = NdkCounters::new();
        NdkCounters::add(&c.connect, 1);
        NdkCounters::add(&c.accept, 2);
        NdkCounters::add(&c.connect_failure, 3);
        NdkCounters::add(&c.connection_error, 4);
        NdkCounters::add(&c.active_connection, 5);
        NdkCounters::add(&c.cq_error, 6);
        NdkCounters::add(&c.rdma_in_octets, 7);
        NdkCounters::add(&c.rdma_out_octets, 8);
        NdkCounters::add(&c.rdma_in_frames, 9);
        NdkCounters::add(&c.rdma_out_frames, 10);
        let s = c.snapshot();
        assert_eq!(
            [
                s.Connect,
                s.Accept,
                s.ConnectFailure,
                s.ConnectionError,
                s.ActiveConnection,
                s.CQError,
                s.RDMAInOctets,
                s.RDMAOutOctets,
                s.RDMAInFrames,
                s.RDMAOutFrames,
                s.Reserved01,
                s.Reserved20
            ],
            [1, 2, 3, 4, 5, 6, 7, 8, 9, 10, 0, 0]
        );
    }

    #[test]
    fn gauge_does_not_wrap_below_zero() {
        let c = NdkCounters::new();
        NdkCounters::dec(&c.active_connection);
        assert_eq!(c.snapshot().ActiveConnection, 0);
        NdkCounters::add(&c.active_connection, 2);
        NdkCounters::dec(&c.active_connection);
        assert_eq!(c.snapshot().ActiveConnection, 1);
    }
}
