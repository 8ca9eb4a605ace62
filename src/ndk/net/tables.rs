//! The runtime's object tables: connector slots ([`ConnEntry`]: the CM
//! connection, pending requests, disconnect callback, QP and shared
//! endpoint parents), listener slots ([`ListenerEntry`]) and QPs by QPN
//! (the receive demux), with the create / close / free operations the
//! objects call, and the cut-off of an instance that closes with objects
//! still open (`Net::detach`; entries name their instance). Owns only these tables (all under the runtime's lock);
//! must not call the consumer.
#![deny(unsafe_code)]

use alloc::sync::Arc;
use core::ptr::NonNull;

use crate::abi::*;
use crate::cm::{ConnId, ConnectRequest, ListenerId};

use super::super::connector::Connector;
use super::super::core::AdapterCore;
use super::super::object::{create, DisconnectCallback, Events, NewObject, StatusCallback};
use super::super::qp::{Qp, QpLinkState};
use super::stats::Link;
use super::{Net, NetState, FIRST_QPN};

/// A pending request's completion callback and context.
pub(crate) type Pending = (StatusCallback, usize);

/// The NDK side of one connector.
pub(crate) struct ConnEntry {
    pub events: Arc<Events>,
    /// The instance that owns the connector ([`AdapterCore::id`]).
    pub owner: usize,
    /// The CM connection once connecting (active) or from birth (passive);
    /// `None` again after close.
    pub conn: Option<ConnId>,
    /// Born from a listener's ConnectEvent.
    pub passive: bool,
    /// NdkConnect / NdkConnectWithSharedEndpoint was called (once only).
    pub used: bool,
    pub connect: Option<Pending>,
    pub accept: Option<Pending>,
    pub disconnect: Option<Pending>,
    pub on_disconnect: Option<DisconnectCallback>,
    /// The QP bound by Connect/Accept (by QPN) and its events (a parent).
    pub qp: Option<(u32, Arc<Events>)>,
    /// The shared endpoint connected from (a parent).
    pub se: Option<Arc<Events>>,
    /// The REQ (passive side), for the QP record at accept.
    pub request: Option<ConnectRequest>,
    /// What we sent as Starting PSN.
    pub recv_psn: u32,
    /// Where the connection stands (the NDK counters, `stats.rs`).
    pub link: Link,
}

/// The NDK side of one listener.
pub(crate) struct ListenerEntry {
    pub events: Arc<Events>,
    pub core: Arc<AdapterCore>,
    pub connect_event: (NDK_FN_CONNECT_EVENT_CALLBACK, usize),
    pub id: Option<ListenerId>,
    pub paused: bool,
}

/// A QP in the demux table.
pub(crate) struct QpEntry {
    qp: Option<QpPtr>,
    /// The instance that owns the QP ([`AdapterCore::id`]).
    owner: usize,
}

/// A QP's address. Valid while in the table: the QP removes itself (under
/// the state lock) in its `Drop`, before its memory is freed.
struct QpPtr(NonNull<Qp>);
// SAFETY: see `QpPtr`; the QP's shared state is behind its own locks.
#[allow(unsafe_code)]
unsafe impl Send for QpPtr {}

impl QpPtr {
    fn get(&self) -> &Qp {
        // SAFETY: see `QpPtr` (only reached under the state lock).
        #[allow(unsafe_code)]
        unsafe {
            self.0.as_ref()
        }
    }
}

impl NetState {
    /// The connector slot that owns `conn`.
    pub(crate) fn slot_of(&self, conn: ConnId) -> Option<usize> {
        self.conns
            .iter()
            .position(|e| e.as_ref().is_some_and(|e| e.conn == Some(conn)))
    }

    /// The QP of QPN `qpn`, if attached.
    pub(crate) fn qp(&self, qpn: u32) -> Option<&Qp> {
        qp_ref(&self.qps, qpn)
    }
}

impl Net {
    /// NdkCreateConnector: a new connector and its slot.
    /// IRQL: <= DISPATCH_LEVEL.
    pub(crate) fn new_connector(
        &self,
        core: &Arc<AdapterCore>,
    ) -> Result<NonNull<Connector>, NtStatus> {
        let mut st = self.state.lock();
        make_connector(&mut st, core, NewObject::of(core)).map(|(p, _)| p)
    }

    /// Frees a connector slot (the connector's drop): its QP and shared
    /// endpoint stop being its parents. IRQL: <= DISPATCH_LEVEL.
    pub(crate) fn free_connector(&self, slot: usize) {
        let entry = self.state.lock().conns.get_mut(slot).and_then(Option::take);
        if let Some(mut e) = entry {
            self.link_end(&mut e);
            if let Some((_, q)) = e.qp {
                q.child_closed();
            }
            if let Some(se) = e.se {
                se.child_closed();
            }
        }
    }

    /// NdkCloseConnector: the CM finishes on its own (REJ, DREQ, timewait);
    /// every request still pending completes with STATUS_CANCELLED (queued
    /// before the close completion).
    /// IRQL: <= DISPATCH_LEVEL.
    pub(crate) fn close_connector(&self, slot: usize) {
        let now = self.now();
        let mut st = self.state.lock();
        let conn = st.conns.get_mut(slot).and_then(|e| e.as_mut()?.conn.take());
        if let Some(conn) = conn {
            let _ = st.cm.close_conn(now, conn);
        }
        let qpn = st
            .conns
            .get(slot)
            .and_then(|e| e.as_ref()?.qp.as_ref().map(|q| q.0));
        if let Some(qp) = qpn.and_then(|q| st.qp(q)) {
            qp.set_link_state(QpLinkState::Down);
        }
        if let Some(Some(e)) = st.conns.get_mut(slot) {
            self.link_end(e);
            e.on_disconnect = None;
            for p in [e.connect.take(), e.accept.take(), e.disconnect.take()]
                .into_iter()
                .flatten()
            {
                let _ = e.events.complete(p.0, p.1, STATUS_CANCELLED);
            }
        }
        self.pump(&mut st);
    }

