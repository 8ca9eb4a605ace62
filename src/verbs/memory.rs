//! Memory regions and windows: registration state, local and remote tokens,
//! and the access check every local SGE and every remote request goes
//! through (protection domain, range, rights, validity).
//!
//! Owns the tables and the checks; must not touch the memory itself. The
//! bytes are reached through a backing handle `B` that the OS glue provides
//! (an MDL mapping in the kernel, a buffer in the hosted provider).

use super::token::{TableFull, TokenRng, TokenTable};

bitflags::bitflags! {
    /// Rights on a region or window.
    #[derive(Debug, Clone, Copy, PartialEq, Eq)]
    pub struct Access: u8 {
        /// Local read is always granted; this bit is implicit.
        const LOCAL_WRITE = 1 << 0;
        const REMOTE_READ = 1 << 1;
        const REMOTE_WRITE = 1 << 2;
        /// Incoming atomics (granted with remote write: NDK has no separate flag).
        const REMOTE_ATOMIC = 1 << 3;
    }
}

/// Why an access was refused.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum AccessError {
    /// No live region or window has this token.
    BadToken,
    /// The token belongs to another protection domain.
    WrongPd,
    /// The range is not inside the region or window (or overflows).
    OutOfRange,
    /// The region or window does not grant the rights asked for.
    NoRights,
    /// The region is registered but not (or no longer) valid.
    Invalid,
}

/// How a region came to be.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum RegionKind {
    /// NdkRegisterMr.
    Registered,
    /// Created for fast registration; `max_pages` once initialized.
    FastRegister { max_pages: u32 },
    /// A PD's privileged token: names no bytes of its own; SGEs carrying it
    /// hold logical addresses (checked against the LAM table instead).
    Privileged,
}

/// A memory region.
#[derive(Debug)]
pub struct Region<B> {
    pub pd: u32,
    /// The consumer's virtual address of the first byte (an index, never dereferenced).
    pub base: u64,
    pub len: u64,
    pub access: Access,
    pub kind: RegionKind,
    /// The remote token, if remote access is granted.
    pub rkey: Option<u32>,
    /// Whether accesses may use it now (fast-registered and not invalidated).
    pub valid: bool,
    pub backing: B,
}

/// A memory window bound to a region.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Window {
    pub pd: u32,
    /// The local token of the region it is bound to.
    pub region: u32,
    pub base: u64,
    pub len: u64,
    pub access: Access,
}

/// What a remote token names.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum Remote {
    Region(u32),
    Window(u32),
}

/// A checked access: the region's local token and the byte offset into it.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Located {
    pub region: u32,
    pub offset: u64,
}

/// Checks `[va, va+len)` lies within `[base, base+len)`; overflow-safe.
/// Returns the offset from `base`.
pub fn range_offset(base: u64, size: u64, va: u64, len: u64) -> Result<u64, AccessError> {
    let offset = va.checked_sub(base).ok_or(AccessError::OutOfRange)?;
    let end = offset.checked_add(len).ok_or(AccessError::OutOfRange)?;
    if end > size {
        return Err(AccessError::OutOfRange);
    }
    Ok(offset)
}

/// The regions and windows of one adapter.
#[derive(Debug)]
pub struct MemoryTable<B> {
    regions: TokenTable<Region<B>>,
    remote: TokenTable<Remote>,
    windows: TokenTable<Window>,
}

impl<B> MemoryTable<B> {
    /// Tables for `max_regions` regions and `max_windows` windows.
    /// Allocates: IRQL <= DISPATCH_LEVEL, at adapter creation.
    pub fn new(max_regions: u32, max_windows: u32) -> Self {
        Self {
            regions: TokenTable::with_capacity(max_regions),
            remote: TokenTable::with_capacity(max_regions.saturating_add(max_windows)),
            windows: TokenTable::with_capacity(max_windows),
        }
    }

    /// Adds a region; returns its local token. A remote token is minted when
    /// the rights include remote access. IRQL: <= DISPATCH_LEVEL.
    pub fn insert(&mut self, rng: &mut TokenRng, region: Region<B>) -> Result<u32, TableFull> {
        let wants_remote = region
            .access
            .intersects(Access::REMOTE_READ | Access::REMOTE_WRITE);
        let lkey = self.regions.insert(rng, region)?;
        if wants_remote {
            match self.remote.insert(rng, Remote::Region(lkey)) {
                Ok(rkey) => {
                    if let Some(r) = self.regions.get_mut(lkey) {
                        r.rkey = Some(rkey);
                    }
                }
                Err(e) => {
                    self.regions.remove(lkey);
                    return Err(e);
                }
            }
        }
        Ok(lkey)
    }

