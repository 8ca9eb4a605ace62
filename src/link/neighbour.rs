//! The sans-IO neighbour cache: destination IP -> next-hop MAC, with the
//! resolution state machine (incomplete with retries, reachable, stale,
//! failed). Owns the table and its timing rules only; must not send frames,
//! read a clock or take locks (the carrier does, and passes `now`).
//!
//! States of an entry, by destination address:
//! - **Incomplete**: resolution asked at `t`; [`Lookup::Pending`] until
//!   `t + RETRY_INTERVAL`, then asked again ([`Lookup::Resolve`]); after
//!   [`MAX_TRIES`] unanswered asks it is **Failed**.
//! - **Reachable**: confirmed at `t`; [`Lookup::Mac`] without refresh until
//!   `t + REACHABLE_TIME`. After that it is *stale*: the MAC is still used but
//!   a refresh is asked for (`refresh: true`) at most once per
//!   `RETRY_INTERVAL`; after [`MAX_TRIES`] unanswered refreshes it is Failed.
//! - **Failed**: [`Lookup::Failed`] for `FAILED_HOLD`, then resolution starts
//!   again.
//!
//! The table has a fixed capacity, reserved fallibly in [`NeighbourCache::new`];
//! nothing allocates afterwards. Lookups are linear (tables are small).

use alloc::vec::Vec;
use core::net::IpAddr;
use core::time::Duration;

use crate::os::Instant;

use super::port::MacAddr;

/// Time between two resolution requests for one address.
pub const RETRY_INTERVAL: Duration = Duration::from_secs(1);
/// Unanswered requests before an entry fails.
pub const MAX_TRIES: u8 = 3;
/// How long a failed entry answers [`Lookup::Failed`].
pub const FAILED_HOLD: Duration = Duration::from_secs(5);
/// How long a confirmed MAC is used without asking for a refresh.
pub const REACHABLE_TIME: Duration = Duration::from_secs(60);

/// What to do to send to an address.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Lookup {
    /// Send to this MAC; if `refresh`, also ask for the address again.
    Mac(MacAddr, bool),
    /// Unknown: ask for its resolution now (an entry now waits for it).
    Resolve,
    /// Asked already; the answer has not come yet.
    Pending,
    /// Resolution failed recently.
    Failed,
}

/// The table could not be allocated.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct NoMemory;

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum State {
    Free,
    Incomplete {
        asked: Instant,
        tries: u8,
    },
    Reachable {
        mac: MacAddr,
        confirmed: Instant,
        /// When the last refresh was asked (stale entries) and how many.
        refreshed: Option<Instant>,
        tries: u8,
    },
    Failed {
        since: Instant,
    },
}

#[derive(Debug, Clone, Copy)]
struct Entry {
    ip: IpAddr,
    state: State,
    /// When the entry last changed state (eviction picks the oldest).
    touched: Instant,
}

const FREE: Entry = Entry {
    ip: IpAddr::V4(core::net::Ipv4Addr::UNSPECIFIED),
    state: State::Free,
    touched: Instant::from_nanos(0),
};

/// A fixed-capacity neighbour table.
#[derive(Debug)]
pub struct NeighbourCache {
    entries: Vec<Entry>,
}

impl NeighbourCache {
    /// A table of `capacity` entries, reserved with `try_reserve_exact`.
    ///
    /// IRQL: PASSIVE_LEVEL (allocates).
    pub fn new(capacity: usize) -> Result<Self, NoMemory> {
        let mut entries = Vec::new();
        entries.try_reserve_exact(capacity).map_err(|_| NoMemory)?;
        entries.resize(capacity, FREE);
        Ok(NeighbourCache { entries })
    }

    /// The number of entries the table holds.
    ///
    /// IRQL: any.
    pub fn capacity(&self) -> usize {
        self.entries.len()
    }

    /// Entries in use (any state but free).
    ///
    /// IRQL: any.
    pub fn len(&self) -> usize {
        self.entries
            .iter()
            .filter(|e| e.state != State::Free)
            .count()
    }

    /// Whether no entry is in use.
    ///
    /// IRQL: any.
    pub fn is_empty(&self) -> bool {
        self.len() == 0
    }

    /// Whether `ip` has an entry (in any state).
    ///
    /// IRQL: any.
    pub fn contains(&self, ip: IpAddr) -> bool {
        self.entries
            .iter()
            .any(|e| e.state != State::Free && e.ip == ip)
    }

