//! The transport engine's memory seam for one QP: `transport::MemoryAccess`
//! over [`QpMemory`] (registered MRs, MWs, fast-registered MRs, LAMs behind
//! the privileged token) plus the QP's inline area, which SGEs with the
//! reserved local key [`INLINE_LKEY`] name (0 is never a minted token: every
//! token's tag is non-zero). Owns the type mapping only; the checks are
//! `QpMemory`'s and `verbs::memory`'s.
#![deny(unsafe_code)]

use crate::transport::memory as t;
use crate::verbs::memory::Access;

use super::memory_access::{AtomicOp, Key, MemError, QpMemory};

/// The local key of an SGE that points into the QP's inline area (the
/// address is the byte offset into it).
pub(crate) const INLINE_LKEY: u32 = 0;

/// One QP's memory as the engine sees it.
pub(crate) struct DpMem<'a> {
    pub mem: QpMemory<'a>,
    /// Copies of INLINE posts, preallocated at QP create.
    pub inline: &'a [u8],
}

fn err(e: MemError) -> t::AccessError {
    match e {
        MemError::BadKey => t::AccessError::BadKey,
        MemError::OutOfRange => t::AccessError::OutOfRange,
        MemError::NoRight => t::AccessError::NoRight,
        MemError::Misaligned => t::AccessError::Misaligned,
    }
}

fn key_of(key: t::Key) -> Key {
    match key {
        t::Key::Local(k) => Key::Local(k),
        t::Key::Remote(k) => Key::Remote(k),
    }
}

impl t::MemoryAccess for DpMem<'_> {
    /// IRQL: <= DISPATCH_LEVEL.
    fn check_remote(
        &self,
        rkey: u32,
        va: u64,
        len: u32,
        right: t::Access,
    ) -> Result<(), t::AccessError> {
        self.mem
            .check_remote(rkey, va, len, Access::from_bits_truncate(right.bits()))
            .map_err(err)
    }

    /// IRQL: <= DISPATCH_LEVEL.
    fn read(&self, key: t::Key, addr: u64, out: &mut [u8]) -> Result<(), t::AccessError> {
        if key == t::Key::Local(INLINE_LKEY) {
            let start = usize::try_from(addr).map_err(|_| t::AccessError::OutOfRange)?;
            let end = start
                .checked_add(out.len())
                .ok_or(t::AccessError::OutOfRange)?;
            let src = self
                .inline
                .get(start..end)
                .ok_or(t::AccessError::OutOfRange)?;
            out.copy_from_slice(src);
            return Ok(());
        }
        self.mem.read(key_of(key), addr, out).map_err(err)
    }

    /// IRQL: <= DISPATCH_LEVEL.
    fn write(&mut self, key: t::Key, addr: u64, data: &[u8]) -> Result<(), t::AccessError> {
        if key == t::Key::Local(INLINE_LKEY) {
            // The inline area is a send-side copy: never a sink.
            return Err(t::AccessError::BadKey);
        }
        self.mem.write(key_of(key), addr, data).map_err(err)
    }

    /// IRQL: <= DISPATCH_LEVEL.
    fn atomic(&mut self, rkey: u32, va: u64, op: t::AtomicOp) -> Result<u64, t::AccessError> {
        let op = match op {
            t::AtomicOp::CompareSwap { compare, swap } => AtomicOp::CompareSwap { compare, swap },
            t::AtomicOp::FetchAdd { add } => AtomicOp::FetchAdd { add },
        };
        self.mem.atomic(rkey, va, op).map_err(err)
    }

    /// IRQL: <= DISPATCH_LEVEL.
    fn invalidate_remote(&mut self, rkey: u32) -> Result<(), t::AccessError> {
        self.mem.invalidate_remote(rkey).map_err(err)
    }
}
