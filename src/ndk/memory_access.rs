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
