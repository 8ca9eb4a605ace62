//! A receive work queue: a ring of posted receives (request context + SGE
//! list) of fixed depth, with all SGE storage allocated at create time, as
//! QPs and SRQs need it. Owns the ring only; the checks of what an SGE names
//! live in `memory` and `lam`, and completions in `cq`.

use alloc::vec::Vec;

/// The most SGEs one request can carry (the adapter's advertised maximum).
pub const MAX_SGE: usize = 32;

/// One scatter/gather entry, as posted: the consumer's address (virtual, or
/// logical with the privileged token), length and token.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default)]
pub struct Sge {
    pub addr: u64,
    pub len: u32,
    pub token: u32,
}

/// The ring is full.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct QueueFull;

/// The ring could not be allocated.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct QueueAllocError;

/// A fixed-depth ring of posted receives.
#[derive(Debug)]
pub struct RecvQueue {
    ctx: Vec<usize>,
    counts: Vec<u8>,
    sges: Vec<Sge>,
    max_sge: usize,
    head: usize,
    len: usize,
}

impl RecvQueue {
    /// A ring of `depth` receives of up to `max_sge` (<= [`MAX_SGE`]) SGEs.
    /// Allocates everything now. An allocation failure gives an empty
    /// (depth 0) queue; create paths use [`RecvQueue::try_new`].
    /// IRQL: <= DISPATCH_LEVEL, at create time.
    pub fn new(depth: u32, max_sge: u32) -> Self {
        Self::try_new(depth, max_sge).unwrap_or_else(|_| Self::empty())
    }

    fn empty() -> Self {
        Self {
            ctx: Vec::new(),
            counts: Vec::new(),
            sges: Vec::new(),
            max_sge: 0,
            head: 0,
            len: 0,
        }
    }

    /// Like [`RecvQueue::new`], refusing instead of aborting on no memory.
    /// IRQL: <= DISPATCH_LEVEL, at create time.
    pub fn try_new(depth: u32, max_sge: u32) -> Result<Self, QueueAllocError> {
        let depth = depth as usize;
        let max_sge = (max_sge as usize).min(MAX_SGE);
        let mut q = Self::empty();
        q.max_sge = max_sge;
        q.ctx
            .try_reserve_exact(depth)
            .map_err(|_| QueueAllocError)?;
        q.counts
            .try_reserve_exact(depth)
            .map_err(|_| QueueAllocError)?;
        let sges = depth.checked_mul(max_sge).ok_or(QueueAllocError)?;
        q.sges
            .try_reserve_exact(sges)
            .map_err(|_| QueueAllocError)?;
        q.ctx.resize(depth, 0);
        q.counts.resize(depth, 0);
        q.sges.resize(sges, Sge::default());
        Ok(q)
    }

    /// Bytes a ring of this shape holds (for pool accounting). IRQL: any.
    pub fn bytes(depth: u32, max_sge: u32) -> usize {
        let depth = depth as usize;
        let per = core::mem::size_of::<usize>()
            + 1
            + (max_sge as usize).min(MAX_SGE) * core::mem::size_of::<Sge>();
        depth.saturating_mul(per)
    }

    /// Slots in the ring. IRQL: any.
    pub fn depth(&self) -> usize {
        self.ctx.len()
    }

    /// SGEs one receive may carry. IRQL: any.
    pub fn max_sge(&self) -> usize {
        self.max_sge
    }

    /// Receives posted and not yet taken. IRQL: any.
    pub fn len(&self) -> usize {
        self.len
    }

    /// True when nothing is posted. IRQL: any.
    pub fn is_empty(&self) -> bool {
        self.len == 0
    }

    /// Posts a receive. The caller has checked `sges.len() <= max_sge`;
    /// longer lists are refused as full. IRQL: <= DISPATCH_LEVEL.
    pub fn push(&mut self, ctx: usize, sges: &[Sge]) -> Result<(), QueueFull> {
        let depth = self.depth();
        if self.len >= depth || sges.len() > self.max_sge {
            return Err(QueueFull);
        }
        let slot = (self.head + self.len) % depth;
        let base = slot * self.max_sge;
        let dst = self
            .sges
            .get_mut(base..base + sges.len())
            .ok_or(QueueFull)?;
        dst.copy_from_slice(sges);
        if let (Some(c), Some(n)) = (self.ctx.get_mut(slot), self.counts.get_mut(slot)) {
            *c = ctx;
            *n = sges.len() as u8;
        }
        self.len += 1;
        Ok(())
    }

    /// Takes the oldest receive: its context and SGE count, SGEs copied into
    /// `out` (truncated to `out.len()`). IRQL: <= DISPATCH_LEVEL.
    pub fn pop(&mut self, out: &mut [Sge]) -> Option<(usize, usize)> {
        if self.len == 0 {
            return None;
        }
        let slot = self.head;
        let ctx = *self.ctx.get(slot)?;
        let n = usize::from(*self.counts.get(slot)?);
        let base = slot * self.max_sge;
        let k = n.min(out.len());
        if let (Some(src), Some(dst)) = (self.sges.get(base..base + k), out.get_mut(..k)) {
            dst.copy_from_slice(src);
        }
        self.head = (self.head + 1) % self.depth();
        self.len -= 1;
        Some((ctx, n))
    }

    /// Drops every posted receive; returns how many. IRQL: <= DISPATCH_LEVEL.
    pub fn clear(&mut self) -> usize {
        let n = self.len;
        self.len = 0;
        self.head = 0;
        n
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn fifo_with_sges_and_full() {
        let mut q = RecvQueue::new(2, 2);
        let a = Sge {
            addr: 1,
            len: 2,
            token: 3,
        };
        q.push(10, &[a]).unwrap();
        q.push(11, &[a, a]).unwrap();
        assert_eq!(q.push(12, &[]), Err(QueueFull));
        let mut out = [Sge::default(); 2];
        assert_eq!(q.pop(&mut out), Some((10, 1)));
        assert_eq!(out[0], a);
        q.push(12, &[]).unwrap();
        assert_eq!(q.pop(&mut out), Some((11, 2)));
        assert_eq!(q.pop(&mut out), Some((12, 0)));
        assert_eq!(q.pop(&mut out), None);
        assert_eq!(q.push(13, &[a, a, a]), Err(QueueFull));
    }
}
