//! `os::Dpc` and `os::Timer` over KDPC and KTIMER. Each object is one pool
//! block made at create time (`Box`): a [`Grave`] link, the KDPC (and KTIMER)
//! and the routine. Queueing and setting never allocate.
//!
//! Lifetime: the kernel may be about to run the routine when the handle is
//! dropped (dequeued but not yet started; `KeRemoveQueueDpc` cannot tell), so
//! drop cancels the timer, removes a queued DPC and then hands the block to
//! the platform's graveyard, an intrusive lock-free stack. The block is freed
//! by `Platform::flush_deferred` (PASSIVE) after `KeFlushQueuedDpcs`, which
//! returns only when every DPC queued before it has finished; the platform
//! does the same when it is dropped (MiniportHaltEx). Nothing can queue a
//! dropped object again (its handle is gone and its timer is cancelled).
//!
//! Owns: the two object types and the graveyard. Must not know the routines.

use alloc::boxed::Box;
use alloc::sync::Arc;
use core::ffi::c_void;
use core::ptr;
use core::sync::atomic::{AtomicPtr, Ordering};

use crate::os::{current_irql, DeferredRoutine, Dpc, Instant, Irql, Timer};

use super::clock::relative_due_time;
use super::imports::{
    KeCancelTimer, KeFlushQueuedDpcs, KeInitializeDpc, KeInitializeTimerEx, KeInsertQueueDpc,
    KeRemoveQueueDpc, KeSetTimer,
};
use super::irql::RaiseToDispatch;
use super::nt::{KDPC, KTIMER, NOTIFICATION_TIMER};
use super::platform::interrupt_time_now;

/// The link every deferred block starts with, so the graveyard can hold
/// either kind and free it with the right layout.
#[repr(C)]
#[allow(missing_debug_implementations)]
pub struct Grave {
    next: *mut Grave,
    free: unsafe fn(*mut Grave),
}

/// Blocks waiting for `KeFlushQueuedDpcs` before they may be freed. When
/// the graveyard itself goes (the last DPC/timer handle or the platform
/// dropped) at PASSIVE_LEVEL it flushes and frees what it holds; dropped
/// above PASSIVE it cannot wait, and the blocks it holds are leaked (never
/// freed while a routine might run).
#[derive(Debug, Default)]
pub struct Graveyard {
    head: AtomicPtr<Grave>,
}

impl Drop for Graveyard {
    /// IRQL: any; frees what it holds only at PASSIVE_LEVEL.
    fn drop(&mut self) {
        let list = self.take();
        if list.is_null() || current_irql() != Irql::Passive {
            return;
        }
        // SAFETY: PASSIVE_LEVEL (checked); no arguments.
        unsafe { KeFlushQueuedDpcs() };
        // SAFETY: every block was buried with its timer cancelled and its
        // DPC dequeued, and the flush waited for any run already started.
        unsafe { Graveyard::free(list) };
    }
}

impl Graveyard {
    /// An empty graveyard.
    ///
    /// IRQL: any.
    pub const fn new() -> Self {
        Graveyard {
            head: AtomicPtr::new(ptr::null_mut()),
        }
    }

    /// Pushes a block (lock-free).
    ///
    /// IRQL: <= DISPATCH_LEVEL.
    fn bury(&self, g: *mut Grave) {
        let mut head = self.head.load(Ordering::Acquire);
        loop {
            // SAFETY: `g` is a live block owned by the graveyard from now on;
            // nobody else reads its link.
            unsafe { (*g).next = head };
            match self
                .head
                .compare_exchange_weak(head, g, Ordering::AcqRel, Ordering::Acquire)
            {
                Ok(_) => return,
                Err(h) => head = h,
            }
        }
    }

    /// Takes every block buried so far; free them with [`Graveyard::free`]
    /// after `KeFlushQueuedDpcs`.
    ///
    /// IRQL: any.
    pub fn take(&self) -> *mut Grave {
        self.head.swap(ptr::null_mut(), Ordering::AcqRel)
    }

