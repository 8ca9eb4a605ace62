//! Memory access for the data path: the operations the transport engine's
//! memory trait needs (`transport::memory::MemoryAccess` on branch
//! `transport`: check_remote, read, write, atomic, invalidate_remote),
//! implemented over the adapter's memory table, the OS mappings of
//! registered MDLs and the LAMs behind privileged-token logical addresses.
//! Every access is checked (token, PD, validity, range, rights; a logical
//! address must lie inside a live LAM of this adapter) before a single byte
//! is copied; a consumer-supplied address is never dereferenced as such.
//! Owns the copy; the checks are `verbs::memory` and `verbs::lam`.

use crate::verbs::lam::{LamTable, MappingError, LAM_PAGE_SIZE};
use crate::verbs::memory::{Access, AccessError, MemoryTable};

use super::core::{AdapterCore, Backing};
use super::sge::PdKeys;

/// Which token an access goes through (the transport's `Key`).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Key {
    /// A local token (or the PD's privileged token: a logical address).
    Local(u32),
    /// A remote token (of an MR or an MW).
    Remote(u32),
}

/// Why an access was refused (the transport's `AccessError`).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum MemError {
    BadKey,
    OutOfRange,
    NoRight,
    Misaligned,
}

/// An 8-byte atomic (the transport's `AtomicOp`).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum AtomicOp {
    CompareSwap { compare: u64, swap: u64 },
    FetchAdd { add: u64 },
}

fn from_access(e: AccessError) -> MemError {
    match e {
        AccessError::BadToken | AccessError::WrongPd | AccessError::Invalid => MemError::BadKey,
        AccessError::OutOfRange => MemError::OutOfRange,
        AccessError::NoRights => MemError::NoRight,
    }
}

fn from_mapping(_: MappingError) -> MemError {
    MemError::OutOfRange
}

/// The registered memory one QP (of one PD) reaches.
#[derive(Debug)]
pub struct QpMemory<'a> {
    core: &'a AdapterCore,
    keys: PdKeys,
}

impl<'a> QpMemory<'a> {
    /// The memory of PD `pd` (privileged token `privileged`) on `core`.
    #[allow(dead_code)] // the QP data path builds one per QP
    pub(crate) fn new(core: &'a AdapterCore, keys: PdKeys) -> Self {
        Self { core, keys }
    }

    /// Checks an access and calls `f(sys_address, len)` for each piece of
    /// it, in order, with the tables locked (memory, then LAMs). No piece is
    /// visited unless the whole range passed the checks.
    fn with_pieces(
        &self,
        key: Key,
        addr: u64,
        len: u64,
        need: Access,
        mut f: impl FnMut(usize, usize),
    ) -> Result<(), MemError> {
        let mem = self.core.memory.lock();
        let lams = self.core.lams.lock();
        let mut pieces = PieceList::default();
        match key {
            Key::Local(token) if token == self.keys.privileged => {
                if need.intersects(Access::REMOTE_READ | Access::REMOTE_WRITE) {
                    return Err(MemError::NoRight);
                }
                lam_pieces(&lams, addr as i64, len, &mut pieces)?;
            }
            Key::Local(token) => {
                let at = mem
                    .check_local(token, self.keys.pd, addr, len, need)
                    .map_err(from_access)?;
                region_pieces(&mem, &lams, at.region, at.offset, len, &mut pieces)?;
            }
            Key::Remote(token) => {
                let at = mem
                    .check_remote(token, self.keys.pd, addr, len, need)
                    .map_err(from_access)?;
                region_pieces(&mem, &lams, at.region, at.offset, len, &mut pieces)?;
            }
        }
        for &(sys, n) in pieces.items.iter().take(pieces.count) {
            f(sys, n);
        }
        Ok(())
    }

    /// Checks that `rkey` covers `[va, va+len)` with `right`.
    ///
    /// IRQL: <= DISPATCH_LEVEL.
    pub fn check_remote(
        &self,
        rkey: u32,
        va: u64,
        len: u32,
        right: Access,
    ) -> Result<(), MemError> {
        let mem = self.core.memory.lock();
        mem.check_remote(rkey, self.keys.pd, va, u64::from(len), right)
            .map(|_| ())
            .map_err(from_access)
    }

