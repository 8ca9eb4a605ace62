//! A completion queue: a ring of fixed depth with overrun detection, and the
//! NDK arming rules (one-shot notifications, the ERRORS/SOLICITED/ANY
//! combination table, immediate satisfaction of an arm when unseen entries
//! are present).
//!
//! Owns the ring and the arm state; must not call the consumer. It returns
//! *whether* to notify; `ndk` makes the callback (serialized per CQ, with no
//! lock held).

use alloc::collections::VecDeque;

/// One completion, in the shape of NDK_RESULT_EX.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default)]
pub struct CqEntry {
    /// NTSTATUS of the request.
    pub status: i32,
    /// Bytes received (receive completions only).
    pub bytes: u32,
    /// The QPContext given at QP creation.
    pub qp_context: usize,
    /// The RequestContext given at post time.
    pub request_context: usize,
    /// NDK_OPERATION_TYPE.
    pub op: u32,
    /// Provider-specific error code (0 on success).
    pub provider_error: u32,
    /// For ReceiveAndInvalidate: the invalidated token.
    pub type_specific: usize,
}

impl CqEntry {
    /// An error completion (NT_SUCCESS false).
    pub fn is_error(&self) -> bool {
        self.status < 0
    }
}

/// The kinds of arm: the ABI's NDK_CQ_NOTIFY_* enum (`CqNotifyType::try_from`
/// turns the consumer's value into one, refusing undefined values).
pub use crate::abi::CqNotifyType as NotifyType;

/// Strength in the combination table: ERRORS < SOLICITED < ANY, and a
/// re-arm before satisfaction keeps the stronger of the two.
fn rank(kind: NotifyType) -> u8 {
    match kind {
        NotifyType::Errors => 0,
        NotifyType::Solicited => 1,
        NotifyType::Any => 2,
    }
}

fn combine(old: NotifyType, new: NotifyType) -> NotifyType {
    if rank(new) > rank(old) {
        new
    } else {
        old
    }
}

/// The ring could not be allocated.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct NoMemory;

/// What a notification reports (the CqStatus argument of the callback).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum CqStatus {
    /// STATUS_SUCCESS: the arm was satisfied.
    Success,
    /// STATUS_BUFFER_OVERFLOW: the CQ overran; it and its QPs are unusable.
    Overflow,
    /// STATUS_INTERNAL_ERROR: a fatal provider error.
    InternalError,
}

/// Health of the CQ.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum CqHealth {
    Ok,
    Overrun,
    Failed,
}

/// Why a resize was refused.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum ResizeError {
    /// The new depth cannot hold the entries already queued (or is zero).
    TooSmall,
    /// The larger ring could not be allocated.
    NoMemory,
    /// The CQ overran or failed.
    Unusable,
}

/// A completion queue.
#[derive(Debug)]
pub struct Cq {
    ring: VecDeque<CqEntry>,
    depth: u32,
    arm: Option<NotifyType>,
    /// An entry arrived since the last notification.
    unseen_any: bool,
    /// A solicited or error entry arrived since the last notification.
    unseen_solicited: bool,
    health: CqHealth,
    /// The CQ error has been reported through a notification.
    error_reported: bool,
}

impl Cq {
    /// A CQ of `depth` entries (at least 1). Allocates the ring (aborting
    /// if it cannot: create paths use [`Cq::try_new`]).
    /// IRQL <= DISPATCH_LEVEL, at create time.
    pub fn new(depth: u32) -> Self {
        let mut cq = Self::empty(depth.max(1));
        cq.ring.reserve_exact(cq.depth as usize);
        cq
    }

    fn empty(depth: u32) -> Self {
        Self {
            ring: VecDeque::new(),
            depth,
            arm: None,
            unseen_any: false,
            unseen_solicited: false,
            health: CqHealth::Ok,
            error_reported: false,
        }
    }

    /// Like [`Cq::new`], but an allocation failure is an error, not an abort.
    /// IRQL <= DISPATCH_LEVEL, at create time.
    pub fn try_new(depth: u32) -> Result<Self, NoMemory> {
        let mut cq = Self::empty(depth.max(1));
        cq.ring
            .try_reserve_exact(cq.depth as usize)
            .map_err(|_| NoMemory)?;
        Ok(cq)
    }

    /// Bytes the ring holds for `depth` entries (for pool accounting).
    /// IRQL: any.
    pub fn ring_bytes(depth: u32) -> usize {
        (depth.max(1) as usize).saturating_mul(core::mem::size_of::<CqEntry>())
    }

