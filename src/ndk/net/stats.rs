//! The runtime's part of the NDK performance counters (`os::NdkCounters`,
//! OID_NDK_STATISTICS) and the enumerations behind OID_NDK_CONNECTIONS and
//! OID_NDK_LOCAL_ENDPOINTS. Every connector slot carries a [`Link`]; its
//! transitions, all under the runtime's lock, move the connection counters:
//!
//! | transition | where | counter |
//! | --- | --- | --- |
//! | `Idle`/`Requested` -> `Attempting` | NdkConnect(WithSharedEndpoint) queued a REQ; NdkAccept(Ex) queued a REP | - |
//! | `Attempting` -> `Established`, active | NdkCompleteConnect(Ex) succeeded (RTU queued) | Connect +1, ActiveConnection +1 |
//! | `Attempting` -> `Established`, passive | the RTU (or first traffic) completed NdkAccept with success | Accept +1, ActiveConnection +1 |
//! | `Attempting` -> `Ended` | REJ, REQ/REP timeout, the peer aborted, NdkReject after the REP, the connector closed | ConnectFailure +1 |
//! | `Established` -> `Ended` | DREQ received, NdkDisconnect done, the connector closed | ActiveConnection -1 |
//! | `Requested` -> `Ended` | a delivered request rejected or closed unaccepted | - |
//!
//! So every attempt ends exactly once as Connect, Accept or ConnectFailure,
//! and ActiveConnection is the number of `Established` slots. The other
//! counters move elsewhere: ConnectionError in the data path (a connected
//! QP's transport entering the error state on its own), CQError at a CQ
//! overrun (`cq.rs`), RDMA frames/octets at the carrier (`net.rs`).
//!
//! Owns the accounting and the enumerations; must not call the consumer
//! (the visitors run under the runtime's lock and must not call into the
//! provider).
#![deny(unsafe_code)]

use core::net::SocketAddr;

use crate::os::NdkCounters;

use super::tables::ConnEntry;
use super::Net;

/// Where a connector's connection stands (see the module documentation).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) enum Link {
    /// Nothing started.
    Idle,
    /// Passive: the REQ was delivered to the listener, not accepted yet.
    Requested,
    /// A REQ (active) or REP (passive) was queued; no outcome yet.
    Attempting,
    /// Connected: CompleteConnect (active) or the RTU (passive) done.
    Established,
    /// Over: failed, rejected, disconnected or closed.
    Ended,
}

impl Net {
    /// A connect or accept was started. IRQL: <= DISPATCH_LEVEL (state lock).
    pub(crate) fn link_attempt(&self, e: &mut ConnEntry) {
        if matches!(e.link, Link::Idle | Link::Requested) {
            e.link = Link::Attempting;
        }
    }

    /// The attempt succeeded: Connect or Accept +1, ActiveConnection +1.
    /// IRQL: <= DISPATCH_LEVEL (state lock).
    pub(crate) fn link_up(&self, e: &mut ConnEntry) {
        if e.link != Link::Attempting {
            return;
        }
        e.link = Link::Established;
        let c = &self.ndk;
        NdkCounters::add(if e.passive { &c.accept } else { &c.connect }, 1);
        NdkCounters::add(&c.active_connection, 1);
    }

    /// The connection is over: an attempt in progress failed
    /// (ConnectFailure +1), an established one went down
    /// (ActiveConnection -1). Idempotent. IRQL: <= DISPATCH_LEVEL.
    pub(crate) fn link_end(&self, e: &mut ConnEntry) {
        match e.link {
            Link::Attempting => NdkCounters::add(&self.ndk.connect_failure, 1),
            Link::Established => NdkCounters::dec(&self.ndk.active_connection),
            Link::Idle | Link::Requested | Link::Ended => {}
        }
        if e.link != Link::Idle {
            e.link = Link::Ended;
        }
    }

    /// `f(local, remote)` for every connector whose connection is requested,
    /// being set up or established. IRQL: <= DISPATCH_LEVEL.
    pub(crate) fn for_each_connection(&self, mut f: impl FnMut(SocketAddr, SocketAddr)) {
        let st = self.state.lock();
        for e in st.conns.iter().flatten() {
            let live = matches!(
                e.link,
                Link::Requested | Link::Attempting | Link::Established
            );
            if let (true, Some(conn)) = (live, e.conn) {
                if let Some((local, remote)) = st.cm.conn_addrs(conn) {
                    f(local, remote);
                }
            }
        }
    }

    /// `f(address, is_listener)` for every listening listener and open
    /// shared endpoint. IRQL: <= DISPATCH_LEVEL.
    pub(crate) fn for_each_local_endpoint(&self, f: impl FnMut(SocketAddr, bool)) {
        self.state.lock().cm.for_each_local_endpoint(f);
    }
}