    /// Removes a region (and its remote token). IRQL: <= DISPATCH_LEVEL.
    pub fn remove(&mut self, lkey: u32) -> Option<Region<B>> {
        let region = self.regions.remove(lkey)?;
        if let Some(rkey) = region.rkey {
            self.remote.remove(rkey);
        }
        Some(region)
    }

    /// The region with this local token.
    pub fn region(&self, lkey: u32) -> Option<&Region<B>> {
        self.regions.get(lkey)
    }

    /// Mutable access to the region with this local token.
    pub fn region_mut(&mut self, lkey: u32) -> Option<&mut Region<B>> {
        self.regions.get_mut(lkey)
    }

    /// Replaces a region's remote token with a fresh one (fast registration
    /// re-mints it so a stale token from an earlier registration is dead).
    /// IRQL: <= DISPATCH_LEVEL.
    pub fn remint_rkey(&mut self, rng: &mut TokenRng, lkey: u32) -> Result<u32, AccessError> {
        let old = self.regions.get(lkey).ok_or(AccessError::BadToken)?.rkey;
        if let Some(old) = old {
            self.remote.remove(old);
        }
        let rkey = self
            .remote
            .insert(rng, Remote::Region(lkey))
            .map_err(|_| AccessError::BadToken)?;
        if let Some(r) = self.regions.get_mut(lkey) {
            r.rkey = Some(rkey);
        }
        Ok(rkey)
    }

    /// Checks a local access (an SGE): token, PD, validity, range, rights.
    /// IRQL: any.
    pub fn check_local(
        &self,
        lkey: u32,
        pd: u32,
        va: u64,
        len: u64,
        need: Access,
    ) -> Result<Located, AccessError> {
        let r = self.regions.get(lkey).ok_or(AccessError::BadToken)?;
        if r.pd != pd {
            return Err(AccessError::WrongPd);
        }
        if !r.valid || r.kind == RegionKind::Privileged {
            return Err(AccessError::Invalid);
        }
        let offset = range_offset(r.base, r.len, va, len)?;
        if !r.access.contains(need & Access::LOCAL_WRITE) {
            return Err(AccessError::NoRights);
        }
        Ok(Located {
            region: lkey,
            offset,
        })
    }

    /// Checks a remote access by the peer of a QP in `pd`.
    /// IRQL: any.
    pub fn check_remote(
        &self,
        rkey: u32,
        pd: u32,
        va: u64,
        len: u64,
        need: Access,
    ) -> Result<Located, AccessError> {
        match *self.remote.get(rkey).ok_or(AccessError::BadToken)? {
            Remote::Region(lkey) => {
                let r = self.regions.get(lkey).ok_or(AccessError::BadToken)?;
                if r.pd != pd {
                    return Err(AccessError::WrongPd);
                }
                if !r.valid {
                    return Err(AccessError::Invalid);
                }
                let offset = range_offset(r.base, r.len, va, len)?;
                if !r.access.contains(need) {
                    return Err(AccessError::NoRights);
                }
                Ok(Located {
                    region: lkey,
                    offset,
                })
            }
            Remote::Window(handle) => {
                let w = self.windows.get(handle).ok_or(AccessError::BadToken)?;
                if w.pd != pd {
                    return Err(AccessError::WrongPd);
                }
                range_offset(w.base, w.len, va, len)?;
                if !w.access.contains(need) {
                    return Err(AccessError::NoRights);
                }
                let r = self.regions.get(w.region).ok_or(AccessError::Invalid)?;
                if !r.valid {
                    return Err(AccessError::Invalid);
                }
                let offset = range_offset(r.base, r.len, va, len)?;
                Ok(Located {
                    region: w.region,
                    offset,
                })
            }
        }
    }

