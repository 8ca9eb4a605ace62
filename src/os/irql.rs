//! IRQL rules the core states and the platform enforces: assertions for
//! "at most this IRQL" and "PASSIVE only", and [`consumer_call`], the wrapper
//! around every call into an NDK consumer (IRQL <= DISPATCH, no provider lock
//! held). Owns the rule vocabulary; where a break is reported (IRQL books
//! when hosted, a debugger break/bugcheck in the kernel) is the platform's.

use super::Irql;

/// The rule that was broken.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum Rule {
    /// A function was entered above the IRQL its doc comment allows.
    IrqlTooHigh {
        /// The highest IRQL allowed.
        max: Irql,
    },
    /// A PASSIVE_LEVEL-only function ran above PASSIVE_LEVEL.
    NotPassive,
    /// A consumer callback was made above DISPATCH_LEVEL.
    CallbackAboveDispatch,
    /// A consumer callback was made while this thread held a provider lock.
    CallbackWithLockHeld,
    /// A spin lock was acquired above DISPATCH_LEVEL.
    LockAboveDispatch,
    /// A DISPATCH_LEVEL routine returned at a different IRQL or with a lock held.
    UnbalancedDeferred,
}

/// One rule break, as the platform reports it.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub struct Violation {
    pub rule: Rule,
    /// The function or call site that stated the rule.
    pub what: &'static str,
    /// The IRQL at the time.
    pub irql: Irql,
    /// Provider spin locks held by this thread (processor) at the time.
    pub locks_held: u32,
}

#[cfg(any(feature = "hosted", windows))]
mod checks {
    use super::super::platform_impl as imp;
    use super::*;

    fn report(rule: Rule, what: &'static str, irql: Irql) {
        imp::report_violation(Violation {
            rule,
            what,
            irql,
            locks_held: imp::provider_locks_held(),
        });
    }

    /// States that the caller may run at `max` or below; reports a
    /// [`Rule::IrqlTooHigh`] violation otherwise.
    ///
    /// IRQL: any.
    #[inline]
    pub fn assert_at_most(max: Irql, what: &'static str) {
        let irql = imp::current_irql();
        if irql > max {
            report(Rule::IrqlTooHigh { max }, what, irql);
        }
    }

    /// States that the caller runs at PASSIVE_LEVEL only (it may block or
    /// touch pageable memory); reports [`Rule::NotPassive`] otherwise.
    ///
    /// IRQL: PASSIVE_LEVEL.
    #[inline]
    pub fn assert_passive(what: &'static str) {
        let irql = imp::current_irql();
        if irql != Irql::Passive {
            report(Rule::NotPassive, what, irql);
        }
    }

    /// Calls into the consumer: checks IRQL <= DISPATCH and that no provider
    /// lock is held, reports a violation per broken rule, then runs `f`
    /// (always: a report never changes behaviour).
    ///
    /// IRQL: <= DISPATCH_LEVEL, no provider lock held.
    #[inline]
    pub fn consumer_call<R>(what: &'static str, f: impl FnOnce() -> R) -> R {
        let irql = imp::current_irql();
        if irql > Irql::Dispatch {
            report(Rule::CallbackAboveDispatch, what, irql);
        }
        if imp::provider_locks_held() != 0 {
            report(Rule::CallbackWithLockHeld, what, irql);
        }
        f()
    }
}

#[cfg(any(feature = "hosted", windows))]
pub use checks::{assert_at_most, assert_passive, consumer_call};
