//! The sans-IO pending queue: datagrams held while their next hop
//! resolves, like an OS neighbour layer's per-neighbour queue (Linux keeps
//! a few packets per unresolved neighbour). A fixed pool of slots, each with
//! its own buffer, all reserved fallibly in [`PendingPool::new`]; nothing
//! allocates afterwards (a buffer is moved out of its slot while it is
//! being sent and moved back, never copied or freed).
//!
//! Owns the slots and their rules only; must not send frames, read a clock
//! or take locks (the carrier does: the pool lives under the carrier's
//! neighbour lock, and the carrier sends a taken slot outside it).
//!
//! Rules:
//! - At most [`PER_NEIGHBOUR`] datagrams wait per neighbour (IP address).
//!   A further one **replaces the oldest** of that neighbour (Linux's
//!   `unres_qlen` rule: the newest data is the most useful to the sender).
//! - A datagram waits at most [`MAX_AGE`]; an expired slot is freed when a
//!   scan finds it (on every hold and every take).
//! - No free slot (and none expired) -> [`Hold::Full`]: the caller refuses
//!   the send (`WouldBlock`, as without a queue).
//! - Slots of one neighbour leave in the order they were held.

use alloc::vec::Vec;
use core::net::{IpAddr, SocketAddr};
use core::time::Duration;

use crate::os::Instant;

use super::neighbour::NoMemory;

/// Datagrams held per neighbour, at most.
pub const PER_NEIGHBOUR: usize = 3;
/// How long a datagram is held, at most (the span of the three resolution
/// requests, `MAX_TRIES` x `RETRY_INTERVAL`).
pub const MAX_AGE: Duration = Duration::from_secs(3);

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum State {
    Free,
    /// Waiting for its neighbour.
    Queued,
    /// Taken by a flush: its buffer is out, being sent.
    Sending,
}

#[derive(Debug)]
struct Slot {
    state: State,
    dst: SocketAddr,
    len: usize,
    held: Instant,
    /// Order of arrival (a counter over the pool).
    seq: u64,
    buf: Vec<u8>,
}

/// The result of [`PendingPool::hold`].
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default)]
pub struct Held {
    /// Whether the datagram is held now.
    pub held: bool,
    /// Whether the neighbour's oldest datagram was dropped for it.
    pub replaced: bool,
    /// Expired slots freed by the scan.
    pub expired: u64,
}

/// A slot taken out for sending by [`PendingPool::take_next`]: give it back
/// with [`PendingPool::give_back`] once sent.
#[derive(Debug)]
pub struct Taken {
    index: usize,
    /// Where the datagram goes.
    pub dst: SocketAddr,
    len: usize,
    buf: Vec<u8>,
}

impl Taken {
    /// The held datagram.
    ///
    /// IRQL: any.
    pub fn datagram(&self) -> &[u8] {
        self.buf.get(..self.len).unwrap_or(&[])
    }
}

/// A fixed pool of pending-datagram slots.
#[derive(Debug)]
pub struct PendingPool {
    slots: Vec<Slot>,
    next_seq: u64,
}

/// What [`PendingPool::take_next`] found.
#[derive(Debug)]
pub struct Next {
    /// The oldest datagram of the neighbour, now `Sending`, if any.
    pub taken: Option<Taken>,
    /// Expired slots freed by the scan.
    pub expired: u64,
}

impl PendingPool {
    /// `count` slots of `size` bytes each, reserved with
    /// `try_reserve_exact`.
    ///
    /// IRQL: PASSIVE_LEVEL (allocates).
    pub fn new(count: usize, size: usize) -> Result<Self, NoMemory> {
        let mut slots = Vec::new();
        slots.try_reserve_exact(count).map_err(|_| NoMemory)?;
        for _ in 0..count {
            let mut buf = Vec::new();
            buf.try_reserve_exact(size).map_err(|_| NoMemory)?;
            buf.resize(size, 0);
            slots.push(Slot {
                state: State::Free,
                dst: SocketAddr::new(IpAddr::V4(core::net::Ipv4Addr::UNSPECIFIED), 0),
                len: 0,
                held: Instant::from_nanos(0),
                seq: 0,
                buf,
            });
        }
        Ok(PendingPool { slots, next_seq: 0 })
    }

