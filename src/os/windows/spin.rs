//! The kernel spin lock: a KSPIN_LOCK beside the data it guards. Acquiring
//! raises to DISPATCH_LEVEL (`KeAcquireSpinLockRaiseToDpc`); dropping the
//! guard releases and restores the old IRQL (`KeReleaseSpinLock`). The same
//! API as the hosted `SpinLock`. Owns only the lock type.

use core::cell::UnsafeCell;
use core::ops::{Deref, DerefMut};

use super::imports::{KeAcquireSpinLockRaiseToDpc, KeReleaseSpinLock};

/// A provider spin lock around `T`.
pub struct SpinLock<T> {
    /// The KSPIN_LOCK (a ULONG_PTR; KeInitializeSpinLock stores 0).
    lock: UnsafeCell<usize>,
    value: UnsafeCell<T>,
}

// SAFETY: access to `value` is serialised by the KSPIN_LOCK, so sharing the
// lock between processors is sound when the data itself may move between them.
unsafe impl<T: Send> Sync for SpinLock<T> {}
// SAFETY: moving the lock moves the data; no processor holds it while it moves
// (a guard borrows the lock).
unsafe impl<T: Send> Send for SpinLock<T> {}

impl<T> core::fmt::Debug for SpinLock<T> {
    /// IRQL: any.
    fn fmt(&self, f: &mut core::fmt::Formatter<'_>) -> core::fmt::Result {
        f.write_str("SpinLock")
    }
}

impl<T: Default> Default for SpinLock<T> {
    /// IRQL: any.
    fn default() -> Self {
        Self::new(T::default())
    }
}

/// Holds a [`SpinLock`]; the processor is at DISPATCH_LEVEL until it drops.
pub struct SpinLockGuard<'a, T> {
    lock: &'a SpinLock<T>,
    old: u8,
}

impl<T> core::fmt::Debug for SpinLockGuard<'_, T> {
    /// IRQL: any.
    fn fmt(&self, f: &mut core::fmt::Formatter<'_>) -> core::fmt::Result {
        f.write_str("SpinLockGuard")
    }
}

impl<T> SpinLock<T> {
    /// A new unlocked lock.
    ///
    /// IRQL: any.
    pub const fn new(value: T) -> Self {
        SpinLock {
            lock: UnsafeCell::new(0),
            value: UnsafeCell::new(value),
        }
    }

    /// Raises to DISPATCH_LEVEL and acquires.
    ///
    /// IRQL: <= DISPATCH_LEVEL.
    pub fn lock(&self) -> SpinLockGuard<'_, T> {
        // SAFETY: `self.lock` is an initialised KSPIN_LOCK that lives as long
        // as the guard that releases it.
        let old = unsafe { KeAcquireSpinLockRaiseToDpc(self.lock.get()) };
        SpinLockGuard { lock: self, old }
    }

    /// The data, when no one can hold the lock.
    ///
    /// IRQL: any.
    pub fn into_inner(self) -> T {
        self.value.into_inner()
    }
}

impl<T> Deref for SpinLockGuard<'_, T> {
    type Target = T;
    /// IRQL: any (the guard holds the lock: DISPATCH_LEVEL).
    fn deref(&self) -> &T {
        // SAFETY: the guard holds the KSPIN_LOCK, so no other reference exists.
        unsafe { &*self.lock.value.get() }
    }
}

impl<T> DerefMut for SpinLockGuard<'_, T> {
    /// IRQL: any (the guard holds the lock: DISPATCH_LEVEL).
    fn deref_mut(&mut self) -> &mut T {
        // SAFETY: the guard holds the KSPIN_LOCK, so no other reference exists.
        unsafe { &mut *self.lock.value.get() }
    }
}

impl<T> Drop for SpinLockGuard<'_, T> {
    /// IRQL: DISPATCH_LEVEL (holding the lock); restores the saved IRQL.
    fn drop(&mut self) {
        // SAFETY: this guard acquired the lock and releases it once, restoring
        // the IRQL it saved.
        unsafe { KeReleaseSpinLock(self.lock.lock.get(), self.old) };
    }
}