    /// Copies `out.len()` bytes at `addr` through `key` (local read is
    /// always allowed; remote needs REMOTE_READ).
    ///
    /// IRQL: <= DISPATCH_LEVEL.
    pub fn read(&self, key: Key, addr: u64, out: &mut [u8]) -> Result<(), MemError> {
        let need = match key {
            Key::Local(_) => Access::empty(),
            Key::Remote(_) => Access::REMOTE_READ,
        };
        let mut done = 0usize;
        let dst = out.as_mut_ptr();
        self.with_pieces(key, addr, out.len() as u64, need, |sys, n| {
            // SAFETY: `sys..sys+n` lies in an OS mapping of a registered MDL
            // or a live LAM (checked, tables locked so it stays registered);
            // `done + n <= out.len()` because the pieces add up to it.
            unsafe { core::ptr::copy_nonoverlapping(sys as *const u8, dst.add(done), n) };
            done += n;
        })
    }

    /// Copies `data` to `addr` through `key` (LOCAL_WRITE / REMOTE_WRITE).
    ///
    /// IRQL: <= DISPATCH_LEVEL.
    pub fn write(&mut self, key: Key, addr: u64, data: &[u8]) -> Result<(), MemError> {
        let need = match key {
            Key::Local(_) => Access::LOCAL_WRITE,
            Key::Remote(_) => Access::REMOTE_WRITE,
        };
        let mut done = 0usize;
        let src = data.as_ptr();
        self.with_pieces(key, addr, data.len() as u64, need, |sys, n| {
            // SAFETY: as in `read`, with write access checked.
            unsafe { core::ptr::copy_nonoverlapping(src.add(done), sys as *mut u8, n) };
            done += n;
        })
    }

    /// An 8-byte atomic at `va` through `rkey` (REMOTE_ATOMIC); returns the
    /// original value. Read and write happen under the table locks.
    ///
    /// IRQL: <= DISPATCH_LEVEL.
    pub fn atomic(&mut self, rkey: u32, va: u64, op: AtomicOp) -> Result<u64, MemError> {
        if !va.is_multiple_of(8) {
            return Err(MemError::Misaligned);
        }
        let mut pieces = [(0usize, 0usize); 8];
        let mut count = 0usize;
        self.with_pieces(Key::Remote(rkey), va, 8, Access::REMOTE_ATOMIC, |sys, n| {
            if let Some(slot) = pieces.get_mut(count) {
                *slot = (sys, n);
                count += 1;
            }
        })?;
        let mut word = [0u8; 8];
        let mut at = 0usize;
        for &(sys, n) in pieces.iter().take(count) {
            if let Some(dst) = word.get_mut(at..at + n) {
                // SAFETY: a checked piece of a registered mapping (see `read`).
                unsafe { core::ptr::copy_nonoverlapping(sys as *const u8, dst.as_mut_ptr(), n) };
            }
            at += n;
        }
        let orig = u64::from_le_bytes(word);
        let new = match op {
            AtomicOp::CompareSwap { compare, swap } if orig == compare => swap,
            AtomicOp::CompareSwap { .. } => orig,
            AtomicOp::FetchAdd { add } => orig.wrapping_add(add),
        };
        let bytes = new.to_le_bytes();
        at = 0;
        for &(sys, n) in pieces.iter().take(count) {
            if let Some(src) = bytes.get(at..at + n) {
                // SAFETY: as above, REMOTE_ATOMIC checked.
                unsafe { core::ptr::copy_nonoverlapping(src.as_ptr(), sys as *mut u8, n) };
            }
            at += n;
        }
        Ok(orig)
    }

    /// Invalidates a remote token (Send with Invalidate from the peer).
    ///
    /// IRQL: <= DISPATCH_LEVEL.
    pub fn invalidate_remote(&mut self, rkey: u32) -> Result<(), MemError> {
        self.core
            .memory
            .lock()
            .invalidate_remote(rkey, self.keys.pd)
            .map_err(from_access)
    }
}