    /// The number of slots.
    ///
    /// IRQL: any.
    pub fn capacity(&self) -> usize {
        self.slots.len()
    }

    /// Slots holding a datagram (queued or being sent).
    ///
    /// IRQL: any.
    pub fn len(&self) -> usize {
        self.slots.iter().filter(|s| s.state != State::Free).count()
    }

    /// Whether no slot is in use.
    ///
    /// IRQL: any.
    pub fn is_empty(&self) -> bool {
        self.len() == 0
    }

    /// Datagrams waiting for `ip` (not counting those being sent).
    ///
    /// IRQL: any.
    pub fn queued(&self, ip: IpAddr) -> usize {
        self.slots
            .iter()
            .filter(|s| s.state == State::Queued && s.dst.ip() == ip)
            .count()
    }

    /// Whether a flush of `ip` is under way (one of its slots is out).
    ///
    /// IRQL: any.
    pub fn flushing(&self, ip: IpAddr) -> bool {
        self.slots
            .iter()
            .any(|s| s.state == State::Sending && s.dst.ip() == ip)
    }

    /// Frees queued slots older than [`MAX_AGE`] at `now`; returns how many.
    ///
    /// IRQL: any (pure).
    pub fn expire(&mut self, now: Instant) -> u64 {
        let mut n = 0;
        for s in &mut self.slots {
            if s.state == State::Queued && now >= s.held.saturating_add(MAX_AGE) {
                s.state = State::Free;
                n += 1;
            }
        }
        n
    }

    /// Holds a copy of `datagram` for `dst` (see the module doc for the
    /// per-neighbour cap and the age limit). A datagram longer than a slot
    /// is not held.
    ///
    /// IRQL: any (pure).
    pub fn hold(&mut self, dst: SocketAddr, datagram: &[u8], now: Instant) -> Held {
        let expired = self.expire(now);
        let mut out = Held {
            expired,
            ..Held::default()
        };
        let ip = dst.ip();
        let index = if self.queued(ip) >= PER_NEIGHBOUR {
            out.replaced = true;
            self.oldest(ip)
        } else {
            self.slots.iter().position(|s| s.state == State::Free)
        };
        let Some(slot) = index.and_then(|i| self.slots.get_mut(i)) else {
            out.replaced = false;
            return out;
        };
        let Some(room) = slot.buf.get_mut(..datagram.len()) else {
            out.replaced = false;
            return out;
        };
        room.copy_from_slice(datagram);
        slot.state = State::Queued;
        slot.dst = dst;
        slot.len = datagram.len();
        slot.held = now;
        slot.seq = self.next_seq;
        self.next_seq = self.next_seq.wrapping_add(1);
        out.held = true;
        out
    }

    /// The queued slot of `ip` that arrived first.
    fn oldest(&self, ip: IpAddr) -> Option<usize> {
        self.slots
            .iter()
            .enumerate()
            .filter(|(_, s)| s.state == State::Queued && s.dst.ip() == ip)
            .min_by_key(|(_, s)| s.seq)
            .map(|(i, _)| i)
    }

    /// Takes the oldest unexpired queued datagram of `ip` out for sending
    /// (its slot becomes `Sending`, its buffer moves into the [`Taken`]).
    ///
    /// IRQL: any (pure).
    pub fn take_next(&mut self, ip: IpAddr, now: Instant) -> Next {
        let expired = self.expire(now);
        let taken = self.oldest(ip).and_then(|index| {
            let slot = self.slots.get_mut(index)?;
            slot.state = State::Sending;
            Some(Taken {
                index,
                dst: slot.dst,
                len: slot.len,
                buf: core::mem::take(&mut slot.buf),
            })
        });
        Next { taken, expired }
    }

    /// Returns a sent slot's buffer; the slot is free again.
    ///
    /// IRQL: any (pure).
    pub fn give_back(&mut self, taken: Taken) {
        if let Some(slot) = self.slots.get_mut(taken.index) {
            slot.buf = taken.buf;
            slot.state = State::Free;
            slot.len = 0;
        }
    }

