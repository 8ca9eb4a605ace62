//! The hosted spin lock: `std::sync::Mutex` plus IRQL books, so acquiring
//! raises the thread to DISPATCH_LEVEL and counts a held provider lock, and
//! releasing restores both (the kernel twin is `KeAcquireSpinLock` /
//! `KeReleaseSpinLock`). Owns only the lock type.

use core::mem::ManuallyDrop;
use core::ops::{Deref, DerefMut};
use std::sync::{Mutex, MutexGuard};

use super::irql::{self, current_irql, lock_acquired, lock_released};
use crate::os::{Irql, Rule, Violation};

/// A provider spin lock around `T`.
#[derive(Debug, Default)]
pub struct SpinLock<T> {
    inner: Mutex<T>,
}

/// Holds a [`SpinLock`]; the thread is at DISPATCH_LEVEL until it drops.
/// Not `Send`: release on the thread that acquired.
#[derive(Debug)]
pub struct SpinLockGuard<'a, T> {
    guard: ManuallyDrop<MutexGuard<'a, T>>,
    old: Irql,
}

impl<T> SpinLock<T> {
    /// A new unlocked lock.
    ///
    /// IRQL: any.
    pub const fn new(value: T) -> Self {
        SpinLock {
            inner: Mutex::new(value),
        }
    }

    /// Raises to DISPATCH_LEVEL and acquires. Do not acquire a lock the
    /// thread already holds (deadlock, as in the kernel).
    ///
    /// IRQL: <= DISPATCH_LEVEL.
    pub fn lock(&self) -> SpinLockGuard<'_, T> {
        let irql = current_irql();
        if irql > Irql::Dispatch {
            irql::report_violation(Violation {
                rule: Rule::LockAboveDispatch,
                what: "SpinLock::lock",
                irql,
                locks_held: irql::provider_locks_held(),
            });
        }
        let old = irql::raise_irql(Irql::Dispatch.max(irql));
        // A panic while holding the lock poisons it; the data is still ours.
        let guard = self.inner.lock().unwrap_or_else(|p| p.into_inner());
        lock_acquired();
        SpinLockGuard {
            guard: ManuallyDrop::new(guard),
            old,
        }
    }

    /// The value, when no one else can hold the lock.
    ///
    /// IRQL: any.
    pub fn into_inner(self) -> T {
        self.inner.into_inner().unwrap_or_else(|p| p.into_inner())
    }
}

impl<T> Deref for SpinLockGuard<'_, T> {
    type Target = T;
    fn deref(&self) -> &T {
        &self.guard
    }
}

impl<T> DerefMut for SpinLockGuard<'_, T> {
    fn deref_mut(&mut self) -> &mut T {
        &mut self.guard
    }
}

impl<T> Drop for SpinLockGuard<'_, T> {
    fn drop(&mut self) {
        // SAFETY: `guard` is dropped exactly once, here, and never used after.
        unsafe { ManuallyDrop::drop(&mut self.guard) };
        lock_released();
        irql::lower_irql(self.old);
    }
}