    /// Binds a window over part of a region; returns (window handle, rkey).
    /// The window's range must lie in the region, the region must grant
    /// LOCAL_WRITE if the window grants REMOTE_WRITE.
    /// IRQL: <= DISPATCH_LEVEL.
    pub fn bind(
        &mut self,
        rng: &mut TokenRng,
        pd: u32,
        lkey: u32,
        base: u64,
        len: u64,
        access: Access,
    ) -> Result<(u32, u32), AccessError> {
        let r = self.regions.get(lkey).ok_or(AccessError::BadToken)?;
        if r.pd != pd {
            return Err(AccessError::WrongPd);
        }
        if !r.valid {
            return Err(AccessError::Invalid);
        }
        range_offset(r.base, r.len, base, len)?;
        if access.contains(Access::REMOTE_WRITE) && !r.access.contains(Access::LOCAL_WRITE) {
            return Err(AccessError::NoRights);
        }
        let window = Window {
            pd,
            region: lkey,
            base,
            len,
            access,
        };
        let handle = self
            .windows
            .insert(rng, window)
            .map_err(|_| AccessError::BadToken)?;
        match self.remote.insert(rng, Remote::Window(handle)) {
            Ok(rkey) => Ok((handle, rkey)),
            Err(_) => {
                self.windows.remove(handle);
                Err(AccessError::BadToken)
            }
        }
    }

    /// Invalidates a remote token: a window is unbound, a fast-registered
    /// region becomes invalid. Registered (non-fast) regions cannot be
    /// invalidated by token. IRQL: <= DISPATCH_LEVEL.
    pub fn invalidate_remote(&mut self, rkey: u32, pd: u32) -> Result<(), AccessError> {
        match *self.remote.get(rkey).ok_or(AccessError::BadToken)? {
            Remote::Window(handle) => {
                let w = self.windows.get(handle).ok_or(AccessError::BadToken)?;
                if w.pd != pd {
                    return Err(AccessError::WrongPd);
                }
                self.windows.remove(handle);
                self.remote.remove(rkey);
                Ok(())
            }
            Remote::Region(lkey) => {
                let r = self.regions.get_mut(lkey).ok_or(AccessError::BadToken)?;
                if r.pd != pd {
                    return Err(AccessError::WrongPd);
                }
                if r.kind == RegionKind::Registered {
                    return Err(AccessError::NoRights);
                }
                r.valid = false;
                Ok(())
            }
        }
    }

    /// The local token of the region a remote token names (directly or
    /// through a window), if it is of `pd`. IRQL: any.
    pub fn remote_region(&self, rkey: u32, pd: u32) -> Option<u32> {
        match *self.remote.get(rkey)? {
            Remote::Region(lkey) => self.regions.get(lkey).filter(|r| r.pd == pd).map(|_| lkey),
            Remote::Window(h) => self.windows.get(h).filter(|w| w.pd == pd).map(|w| w.region),
        }
    }

    /// Live regions (for leak checks).
    pub fn regions_len(&self) -> usize {
        self.regions.len()
    }

