//! Work queues with preallocated SGE storage: [`WqeQueue`] (a [`Ring`] of WQEs
//! plus a flat SGE pool, `max_sge` slots per WQE) and the per-queue WQE types
//! [`SendWqe`] and [`RecvWqe`]. Owns storage and posting checks; must not
//! decide protocol behaviour.

use alloc::vec::Vec;

use super::psn::Psn;
use super::ring::Ring;
use super::wr::{PostError, Sge, WrKind};

/// A send-queue entry and its progress.
#[derive(Debug, Clone, Copy, Default)]
pub(crate) struct SendWqe {
    pub wr_id: u64,
    pub kind: WrKind,
    pub signaled: bool,
    pub fence: bool,
    pub solicited: bool,
    /// Total bytes of the message (sum of SGEs).
    pub len: u32,
    /// Whether PSNs have been assigned (first packet sent).
    pub started: bool,
    pub first_psn: Psn,
    /// PSNs the message uses (`Mtu::packets(len)`, 1 for atomics).
    pub npsn: u32,
    /// READ: response bytes already received and placed.
    pub read_done: u32,
}

impl SendWqe {
    /// The last PSN of the message (valid once started).
    pub fn last_psn(&self) -> Psn {
        self.first_psn.add(self.npsn.saturating_sub(1))
    }
}

/// A receive-queue entry.
#[derive(Debug, Clone, Copy, Default)]
pub(crate) struct RecvWqe {
    pub wr_id: u64,
    /// Capacity in bytes (sum of SGEs).
    pub len: u32,
}

/// A ring of WQEs with `max_sge` preallocated SGE slots each.
#[derive(Debug, Clone)]
pub(crate) struct WqeQueue<W> {
    ring: Ring<W>,
    sges: Vec<Sge>,
    nsge: Vec<u8>,
    max_sge: usize,
}

impl<W: Copy + Default> WqeQueue<W> {
    /// A queue of `depth` requests of up to `max_sge` SGEs each, all memory
    /// reserved now; `None` when it cannot be had.
    pub fn new(depth: usize, max_sge: usize) -> Option<Self> {
        let depth = depth.max(1);
        let mut sges = Vec::new();
        let n_sges = depth.checked_mul(max_sge)?;
        sges.try_reserve_exact(n_sges).ok()?;
        sges.resize(n_sges, Sge::default());
        let mut nsge = Vec::new();
        nsge.try_reserve_exact(depth).ok()?;
        nsge.resize(depth, 0);
        Some(WqeQueue {
            ring: Ring::try_with_capacity(depth)?,
            sges,
            nsge,
            max_sge,
        })
    }

    pub fn len(&self) -> usize {
        self.ring.len()
    }

    pub fn is_empty(&self) -> bool {
        self.ring.is_empty()
    }

    pub fn capacity(&self) -> usize {
        self.ring.capacity()
    }

    /// Queues `w` with a copy of `sges`; nothing changes on error.
    pub fn push(&mut self, w: W, sges: &[Sge]) -> Result<(), PostError> {
        if self.ring.is_full() {
            return Err(PostError::QueueFull);
        }
        if sges.len() > self.max_sge {
            return Err(PostError::TooManySges);
        }
        let slot = self.ring.next_slot();
        let base = slot * self.max_sge;
        let dst = self
            .sges
            .get_mut(base..base + sges.len())
            .ok_or(PostError::QueueFull)?;
        dst.copy_from_slice(sges);
        if let Some(n) = self.nsge.get_mut(slot) {
            *n = sges.len() as u8;
        }
        self.ring.push_back(w).map_err(|_| PostError::QueueFull)
    }

    pub fn get(&self, i: usize) -> Option<&W> {
        self.ring.get(i)
    }

    pub fn get_mut(&mut self, i: usize) -> Option<&mut W> {
        self.ring.get_mut(i)
    }

    pub fn front(&self) -> Option<&W> {
        self.ring.front()
    }

    pub fn front_mut(&mut self) -> Option<&mut W> {
        self.ring.front_mut()
    }

    pub fn pop_front(&mut self) -> Option<W> {
        self.ring.pop_front()
    }

    /// The SGE list of the WQE at logical position `i`.
    pub fn sges(&self, i: usize) -> &[Sge] {
        let Some(slot) = self.ring.slot_of(i) else {
            return &[];
        };
        let n = self.nsge.get(slot).copied().unwrap_or(0) as usize;
        let base = slot * self.max_sge;
        self.sges.get(base..base + n).unwrap_or(&[])
    }

    pub fn iter(&self) -> impl Iterator<Item = &W> + '_ {
        self.ring.iter()
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn impossible_sizes_are_refused_not_aborted() {
        assert!(WqeQueue::<RecvWqe>::new(usize::MAX, 2).is_none());
        assert!(WqeQueue::<RecvWqe>::new(usize::MAX / 64, 1).is_none());
    }

    #[test]
    fn sges_are_copied_per_slot_and_limits_hold() {
        let mut q: WqeQueue<RecvWqe> = WqeQueue::new(2, 2).unwrap();
        let a = [Sge {
            lkey: 1,
            addr: 10,
            len: 5,
        }];
        let b = [
            Sge {
                lkey: 2,
                addr: 20,
                len: 6,
            },
            Sge {
                lkey: 3,
                addr: 30,
                len: 7,
            },
        ];
        let c = [Sge::default(); 3];
        assert_eq!(
            q.push(RecvWqe { wr_id: 1, len: 5 }, &c),
            Err(PostError::TooManySges)
        );
        q.push(RecvWqe { wr_id: 1, len: 5 }, &a).unwrap();
        q.push(RecvWqe { wr_id: 2, len: 13 }, &b).unwrap();
        assert_eq!(q.push(RecvWqe::default(), &a), Err(PostError::QueueFull));
        assert_eq!(q.sges(0), &a);
        q.pop_front();
        assert_eq!(q.sges(0), &b);
        q.push(RecvWqe { wr_id: 3, len: 5 }, &a).unwrap();
        assert_eq!(q.sges(1), &a);
        assert_eq!(q.sges(0), &b);
        assert_eq!(q.sges(2), &[] as &[Sge]);
    }
}
