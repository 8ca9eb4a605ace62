//! The initiator queue's completion order: every accepted initiator request
//! (engine work requests and the local Bind / FastRegister / Invalidate)
//! takes a slot in posting order; its completion is recorded in its slot
//! when it happens and released to the initiator CQ only once every earlier
//! request was released. The slot number is the engine's wr_id and the
//! index of the request's inline copy. Owns that ring; must not queue
//! completions itself.
#![deny(unsafe_code)]

use alloc::vec::Vec;

use crate::verbs::cq::CqEntry;

/// One initiator request.
#[derive(Debug, Clone, Copy, Default)]
struct Req {
    /// The consumer's RequestContext.
    ctx: usize,
    /// SILENT_SUCCESS: a successful completion is not reported.
    silent: bool,
    /// RDMA_READ_LOCAL_INVALIDATE: the local token to invalidate when the
    /// request succeeds.
    invalidate: Option<u32>,
    /// Its completion, once known.
    done: Option<CqEntry>,
}

/// Preallocated at QP create (InitiatorQueueDepth slots).
#[derive(Debug)]
pub(crate) struct OrderRing {
    reqs: Vec<Req>,
    head: usize,
    len: usize,
}

impl OrderRing {
    /// A ring of `depth` (at least 1) slots.
    ///
    /// IRQL: <= DISPATCH_LEVEL, at create time (allocates).
    pub fn try_new(depth: usize) -> Option<Self> {
        let mut reqs = Vec::new();
        reqs.try_reserve_exact(depth.max(1)).ok()?;
        reqs.resize(depth.max(1), Req::default());
        Some(Self {
            reqs,
            head: 0,
            len: 0,
        })
    }

    /// Requests outstanding (accepted, not yet released).
    #[cfg(test)]
    pub fn len(&self) -> usize {
        self.len
    }

    /// Whether another request fits.
    pub fn is_full(&self) -> bool {
        self.len >= self.reqs.len()
    }

    /// The slot the next request will take.
    pub fn next_slot(&self) -> usize {
        (self.head + self.len) % self.reqs.len()
    }

    /// Takes the next slot for the request `ctx`; `None` when full.
    pub fn push(&mut self, ctx: usize, silent: bool, done: Option<CqEntry>) -> Option<usize> {
        self.push_invalidating(ctx, silent, done, None)
    }

    /// As [`OrderRing::push`], with a local token to invalidate on success.
    pub fn push_invalidating(
        &mut self,
        ctx: usize,
        silent: bool,
        done: Option<CqEntry>,
        invalidate: Option<u32>,
    ) -> Option<usize> {
        if self.is_full() {
            return None;
        }
        let slot = self.next_slot();
        *self.reqs.get_mut(slot)? = Req {
            ctx,
            silent,
            invalidate,
            done,
        };
        self.len += 1;
        Some(slot)
    }

    /// Records the completion of the request in `slot`, with the request's
    /// RequestContext (ignored for a slot that is not outstanding).
    pub fn complete(&mut self, slot: usize, entry: CqEntry) {
        let n = self.reqs.len();
        let pos = (slot + n - self.head % n) % n;
        if slot < n && pos < self.len {
            if let Some(r) = self.reqs.get_mut(slot) {
                r.done = Some(CqEntry {
                    request_context: r.ctx,
                    ..entry
                });
            }
        }
    }

    /// Releases the front request if it completed: `Some(Some(entry))` to
    /// report, `Some(None)` for a silent success, `None` if the front is
    /// still outstanding (or nothing is).
    #[cfg(test)]
    pub fn pop_ready(&mut self) -> Option<Option<CqEntry>> {
        self.pop_ready_invalidating().map(|(e, _)| e)
    }

    /// As [`OrderRing::pop_ready`], with the local token the request asked
    /// to invalidate if it succeeded.
    pub fn pop_ready_invalidating(&mut self) -> Option<(Option<CqEntry>, Option<u32>)> {
        if self.len == 0 {
            return None;
        }
        let r = *self.reqs.get(self.head)?;
        let entry = r.done?;
        self.head = (self.head + 1) % self.reqs.len();
        self.len -= 1;
        let ok = !entry.is_error();
        let report = if r.silent && ok { None } else { Some(entry) };
        Some((report, r.invalidate.filter(|_| ok)))
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn e(ctx: usize, status: i32) -> CqEntry {
        CqEntry {
            status,
            request_context: ctx,
            ..CqEntry::default()
        }
    }

    #[test]
    fn releases_in_posting_order_and_hides_silent_successes() {
        let mut r = OrderRing::try_new(3).unwrap();
        let a = r.push(1, false, None).unwrap();
        let _b = r.push(2, true, Some(e(2, 0))).unwrap();
        let c = r.push(3, true, None).unwrap();
        assert!(r.is_full() && r.push(4, false, None).is_none());
        r.complete(c, e(99, -1));
        assert!(r.pop_ready().is_none(), "a is still outstanding");
        r.complete(a, e(98, 0));
        assert_eq!(r.pop_ready(), Some(Some(e(1, 0))));
        assert_eq!(r.pop_ready(), Some(None), "silent success");
        assert_eq!(r.pop_ready(), Some(Some(e(3, -1))), "silent error reported");
        assert_eq!((r.pop_ready(), r.len()), (None, 0));
        assert_eq!(r.push(5, false, None), Some(0), "wraps");
        r.complete(2, e(9, 0)); // not outstanding: ignored
        assert!(r.pop_ready().is_none());
    }
}