    /// Live windows (for leak checks).
    pub fn windows_len(&self) -> usize {
        self.windows.len()
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn table() -> (MemoryTable<()>, TokenRng) {
        (MemoryTable::new(16, 16), TokenRng::from_seed([3; 32]))
    }

    fn region(pd: u32, access: Access) -> Region<()> {
        Region {
            pd,
            base: 0x1000,
            len: 0x100,
            access,
            kind: RegionKind::Registered,
            rkey: None,
            valid: true,
            backing: (),
        }
    }

    #[test]
    fn range_checks_are_overflow_safe() {
        assert_eq!(range_offset(0x1000, 0x100, 0x1000, 0x100), Ok(0));
        assert_eq!(range_offset(0x1000, 0x100, 0x10FF, 1), Ok(0xFF));
        assert_eq!(
            range_offset(0x1000, 0x100, 0x10FF, 2),
            Err(AccessError::OutOfRange)
        );
        assert_eq!(
            range_offset(0x1000, 0x100, 0xFFF, 1),
            Err(AccessError::OutOfRange)
        );
        assert_eq!(
            range_offset(0, u64::MAX, 1, u64::MAX),
            Err(AccessError::OutOfRange)
        );
        assert_eq!(range_offset(0x1000, 0x100, 0x1100, 0), Ok(0x100));
    }

    #[test]
    fn local_and_remote_checks() {
        let (mut t, mut rng) = table();
        let lkey = t
            .insert(
                &mut rng,
                region(1, Access::LOCAL_WRITE | Access::REMOTE_READ),
            )
            .unwrap();
        let rkey = t.region(lkey).unwrap().rkey.unwrap();
        assert_ne!(lkey, rkey);
        assert!(t
            .check_local(lkey, 1, 0x1000, 16, Access::LOCAL_WRITE)
            .is_ok());
        assert_eq!(
            t.check_local(lkey, 2, 0x1000, 16, Access::empty()),
            Err(AccessError::WrongPd)
        );
        assert!(t
            .check_remote(rkey, 1, 0x1080, 0x80, Access::REMOTE_READ)
            .is_ok());
        assert_eq!(
            t.check_remote(rkey, 1, 0x1080, 0x81, Access::REMOTE_READ),
            Err(AccessError::OutOfRange)
        );
        assert_eq!(
            t.check_remote(rkey, 1, 0x1000, 1, Access::REMOTE_WRITE),
            Err(AccessError::NoRights)
        );
        // The local token is not a remote token.
        assert_eq!(
            t.check_remote(lkey, 1, 0x1000, 1, Access::REMOTE_READ),
            Err(AccessError::BadToken)
        );
        t.remove(lkey);
        assert_eq!(
            t.check_remote(rkey, 1, 0x1000, 1, Access::REMOTE_READ),
            Err(AccessError::BadToken)
        );
    }

    #[test]
    fn local_only_region_has_no_remote_token_and_no_local_write() {
        let (mut t, mut rng) = table();
        let lkey = t.insert(&mut rng, region(1, Access::empty())).unwrap();
        assert_eq!(t.region(lkey).unwrap().rkey, None);
        assert!(t.check_local(lkey, 1, 0x1000, 1, Access::empty()).is_ok());
        assert_eq!(
            t.check_local(lkey, 1, 0x1000, 1, Access::LOCAL_WRITE),
            Err(AccessError::NoRights)
        );
    }

    #[test]
    fn windows_bind_check_and_invalidate() {
        let (mut t, mut rng) = table();
        let ro = t.insert(&mut rng, region(1, Access::empty())).unwrap();
        assert_eq!(
            t.bind(&mut rng, 1, ro, 0x1000, 8, Access::REMOTE_WRITE),
            Err(AccessError::NoRights)
        );
        let lkey = t.insert(&mut rng, region(1, Access::LOCAL_WRITE)).unwrap();
        assert_eq!(
            t.bind(&mut rng, 1, lkey, 0x10F0, 0x20, Access::REMOTE_READ),
            Err(AccessError::OutOfRange)
        );
        let (_, rkey) = t
            .bind(
                &mut rng,
                1,
                lkey,
                0x1010,
                0x20,
                Access::REMOTE_READ | Access::REMOTE_WRITE,
            )
            .unwrap();
        let at = t
            .check_remote(rkey, 1, 0x1018, 8, Access::REMOTE_WRITE)
            .unwrap();
        assert_eq!(
            at,
            Located {
                region: lkey,
                offset: 0x18
            }
        );
        assert_eq!(
            t.check_remote(rkey, 1, 0x1000, 8, Access::REMOTE_READ),
            Err(AccessError::OutOfRange)
        );
        assert_eq!(t.invalidate_remote(rkey, 2), Err(AccessError::WrongPd));
        t.invalidate_remote(rkey, 1).unwrap();
        assert_eq!(
            t.check_remote(rkey, 1, 0x1018, 8, Access::REMOTE_READ),
            Err(AccessError::BadToken)
        );
        assert_eq!(t.windows_len(), 0);
    }

    #[test]
    fn fast_registered_regions_invalidate_and_remint() {
        let (mut t, mut rng) = table();
        let mut r = region(1, Access::LOCAL_WRITE | Access::REMOTE_WRITE);
        r.kind = RegionKind::FastRegister { max_pages: 4 };
        let lkey = t.insert(&mut rng, r).unwrap();
        let rkey = t.region(lkey).unwrap().rkey.unwrap();
        t.invalidate_remote(rkey, 1).unwrap();
        assert_eq!(
            t.check_remote(rkey, 1, 0x1000, 1, Access::REMOTE_WRITE),
            Err(AccessError::Invalid)
        );
        let new = t.remint_rkey(&mut rng, lkey).unwrap();
        assert_ne!(new, rkey);
        t.region_mut(lkey).unwrap().valid = true;
        assert!(t
            .check_remote(new, 1, 0x1000, 1, Access::REMOTE_WRITE)
            .is_ok());
        assert_eq!(
            t.check_remote(rkey, 1, 0x1000, 1, Access::REMOTE_WRITE),
            Err(AccessError::BadToken)
        );
        // A plainly registered region cannot be invalidated by token.
        let plain = t.insert(&mut rng, region(1, Access::REMOTE_READ)).unwrap();
        let prkey = t.region(plain).unwrap().rkey.unwrap();
        assert_eq!(t.invalidate_remote(prkey, 1), Err(AccessError::NoRights));
    }
}
