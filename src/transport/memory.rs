//! The memory seam: [`MemoryAccess`], which the verbs layer implements over
//! registered regions (the engine never touches raw memory), SGE-list
//! gather/scatter on top of it, and [`SimMemory`], a simple in-memory
//! implementation for tests and benchmarks. Must not know about packets or PSNs.

use alloc::vec;
use alloc::vec::Vec;

use super::wr::Sge;

bitflags::bitflags! {
    /// Access rights of a registered region.
    #[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
    pub struct Access: u8 {
        const LOCAL_WRITE = 1 << 0;
        const REMOTE_READ = 1 << 1;
        const REMOTE_WRITE = 1 << 2;
        const REMOTE_ATOMIC = 1 << 3;
    }
}

/// Which key and right an access goes through.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum Key {
    /// A local key: reads always allowed, writes need LOCAL_WRITE.
    Local(u32),
    /// A remote key: reads need REMOTE_READ, writes need REMOTE_WRITE.
    Remote(u32),
}

/// The 8-byte atomic operations.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum AtomicOp {
    CompareSwap { compare: u64, swap: u64 },
    FetchAdd { add: u64 },
}

/// Why an access was refused.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum AccessError {
    /// No valid region has this key.
    BadKey,
    /// The range is not inside the region.
    OutOfRange,
    /// The region lacks the right.
    NoRight,
    /// Atomic address not 8-byte aligned.
    Misaligned,
}

/// Memory as the engine sees it. Implemented by the verbs layer (memory
/// regions, windows, fast-registered MRs). All checks (key, range, rights) are
/// the implementor's; the engine maps failures to NAKs and completion statuses.
///
/// IRQL: every method is called at <= DISPATCH_LEVEL from the engine's
/// packet and posting paths; implementations must not block or allocate.
pub trait MemoryAccess {
    /// Checks that `rkey` covers `[va, va + len)` with `right`
    /// (one of REMOTE_READ, REMOTE_WRITE, REMOTE_ATOMIC).
    fn check_remote(&self, rkey: u32, va: u64, len: u32, right: Access) -> Result<(), AccessError>;
    /// Copies `out.len()` bytes at `addr` through `key` into `out`.
    fn read(&self, key: Key, addr: u64, out: &mut [u8]) -> Result<(), AccessError>;
    /// Copies `data` to `addr` through `key`.
    fn write(&mut self, key: Key, addr: u64, data: &[u8]) -> Result<(), AccessError>;
    /// Executes an 8-byte atomic at `va` through `rkey` (REMOTE_ATOMIC), returning the original value.
    fn atomic(&mut self, rkey: u32, va: u64, op: AtomicOp) -> Result<u64, AccessError>;
    /// Invalidates the remote key (SEND_WITH_INVALIDATE).
    fn invalidate_remote(&mut self, rkey: u32) -> Result<(), AccessError>;
}

/// Walks an SGE list from byte `offset`, calling `f(sge, addr, chunk_len, buf_offset)`
/// for each piece covering `len` bytes. Returns false if the list is too short.
fn walk_sges(
    sges: &[Sge],
    offset: u32,
    len: usize,
    mut f: impl FnMut(&Sge, u64, usize, usize) -> Result<(), AccessError>,
) -> Result<bool, AccessError> {
    let mut skip = u64::from(offset);
    let mut done = 0usize;
    for sge in sges {
        if done >= len {
            break;
        }
        let sl = u64::from(sge.len);
        if skip >= sl {
            skip -= sl;
            continue;
        }
        let avail = usize::try_from(sl - skip).unwrap_or(usize::MAX);
        let n = avail.min(len - done);
        let addr = sge.addr.checked_add(skip).ok_or(AccessError::OutOfRange)?;
        f(sge, addr, n, done)?;
        done += n;
        skip = 0;
    }
    Ok(done == len)
}

/// Reads `out.len()` bytes of the SGE list starting at byte `offset`.
pub fn gather<M: MemoryAccess + ?Sized>(
    mem: &M,
    sges: &[Sge],
    offset: u32,
    out: &mut [u8],
) -> Result<(), AccessError> {
    let len = out.len();
    let ok = walk_sges(sges, offset, len, |sge, addr, n, at| {
        let dst = out.get_mut(at..at + n).ok_or(AccessError::OutOfRange)?;
        mem.read(Key::Local(sge.lkey), addr, dst)
    })?;
    if ok {
        Ok(())
    } else {
        Err(AccessError::OutOfRange)
    }
}

/// Writes `data` into the SGE list starting at byte `offset`.
pub fn scatter<M: MemoryAccess + ?Sized>(
    mem: &mut M,
    sges: &[Sge],
    offset: u32,
    data: &[u8],
) -> Result<(), AccessError> {
    let ok = walk_sges(sges, offset, data.len(), |sge, addr, n, at| {
        let src = data.get(at..at + n).ok_or(AccessError::OutOfRange)?;
        mem.write(Key::Local(sge.lkey), addr, src)
    })?;
    if ok {
        Ok(())
    } else {
        Err(AccessError::OutOfRange)
    }
}