    fn find(&mut self, ip: IpAddr) -> Option<&mut Entry> {
        self.entries
            .iter_mut()
            .find(|e| e.state != State::Free && e.ip == ip)
    }

    /// A free slot, else the least recently changed entry that is not a
    /// live incomplete one (an incomplete entry whose retry is overdue counts
    /// as abandoned and may go).
    fn slot(&mut self, now: Instant) -> Option<&mut Entry> {
        if let Some(i) = self.entries.iter().position(|e| e.state == State::Free) {
            return self.entries.get_mut(i);
        }
        self.entries
            .iter_mut()
            .filter(|e| match e.state {
                State::Incomplete { asked, .. } => now >= asked.saturating_add(RETRY_INTERVAL),
                _ => true,
            })
            .min_by_key(|e| e.touched)
    }

    /// What to do to send to `ip` at `now`; moves the entry along its state
    /// machine (see the module doc). A new address takes a free or evictable
    /// slot and answers [`Lookup::Resolve`]; with none, [`Lookup::Pending`].
    ///
    /// IRQL: any (pure).
    pub fn lookup(&mut self, ip: IpAddr, now: Instant) -> Lookup {
        let Some(e) = self.find(ip) else {
            return match self.slot(now) {
                Some(e) => {
                    *e = incomplete(ip, now);
                    Lookup::Resolve
                }
                None => Lookup::Pending,
            };
        };
        match e.state {
            State::Free => Lookup::Pending,
            State::Incomplete { asked, tries } => {
                let due = asked.saturating_add(RETRY_INTERVAL);
                if now < due {
                    Lookup::Pending
                } else if tries < MAX_TRIES {
                    e.state = State::Incomplete {
                        asked: now,
                        tries: tries.saturating_add(1),
                    };
                    e.touched = now;
                    Lookup::Resolve
                } else {
                    fail_or_restart(e, ip, due, now)
                }
            }
            State::Reachable {
                mac,
                confirmed,
                refreshed,
                tries,
            } => {
                if now < confirmed.saturating_add(REACHABLE_TIME) {
                    return Lookup::Mac(mac, false);
                }
                let due = refreshed.map(|t| t.saturating_add(RETRY_INTERVAL));
                match due {
                    Some(due) if now < due => Lookup::Mac(mac, false),
                    Some(due) if tries >= MAX_TRIES => fail_or_restart(e, ip, due, now),
                    _ => {
                        e.state = State::Reachable {
                            mac,
                            confirmed,
                            refreshed: Some(now),
                            tries: tries.saturating_add(1),
                        };
                        Lookup::Mac(mac, true)
                    }
                }
            }
            State::Failed { since } => fail_or_restart(e, ip, since, now),
        }
    }

    /// `ip` resolved to `mac` (an answer to our request, or the OS's): the
    /// entry becomes reachable; a new entry is made if a slot is free or
    /// evictable. Returns whether the table holds the answer now.
    ///
    /// IRQL: any (pure).
    pub fn resolved(&mut self, ip: IpAddr, mac: MacAddr, now: Instant) -> bool {
        let e = match self.find(ip) {
            Some(e) => e,
            None => match self.slot(now) {
                Some(e) => e,
                None => return false,
            },
        };
        *e = reachable(ip, mac, now);
        true
    }

    /// Resolving `ip` failed: an existing entry fails now (for
    /// `FAILED_HOLD`). Returns whether there was one.
    ///
    /// IRQL: any (pure).
    pub fn failed(&mut self, ip: IpAddr, now: Instant) -> bool {
        match self.find(ip) {
            Some(e) => {
                e.state = State::Failed { since: now };
                e.touched = now;
                true
            }
            None => false,
        }
    }

    /// The RFC 826 merge: if `ip` has an entry, it becomes reachable at
    /// `mac`; otherwise nothing is inserted. Returns whether it updated.
    ///
    /// IRQL: any (pure).
    pub fn learn(&mut self, ip: IpAddr, mac: MacAddr, now: Instant) -> bool {
        match self.find(ip) {
            Some(e) => {
                *e = reachable(ip, mac, now);
                true
            }
            None => false,
        }
    }
}

fn incomplete(ip: IpAddr, now: Instant) -> Entry {
    Entry {
        ip,
        state: State::Incomplete {
            asked: now,
            tries: 1,
        },
        touched: now,
    }
}