    /// NdkCloseListener: new REQs are refused at once (the port is released).
    /// IRQL: <= DISPATCH_LEVEL.
    pub(crate) fn close_listener(&self, slot: usize) {
        let mut st = self.state.lock();
        let id = st
            .listeners
            .get_mut(slot)
            .and_then(|e| e.as_mut()?.id.take());
        if let Some(id) = id {
            let _ = st.cm.close_listener(id);
        }
        self.pump(&mut st);
    }

    /// Frees a listener slot (the listener's drop). IRQL: <= DISPATCH_LEVEL.
    pub(crate) fn free_listener(&self, slot: usize) {
        let entry = self
            .state
            .lock()
            .listeners
            .get_mut(slot)
            .and_then(Option::take);
        drop(entry);
    }

    /// A QPN for a new QP of instance `owner` (its slot reserved until
    /// `attach_qp`); unique on the network, whichever instance asks.
    /// IRQL: <= DISPATCH_LEVEL.
    pub(crate) fn reserve_qpn(&self, owner: usize) -> Result<u32, NtStatus> {
        let mut st = self.state.lock();
        let i = st
            .qps
            .iter()
            .position(Option::is_none)
            .ok_or(STATUS_INSUFFICIENT_RESOURCES)?;
        if let Some(s) = st.qps.get_mut(i) {
            *s = Some(QpEntry { qp: None, owner });
        }
        u32::try_from(i)
            .ok()
            .and_then(|i| i.checked_add(FIRST_QPN))
            .ok_or(STATUS_INSUFFICIENT_RESOURCES)
    }

    /// Enters a created QP under its QPN (reserved by its instance).
    /// IRQL: <= DISPATCH_LEVEL.
    pub(crate) fn attach_qp(&self, qpn: u32, qp: NonNull<Qp>) {
        let mut st = self.state.lock();
        if let Some(Some(e)) = qpn_index(qpn).and_then(|i| st.qps.get_mut(i)) {
            e.qp = Some(QpPtr(qp));
        }
    }

    /// Cuts instance `core` off the network (its close, once every object
    /// the consumer closed is freed). What is left of it (objects the
    /// consumer never closed) hears nothing more: its listeners stop
    /// listening (ports released), its connections are closed in the CM
    /// with their pending requests and disconnect callback forgotten (no
    /// callback after the adapter's close), its QPs leave the receive demux
    /// (their QPNs stay reserved until they are freed). Other instances'
    /// entries are untouched.
    /// IRQL: PASSIVE_LEVEL (adapter close).
    pub(crate) fn detach(&self, core: &AdapterCore) {
        let owner = core.id();
        let now = self.now();
        let mut st = self.state.lock();
        let NetState {
            cm,
            conns,
            listeners,
            qps,
            ..
        } = &mut *st;
        for l in listeners.iter_mut().flatten() {
            if l.core.id() == owner {
                if let Some(id) = l.id.take() {
                    let _ = cm.close_listener(id);
                }
            }
        }
        for e in conns.iter_mut().flatten() {
            if e.owner == owner {
                if let Some(conn) = e.conn.take() {
                    let _ = cm.close_conn(now, conn);
                }
                self.link_end(e);
                e.on_disconnect = None;
                e.connect = None;
                e.accept = None;
                e.disconnect = None;
            }
        }
        for q in qps.iter_mut().flatten() {
            if q.owner == owner {
                if let Some(qp) = q.qp.take() {
                    qp.get().set_link_state(QpLinkState::Down);
                }
            }
        }
        self.pump(&mut st);
    }

    /// Removes a QP (its drop, or a failed create). IRQL: <= DISPATCH_LEVEL.
    pub(crate) fn unregister_qp(&self, qpn: u32) {
        let mut st = self.state.lock();
        if let Some(s) = qpn_index(qpn).and_then(|i| st.qps.get_mut(i)) {
            *s = None;
        }
    }
}

pub(super) fn qpn_index(qpn: u32) -> Option<usize> {
    usize::try_from(qpn.checked_sub(FIRST_QPN)?).ok()
}

pub(super) fn qp_ref(qps: &[Option<QpEntry>], qpn: u32) -> Option<&Qp> {
    qps.get(qpn_index(qpn)?)?
        .as_ref()?
        .qp
        .as_ref()
        .map(QpPtr::get)
}

/// Creates a connector object in a free slot (state lock held; `create`
/// does not touch the runtime). IRQL: <= DISPATCH_LEVEL.
pub(super) fn make_connector(
    st: &mut NetState,
    core: &Arc<AdapterCore>,
    new: NewObject<'_>,
) -> Result<(NonNull<Connector>, usize), NtStatus> {
    let slot = st
        .conns
        .iter()
        .position(Option::is_none)
        .ok_or(STATUS_INSUFFICIENT_RESOURCES)?;
    let mut events = None;
    let ptr = create(new, |base| {
        events = Some(base.events.clone());
        Connector::new(core, base, slot)
    })?;
    if let (Some(s), Some(events)) = (st.conns.get_mut(slot), events) {
        *s = Some(ConnEntry {
            events,
            owner: core.id(),
            conn: None,
            passive: false,
            used: false,
            connect: None,
            accept: None,
            disconnect: None,
            on_disconnect: None,
            qp: None,
            se: None,
            request: None,
            recv_psn: 0,
            link: Link::Idle,
        });
    }
    Ok((ptr, slot))
}