    /// Frees a list from [`Graveyard::take`].
    ///
    /// IRQL: <= DISPATCH_LEVEL.
    ///
    /// # Safety
    /// No DPC of any block in the list can run any more (the caller called
    /// `KeFlushQueuedDpcs` after taking the list).
    pub unsafe fn free(mut list: *mut Grave) {
        while !list.is_null() {
            // SAFETY: every block in the list is live and owned by the list.
            let (next, free) = unsafe { ((*list).next, (*list).free) };
            // SAFETY: `free` is the block's own destructor; the caller
            // guarantees its routine cannot run.
            unsafe { free(list) };
            list = next;
        }
    }
}

/// A DPC block.
#[repr(C)]
struct DpcBlock {
    grave: Grave,
    kdpc: KDPC,
    routine: Arc<dyn DeferredRoutine>,
}

impl DpcBlock {
    /// A block whose KDPC is not initialised yet (see [`DpcBlock::init`]);
    /// `free` is the destructor of the boxed block that starts with it.
    ///
    /// IRQL: <= DISPATCH_LEVEL.
    fn new(routine: Arc<dyn DeferredRoutine>, free: unsafe fn(*mut Grave)) -> Self {
        DpcBlock {
            grave: Grave {
                next: ptr::null_mut(),
                free,
            },
            kdpc: KDPC::zeroed(),
            routine,
        }
    }

    /// Initialises the KDPC to run [`run_routine`] on this block's routine.
    ///
    /// IRQL: <= DISPATCH_LEVEL.
    ///
    /// # Safety
    /// `block` is a boxed (nonpaged) block that stays put until the graveyard
    /// frees it after a flush.
    unsafe fn init(block: *mut DpcBlock) {
        // SAFETY: by the caller's contract the KDPC and the routine slot live
        // until the graveyard frees them.
        unsafe {
            KeInitializeDpc(
                ptr::addr_of_mut!((*block).kdpc),
                Some(run_routine),
                ptr::addr_of_mut!((*block).routine).cast(),
            )
        };
    }
}

/// A timer block: the KTIMER queues the block's KDPC when it expires.
#[repr(C)]
struct TimerBlock {
    dpc: DpcBlock,
    ktimer: KTIMER,
}

/// A handle's hold on its block: the block, and the graveyard it is buried in
/// when the handle drops.
struct BlockRef<B> {
    block: *mut B,
    graveyard: Arc<Graveyard>,
}

// SAFETY: the block is only touched through Ke* calls, which are safe from
// any processor, and through the immutable routine.
unsafe impl<B> Send for BlockRef<B> {}
// SAFETY: as above; the handles take `&self` and the kernel serialises the
// KDPC and KTIMER.
unsafe impl<B> Sync for BlockRef<B> {}

impl<B> BlockRef<B> {
    /// Hands the block to the graveyard; call once, from the handle's drop,
    /// after the timer is cancelled and the DPC dequeued.
    ///
    /// IRQL: <= DISPATCH_LEVEL.
    fn bury(&self) {
        self.graveyard.bury(self.block.cast());
    }
}

/// The KDPC routine of both kinds: `context` is the block's routine slot.
///
/// IRQL: DISPATCH_LEVEL.
unsafe extern "system" fn run_routine(
    _dpc: *mut KDPC,
    context: *mut c_void,
    _a1: *mut c_void,
    _a2: *mut c_void,
) {
    // SAFETY: `context` is the `routine` field of a live block: blocks are
    // freed only after KeFlushQueuedDpcs, i.e. after this routine returned.
    let routine = unsafe { &*context.cast::<Arc<dyn DeferredRoutine>>() };
    routine.run(interrupt_time_now());
}

/// IRQL: <= DISPATCH_LEVEL.
unsafe fn free_dpc_block(g: *mut Grave) {
    // SAFETY: `g` is the first field of a DpcBlock made by Box::into_raw.
    drop(unsafe { Box::from_raw(g.cast::<DpcBlock>()) });
}

/// IRQL: <= DISPATCH_LEVEL.
unsafe fn free_timer_block(g: *mut Grave) {
    // SAFETY: `g` starts (through its DpcBlock) a TimerBlock made by
    // Box::into_raw.
    drop(unsafe { Box::from_raw(g.cast::<TimerBlock>()) });
}

/// `os::Dpc` over a KDPC.
pub struct KernelDpc {
    r: BlockRef<DpcBlock>,
}

impl core::fmt::Debug for KernelDpc {
    /// IRQL: any.
    fn fmt(&self, f: &mut core::fmt::Formatter<'_>) -> core::fmt::Result {
        f.write_str("KernelDpc")
    }
}

