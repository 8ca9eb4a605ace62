//! Shared receive queue state: depth, the NotifyThreshold limit event
//! (one-shot: armed by create/modify with a non-zero threshold, fired once
//! when the posted count falls below it) and the receive ring.
//!
//! Owns the counting rule; must not call the consumer (it returns whether to
//! notify; `ndk` delivers the callback, serialized, with no lock held).

use super::wq::{QueueFull, RecvQueue, Sge};

/// Why a modify was refused.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum ModifyError {
    /// Zero depth, or fewer slots than receives already posted.
    TooSmall,
    /// The threshold is above the depth.
    BadThreshold,
}

/// An SRQ.
#[derive(Debug)]
pub struct Srq {
    queue: RecvQueue,
    threshold: u32,
}

impl Srq {
    /// An SRQ over `queue` (allocated by the caller at create time), limit
    /// armed at `threshold` (0 = disarmed). IRQL: any.
    pub fn new(queue: RecvQueue, threshold: u32) -> Self {
        Self { queue, threshold }
    }

    /// The receive ring. IRQL: any.
    pub fn queue(&self) -> &RecvQueue {
        &self.queue
    }

    /// The current threshold (0 = disarmed). IRQL: any.
    pub fn threshold(&self) -> u32 {
        self.threshold
    }

    /// Posts a receive. IRQL: <= DISPATCH_LEVEL (no allocation).
    pub fn post(&mut self, ctx: usize, sges: &[Sge]) -> Result<(), QueueFull> {
        self.queue.push(ctx, sges)
    }

    /// Takes the oldest receive for an incoming message (the data path).
    /// Returns its context and whether the limit event fires now (the count
    /// fell below an armed threshold; the threshold is then disarmed).
    /// IRQL: <= DISPATCH_LEVEL.
    pub fn take(&mut self, sges_out: &mut [Sge]) -> Option<(usize, usize, bool)> {
        let (ctx, n) = self.queue.pop(sges_out)?;
        let fire = self.threshold != 0 && (self.queue.len() as u64) < u64::from(self.threshold);
        if fire {
            self.threshold = 0;
        }
        Some((ctx, n, fire))
    }

    /// NdkModifySrq's checks for a new depth and threshold (0 disarms).
    /// IRQL: any.
    pub fn check_modify(&self, depth: u32, threshold: u32) -> Result<(), ModifyError> {
        if depth == 0 || (depth as usize) < self.queue.len() {
            return Err(ModifyError::TooSmall);
        }
        if threshold > depth {
            return Err(ModifyError::BadThreshold);
        }
        Ok(())
    }

    /// Applies a checked modify: moves the posted receives into `new_queue`
    /// (a ring the caller allocated for a new depth, if any) and re-arms the
    /// threshold. IRQL: <= DISPATCH_LEVEL (no allocation).
    pub fn apply_modify(&mut self, new_queue: Option<RecvQueue>, threshold: u32) {
        if let Some(mut q) = new_queue {
            let mut sges = [Sge::default(); super::wq::MAX_SGE];
            while let Some((ctx, n)) = self.queue.pop(&mut sges) {
                let _ = q.push(ctx, sges.get(..n).unwrap_or(&[]));
            }
            self.queue = q;
        }
        self.threshold = threshold;
    }

    /// Discards every posted receive (close). Returns how many.
    /// IRQL: <= DISPATCH_LEVEL.
    pub fn clear(&mut self) -> usize {
        self.queue.clear()
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn limit_fires_once_below_threshold() {
        let mut s = Srq::new(RecvQueue::new(4, 1), 2);
        for i in 0..3 {
            s.post(i, &[]).unwrap();
        }
        let mut out = [Sge::default(); 1];
        assert_eq!(s.take(&mut out), Some((0, 0, false))); // 2 left: not below 2
        assert_eq!(s.take(&mut out), Some((1, 0, true))); // 1 left: fires
        assert_eq!(s.threshold(), 0);
        assert_eq!(s.take(&mut out), Some((2, 0, false))); // disarmed
        assert_eq!(s.take(&mut out), None);
    }

    #[test]
    fn modify_checks_and_keeps_posted() {
        let mut s = Srq::new(RecvQueue::new(4, 1), 0);
        for i in 0..3 {
            s.post(i, &[]).unwrap();
        }
        assert_eq!(s.check_modify(2, 0), Err(ModifyError::TooSmall));
        assert_eq!(s.check_modify(0, 0), Err(ModifyError::TooSmall));
        assert_eq!(s.check_modify(8, 9), Err(ModifyError::BadThreshold));
        assert_eq!(s.check_modify(8, 3), Ok(()));
        s.apply_modify(Some(RecvQueue::new(8, 1)), 3);
        assert_eq!(s.queue().len(), 3);
        assert_eq!(s.queue().depth(), 8);
        let mut out = [Sge::default(); 1];
        assert_eq!(s.take(&mut out), Some((0, 0, true)));
    }
}
