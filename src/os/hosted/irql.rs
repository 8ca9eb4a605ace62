//! The hosted IRQL books: each thread's current IRQL and count of held
//! provider spin locks (thread-locals), and the process-wide log of rule
//! breaks that tests read through [`irql_books`]. Owns only the bookkeeping;
//! the rules themselves are stated in `os::irql`.

use std::cell::Cell;
use std::fmt::Write as _;
use std::sync::Mutex;

use crate::os::{Irql, Rule, Violation};

thread_local! {
    static IRQL: Cell<Irql> = const { Cell::new(Irql::Passive) };
    static LOCKS: Cell<u32> = const { Cell::new(0) };
}

/// A violation as logged, with the thread it happened on.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Logged {
    pub violation: Violation,
    /// The thread's name (or id) at the time.
    pub thread: String,
}

/// The process-wide log of rule breaks.
#[derive(Debug)]
pub struct IrqlBooks {
    log: Mutex<Vec<Logged>>,
}

static BOOKS: IrqlBooks = IrqlBooks {
    log: Mutex::new(Vec::new()),
};

/// The process-wide IRQL books.
pub fn irql_books() -> &'static IrqlBooks {
    &BOOKS
}

impl IrqlBooks {
    fn lock(&self) -> std::sync::MutexGuard<'_, Vec<Logged>> {
        self.log.lock().unwrap_or_else(|p| p.into_inner())
    }

    /// Every violation logged since the last [`IrqlBooks::clear`].
    pub fn violations(&self) -> Vec<Logged> {
        self.lock().clone()
    }

    /// Forgets all logged violations.
    pub fn clear(&self) {
        self.lock().clear();
    }

    /// Panics, listing them, if any violation was logged.
    pub fn assert_clean(&self) {
        let log = self.lock();
        if log.is_empty() {
            return;
        }
        let mut msg = format!("{} IRQL rule break(s):", log.len());
        for l in log.iter() {
            let v = &l.violation;
            let _ = write!(
                msg,
                "\n  {:?} in `{}` at {:?} with {} lock(s) held on thread {}",
                v.rule, v.what, v.irql, v.locks_held, l.thread
            );
        }
        drop(log);
        panic!("{msg}");
    }

    fn record(&self, violation: Violation) {
        let t = std::thread::current();
        let thread = t
            .name()
            .map(str::to_owned)
            .unwrap_or_else(|| format!("{:?}", t.id()));
        self.lock().push(Logged { violation, thread });
    }
}

/// The calling thread's IRQL.
///
/// IRQL: any.
pub fn current_irql() -> Irql {
    IRQL.with(Cell::get)
}

/// Provider spin locks the calling thread holds.
///
/// IRQL: any.
pub fn provider_locks_held() -> u32 {
    LOCKS.with(Cell::get)
}

/// Logs a rule break in the books.
///
/// IRQL: any.
pub fn report_violation(v: Violation) {
    BOOKS.record(v);
}

/// Raises the thread's IRQL to `to` (which must not be lower) and returns the
/// old one for [`lower_irql`], as `KeRaiseIrql` does.
///
/// IRQL: <= `to`.
pub fn raise_irql(to: Irql) -> Irql {
    let old = current_irql();
    if to < old {
        report_violation(Violation {
            rule: Rule::IrqlTooHigh { max: to },
            what: "raise_irql (raising to a lower IRQL)",
            irql: old,
            locks_held: provider_locks_held(),
        });
    }
    IRQL.with(|c| c.set(to));
    old
}

/// Restores the IRQL saved by [`raise_irql`], as `KeLowerIrql` does.
///
/// IRQL: any.
pub fn lower_irql(old: Irql) {
    IRQL.with(|c| c.set(old));
}

pub(crate) fn lock_acquired() {
    LOCKS.with(|c| c.set(c.get().saturating_add(1)));
}

pub(crate) fn lock_released() {
    LOCKS.with(|c| c.set(c.get().saturating_sub(1)));
}

/// Runs `f` at DISPATCH_LEVEL the way a DPC runs, and reports
/// [`Rule::UnbalancedDeferred`] if `f` returns at another IRQL or with a
/// different number of locks held.
pub(crate) fn run_at_dispatch(what: &'static str, f: impl FnOnce()) {
    let old = raise_irql(Irql::Dispatch);
    let locks = provider_locks_held();
    f();
    let (irql, after) = (current_irql(), provider_locks_held());
    if irql != Irql::Dispatch || after != locks {
        report_violation(Violation {
            rule: Rule::UnbalancedDeferred,
            what,
            irql,
            locks_held: after,
        });
    }
    lower_irql(old);
}
