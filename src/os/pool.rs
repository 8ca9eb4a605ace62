//! Pool accounting: bytes and objects outstanding per 4-character pool tag,
//! so tests (and a driver at unload) can prove nothing leaked, plus an
//! optional byte limit for fault injection (INSUFFICIENT_RESOURCES paths).
//! Lock-free and `no_std`; owns only the books, not the memory itself (the
//! kernel allocates with `ExAllocatePool2(POOL_FLAG_NON_PAGED, size, tag)`;
//! the books mirror those calls).

use core::fmt;
use core::sync::atomic::{AtomicU32, AtomicUsize, Ordering};

/// A pool tag, as the kernel writes it: four ASCII bytes, little-endian
/// (`PoolTag::new(*b"SRqp")` shows as `SRqp` in `!poolused`).
#[derive(Clone, Copy, PartialEq, Eq, Hash)]
pub struct PoolTag(pub u32);

impl PoolTag {
    /// The tag of four ASCII bytes.
    pub const fn new(bytes: [u8; 4]) -> Self {
        PoolTag(u32::from_le_bytes(bytes))
    }
}

impl fmt::Debug for PoolTag {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        let b = self.0.to_le_bytes();
        write!(f, "PoolTag(")?;
        for c in b {
            let c = if c.is_ascii_graphic() { c as char } else { '?' };
            write!(f, "{c}")?;
        }
        write!(f, ")")
    }
}

/// Outstanding memory of one tag.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default)]
pub struct PoolUsage {
    pub bytes: usize,
    pub objects: usize,
}

/// Why a charge was refused.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum PoolError {
    /// The limit set by [`PoolBooks::set_limit`] would be exceeded.
    LimitReached,
    /// All tag slots are in use (more than [`PoolBooks::TAGS`] distinct tags).
    TooManyTags,
}

const EMPTY: u32 = 0;

/// Per-tag counters in a fixed table (no allocation, any IRQL).
#[derive(Debug)]
pub struct PoolBooks {
    tags: [AtomicU32; PoolBooks::TAGS],
    bytes: [AtomicUsize; PoolBooks::TAGS],
    objects: [AtomicUsize; PoolBooks::TAGS],
    total: AtomicUsize,
    limit: AtomicUsize,
}

impl Default for PoolBooks {
    fn default() -> Self {
        Self::new()
    }
}

impl PoolBooks {
    /// The number of distinct tags the books can hold.
    pub const TAGS: usize = 32;

    /// Empty books, no limit.
    pub const fn new() -> Self {
        PoolBooks {
            tags: [const { AtomicU32::new(EMPTY) }; Self::TAGS],
            bytes: [const { AtomicUsize::new(0) }; Self::TAGS],
            objects: [const { AtomicUsize::new(0) }; Self::TAGS],
            total: AtomicUsize::new(0),
            limit: AtomicUsize::new(usize::MAX),
        }
    }

    fn slot(&self, tag: PoolTag, insert: bool) -> Option<usize> {
        for (i, t) in self.tags.iter().enumerate() {
            let cur = t.load(Ordering::Acquire);
            if cur == tag.0 {
                return Some(i);
            }
            if cur == EMPTY && insert {
                match t.compare_exchange(EMPTY, tag.0, Ordering::AcqRel, Ordering::Acquire) {
                    Ok(_) => return Some(i),
                    Err(now) if now == tag.0 => return Some(i),
                    Err(_) => continue,
                }
            }
        }
        None
    }

    /// Records one object of `bytes` under `tag` (call where the kernel calls
    /// `ExAllocatePool2`; on `Err` treat the allocation as failed).
    ///
    /// IRQL: any.
    pub fn charge(&self, tag: PoolTag, bytes: usize) -> Result<(), PoolError> {
        let limit = self.limit.load(Ordering::Relaxed);
        let mut total = self.total.load(Ordering::Relaxed);
        loop {
            let new = match total.checked_add(bytes) {
                Some(n) if n <= limit => n,
                _ => return Err(PoolError::LimitReached),
            };
            match self
                .total
                .compare_exchange_weak(total, new, Ordering::AcqRel, Ordering::Relaxed)
            {
                Ok(_) => break,
                Err(t) => total = t,
            }
        }
        let Some(i) = self.slot(tag, true) else {
            self.total.fetch_sub(bytes, Ordering::AcqRel);
            return Err(PoolError::TooManyTags);
        };
        if let (Some(b), Some(o)) = (self.bytes.get(i), self.objects.get(i)) {
            b.fetch_add(bytes, Ordering::AcqRel);
            o.fetch_add(1, Ordering::AcqRel);
        }
        Ok(())
    }

    /// Records the free of one object of `bytes` under `tag` (where the kernel
    /// calls `ExFreePoolWithTag`). Releasing more than was charged saturates
    /// at zero and returns `false` (a books error a test should fail on).
    ///
    /// IRQL: any.
    pub fn release(&self, tag: PoolTag, bytes: usize) -> bool {
        let Some(i) = self.slot(tag, false) else {
            return false;
        };
        let (Some(b), Some(o)) = (self.bytes.get(i), self.objects.get(i)) else {
            return false;
        };
        let ok_b = b
            .fetch_update(Ordering::AcqRel, Ordering::Acquire, |v| {
                v.checked_sub(bytes)
            })
            .is_ok();
        let ok_o = o
            .fetch_update(Ordering::AcqRel, Ordering::Acquire, |v| v.checked_sub(1))
            .is_ok();
        if ok_b {
            self.total.fetch_sub(bytes, Ordering::AcqRel);
        }
        ok_b && ok_o
    }

    /// What is outstanding under `tag`.
    ///
    /// IRQL: any.
    pub fn outstanding(&self, tag: PoolTag) -> PoolUsage {
        match self.slot(tag, false) {
            Some(i) => PoolUsage {
                bytes: self.bytes.get(i).map_or(0, |b| b.load(Ordering::Acquire)),
                objects: self.objects.get(i).map_or(0, |o| o.load(Ordering::Acquire)),
            },
            None => PoolUsage::default(),
        }
    }

    /// Total bytes outstanding over all tags.
    ///
    /// IRQL: any.
    pub fn total_bytes(&self) -> usize {
        self.total.load(Ordering::Acquire)
    }

    /// Calls `f` for every tag with something outstanding (a leak at teardown).
    ///
    /// IRQL: any.
    pub fn for_each_outstanding(&self, mut f: impl FnMut(PoolTag, PoolUsage)) {
        for i in 0..Self::TAGS {
            let tag = self
                .tags
                .get(i)
                .map_or(EMPTY, |t| t.load(Ordering::Acquire));
            if tag == EMPTY {
                continue;
            }
            let u = self.outstanding(PoolTag(tag));
            if u != PoolUsage::default() {
                f(PoolTag(tag), u);
            }
        }
    }

    /// Whether nothing is outstanding under any tag.
    ///
    /// IRQL: any.
    pub fn is_balanced(&self) -> bool {
        let mut clean = true;
        self.for_each_outstanding(|_, _| clean = false);
        clean
    }

    /// Refuse charges that would take the total above `bytes` (`usize::MAX`:
    /// no limit). For fault-injection tests.
    ///
    /// IRQL: any.
    pub fn set_limit(&self, bytes: usize) {
        self.limit.store(bytes, Ordering::Release);
    }
}