fn reachable(ip: IpAddr, mac: MacAddr, now: Instant) -> Entry {
    Entry {
        ip,
        state: State::Reachable {
            mac,
            confirmed: now,
            refreshed: None,
            tries: 0,
        },
        touched: now,
    }
}

/// An entry that failed at `since`: [`Lookup::Failed`] within the hold,
/// else a fresh resolution.
fn fail_or_restart(e: &mut Entry, ip: IpAddr, since: Instant, now: Instant) -> Lookup {
    if now < since.saturating_add(FAILED_HOLD) {
        if e.state != (State::Failed { since }) {
            e.state = State::Failed { since };
            e.touched = since;
        }
        Lookup::Failed
    } else {
        *e = incomplete(ip, now);
        Lookup::Resolve
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use core::net::Ipv4Addr;

    const MAC: MacAddr = [2, 0, 0, 0, 0, 1];
    const MAC2: MacAddr = [2, 0, 0, 0, 0, 2];

    fn ip(n: u8) -> IpAddr {
        IpAddr::V4(Ipv4Addr::new(10, 0, 0, n))
    }

    fn at(ms: u64) -> Instant {
        Instant::from_nanos(ms * 1_000_000)
    }

    #[test]
    fn incomplete_retries_then_fails_then_retries_again() {
        let mut c = NeighbourCache::new(2).unwrap();
        assert_eq!(c.lookup(ip(1), at(0)), Lookup::Resolve);
        assert_eq!(c.lookup(ip(1), at(999)), Lookup::Pending);
        assert_eq!(c.lookup(ip(1), at(1000)), Lookup::Resolve); // try 2
        assert_eq!(c.lookup(ip(1), at(1500)), Lookup::Pending);
        assert_eq!(c.lookup(ip(1), at(2000)), Lookup::Resolve); // try 3
        assert_eq!(c.lookup(ip(1), at(2999)), Lookup::Pending);
        // The third ask went unanswered: failed from t=3 s for 5 s.
        assert_eq!(c.lookup(ip(1), at(3000)), Lookup::Failed);
        assert_eq!(c.lookup(ip(1), at(7999)), Lookup::Failed);
        assert_eq!(c.lookup(ip(1), at(8000)), Lookup::Resolve);
        assert_eq!(c.lookup(ip(1), at(8001)), Lookup::Pending);
    }

    #[test]
    fn a_late_first_lookup_after_exhaustion_counts_from_the_last_ask() {
        let mut c = NeighbourCache::new(1).unwrap();
        c.lookup(ip(1), at(0));
        c.lookup(ip(1), at(1000));
        c.lookup(ip(1), at(2000));
        // Nobody looked for 10 s: the failure (3 s .. 8 s) is over.
        assert_eq!(c.lookup(ip(1), at(12_000)), Lookup::Resolve);
    }

    #[test]
    fn reachable_then_stale_refreshes_then_fails() {
        let mut c = NeighbourCache::new(1).unwrap();
        assert_eq!(c.lookup(ip(1), at(0)), Lookup::Resolve);
        assert!(c.resolved(ip(1), MAC, at(10)));
        assert_eq!(c.lookup(ip(1), at(10)), Lookup::Mac(MAC, false));
        assert_eq!(c.lookup(ip(1), at(60_009)), Lookup::Mac(MAC, false));
        // Stale: used, refresh asked once per second, three times.
        assert_eq!(c.lookup(ip(1), at(60_010)), Lookup::Mac(MAC, true));
        assert_eq!(c.lookup(ip(1), at(60_500)), Lookup::Mac(MAC, false));
        assert_eq!(c.lookup(ip(1), at(61_010)), Lookup::Mac(MAC, true));
        assert_eq!(c.lookup(ip(1), at(62_010)), Lookup::Mac(MAC, true));
        assert_eq!(c.lookup(ip(1), at(62_500)), Lookup::Mac(MAC, false));
        // No answer to three refreshes: failed.
        assert_eq!(c.lookup(ip(1), at(63_010)), Lookup::Failed);
        assert_eq!(c.lookup(ip(1), at(68_010)), Lookup::Resolve);
    }

    #[test]
    fn an_answer_to_a_refresh_makes_it_reachable_again() {
        let mut c = NeighbourCache::new(1).unwrap();
        c.resolved(ip(1), MAC, at(0));
        assert_eq!(c.lookup(ip(1), at(60_000)), Lookup::Mac(MAC, true));
        assert!(c.learn(ip(1), MAC2, at(60_100)));
        assert_eq!(c.lookup(ip(1), at(60_200)), Lookup::Mac(MAC2, false));
        assert_eq!(c.lookup(ip(1), at(120_099)), Lookup::Mac(MAC2, false));
        assert_eq!(c.lookup(ip(1), at(120_100)), Lookup::Mac(MAC2, true));
    }

    #[test]
    fn failed_from_the_os_holds_then_retries() {
        let mut c = NeighbourCache::new(1).unwrap();
        assert!(!c.failed(ip(1), at(0)), "no entry, nothing to fail");
        assert_eq!(c.lookup(ip(1), at(0)), Lookup::Resolve);
        assert!(c.failed(ip(1), at(100)));
        assert_eq!(c.lookup(ip(1), at(5099)), Lookup::Failed);
        assert_eq!(c.lookup(ip(1), at(5100)), Lookup::Resolve);
        // A reachable entry can fail too.
        c.resolved(ip(1), MAC, at(5200));
        c.failed(ip(1), at(5300));
        assert_eq!(c.lookup(ip(1), at(5300)), Lookup::Failed);
        // An answer ends a failure at once.
        c.resolved(ip(1), MAC, at(5400));
        assert_eq!(c.lookup(ip(1), at(5400)), Lookup::Mac(MAC, false));
    }

    #[test]
    fn learn_updates_but_never_inserts() {
        let mut c = NeighbourCache::new(2).unwrap();
        assert!(!c.learn(ip(1), MAC, at(0)));
        assert!(c.is_empty());
        assert_eq!(c.lookup(ip(1), at(0)), Lookup::Resolve);
        assert!(c.learn(ip(1), MAC, at(1)));
        assert_eq!(c.lookup(ip(1), at(2)), Lookup::Mac(MAC, false));
        assert!(c.learn(ip(1), MAC2, at(3)));
        assert_eq!(c.lookup(ip(1), at(4)), Lookup::Mac(MAC2, false));
        assert_eq!(c.len(), 1);
    }

    #[test]
    fn eviction_takes_the_oldest_settled_entry_never_a_live_incomplete() {
        let mut c = NeighbourCache::new(3).unwrap();
        assert_eq!(c.capacity(), 3);
        c.resolved(ip(1), MAC, at(0));
        c.resolved(ip(2), MAC2, at(10));
        assert_eq!(c.lookup(ip(3), at(20)), Lookup::Resolve);
        // Full: ip(4) evicts ip(1), the oldest non-incomplete.
        assert_eq!(c.lookup(ip(4), at(30)), Lookup::Resolve);
        assert_eq!(c.len(), 3);
        assert_eq!(c.lookup(ip(2), at(40)), Lookup::Mac(MAC2, false));
        assert_eq!(c.lookup(ip(3), at(40)), Lookup::Pending);
        // ip(1) is gone: asking again evicts ip(2), the only settled one.
        assert_eq!(c.lookup(ip(1), at(50)), Lookup::Resolve);
        // Now all three are live incompletes: no room, no answer inserted.
        assert_eq!(c.lookup(ip(5), at(60)), Lookup::Pending);
        assert!(!c.resolved(ip(5), MAC, at(60)));
        // Once a retry is overdue, that incomplete entry may go.
        assert_eq!(c.lookup(ip(5), at(1020)), Lookup::Resolve);
        assert_eq!(c.len(), 3);
    }

    #[test]
    fn addresses_of_both_families_are_distinct_keys() {
        let mut c = NeighbourCache::new(2).unwrap();
        let v6 = IpAddr::V6(Ipv4Addr::new(10, 0, 0, 1).to_ipv6_mapped());
        c.resolved(ip(1), MAC, at(0));
        assert_eq!(c.lookup(v6, at(0)), Lookup::Resolve);
        c.resolved(v6, MAC2, at(1));
        assert_eq!(c.lookup(ip(1), at(2)), Lookup::Mac(MAC, false));
        assert_eq!(c.lookup(v6, at(2)), Lookup::Mac(MAC2, false));
    }

    #[test]
    fn zero_capacity_never_resolves() {
        let mut c = NeighbourCache::new(0).unwrap();
        assert_eq!(c.lookup(ip(1), at(0)), Lookup::Pending);
        assert!(!c.resolved(ip(1), MAC, at(0)));
    }
}