    /// Whether the CQ still takes completions (not overrun, not failed).
    /// IRQL: any.
    pub fn is_usable(&self) -> bool {
        self.health == CqHealth::Ok
    }

    /// The depth the CQ was created or resized with.
    pub fn depth(&self) -> u32 {
        self.depth
    }

    /// Entries waiting to be polled.
    pub fn len(&self) -> usize {
        self.ring.len()
    }

    /// True when no entry waits.
    pub fn is_empty(&self) -> bool {
        self.ring.is_empty()
    }

    /// Overrun or failed CQs take no more completions.
    pub fn health(&self) -> CqHealth {
        self.health
    }

    /// The current arm, if any.
    pub fn armed(&self) -> Option<NotifyType> {
        self.arm
    }

    /// Queues a completion. `solicited` marks a receive of a send that
    /// carried the solicited-event bit. Returns the notification to make, if
    /// the arm is satisfied. A full ring overruns: the entry is lost, the CQ
    /// becomes unusable and an armed consumer is told STATUS_BUFFER_OVERFLOW.
    /// IRQL: <= DISPATCH_LEVEL; never allocates.
    pub fn push(&mut self, entry: CqEntry, solicited: bool) -> Option<CqStatus> {
        if self.health != CqHealth::Ok {
            return None;
        }
        if self.ring.len() >= self.depth as usize {
            self.health = CqHealth::Overrun;
            return self.take_error_notification();
        }
        let error = entry.is_error();
        self.ring.push_back(entry);
        self.unseen_any = true;
        if solicited || error {
            self.unseen_solicited = true;
        }
        self.try_satisfy()
    }

    /// Marks the CQ failed (catastrophic error). Returns the notification to
    /// make if armed. IRQL: <= DISPATCH_LEVEL.
    pub fn fail(&mut self) -> Option<CqStatus> {
        if self.health == CqHealth::Ok {
            self.health = CqHealth::Failed;
        }
        self.take_error_notification()
    }

    /// Arms the CQ (one shot), combining with an arm not yet satisfied.
    /// Returns the notification to make at once when the arm is already
    /// satisfied by entries (or an error) the consumer has not been told of.
    /// IRQL: <= DISPATCH_LEVEL.
    pub fn arm(&mut self, kind: NotifyType) -> Option<CqStatus> {
        self.arm = Some(match self.arm {
            Some(old) => combine(old, kind),
            None => kind,
        });
        if self.health != CqHealth::Ok {
            return self.take_error_notification();
        }
        self.try_satisfy()
    }

    /// Removes the oldest entry. IRQL: <= DISPATCH_LEVEL.
    pub fn pop(&mut self) -> Option<CqEntry> {
        self.ring.pop_front()
    }

    /// Fills `out` with the oldest entries; returns how many.
    /// IRQL: <= DISPATCH_LEVEL.
    pub fn poll(&mut self, out: &mut [CqEntry]) -> usize {
        let mut n = 0;
        for slot in out.iter_mut() {
            match self.ring.pop_front() {
                Some(e) => {
                    *slot = e;
                    n += 1;
                }
                None => break,
            }
        }
        n
    }

    /// Changes the depth, keeping queued entries. Allocates:
    /// IRQL <= DISPATCH_LEVEL (non-paged), not a hot path.
    pub fn resize(&mut self, depth: u32) -> Result<(), ResizeError> {
        if self.health != CqHealth::Ok {
            return Err(ResizeError::Unusable);
        }
        if depth == 0 || (depth as usize) < self.ring.len() {
            return Err(ResizeError::TooSmall);
        }
        let want = depth as usize;
        if want > self.ring.capacity() {
            self.ring
                .try_reserve_exact(want - self.ring.len())
                .map_err(|_| ResizeError::NoMemory)?;
        }
        self.depth = depth;
        Ok(())
    }

    fn try_satisfy(&mut self) -> Option<CqStatus> {
        let fire = match self.arm? {
            NotifyType::Any => self.unseen_any,
            NotifyType::Solicited => self.unseen_solicited,
            NotifyType::Errors => false,
        };
        if fire {
            self.arm = None;
            self.unseen_any = false;
            self.unseen_solicited = false;
            Some(CqStatus::Success)
        } else {
            None
        }
    }