impl KernelDpc {
    /// Allocates and initialises the KDPC.
    ///
    /// IRQL: <= DISPATCH_LEVEL.
    pub fn new(routine: Arc<dyn DeferredRoutine>, graveyard: Arc<Graveyard>) -> Self {
        let block = Box::into_raw(Box::new(DpcBlock::new(routine, free_dpc_block)));
        // SAFETY: `block` is a fresh nonpaged block, freed only through the
        // graveyard.
        unsafe { DpcBlock::init(block) };
        KernelDpc {
            r: BlockRef { block, graveyard },
        }
    }
}

impl Dpc for KernelDpc {
    /// IRQL: <= DISPATCH_LEVEL.
    fn queue(&self) -> bool {
        // SAFETY: the KDPC is initialised and live while the handle exists.
        unsafe {
            KeInsertQueueDpc(
                ptr::addr_of_mut!((*self.r.block).kdpc),
                ptr::null_mut(),
                ptr::null_mut(),
            ) != 0
        }
    }
}

impl Drop for KernelDpc {
    /// IRQL: <= DISPATCH_LEVEL.
    fn drop(&mut self) {
        // SAFETY: live KDPC; removing a queued DPC is allowed at any IRQL.
        unsafe { KeRemoveQueueDpc(ptr::addr_of_mut!((*self.r.block).kdpc)) };
        self.r.bury();
    }
}

/// `os::Timer` over a KTIMER + KDPC.
pub struct KernelTimer {
    r: BlockRef<TimerBlock>,
}

impl core::fmt::Debug for KernelTimer {
    /// IRQL: any.
    fn fmt(&self, f: &mut core::fmt::Formatter<'_>) -> core::fmt::Result {
        f.write_str("KernelTimer")
    }
}

impl KernelTimer {
    /// Allocates and initialises the KTIMER (notification, one-shot) and KDPC.
    ///
    /// IRQL: <= DISPATCH_LEVEL.
    pub fn new(routine: Arc<dyn DeferredRoutine>, graveyard: Arc<Graveyard>) -> Self {
        let block = Box::into_raw(Box::new(TimerBlock {
            dpc: DpcBlock::new(routine, free_timer_block),
            ktimer: KTIMER::zeroed(),
        }));
        // SAFETY: fresh nonpaged block, freed only through the graveyard.
        unsafe {
            DpcBlock::init(ptr::addr_of_mut!((*block).dpc));
            KeInitializeTimerEx(ptr::addr_of_mut!((*block).ktimer), NOTIFICATION_TIMER);
        }
        KernelTimer {
            r: BlockRef { block, graveyard },
        }
    }
}

impl Timer for KernelTimer {
    /// IRQL: <= DISPATCH_LEVEL.
    fn set(&self, deadline: Instant) -> bool {
        // At DISPATCH the remove and the re-arm cannot be split by this
        // processor's own DPC run, so an expiry that already queued the DPC
        // is replaced, as "set replaces any earlier deadline" requires.
        let _dispatch = RaiseToDispatch::new();
        let due = relative_due_time(deadline, interrupt_time_now());
        // SAFETY: live, initialised KTIMER/KDPC.
        unsafe {
            let removed = KeRemoveQueueDpc(ptr::addr_of_mut!((*self.r.block).dpc.kdpc)) != 0;
            let was_armed = KeSetTimer(
                ptr::addr_of_mut!((*self.r.block).ktimer),
                due,
                ptr::addr_of_mut!((*self.r.block).dpc.kdpc),
            ) != 0;
            removed || was_armed
        }
    }

    /// IRQL: <= DISPATCH_LEVEL.
    fn cancel(&self) -> bool {
        // SAFETY: live, initialised KTIMER/KDPC.
        unsafe {
            let armed = KeCancelTimer(ptr::addr_of_mut!((*self.r.block).ktimer)) != 0;
            let queued = KeRemoveQueueDpc(ptr::addr_of_mut!((*self.r.block).dpc.kdpc)) != 0;
            armed || queued
        }
    }
}

impl Drop for KernelTimer {
    /// IRQL: <= DISPATCH_LEVEL.
    fn drop(&mut self) {
        self.cancel();
        self.r.bury();
    }
}
