//! CM events -> NDK callbacks: each [`CmEvent`] the pump polls becomes a
//! completion, ConnectEvent or DisconnectEvent queued to its object's DPC
//! (never a consumer call here), and the QP's connection record follows
//! (`Qp::set_connection` / `set_link_state` / `flush`). A ConnectRequest
//! makes the new connector, a child of the listener. Owns that mapping
//! (the NTSTATUS of each event, `docs/CM.md`); must not touch packets.
#![deny(unsafe_code)]

use crate::abi::*;
use crate::cm::{CmEvent, ConnectRequest};
use crate::wire::cm::RejReason;

use super::super::object::NewObject;
use super::super::qp::QpLinkState;
use super::tables::{make_connector, qp_ref, Pending};
use super::{Net, NetState};

impl Net {
    /// One CM event -> the callback it becomes, queued to its object.
    pub(super) fn dispatch(&self, st: &mut NetState, ev: CmEvent) {
        if let CmEvent::ConnectRequest(r) = ev {
            self.deliver_request(st, r);
            return;
        }
        // ListenerClosed: the object framework tracks the listener's children.
        let Some(conn) = ev.conn() else {
            return;
        };
        let Some(slot) = st.slot_of(conn) else {
            return;
        };
        let addrs = st.cm.conn_addrs(conn);
        let NetState { conns, qps, .. } = st;
        let Some(Some(e)) = conns.get_mut(slot) else {
            return;
        };
        let qp = e.qp.as_ref().and_then(|(q, _)| qp_ref(qps, *q));
        let events = e.events.clone();
        let done = |p: Option<Pending>, status: NtStatus| {
            if let Some((f, ctx)) = p {
                let queued = events.complete(f, ctx, status);
                debug_assert!(
                    queued,
                    "a connector has at most 3 requests and 1 event queued"
                );
            }
        };
        match ev {
            CmEvent::ConnectReply(r) => {
                if let (Some(qp), Some((local, remote))) = (qp, addrs) {
                    if let Some(mut c) = qp.connection() {
                        c.local = local;
                        c.remote = remote;
                        c.remote_qpn = r.remote_qpn;
                        c.send_psn = r.send_psn;
                        c.inbound_read_limit = r.inbound_read_limit;
                        c.outbound_read_limit = r.outbound_read_limit;
                        c.rnr_retry_count = r.rnr_retry_count;
                        qp.set_connection(Some(c));
                    }
                }
                done(e.connect.take(), STATUS_SUCCESS);
            }
            CmEvent::ConnectRejected { reason, .. } => {
                self.link_end(e);
                let status = if reason == RejReason::Timeout {
                    STATUS_IO_TIMEOUT
                } else {
                    STATUS_CONNECTION_REFUSED
                };
                done(e.connect.take(), status);
            }
            CmEvent::ConnectTimedOut { .. } => {
                self.link_end(e);
                done(e.connect.take(), STATUS_IO_TIMEOUT);
            }
            CmEvent::ConnectAborted { .. } | CmEvent::AcceptTimedOut { .. } => {
                self.link_end(e);
                if let Some(qp) = qp {
                    qp.set_link_state(QpLinkState::Down);
                }
                let status = if matches!(ev, CmEvent::AcceptTimedOut { .. }) {
                    STATUS_IO_TIMEOUT
                } else {
                    STATUS_CONNECTION_ABORTED
                };
                done(e.accept.take(), status);
            }
            CmEvent::Established { .. } => {
                self.link_up(e);
                if let Some(qp) = qp {
                    qp.set_link_state(QpLinkState::Connected);
                }
                done(e.accept.take(), STATUS_SUCCESS);
            }
            CmEvent::Disconnected { .. } => {
                // Once per connection (the CM reports it once). The data path
                // stops sending, but nothing is flushed merely because of the
                // indication (NDKPI §5.6).
                self.link_end(e);
                if let Some(qp) = qp {
                    qp.set_link_state(QpLinkState::Down);
                }
                if let Some(cb) = e.on_disconnect {
                    let queued = events.disconnect_event(cb);
                    debug_assert!(queued);
                }
            }
            CmEvent::DisconnectDone { timed_out, .. } => {
                // The implicit flush after NdkDisconnect, before its completion.
                self.link_end(e);
                if let Some(qp) = qp {
                    qp.set_link_state(QpLinkState::Down);
                    qp.flush();
                }
                let status = if timed_out {
                    STATUS_IO_TIMEOUT
                } else {
                    STATUS_SUCCESS
                };
                done(e.disconnect.take(), status);
            }
            CmEvent::ConnectRequest(_) | CmEvent::ListenerClosed { .. } => {}
        }
    }

    /// A REQ matched a listener: a new connector (child of the listener)
    /// goes to the listener's ConnectEvent, queued to its DPC. If the
    /// listener is gone or the connector cannot be made, the request is
    /// refused (REJ) as a closed connector would.
    fn deliver_request(&self, st: &mut NetState, r: ConnectRequest) {
        let now = self.now();
        let found = st
            .listeners
            .iter()
            .flatten()
            .find(|l| l.id == Some(r.listener));
        let Some(l) = found else {
            let _ = st.cm.close_conn(now, r.conn);
            return;
        };
        let (core, levents, (f, ctx)) = (l.core.clone(), l.events.clone(), l.connect_event);
        let new = NewObject::of(&core).child_of(&levents);
        let Ok((ptr, slot)) = make_connector(st, &core, new) else {
            let _ = st.cm.close_conn(now, r.conn);
            return;
        };
        if let Some(Some(e)) = st.conns.get_mut(slot) {
            e.conn = Some(r.conn);
            e.passive = true;
            e.used = true;
            e.request = Some(r);
            e.link = super::stats::Link::Requested;
        }
        // At most LISTEN_BACKLOG ConnectEvents wait (the CM refuses REQs
        // beyond the backlog), below the queue's size: this cannot fail.
        let queued = levents.connect_event(f, ctx, ptr.as_ptr().cast());
        debug_assert!(queued, "listener queue holds the backlog");
    }
}
