//! The global allocator of the kernel build: nonpaged pool from
//! `ExAllocatePool2` tagged `POOL_TAG` ("RoCE"), freed with
//! `ExFreePoolWithTag`. With the `wdk` feature (the eWDK build on Windows)
//! `wdk-alloc` provides the allocator instead.
//!
//! Owns: `#[global_allocator]` and [`zeroed_slice`] (zeroed heap arrays
//! without a stack temporary). Must not be used from above DISPATCH_LEVEL,
//! and the data path must not allocate (allocate at create time).

#[cfg(not(feature = "wdk"))]
mod pool {
    use core::alloc::{GlobalAlloc, Layout};
    use core::ffi::c_void;
    use core::ptr;

    use crate::os::windows::ffi::{MEMORY_ALLOCATION_ALIGNMENT, POOL_FLAG_NON_PAGED, POOL_TAG};
    use crate::os::windows::imports::{ExAllocatePool2, ExFreePoolWithTag};
    use crate::os::windows::pool_layout::{aligned_start, placement, Placement, HEADER};

    /// Nonpaged pool, tag "RoCE". IRQL: <= DISPATCH_LEVEL.
    #[derive(Debug)]
    pub struct PoolAllocator;

    // SAFETY: `alloc` returns null or a block of at least `layout.size()` bytes
    // aligned to `layout.align()` that nobody else owns; `dealloc` frees exactly
    // the pool block `alloc` obtained for that pointer and layout.
    unsafe impl GlobalAlloc for PoolAllocator {
        /// IRQL: <= DISPATCH_LEVEL (nonpaged pool).
        unsafe fn alloc(&self, layout: Layout) -> *mut u8 {
            match placement(layout.size(), layout.align(), MEMORY_ALLOCATION_ALIGNMENT) {
                None => ptr::null_mut(),
                Some(Placement::Direct { size }) => {
                    // SAFETY: plain pool allocation; the kernel validates flags
                    // and returns null on failure (POOL_FLAG_NON_PAGED does not raise).
                    unsafe { ExAllocatePool2(POOL_FLAG_NON_PAGED, size, POOL_TAG) }.cast()
                }
                Some(Placement::OverAligned { size, align }) => {
                    // SAFETY: as above.
                    let base = unsafe { ExAllocatePool2(POOL_FLAG_NON_PAGED, size, POOL_TAG) };
                    if base.is_null() {
                        return ptr::null_mut();
                    }
                    let Some(start) = aligned_start(base as usize, align) else {
                        // SAFETY: `base` came from ExAllocatePool2 with this tag just above.
                        unsafe { ExFreePoolWithTag(base, POOL_TAG) };
                        return ptr::null_mut();
                    };
                    // Stay within the block's provenance: offset from `base`.
                    let user = base.cast::<u8>().wrapping_add(start - base as usize);
                    // SAFETY: `placement` reserved `align - 1 + HEADER` spare bytes,
                    // so `start - HEADER >= base` and `start + layout.size()` is
                    // inside the block; `start - HEADER` is 8-aligned because
                    // `start` is `align` (> 16) aligned.
                    unsafe { user.sub(HEADER).cast::<*mut c_void>().write(base) };
                    user
                }
            }
        }

        /// IRQL: <= DISPATCH_LEVEL (nonpaged pool).
        unsafe fn dealloc(&self, p: *mut u8, layout: Layout) {
            let base = match placement(layout.size(), layout.align(), MEMORY_ALLOCATION_ALIGNMENT) {
                Some(Placement::OverAligned { .. }) => {
                    // SAFETY: `alloc` stored the pool base just below every
                    // over-aligned pointer it returned for this layout.
                    unsafe { p.sub(HEADER).cast::<*mut c_void>().read() }
                }
                _ => p.cast::<c_void>(),
            };
            // SAFETY: `base` is the block ExAllocatePool2 returned with POOL_TAG.
            unsafe { ExFreePoolWithTag(base, POOL_TAG) };
        }
    }

    #[global_allocator]
    static GLOBAL: PoolAllocator = PoolAllocator;
}

#[cfg(feature = "wdk")]
#[global_allocator]
static GLOBAL: wdk_alloc::WdkAllocator = wdk_alloc::WdkAllocator;

/// `n` (at least 1) zeroed `T`s from the global (nonpaged) allocator, built
/// in place (no stack temporary: the types used are byte arrays and
/// per-processor scratch too large for a kernel stack); `None` when out of
/// memory.
///
/// # Safety
/// All-zero bytes are a valid `T`, and `T` is not zero-sized.
///
/// IRQL: <= DISPATCH_LEVEL (create time).
pub(crate) unsafe fn zeroed_slice<T>(n: usize) -> Option<alloc::boxed::Box<[T]>> {
    let layout = core::alloc::Layout::array::<T>(n.max(1)).ok()?;
    // SAFETY: non-zero size (n.max(1) >= 1 and T is not zero-sized).
    let p = unsafe { alloc::alloc::alloc_zeroed(layout) }.cast::<T>();
    if p.is_null() {
        return None;
    }
    // SAFETY: a fresh zeroed block of n.max(1) Ts from the global allocator,
    // valid when zero by the caller's contract.
    Some(unsafe { alloc::boxed::Box::from_raw(core::ptr::slice_from_raw_parts_mut(p, n.max(1))) })
}