/// Up to 64 pieces of one access (an 8 MiB transfer over 4 KiB LAM pages
/// would need more: such accesses are split by the caller per MTU anyway).
struct PieceList {
    items: [(usize, usize); 64],
    count: usize,
}

impl Default for PieceList {
    fn default() -> Self {
        Self {
            items: [(0, 0); 64],
            count: 0,
        }
    }
}

impl PieceList {
    fn push(&mut self, sys: usize, n: usize) -> Result<(), MemError> {
        let slot = self.items.get_mut(self.count).ok_or(MemError::OutOfRange)?;
        *slot = (sys, n);
        self.count += 1;
        Ok(())
    }
}

fn lam_pieces(
    lams: &LamTable,
    logical: i64,
    len: u64,
    out: &mut PieceList,
) -> Result<(), MemError> {
    let at = lams.locate(logical, len).map_err(from_mapping)?;
    let lam = lams.get(at.token).ok_or(MemError::BadKey)?;
    let mut err = Ok(());
    lam.mapping
        .pieces(at.offset, len, |sys, n| {
            if err.is_ok() {
                err = out.push(sys, n);
            }
        })
        .map_err(from_mapping)?;
    err
}

fn region_pieces(
    mem: &MemoryTable<Backing>,
    lams: &LamTable,
    lkey: u32,
    offset: u64,
    len: u64,
    out: &mut PieceList,
) -> Result<(), MemError> {
    let region = mem.region(lkey).ok_or(MemError::BadKey)?;
    match &region.backing {
        Backing::Mapped(m) => {
            let mut err = Ok(());
            m.pieces(offset, len, |sys, n| {
                if err.is_ok() {
                    err = out.push(sys, n);
                }
            })
            .map_err(from_mapping)?;
            err
        }
        Backing::Fast { pages, .. } => {
            // Byte `offset` of the region is byte `fbo + offset` of its
            // page list; the FBO is the base VA's offset in its page.
            let fbo = region.base % LAM_PAGE_SIZE;
            let mut pos = fbo.checked_add(offset).ok_or(MemError::OutOfRange)?;
            let mut left = len;
            while left > 0 {
                let page =
                    usize::try_from(pos / LAM_PAGE_SIZE).map_err(|_| MemError::OutOfRange)?;
                let in_page = pos % LAM_PAGE_SIZE;
                let n = left.min(LAM_PAGE_SIZE - in_page);
                let logical = *pages.get(page).ok_or(MemError::OutOfRange)?;
                let logical = logical
                    .checked_add(in_page as i64)
                    .ok_or(MemError::OutOfRange)?;
                lam_pieces(lams, logical, n, out)?;
                pos += n;
                left -= n;
            }
            Ok(())
        }
        Backing::None => Err(MemError::BadKey),
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::abi::{
        MDL, MDL_SOURCE_IS_NONPAGED_POOL, NDK_LOGICAL_ADDRESS_MAPPING, NDK_MR, STATUS_SUCCESS,
    };
    use crate::ndk::test_support::TestAdapter;
    use core::ffi::c_void;
    use core::ptr::null_mut;

    fn mdl_for(buf: &mut [u8], va: u64) -> MDL {
        MDL {
            Next: null_mut(),
            Size: 0x30,
            MdlFlags: MDL_SOURCE_IS_NONPAGED_POOL,
            AllocationProcessorNumber: 0,
            Reserved: 0,
            Process: null_mut(),
            MappedSystemVa: buf.as_mut_ptr().cast::<c_void>(),
            StartVa: (va & !0xFFF) as *mut c_void,
            ByteCount: buf.len() as u32,
            ByteOffset: (va & 0xFFF) as u32,
        }
    }

    fn register(pd: *mut crate::abi::NDK_PD, mdl: &mut MDL, len: usize, flags: u32) -> *mut NDK_MR {
        let mut mr = null_mut();
        // SAFETY: a live PD; MR entries called as NDKPI defines them.
        unsafe {
            let d = &*(*pd).Dispatch;
            assert_eq!(
                (d.NdkCreateMr)(pd, 0, None, null_mut(), &mut mr),
                STATUS_SUCCESS
            );
            let m = &*(*mr).Dispatch;
            assert_eq!(
                (m.NdkRegisterMr)(mr, mdl, len, flags, None, null_mut()),
                STATUS_SUCCESS
            );
        }
        mr
    }

    fn tokens(mr: *mut NDK_MR) -> (u32, u32) {
        // SAFETY: a live MR.
        unsafe {
            let m = &*(*mr).Dispatch;
            (
                (m.NdkGetLocalTokenFromMr)(mr),
                (m.NdkGetRemoteTokenFromMr)(mr),
            )
        }
    }

    fn close<T>(o: *mut T) {
        // SAFETY: a live object, closed once.
        unsafe {
            let any = o.cast::<crate::abi::NDK_PD>();
            assert_eq!(
                ((*(*any).Dispatch).NdkClosePd)(any.cast(), None, null_mut()),
                STATUS_SUCCESS
            );
        }
    }

    /// Local and remote access through the memory table and the MDL's OS
    /// mapping: the consumer's VA is an index (the bytes land in the buffer
    /// the MDL maps), ranges, rights and PD are enforced before any copy.
    #[test]
    fn local_and_remote_copies_are_checked() {
        let t = TestAdapter::new();
        let (pd, pdo) = t.pd();
        let (_pd2, pdo2) = t.pd();
        let mut buf = vec![0u8; 64];
        let va = 0x5500_0000_1010u64;
        let mut mdl = mdl_for(&mut buf, va);
        let mr = register(pd, &mut mdl, 64, crate::abi::NDK_MR_FLAG_ALLOW_REMOTE_WRITE);
        let (lkey, rkey) = tokens(mr);
        let keys = PdKeys {
            pd: pdo.id,
            privileged: pdo.privileged,
        };
        let core = t.adapter().core().clone();
        let mut mem = QpMemory::new(&core, keys);
        assert_eq!(mem.write(Key::Local(lkey), va + 4, &[1, 2, 3]), Ok(()));
        assert_eq!(mem.write(Key::Remote(rkey), va + 60, &[9, 9, 9, 9]), Ok(()));
        assert_eq!(
            mem.write(Key::Remote(rkey), va + 61, &[9, 9, 9, 9]),
            Err(MemError::OutOfRange)
        );
        assert_eq!(
            mem.read(Key::Remote(rkey), va, &mut [0u8; 4]),
            Err(MemError::NoRight)
        );
        assert_eq!(buf[4..7], [1, 2, 3]);
        assert_eq!(buf[60..], [9, 9, 9, 9]);
        let mut out = [0u8; 3];
        assert_eq!(mem.read(Key::Local(lkey), va + 4, &mut out), Ok(()));
        assert_eq!(out, [1, 2, 3]);
        assert_eq!(
            mem.atomic(rkey, va + 8, AtomicOp::FetchAdd { add: 5 }),
            Ok(0)
        );
        assert_eq!(
            mem.atomic(
                rkey,
                va + 8,
                AtomicOp::CompareSwap {
                    compare: 5,
                    swap: 7
                }
            ),
            Ok(5)
        );
        assert_eq!(
            mem.atomic(rkey, va + 9, AtomicOp::FetchAdd { add: 1 }),
            Err(MemError::Misaligned)
        );
        assert_eq!(buf[8], 7);
        // Another PD's QP: the tokens name nothing there.
        let keys2 = PdKeys {
            pd: pdo2.id,
            privileged: pdo2.privileged,
        };
        let other = QpMemory::new(&core, keys2);
        assert_eq!(
            other.read(Key::Local(lkey), va, &mut out),
            Err(MemError::BadKey)
        );
        assert_eq!(
            other.check_remote(rkey, va, 1, Access::REMOTE_WRITE),
            Err(MemError::BadKey)
        );
        assert_eq!(
            mem.invalidate_remote(rkey),
            Err(MemError::NoRight),
            "NdkRegisterMr'd MRs are not invalidated by token"
        );
        close(mr);
        assert_eq!(
            mem.read(Key::Local(lkey), va, &mut out),
            Err(MemError::BadKey)
        );
        close(_pd2);
        close(pd);
        drop(core);
        t.finish();
    }

    /// The privileged token reaches LAM bytes locally and never remotely; a
    /// fast-registered region reaches its pages through the LAM.
    #[test]
    fn privileged_token_and_fast_registered_pages_go_through_lams() {
        let t = TestAdapter::new();
        let (pd, pdo) = t.pd();
        let core = t.adapter().core().clone();
        let mut page = vec![0u8; 3 * 4096];
        let at = (page.as_ptr() as usize).div_ceil(4096) * 4096 - page.as_ptr() as usize;
        let slice = &mut page[at..at + 8192];
        let mut mdl = mdl_for(slice, 0x1_0000_0000);
        let mut lam_buf = [0u64; 4];
        let lam = lam_buf.as_mut_ptr().cast::<NDK_LOGICAL_ADDRESS_MAPPING>();
        let (mut size, mut fbo) = (32u32, 0u32);
        // SAFETY: a live adapter, a readable MDL and a 32-byte LAM.
        let s = unsafe {
            crate::ndk::lam::ndk_build_lam(
                t.adapter.as_ptr(),
                &mut mdl,
                8192,
                None,
                null_mut(),
                lam,
                &mut size,
                &mut fbo,
            )
        };
        assert_eq!(s, STATUS_SUCCESS);
        let p0 = lam_buf[2];
        let p1 = lam_buf[3];
        let keys = PdKeys {
            pd: pdo.id,
            privileged: pdo.privileged,
        };
        let mut mem = QpMemory::new(&core, keys);
        // Across the page boundary in one access.
        assert_eq!(
            mem.write(Key::Local(pdo.privileged), p0 + 4094, &[5, 6, 7, 8]),
            Ok(())
        );
        assert_eq!(page[at + 4094..at + 4098], [5, 6, 7, 8]);
        assert_eq!(
            mem.write(Key::Remote(pdo.privileged), p0, &[1]),
            Err(MemError::BadKey)
        );
        assert_eq!(
            mem.check_remote(pdo.privileged, p0, 1, Access::REMOTE_READ),
            Err(MemError::BadKey)
        );
        assert_eq!(
            mem.read(Key::Local(pdo.privileged), p1 + 4096, &mut [0u8; 1]),
            Err(MemError::OutOfRange)
        );

        // A fast-registered region over the LAM's two pages, in reverse
        // order (pages need not be logically contiguous), as NdkFastRegister
        // will set it up.
        let (mr_lkey, rkey) = {
            let region = crate::verbs::memory::Region {
                pd: pdo.id,
                base: 0x9000_0000,
                len: 8192,
                access: Access::LOCAL_WRITE | Access::REMOTE_READ | Access::REMOTE_WRITE,
                kind: crate::verbs::memory::RegionKind::FastRegister { max_pages: 2 },
                rkey: None,
                valid: true,
                backing: Backing::Fast {
                    pages: alloc::vec![p1 as i64, p0 as i64],
                    capacity: 2,
                },
            };
            let lkey = core
                .insert_region(region)
                .unwrap_or_else(|_| panic!("full"));
            let rkey = core
                .memory
                .lock()
                .region(lkey)
                .and_then(|r| r.rkey)
                .unwrap_or(0);
            (lkey, rkey)
        };
        assert_eq!(
            mem.write(Key::Remote(rkey), 0x9000_0000 + 4096, &[0xEE]),
            Ok(())
        );
        assert_eq!(page[at], 0xEE, "page 1 of the region is the LAM's page 0");
        assert_eq!(mem.invalidate_remote(rkey), Ok(()));
        assert_eq!(
            mem.write(Key::Remote(rkey), 0x9000_0000, &[1]),
            Err(MemError::BadKey)
        );
        core.memory.lock().remove(mr_lkey);
        // SAFETY: the LAM built above.
        unsafe { crate::ndk::lam::ndk_release_lam(t.adapter.as_ptr(), lam) };
        assert_eq!(
            mem.read(Key::Local(pdo.privileged), p0, &mut [0u8; 1]),
            Err(MemError::OutOfRange)
        );
        close(pd);
        drop(core);
        t.finish();
    }
}