/// Checks that every SGE lies inside its region with `need` (a local right),
/// by zero-length probes of the first and last byte (reads check range only).
pub fn check_local_sges<M: MemoryAccess + ?Sized>(
    mem: &M,
    sges: &[Sge],
) -> Result<(), AccessError> {
    let mut probe = [0u8; 1];
    for s in sges.iter().filter(|s| s.len > 0) {
        mem.read(Key::Local(s.lkey), s.addr, &mut probe)?;
        let last = s
            .addr
            .checked_add(u64::from(s.len) - 1)
            .ok_or(AccessError::OutOfRange)?;
        mem.read(Key::Local(s.lkey), last, &mut probe)?;
    }
    Ok(())
}

/// One region of [`SimMemory`].
#[derive(Debug, Clone)]
pub struct SimRegion {
    pub lkey: u32,
    pub rkey: u32,
    pub va: u64,
    pub access: Access,
    pub valid: bool,
    pub data: Vec<u8>,
}

/// A simple in-memory [`MemoryAccess`]: regions as byte vectors with keys,
/// a base VA and rights. For tests, benchmarks and the simulated network.
#[derive(Debug, Clone, Default)]
pub struct SimMemory {
    regions: Vec<SimRegion>,
    next_key: u32,
    next_va: u64,
}

/// What [`SimMemory::register`] hands back.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct SimMr {
    pub lkey: u32,
    pub rkey: u32,
    pub va: u64,
    pub len: u32,
}

impl SimMr {
    /// One SGE covering `len` bytes at `offset` of this region.
    pub fn sge(&self, offset: u32, len: u32) -> Sge {
        Sge {
            lkey: self.lkey,
            addr: self.va + u64::from(offset),
            len,
        }
    }
}

impl SimMemory {
    /// An empty memory; VAs start at `base_va` (so two peers get distinct VAs).
    pub fn new(base_va: u64) -> SimMemory {
        SimMemory {
            regions: Vec::new(),
            next_key: 0x100,
            next_va: base_va,
        }
    }

    /// Registers a zeroed region of `len` bytes with `access`.
    pub fn register(&mut self, len: u32, access: Access) -> SimMr {
        let lkey = self.next_key;
        let rkey = self.next_key + 1;
        self.next_key += 2;
        let va = self.next_va;
        // Leave a gap so that off-by-one ranges hit no neighbour.
        self.next_va += u64::from(len) + 0x1000;
        self.regions.push(SimRegion {
            lkey,
            rkey,
            va,
            access,
            valid: true,
            data: vec![0; len as usize],
        });
        SimMr {
            lkey,
            rkey,
            va,
            len,
        }
    }

    /// The bytes of the region with local key `lkey`.
    pub fn bytes(&self, lkey: u32) -> Option<&[u8]> {
        self.regions
            .iter()
            .find(|r| r.lkey == lkey)
            .map(|r| r.data.as_slice())
    }

    /// The mutable bytes of the region with local key `lkey`.
    pub fn bytes_mut(&mut self, lkey: u32) -> Option<&mut [u8]> {
        self.regions
            .iter_mut()
            .find(|r| r.lkey == lkey)
            .map(|r| r.data.as_mut_slice())
    }

    /// Whether the remote key is still valid.
    pub fn rkey_valid(&self, rkey: u32) -> bool {
        self.regions.iter().any(|r| r.rkey == rkey && r.valid)
    }

    fn find(&self, key: Key) -> Result<&SimRegion, AccessError> {
        self.regions
            .iter()
            .find(|r| match key {
                Key::Local(k) => r.lkey == k,
                Key::Remote(k) => r.rkey == k && r.valid,
            })
            .ok_or(AccessError::BadKey)
    }

    fn range(r: &SimRegion, va: u64, len: usize) -> Result<core::ops::Range<usize>, AccessError> {
        let off = va.checked_sub(r.va).ok_or(AccessError::OutOfRange)?;
        let off = usize::try_from(off).map_err(|_| AccessError::OutOfRange)?;
        let end = off.checked_add(len).ok_or(AccessError::OutOfRange)?;
        if end > r.data.len() {
            return Err(AccessError::OutOfRange);
        }
        Ok(off..end)
    }

    fn locate(
        &self,
        key: Key,
        va: u64,
        len: usize,
        right: Access,
    ) -> Result<(usize, core::ops::Range<usize>), AccessError> {
        let r = self.find(key)?;
        if !right.is_empty() && !r.access.contains(right) {
            return Err(AccessError::NoRight);
        }
        let range = Self::range(r, va, len)?;
        let idx = self
            .regions
            .iter()
            .position(|x| core::ptr::eq(x, r))
            .ok_or(AccessError::BadKey)?;
        Ok((idx, range))
    }
}

impl MemoryAccess for SimMemory {
    fn check_remote(&self, rkey: u32, va: u64, len: u32, right: Access) -> Result<(), AccessError> {
        let len = usize::try_from(len).map_err(|_| AccessError::OutOfRange)?;
        self.locate(Key::Remote(rkey), va, len, right).map(|_| ())
    }