    /// A CQ error satisfies any arm, once.
    fn take_error_notification(&mut self) -> Option<CqStatus> {
        if self.error_reported || self.arm.is_none() {
            return None;
        }
        self.arm = None;
        self.error_reported = true;
        Some(match self.health {
            CqHealth::Failed => CqStatus::InternalError,
            _ => CqStatus::Overflow,
        })
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn ok() -> CqEntry {
        CqEntry::default()
    }

    fn err() -> CqEntry {
        CqEntry {
            status: 0xC000_0120u32 as i32,
            ..CqEntry::default()
        }
    }

    #[test]
    fn unarmed_cq_does_not_notify_and_any_arm_fires_once() {
        let mut cq = Cq::new(4);
        assert_eq!(cq.push(ok(), false), None);
        // Entries arrived since the last notification: the arm is satisfied at once.
        assert_eq!(cq.arm(NotifyType::Any), Some(CqStatus::Success));
        assert_eq!(cq.armed(), None);
        // Nothing new since: re-arming waits.
        assert_eq!(cq.arm(NotifyType::Any), None);
        assert_eq!(cq.push(ok(), false), Some(CqStatus::Success));
        // One shot: the next entry does not notify until re-armed.
        assert_eq!(cq.push(ok(), false), None);
        assert_eq!(cq.len(), 3);
    }

    #[test]
    fn solicited_arm_waits_for_solicited_or_error() {
        let mut cq = Cq::new(8);
        assert_eq!(cq.arm(NotifyType::Solicited), None);
        assert_eq!(cq.push(ok(), false), None);
        assert_eq!(cq.push(ok(), true), Some(CqStatus::Success));
        assert_eq!(cq.arm(NotifyType::Solicited), None);
        // Error completions always satisfy SOLICITED.
        assert_eq!(cq.push(err(), false), Some(CqStatus::Success));
    }

    #[test]
    fn errors_arm_ignores_completions_but_reports_overrun() {
        let mut cq = Cq::new(2);
        assert_eq!(cq.arm(NotifyType::Errors), None);
        assert_eq!(cq.push(err(), false), None);
        assert_eq!(cq.push(ok(), true), None);
        assert_eq!(cq.push(ok(), false), Some(CqStatus::Overflow));
        assert_eq!(cq.health(), CqHealth::Overrun);
        // Unusable: nothing more is queued or reported.
        assert_eq!(cq.push(ok(), false), None);
        assert_eq!(cq.arm(NotifyType::Any), None);
        assert_eq!(cq.len(), 2);
    }

    #[test]
    fn overrun_while_unarmed_is_reported_at_next_arm() {
        let mut cq = Cq::new(1);
        cq.push(ok(), false);
        assert_eq!(cq.push(ok(), false), None);
        assert_eq!(cq.arm(NotifyType::Solicited), Some(CqStatus::Overflow));
    }

    #[test]
    fn combination_table() {
        use NotifyType::*;
        let cases = [
            (Any, Errors, Any),
            (Errors, Any, Any),
            (Errors, Errors, Errors),
            (Errors, Solicited, Solicited),
            (Solicited, Solicited, Solicited),
            (Solicited, Errors, Solicited),
            (Solicited, Any, Any),
        ];
        for (a, b, want) in cases {
            let mut cq = Cq::new(4);
            cq.arm(a);
            cq.arm(b);
            assert_eq!(cq.armed(), Some(want), "{a:?}+{b:?}");
        }
    }

    #[test]
    fn poll_and_resize_keep_order() {
        let mut cq = Cq::new(2);
        for i in 0..2 {
            cq.push(
                CqEntry {
                    request_context: i,
                    ..ok()
                },
                false,
            );
        }
        assert_eq!(cq.resize(1), Err(ResizeError::TooSmall));
        assert_eq!(cq.resize(4), Ok(()));
        cq.push(
            CqEntry {
                request_context: 2,
                ..ok()
            },
            false,
        );
        let mut out = [CqEntry::default(); 8];
        assert_eq!(cq.poll(&mut out), 3);
        let got: alloc::vec::Vec<usize> = out[..3].iter().map(|e| e.request_context).collect();
        assert_eq!(got, [0, 1, 2]);
        assert_eq!(cq.poll(&mut out), 0);
    }

    #[test]
    fn failure_reports_internal_error() {
        let mut cq = Cq::new(4);
        cq.arm(NotifyType::Errors);
        assert_eq!(cq.fail(), Some(CqStatus::InternalError));
        assert_eq!(cq.fail(), None);
    }
}
