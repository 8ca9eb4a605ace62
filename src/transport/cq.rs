//! The QP's completion FIFO: a preallocated ring of [`Completion`]s with
//! per-queue counts, so that a work queue slot is only reused once its
//! completion has been polled (no overrun is possible). Owns completion
//! storage; must not decide statuses.

use super::ring::Ring;
use super::wr::{Completion, WcQueue};

#[derive(Debug, Clone)]
pub(crate) struct Cq {
    ring: Ring<Completion>,
    send: usize,
    recv: usize,
}

impl Default for Completion {
    fn default() -> Self {
        Completion::recv(0, super::wr::WcStatus::Flushed)
    }
}

impl Cq {
    /// A completion ring of `capacity`; `None` when the memory cannot be had.
    pub fn new(capacity: usize) -> Option<Cq> {
        Some(Cq {
            ring: Ring::try_with_capacity(capacity)?,
            send: 0,
            recv: 0,
        })
    }

    /// Queues a completion. The capacity covers every WQE that can exist, so
    /// this cannot fail while posting respects [`Cq::pending`].
    pub fn push(&mut self, c: Completion) {
        if self.ring.push_back(c).is_ok() {
            match c.queue {
                WcQueue::Send => self.send += 1,
                WcQueue::Recv => self.recv += 1,
            }
        }
    }

    pub fn pop(&mut self) -> Option<Completion> {
        let c = self.ring.pop_front()?;
        match c.queue {
            WcQueue::Send => self.send = self.send.saturating_sub(1),
            WcQueue::Recv => self.recv = self.recv.saturating_sub(1),
        }
        Some(c)
    }

    /// Completions of `queue` not yet polled.
    pub fn pending(&self, queue: WcQueue) -> usize {
        match queue {
            WcQueue::Send => self.send,
            WcQueue::Recv => self.recv,
        }
    }
}