    fn read(&self, key: Key, addr: u64, out: &mut [u8]) -> Result<(), AccessError> {
        let right = match key {
            Key::Local(_) => Access::empty(),
            Key::Remote(_) => Access::REMOTE_READ,
        };
        let (i, range) = self.locate(key, addr, out.len(), right)?;
        let src = self
            .regions
            .get(i)
            .and_then(|r| r.data.get(range))
            .ok_or(AccessError::OutOfRange)?;
        out.copy_from_slice(src);
        Ok(())
    }

    fn write(&mut self, key: Key, addr: u64, data: &[u8]) -> Result<(), AccessError> {
        let right = match key {
            Key::Local(_) => Access::LOCAL_WRITE,
            Key::Remote(_) => Access::REMOTE_WRITE,
        };
        let (i, range) = self.locate(key, addr, data.len(), right)?;
        let dst = self
            .regions
            .get_mut(i)
            .and_then(|r| r.data.get_mut(range))
            .ok_or(AccessError::OutOfRange)?;
        dst.copy_from_slice(data);
        Ok(())
    }

    fn atomic(&mut self, rkey: u32, va: u64, op: AtomicOp) -> Result<u64, AccessError> {
        if !va.is_multiple_of(8) {
            return Err(AccessError::Misaligned);
        }
        let (i, range) = self.locate(Key::Remote(rkey), va, 8, Access::REMOTE_ATOMIC)?;
        let dst = self
            .regions
            .get_mut(i)
            .and_then(|r| r.data.get_mut(range))
            .ok_or(AccessError::OutOfRange)?;
        let mut word = [0u8; 8];
        word.copy_from_slice(dst);
        let orig = u64::from_le_bytes(word);
        let new = match op {
            AtomicOp::CompareSwap { compare, swap } => {
                if orig == compare {
                    swap
                } else {
                    orig
                }
            }
            AtomicOp::FetchAdd { add } => orig.wrapping_add(add),
        };
        dst.copy_from_slice(&new.to_le_bytes());
        Ok(orig)
    }

    fn invalidate_remote(&mut self, rkey: u32) -> Result<(), AccessError> {
        let r = self
            .regions
            .iter_mut()
            .find(|r| r.rkey == rkey && r.valid)
            .ok_or(AccessError::BadKey)?;
        r.valid = false;
        Ok(())
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn sim_memory_checks_keys_ranges_and_rights() {
        let mut m = SimMemory::new(0x10_0000);
        let a = m.register(64, Access::LOCAL_WRITE | Access::REMOTE_READ);
        let b = m.register(
            16,
            Access::LOCAL_WRITE | Access::REMOTE_WRITE | Access::REMOTE_ATOMIC,
        );
        assert_eq!(
            m.write(Key::Local(a.lkey), a.va + 60, &[1, 2, 3, 4]),
            Ok(())
        );
        assert_eq!(
            m.write(Key::Local(a.lkey), a.va + 61, &[1, 2, 3, 4]),
            Err(AccessError::OutOfRange)
        );
        assert_eq!(
            m.write(Key::Remote(a.rkey), a.va, &[1]),
            Err(AccessError::NoRight)
        );
        assert_eq!(
            m.check_remote(a.rkey, a.va, 64, Access::REMOTE_READ),
            Ok(())
        );
        assert_eq!(
            m.check_remote(a.rkey, a.va, 65, Access::REMOTE_READ),
            Err(AccessError::OutOfRange)
        );
        assert_eq!(
            m.check_remote(a.lkey, a.va, 1, Access::REMOTE_READ),
            Err(AccessError::BadKey)
        );
        assert_eq!(
            m.atomic(b.rkey, b.va + 8, AtomicOp::FetchAdd { add: 5 }),
            Ok(0)
        );
        assert_eq!(
            m.atomic(
                b.rkey,
                b.va + 8,
                AtomicOp::CompareSwap {
                    compare: 5,
                    swap: 9
                }
            ),
            Ok(5)
        );
        assert_eq!(
            m.atomic(b.rkey, b.va + 8, AtomicOp::FetchAdd { add: 0 }),
            Ok(9)
        );
        assert_eq!(
            m.atomic(b.rkey, b.va + 4, AtomicOp::FetchAdd { add: 0 }),
            Err(AccessError::Misaligned)
        );
        assert_eq!(m.invalidate_remote(b.rkey), Ok(()));
        assert_eq!(
            m.check_remote(b.rkey, b.va, 8, Access::REMOTE_WRITE),
            Err(AccessError::BadKey)
        );

        // Scatter/gather across two SGEs.
        let sges = [a.sge(0, 3), a.sge(10, 5)];
        scatter(&mut m, &sges, 1, &[7, 7, 8, 8, 8, 8]).unwrap();
        let mut out = [0u8; 8];
        gather(&m, &sges, 0, &mut out).unwrap();
        assert_eq!(out, [0, 7, 7, 8, 8, 8, 8, 0]);
        assert_eq!(gather(&m, &sges, 1, &mut out), Err(AccessError::OutOfRange));
    }
}
