//! CM timers: retransmission of REQ, REP and DREQ every CM response timeout
//! up to the retry limit, what happens when the retries run out, and the end
//! of timewait.
//!
//! Owns the expiry side of the state machines; must not read a clock (the
//! caller passes `now`) nor handle messages.

use crate::wire::cm::{CmMsgRef, RejReason};

use super::api::{CmEvent, ConnId};
use super::conn::{Ended, Sent, State};
use super::engine::CmEngine;
use super::msg;
use super::time::{cm_timeout, Instant};

impl CmEngine {
    /// Runs every timer due at `now`. IRQL: <= DISPATCH_LEVEL.
    pub fn handle_timeout(&mut self, now: Instant) {
        let mut due = core::mem::take(&mut self.scratch);
        due.clear();
        for (id, c) in self.conns.iter() {
            if c.deadline.is_some_and(|d| d <= now) && due.len() < due.capacity() {
                due.push(id);
            }
        }
        for &id in &due {
            self.expire(now, id);
        }
        due.clear();
        self.scratch = due;
    }

    fn expire(&mut self, now: Instant, id: u32) {
        let Some(c) = self.conns.get_mut(id) else {
            return;
        };
        let interval = cm_timeout(c.retry_timeout);
        let conn = ConnId(id);
        let retrying = matches!(
            c.state,
            State::ReqSent | State::MraReqRcvd | State::RepSent | State::DreqSent
        );
        if retrying && c.retries_left > 0 {
            c.retries_left -= 1;
            if c.state == State::MraReqRcvd {
                c.state = State::ReqSent;
            }
            c.deadline = Some(now.saturating_add(interval));
            self.resend(id);
            return;
        }
        c.deadline = None;
        match c.state {
            State::ReqSent | State::MraReqRcvd => {
                c.state = State::Done(Ended::TimedOut);
                self.report(id, CmEvent::ConnectTimedOut { conn });
            }
            State::RepSent => {
                c.state = State::Done(Ended::TimedOut);
                // Tell the active side, so that it stops waiting too.
                let rej = msg::rej(
                    c.local_comm_id,
                    c.remote_comm_id,
                    CmMsgRef::Rep,
                    RejReason::Timeout,
                    &[],
                    &[],
                );
                self.send_conn(id, Sent::Rej, rej);
                self.report(id, CmEvent::AcceptTimedOut { conn });
            }
            State::DreqSent => {
                self.enter_timewait(now, id);
                self.report(
                    id,
                    CmEvent::DisconnectDone {
                        conn,
                        timed_out: true,
                    },
                );
            }
            State::TimeWait => {
                c.timewait_over = true;
                if c.open {
                    c.state = State::Done(Ended::Disconnected);
                } else {
                    self.free(id);
                }
            }
            _ => {}
        }
    }
}