    /// Frees the queued datagrams of `ip` (its resolution failed); returns
    /// how many. Slots being sent are left to their flush.
    ///
    /// IRQL: any (pure).
    pub fn drop_for(&mut self, ip: IpAddr) -> u64 {
        let mut n = 0;
        for s in &mut self.slots {
            if s.state == State::Queued && s.dst.ip() == ip {
                s.state = State::Free;
                n += 1;
            }
        }
        n
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use alloc::vec;
    use core::net::Ipv4Addr;

    fn dst(n: u8) -> SocketAddr {
        SocketAddr::new(IpAddr::V4(Ipv4Addr::new(10, 0, 0, n)), 4791)
    }

    fn at(ms: u64) -> Instant {
        Instant::from_nanos(ms * 1_000_000)
    }

    fn drain(p: &mut PendingPool, n: u8, now: Instant) -> Vec<Vec<u8>> {
        let mut out = Vec::new();
        while let Some(t) = p.take_next(dst(n).ip(), now).taken {
            out.push(t.datagram().to_vec());
            p.give_back(t);
        }
        out
    }

    #[test]
    fn held_datagrams_leave_in_order_per_neighbour() {
        let mut p = PendingPool::new(4, 8).unwrap();
        assert!(p.hold(dst(1), &[1], at(0)).held);
        assert!(p.hold(dst(2), &[2], at(1)).held);
        assert!(p.hold(dst(1), &[3, 3], at(2)).held);
        assert_eq!((p.queued(dst(1).ip()), p.len()), (2, 3));
        assert_eq!(drain(&mut p, 1, at(3)), [vec![1], vec![3, 3]]);
        assert_eq!(drain(&mut p, 2, at(3)), [vec![2]]);
        assert!(p.is_empty());
    }

    #[test]
    fn the_fourth_replaces_the_oldest_and_a_full_pool_refuses() {
        let mut p = PendingPool::new(4, 8).unwrap();
        for i in 0..3 {
            let h = p.hold(dst(1), &[i], at(u64::from(i)));
            assert_eq!((h.held, h.replaced), (true, false));
        }
        let h = p.hold(dst(1), &[3], at(3));
        assert_eq!((h.held, h.replaced), (true, true));
        assert!(p.hold(dst(2), &[9], at(4)).held);
        // Pool full: dst 3 has nothing to replace.
        assert_eq!(p.hold(dst(3), &[7], at(5)), Held::default());
        assert_eq!(drain(&mut p, 1, at(6)), [vec![1], vec![2], vec![3]]);
        // Too long for a slot: not held.
        assert!(!p.hold(dst(3), &[0; 9], at(7)).held);
        assert!(p.hold(dst(3), &[0; 8], at(7)).held);
    }

    #[test]
    fn expired_slots_are_freed_when_found() {
        let mut p = PendingPool::new(1, 8).unwrap();
        assert!(p.hold(dst(1), &[1], at(0)).held);
        assert!(!p.hold(dst(2), &[2], at(2999)).held);
        let h = p.hold(dst(2), &[2], at(3000));
        assert_eq!((h.held, h.expired), (true, 1));
        let n = p.take_next(dst(2).ip(), at(6000));
        assert!(n.taken.is_none());
        assert_eq!(n.expired, 1);
        assert!(p.is_empty());
    }

    #[test]
    fn a_slot_being_sent_is_neither_reused_nor_dropped() {
        let mut p = PendingPool::new(2, 8).unwrap();
        p.hold(dst(1), &[1], at(0));
        p.hold(dst(1), &[2], at(0));
        let t = p.take_next(dst(1).ip(), at(1)).taken.unwrap();
        assert!(p.flushing(dst(1).ip()));
        assert_eq!(p.drop_for(dst(1).ip()), 1);
        assert_eq!(p.expire(at(10_000)), 0);
        assert!(p.hold(dst(2), &[3], at(10_000)).held);
        assert!(!p.hold(dst(3), &[4], at(10_000)).held, "one slot out");
        assert_eq!(t.datagram(), [1]);
        p.give_back(t);
        assert!(!p.flushing(dst(1).ip()));
        assert_eq!(p.len(), 1);
    }

    #[test]
    fn zero_slots_hold_nothing() {
        let mut p = PendingPool::new(0, 8).unwrap();
        assert_eq!(p.capacity(), 0);
        assert!(!p.hold(dst(1), &[1], at(0)).held);
    }
}
