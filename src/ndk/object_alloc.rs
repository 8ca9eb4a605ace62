//! Fallible allocation of provider objects: a kernel provider must answer
//! STATUS_INSUFFICIENT_RESOURCES, not abort, when pool memory runs out. Owns
//! the allocate/free pair only.

use alloc::alloc::{alloc, Layout};
use alloc::boxed::Box;
use core::ptr::NonNull;

/// Moves `value` to the heap, or gives it back as `Err` if there is no memory.
/// The result is freed with [`free_object`].
///
/// IRQL: <= DISPATCH_LEVEL (nonpaged pool in the kernel).
pub fn try_box<T>(value: T) -> Result<NonNull<T>, T> {
    const { assert!(core::mem::size_of::<T>() != 0, "no zero-sized objects") };
    let layout = Layout::new::<T>();
    // SAFETY: `layout` has a non-zero size (asserted above).
    let raw = unsafe { alloc(layout) }.cast::<T>();
    match NonNull::new(raw) {
        Some(ptr) => {
            // SAFETY: `ptr` is freshly allocated for `Layout::new::<T>()`, so
            // it is valid and aligned for one `T` write.
            unsafe { ptr.as_ptr().write(value) };
            Ok(ptr)
        }
        None => Err(value),
    }
}

/// Drops and frees an object made by [`try_box`].
///
/// # Safety
/// `ptr` came from `try_box::<T>`, has not been freed, and nothing uses it
/// afterwards.
///
/// IRQL: <= DISPATCH_LEVEL.
pub unsafe fn free_object<T>(ptr: NonNull<T>) {
    // SAFETY: the caller guarantees `ptr` came from the global allocator with
    // `Layout::new::<T>()` and holds a live `T`, which is exactly what
    // `Box::from_raw` requires.
    drop(unsafe { Box::from_raw(ptr.as_ptr()) });
}

#[cfg(test)]
mod tests {
    use super::*;
    use alloc::rc::Rc;

    #[test]
    fn boxes_and_frees_running_drop() {
        let tracker = Rc::new(());
        let ptr = try_box((Rc::clone(&tracker), 7u64)).ok();
        let ptr = ptr.expect("allocation");
        assert_eq!(Rc::strong_count(&tracker), 2);
        // SAFETY: from try_box, freed once.
        unsafe { free_object(ptr) };
        assert_eq!(Rc::strong_count(&tracker), 1);
    }
}
