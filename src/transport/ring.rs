//! A fixed-capacity FIFO allocated once at creation: pushing never allocates
//! and a full ring refuses. Owns storage only; must not know what it stores.

use alloc::vec::Vec;

/// A ring of at most `capacity` values of `T`, preallocated.
#[derive(Debug, Clone)]
pub struct Ring<T> {
    slots: Vec<T>,
    head: usize,
    len: usize,
}

impl<T: Copy + Default> Ring<T> {
    /// A ring holding up to `capacity` values (at least 1); `None` when the
    /// memory cannot be had (a kernel provider answers that with
    /// STATUS_INSUFFICIENT_RESOURCES rather than aborting).
    pub fn try_with_capacity(capacity: usize) -> Option<Ring<T>> {
        let n = capacity.max(1);
        let mut slots = Vec::new();
        slots.try_reserve_exact(n).ok()?;
        slots.resize(n, T::default());
        Some(Ring {
            slots,
            head: 0,
            len: 0,
        })
    }

    pub fn capacity(&self) -> usize {
        self.slots.len()
    }

    pub fn len(&self) -> usize {
        self.len
    }

    pub fn is_empty(&self) -> bool {
        self.len == 0
    }

    pub fn is_full(&self) -> bool {
        self.len == self.slots.len()
    }

    /// Physical slot of logical position `i` (0 = front).
    fn slot(&self, i: usize) -> usize {
        (self.head + i) % self.slots.len()
    }

    /// Appends `v`; gives it back if full.
    pub fn push_back(&mut self, v: T) -> Result<(), T> {
        if self.is_full() {
            return Err(v);
        }
        let s = self.slot(self.len);
        match self.slots.get_mut(s) {
            Some(x) => *x = v,
            None => return Err(v),
        }
        self.len += 1;
        Ok(())
    }

    pub fn pop_front(&mut self) -> Option<T> {
        if self.len == 0 {
            return None;
        }
        let v = self.slots.get(self.head).copied();
        self.head = (self.head + 1) % self.slots.len();
        self.len -= 1;
        v
    }

    pub fn front(&self) -> Option<&T> {
        self.get(0)
    }

    pub fn back_mut(&mut self) -> Option<&mut T> {
        let n = self.len.checked_sub(1)?;
        self.get_mut(n)
    }

    pub fn front_mut(&mut self) -> Option<&mut T> {
        self.get_mut(0)
    }

    /// The value at logical position `i` (0 = front).
    pub fn get(&self, i: usize) -> Option<&T> {
        if i >= self.len {
            return None;
        }
        self.slots.get(self.slot(i))
    }

    pub fn get_mut(&mut self, i: usize) -> Option<&mut T> {
        if i >= self.len {
            return None;
        }
        let s = self.slot(i);
        self.slots.get_mut(s)
    }

    /// Physical slot index of logical position `i`, for side tables indexed like the ring.
    pub fn slot_of(&self, i: usize) -> Option<usize> {
        if i >= self.len {
            None
        } else {
            Some(self.slot(i))
        }
    }

    /// Physical slot the next `push_back` will use.
    pub fn next_slot(&self) -> usize {
        self.slot(self.len)
    }

    pub fn iter(&self) -> impl Iterator<Item = &T> + '_ {
        (0..self.len).filter_map(move |i| self.get(i))
    }

    pub fn clear(&mut self) {
        self.head = 0;
        self.len = 0;
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn an_impossible_capacity_is_refused_not_aborted() {
        // What the old infallible constructor would have panicked on.
        assert!(Ring::<u64>::try_with_capacity(usize::MAX).is_none());
        assert!(Ring::<u64>::try_with_capacity(usize::MAX / 4).is_none());
    }

    #[test]
    fn fifo_with_wrap_and_refusal_when_full() {
        let mut r: Ring<u32> = Ring::try_with_capacity(3).unwrap();
        for i in 0..3 {
            assert_eq!(r.push_back(i), Ok(()));
        }
        assert_eq!(r.push_back(9), Err(9));
        assert_eq!(r.pop_front(), Some(0));
        assert_eq!(r.push_back(3), Ok(()));
        assert_eq!(r.iter().copied().collect::<Vec<_>>(), [1, 2, 3]);
        assert_eq!(r.get(2), Some(&3));
        assert_eq!(r.get(3), None);
        assert_eq!(r.slot_of(2), Some(0));
        r.clear();
        assert!(r.is_empty());
        assert_eq!(r.pop_front(), None);
    }
}
