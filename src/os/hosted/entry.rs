//! The hosted twin of NDIS's OPEN/CLOSE_NDK_ADAPTER_HANDLER and the test
//! harness around it: `extern "C"` entry points exported by the cdylib
//! (`libsoftroce.so`) and declared in `softroce.h`. Owns argument
//! marshalling, the platform handles (virtual clock or real DPC thread,
//! pool books, IRQL books, hosted MDLs) and the process-wide registry of
//! networks: instances opened on one address (and, for
//! `softroce_open_adapter_on`, one platform) share one `ndk::Network`, as
//! the NDK instances of one miniport adapter do in the kernel (the registry
//! holds `WeakNetwork`s: the instances keep a network up, the last close
//! stops it, under the registry's lock so a new open never races a network
//! still stopping). The rules live in `ndk`. Must not touch the rest of
//! `os::hosted` (carrier, engine internals).

use core::ffi::{c_char, c_void, CStr};
use core::net::IpAddr;
use core::ptr::{null, null_mut, NonNull};
use std::sync::{Arc, Mutex, PoisonError};
use std::time::Duration;

use super::{irql_books, HostedPlatform, VirtualPlatform};
use crate::abi::{
    NtStatus, MDL, MDL_SOURCE_IS_NONPAGED_POOL, NDK_ADAPTER, NDK_VERSION, STATUS_INVALID_ADDRESS,
    STATUS_INVALID_HANDLE, STATUS_INVALID_PARAMETER, STATUS_SUCCESS,
};
use crate::ndk::open::adapter_address;
use crate::ndk::{
    close_adapter, negotiate_version, open_adapter_on, Adapter, Network, WeakNetwork,
    NDK_PROVIDER_VERSION,
};
use crate::os::{Platform, PoolTag, PoolUsage};

/// Parses a NUL-terminated IPv4 or IPv6 literal (no zone id, no port).
///
/// # Safety
/// `text` points to a NUL-terminated string.
unsafe fn parse_address(text: *const c_char) -> Result<IpAddr, NtStatus> {
    // SAFETY: the caller guarantees a NUL-terminated string.
    let text = unsafe { CStr::from_ptr(text) };
    let text = text.to_str().map_err(|_| STATUS_INVALID_ADDRESS)?;
    text.parse::<IpAddr>().map_err(|_| STATUS_INVALID_ADDRESS)
}

/// A platform handle given to C: the virtual-clock test platform or the
/// real-time one.
#[derive(Debug)]
pub enum SoftrocePlatform {
    Virtual(Arc<VirtualPlatform>),
    Real(Arc<HostedPlatform>),
}

impl SoftrocePlatform {
    fn platform(&self) -> Arc<dyn Platform> {
        match self {
            SoftrocePlatform::Virtual(p) => p.clone(),
            SoftrocePlatform::Real(p) => p.clone(),
        }
    }
}

/// Which network an open attaches to: the address, and the platform the
/// caller named (`softroce_open_adapter_on`: its address as identity) or
/// none (`softroce_open_adapter`: the network brings its own real-time
/// platform, shared by the instances on it).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
struct NetKey {
    platform: Option<usize>,
    address: IpAddr,
}

/// The process-wide registry: live networks by key (dead entries are
/// swept at each open).
static NETWORKS: Mutex<Vec<(NetKey, WeakNetwork)>> = Mutex::new(Vec::new());

/// The network for `key`: the live one, or a new one on `platform` (or a
/// new real-time platform). Under the registry's lock, so two opens on one
/// address never make two networks.
///
/// IRQL: PASSIVE_LEVEL.
fn shared_network(key: NetKey, platform: Option<Arc<dyn Platform>>) -> Result<Network, NtStatus> {
    let mut registry = NETWORKS.lock().unwrap_or_else(PoisonError::into_inner);
    registry.retain(|(_, w)| w.upgrade().is_some());
    let live = registry
        .iter()
        .find(|(k, _)| *k == key)
        .and_then(|(_, w)| w.upgrade());
    if let Some(network) = live {
        return Ok(network);
    }
    let platform = platform.unwrap_or_else(|| HostedPlatform::new("softroce"));
    let network = Network::new(key.address, platform, None)?;
    registry.push((key, network.downgrade()));
    Ok(network)
}

/// Drops a handle on a registered network under the registry's lock: if
/// it is the last, the network stops before any open can look for it.
///
/// IRQL: PASSIVE_LEVEL.
fn release_network(network: Network) {
    let registry = NETWORKS.lock().unwrap_or_else(PoisonError::into_inner);
    drop(network);
    drop(registry);
}

/// The open path shared by both open entry points: version, address, the
/// network (shared through the registry), then the instance.
///
/// # Safety
/// `ip_address` is NULL or NUL-terminated; `adapter` is NULL or writable.
unsafe fn open_on(
    platform: Option<Arc<dyn Platform>>,
    ip_address: *const c_char,
    requested: NDK_VERSION,
    adapter: *mut *mut NDK_ADAPTER,
) -> NtStatus {
    if adapter.is_null() {
        return STATUS_INVALID_PARAMETER;
    }
    let result = if ip_address.is_null() {
        Err(STATUS_INVALID_PARAMETER)
    } else {
        // Version before address, the order `open_adapter` checks them in.
        negotiate_version(requested)
            // SAFETY: non-null and NUL-terminated by the caller's contract.
            .and_then(|_| unsafe { parse_address(ip_address) })
            .and_then(adapter_address)
            .and_then(|address| {
                let key = NetKey {
                    platform: platform
                        .as_ref()
                        .map(|p| Arc::as_ptr(p).cast::<()>() as usize),
                    address,
                };
                let network = shared_network(key, platform)?;
                let opened = open_adapter_on(&network, requested);
                release_network(network);
                opened
            })
            .map(NonNull::as_ptr)
    };
    let (out, status) = match result {
        Ok(ptr) => (ptr, STATUS_SUCCESS),
        Err(status) => (null_mut(), status),
    };
    // SAFETY: non-null and writable by the caller's contract.
    unsafe { adapter.write(out) };
    status
}

/// Opens an NDK adapter instance bound to `ip_address`, as NDIS's
/// OPEN_NDK_ADAPTER_HANDLER would, on its own real-time platform (a DPC
/// worker thread).
///
/// Checks, in order: NULL `adapter` or NULL `ip_address` ->
/// STATUS_INVALID_PARAMETER; `requested` not {2, <=1} ->
/// NDIS_STATUS_BAD_VERSION; not an IPv4/IPv6 literal, or unspecified,
/// multicast or broadcast -> STATUS_INVALID_ADDRESS; out of memory ->
/// STATUS_INSUFFICIENT_RESOURCES. On success `*adapter` is the new instance
/// (running at NDK 2.1) and STATUS_SUCCESS is returned; on failure `*adapter`
/// is set to NULL (when `adapter` itself is not NULL).
///
/// IRQL: PASSIVE_LEVEL.
///
/// # Safety
/// `ip_address` is NULL or NUL-terminated; `adapter` is NULL or writable.
#[no_mangle]
pub unsafe extern "C" fn softroce_open_adapter(
    ip_address: *const c_char,
    requested: NDK_VERSION,
    adapter: *mut *mut NDK_ADAPTER,
) -> NtStatus {
    // SAFETY: forwarded contract.
    unsafe { open_on(None, ip_address, requested, adapter) }
}

/// As [`softroce_open_adapter`], on `platform` (from
/// [`softroce_platform_virtual`] or [`softroce_platform_real`]). NULL
/// platform -> STATUS_INVALID_PARAMETER.
///
/// IRQL: PASSIVE_LEVEL.
///
/// # Safety
/// `platform` is NULL or live; the rest as for `softroce_open_adapter`.
#[no_mangle]
pub unsafe extern "C" fn softroce_open_adapter_on(
    platform: *const SoftrocePlatform,
    ip_address: *const c_char,
    requested: NDK_VERSION,
    adapter: *mut *mut NDK_ADAPTER,
) -> NtStatus {
    if platform.is_null() {
        if !adapter.is_null() {
            // SAFETY: non-null and writable by contract.
            unsafe { adapter.write(null_mut()) };
        }
        return STATUS_INVALID_PARAMETER;
    }
    // SAFETY: live by contract.
    let platform = unsafe { &*platform }.platform();
    // SAFETY: forwarded contract.
    unsafe { open_on(Some(platform), ip_address, requested, adapter) }
}

/// Closes an adapter from [`softroce_open_adapter`] /
/// [`softroce_open_adapter_on`], as NDIS's CLOSE_NDK_ADAPTER_HANDLER would:
/// blocking; it runs (virtual platform) or waits for (real platform) the
/// deferred work of every descendant, so when it returns no callback on the
/// adapter or any object created from it is running or queued. NULL, or a
/// pointer that is not one of our adapters, is ignored.
///
/// IRQL: PASSIVE_LEVEL.
///
/// # Safety
/// `adapter` is NULL or an adapter from an open entry point that is not
/// used again (never closed twice, never closed from inside a callback).
#[no_mangle]
pub unsafe extern "C" fn softroce_close_adapter(adapter: *mut NDK_ADAPTER) {
    if let Some(adapter) = NonNull::new(adapter) {
        // SAFETY: forwarded contract (readable; ours or refused).
        let network = unsafe { Adapter::from_ndk(adapter.as_ptr()) }
            .and_then(Adapter::network)
            .cloned();
        // SAFETY: forwarded contract. A foreign pointer is refused inside and
        // there is no status to report it through (the NDIS handler is void).
        let _ = unsafe { close_adapter(adapter) };
        if let Some(network) = network {
            release_network(network);
        }
    }
}

/// Makes every entry of `adapter` and its objects that has a completion
/// callback answer STATUS_PENDING on success and call it later from the
/// object's DPC (`on` != 0), or complete inline (0, the default). Foreign
/// adapter -> STATUS_INVALID_HANDLE.
///
/// IRQL: <= DISPATCH_LEVEL.
///
/// # Safety
/// `adapter` is NULL or an open adapter.
#[no_mangle]
pub unsafe extern "C" fn softroce_set_deferred_completions(
    adapter: *mut NDK_ADAPTER,
    on: i32,
) -> NtStatus {
    if adapter.is_null() {
        return STATUS_INVALID_PARAMETER;
    }
    // SAFETY: non-null, an adapter header by contract.
    match unsafe { Adapter::from_ndk(adapter) } {
        Some(a) => {
            a.core().set_deferred(on != 0);
            STATUS_SUCCESS
        }
        None => STATUS_INVALID_HANDLE,
    }
}

/// Narrows the ND ports an adapter hands out for port 0 to `first..=last`
/// (within 49152-65535), e.g. to exhaust them in a test. Out of range ->
/// STATUS_INVALID_PARAMETER; foreign adapter -> STATUS_INVALID_HANDLE.
///
/// IRQL: <= DISPATCH_LEVEL.
///
/// # Safety
/// `adapter` is NULL or an open adapter.
#[no_mangle]
pub unsafe extern "C" fn softroce_set_ephemeral_ports(
    adapter: *mut NDK_ADAPTER,
    first: u16,
    last: u16,
) -> NtStatus {
    if adapter.is_null() {
        return STATUS_INVALID_PARAMETER;
    }
    // SAFETY: non-null, an adapter header by contract.
    match unsafe { Adapter::from_ndk(adapter) } {
        Some(a) if a.set_ephemeral_range(first, last) => STATUS_SUCCESS,
        Some(_) => STATUS_INVALID_PARAMETER,
        None => STATUS_INVALID_HANDLE,
    }
}

/// Sets the RoCE path MTU of `adapter`'s network in bytes (256, 512, 1024,
/// 2048 or 4096; `ndk::Network::set_roce_mtu`): anything else ->
/// STATUS_INVALID_PARAMETER (nothing changed); NULL adapter ->
/// STATUS_INVALID_PARAMETER; foreign or closing adapter ->
/// STATUS_INVALID_HANDLE. `in_effect` (NULL: not wanted) gets the MTU in
/// effect (capped by the carrier's link).
///
/// IRQL: <= DISPATCH_LEVEL.
///
/// # Safety
/// `adapter` is NULL or an open adapter; `in_effect` is NULL or writable.
#[no_mangle]
pub unsafe extern "C" fn softroce_set_roce_mtu(
    adapter: *mut NDK_ADAPTER,
    bytes: u32,
    in_effect: *mut u32,
) -> NtStatus {
    if adapter.is_null() {
        return STATUS_INVALID_PARAMETER;
    }
    // SAFETY: non-null, an adapter header by contract.
    let Some(network) = (unsafe { Adapter::from_ndk(adapter) }).and_then(Adapter::network) else {
        return STATUS_INVALID_HANDLE;
    };
    match network.set_roce_mtu(bytes) {
        Ok(mtu) => {
            if !in_effect.is_null() {
                // SAFETY: non-null and writable by contract.
                unsafe { in_effect.write(mtu.bytes()) };
            }
            STATUS_SUCCESS
        }
        Err(status) => status,
    }
}

/// The RoCE path MTU in effect on `adapter`'s network, in bytes (0: NULL
/// or foreign adapter).
///
/// IRQL: any.
///
/// # Safety
/// `adapter` is NULL or an open adapter.
#[no_mangle]
pub unsafe extern "C" fn softroce_roce_mtu(adapter: *mut NDK_ADAPTER) -> u32 {
    if adapter.is_null() {
        return 0;
    }
    // SAFETY: non-null, an adapter header by contract.
    (unsafe { Adapter::from_ndk(adapter) })
        .and_then(Adapter::network)
        .map_or(0, |n| n.roce_mtu().bytes())
}

/// A new virtual-clock platform: DPCs run only inside
/// [`softroce_platform_run_pending`] / [`softroce_platform_advance_ns`] (on
/// the calling thread, at DISPATCH_LEVEL), randomness is seeded by `seed`.
/// Release with [`softroce_platform_release`].
///
/// IRQL: PASSIVE_LEVEL.
#[no_mangle]
pub extern "C" fn softroce_platform_virtual(seed: u64) -> *mut SoftrocePlatform {
    Box::into_raw(Box::new(SoftrocePlatform::Virtual(VirtualPlatform::new(
        seed,
    ))))
}

/// A new real-time platform with its own DPC worker thread.
///
/// IRQL: PASSIVE_LEVEL.
#[no_mangle]
pub extern "C" fn softroce_platform_real() -> *mut SoftrocePlatform {
    Box::into_raw(Box::new(SoftrocePlatform::Real(HostedPlatform::new(
        "softroce",
    ))))
}

/// Drops the caller's handle (adapters opened on it keep the platform alive
/// until they are closed). NULL is ignored.
///
/// IRQL: PASSIVE_LEVEL.
///
/// # Safety
/// `platform` is NULL or from a platform constructor, released once.
#[no_mangle]
pub unsafe extern "C" fn softroce_platform_release(platform: *mut SoftrocePlatform) {
    if !platform.is_null() {
        // SAFETY: from `Box::into_raw` above, released once.
        drop(unsafe { Box::from_raw(platform) });
    }
}

/// Virtual: runs every queued DPC (and what they queue) now, without moving
/// time; returns how many ran. Real: waits until the DPCs queued before the
/// call have run; returns 0.
///
/// IRQL: PASSIVE_LEVEL.
///
/// # Safety
/// `platform` is NULL (returns 0) or live.
#[no_mangle]
pub unsafe extern "C" fn softroce_platform_run_pending(platform: *const SoftrocePlatform) -> usize {
    // SAFETY: NULL or live by contract.
    match unsafe { platform.as_ref() } {
        Some(SoftrocePlatform::Virtual(p)) => p.run_pending(),
        Some(SoftrocePlatform::Real(p)) => {
            p.flush_deferred();
            0
        }
        None => 0,
    }
}

/// Virtual: moves time forward by `ns`, running what falls due; returns how
/// many ran. Real: sleeps `ns`; returns 0.
///
/// IRQL: PASSIVE_LEVEL.
///
/// # Safety
/// `platform` is NULL (returns 0) or live.
#[no_mangle]
pub unsafe extern "C" fn softroce_platform_advance_ns(
    platform: *const SoftrocePlatform,
    ns: u64,
) -> usize {
    // SAFETY: NULL or live by contract.
    match unsafe { platform.as_ref() } {
        Some(SoftrocePlatform::Virtual(p)) => p.advance(Duration::from_nanos(ns)),
        Some(SoftrocePlatform::Real(_)) => {
            std::thread::sleep(Duration::from_nanos(ns));
            0
        }
        None => 0,
    }
}

fn pool_totals(platform: &SoftrocePlatform) -> PoolUsage {
    let mut total = PoolUsage::default();
    platform
        .platform()
        .pool()
        .for_each_outstanding(|_: PoolTag, u| {
            total.bytes += u.bytes;
            total.objects += u.objects;
        });
    total
}

/// Pool bytes outstanding on the platform, over every tag (0 when every
/// adapter opened on it is closed and nothing leaked).
///
/// IRQL: any.
///
/// # Safety
/// `platform` is NULL (returns 0) or live.
#[no_mangle]
pub unsafe extern "C" fn softroce_platform_pool_bytes(platform: *const SoftrocePlatform) -> usize {
    // SAFETY: NULL or live by contract.
    unsafe { platform.as_ref() }.map_or(0, |p| pool_totals(p).bytes)
}

/// Pool allocations (objects) outstanding on the platform, over every tag.
///
/// IRQL: any.
///
/// # Safety
/// `platform` is NULL (returns 0) or live.
#[no_mangle]
pub unsafe extern "C" fn softroce_platform_pool_objects(
    platform: *const SoftrocePlatform,
) -> usize {
    // SAFETY: NULL or live by contract.
    unsafe { platform.as_ref() }.map_or(0, |p| pool_totals(p).objects)
}

/// Refuses pool charges that would take the platform's total above `bytes`
/// (`SIZE_MAX`: no limit): fault injection for STATUS_INSUFFICIENT_RESOURCES.
///
/// IRQL: any.
///
/// # Safety
/// `platform` is NULL (ignored) or live.
#[no_mangle]
pub unsafe extern "C" fn softroce_platform_set_pool_limit(
    platform: *const SoftrocePlatform,
    bytes: usize,
) {
    // SAFETY: NULL or live by contract.
    if let Some(p) = unsafe { platform.as_ref() } {
        p.platform().pool().set_limit(bytes);
    }
}

/// Makes adapters opened on `platform` from now on use the Ethernet frame
/// link on interface `ifname` (the portable frame carrier over an
/// `AF_PACKET` socket, ARP resolution, IPv4 only; needs CAP_NET_RAW)
/// instead of the UDP carrier; NULL `ifname` goes back to UDP. NULL
/// platform or an `ifname` that is not UTF-8 -> STATUS_INVALID_PARAMETER.
/// The interface is looked up when an adapter opens; if the link cannot
/// open there (no such interface, no CAP_NET_RAW, IPv6 address) the adapter
/// opens without a network (NdkConnect: STATUS_NETWORK_UNREACHABLE).
///
/// IRQL: PASSIVE_LEVEL.
///
/// # Safety
/// `platform` is NULL or live; `ifname` NULL or NUL-terminated.
#[no_mangle]
pub unsafe extern "C" fn softroce_platform_use_link(
    platform: *const SoftrocePlatform,
    ifname: *const c_char,
) -> NtStatus {
    let name = if ifname.is_null() {
        None
    } else {
        // SAFETY: NUL-terminated by contract.
        match unsafe { CStr::from_ptr(ifname) }.to_str() {
            Ok(n) => Some(n),
            Err(_) => return STATUS_INVALID_PARAMETER,
        }
    };
    // SAFETY: NULL or live by contract.
    match unsafe { platform.as_ref() } {
        Some(SoftrocePlatform::Virtual(p)) => p.use_frame_link(name),
        Some(SoftrocePlatform::Real(p)) => p.use_frame_link(name),
        None => return STATUS_INVALID_PARAMETER,
    }
    STATUS_SUCCESS
}

/// IRQL rule breaks logged (process-wide) since the last clear.
///
/// IRQL: any.
#[no_mangle]
pub extern "C" fn softroce_irql_violations() -> usize {
    irql_books().violations().len()
}

/// Forgets the logged IRQL rule breaks.
///
/// IRQL: any.
#[no_mangle]
pub extern "C" fn softroce_irql_clear() {
    irql_books().clear();
}

/// Describes `length` bytes at `buffer` as a hosted MDL (Windows x64
/// layout): MdlFlags = MDL_SOURCE_IS_NONPAGED_POOL, MappedSystemVa =
/// `buffer`, and the consumer-visible virtual address `va` (StartVa = its
/// page, ByteOffset = its offset in the page; `va` = 0 means `buffer`'s own
/// address), chained to `next` (may be NULL). The provider reaches the
/// bytes only through MappedSystemVa; `va` is an index. NULL `mdl` or
/// `buffer` -> STATUS_INVALID_PARAMETER.
///
/// IRQL: any.
///
/// # Safety
/// `mdl` is NULL or writable; `buffer` stays valid while the MDL is used.
#[no_mangle]
pub unsafe extern "C" fn softroce_build_mdl(
    mdl: *mut MDL,
    va: u64,
    buffer: *mut c_void,
    length: u32,
    next: *mut MDL,
) -> NtStatus {
    if mdl.is_null() || buffer.is_null() {
        return STATUS_INVALID_PARAMETER;
    }
    let va = if va == 0 { buffer as u64 } else { va };
    let m = MDL {
        Next: next,
        Size: core::mem::size_of::<MDL>() as i16,
        MdlFlags: MDL_SOURCE_IS_NONPAGED_POOL,
        AllocationProcessorNumber: 0,
        Reserved: 0,
        Process: null_mut(),
        MappedSystemVa: buffer,
        StartVa: (va & !0xFFF) as *mut c_void,
        ByteCount: length,
        ByteOffset: (va & 0xFFF) as u32,
    };
    // SAFETY: non-null and writable by contract.
    unsafe { mdl.write_unaligned(m) };
    STATUS_SUCCESS
}

/// The highest NDK version the provider implements ({2, 1}).
///
/// IRQL: any.
#[no_mangle]
pub extern "C" fn softroce_version() -> NDK_VERSION {
    NDK_PROVIDER_VERSION
}

/// The C name of a status ("STATUS_BUFFER_TOO_SMALL"), or NULL if unknown.
/// The string is static.
///
/// IRQL: any.
#[no_mangle]
pub extern "C" fn softroce_status_name(status: NtStatus) -> *const c_char {
    status.name_cstr().map_or(null(), CStr::as_ptr)
}

/// Test only: connects two QPs of hosted adapters directly (no connection
/// manager) through a seeded, optionally lossy simulated link; see
/// `docs/HOSTED-API.md` and `os::hosted::pair`. `options` may be NULL
/// (a clean link, MTU 1024).
///
/// IRQL: PASSIVE_LEVEL.
///
/// # Safety
/// `a`, `b` are NULL or NDK objects of this provider; `options` is NULL or
/// readable.
#[no_mangle]
pub unsafe extern "C" fn softroce_debug_pair_qps(
    a: *mut crate::abi::NDK_QP,
    b: *mut crate::abi::NDK_QP,
    options: *const super::pair::PairOptions,
) -> NtStatus {
    // SAFETY: forwarded contract.
    unsafe { super::pair::pair_qps(a, b, options) }
}

/// Test only: frames the links of the pair made with `a` as its first QP
/// carried, lost, duplicated, reordered, corrupted, and dropped on a bad
/// ICRC: `out[0..8]` for a -> b, `out[8..16]` for b -> a (sent, delivered,
/// lost, duplicated, reordered, corrupted, icrc_drops, corrupted_masked);
/// zeros once the pair is gone.
///
/// IRQL: PASSIVE_LEVEL.
///
/// # Safety
/// `out` is NULL or has 16 writable u64s.
#[no_mangle]
pub unsafe extern "C" fn softroce_debug_pair_stats(a: *const crate::abi::NDK_QP, out: *mut u64) {
    if out.is_null() {
        return;
    }
    let (ab, ba) = super::pair::pair_stats(a);
    let mut i = 0usize;
    for s in [ab, ba] {
        for v in [
            s.sent,
            s.delivered,
            s.lost,
            s.duplicated,
            s.reordered,
            s.corrupted,
            s.icrc_drops,
            s.corrupted_masked,
        ] {
            // SAFETY: `i < 16` writable entries by contract.
            unsafe { out.add(i).write(v) };
            i += 1;
        }
    }
}

/// Hosted verbs-compatibility extension (not NDKPI): the QP number of a
/// softroce QP, for tools that exchange it out of band (0 for NULL or a
/// foreign object). See `os::hosted::raw` and docs/HOSTED-API.md.
///
/// IRQL: <= DISPATCH_LEVEL.
///
/// # Safety
/// `qp` is NULL or an NDK object.
#[no_mangle]
pub unsafe extern "C" fn softroce_qp_number(qp: *mut crate::abi::NDK_QP) -> u32 {
    // SAFETY: forwarded contract.
    unsafe { super::raw::qp_number(qp) }
}

/// Hosted verbs-compatibility extension (not NDKPI): connects `qp` to the
/// QP `params->remote_qpn` at `remote_ip` without the connection manager,
/// as ibv_modify_qp to RTR + RTS does (ibv_rc_pingpong). Same connection
/// record and Connected transition as the CM uses. See `os::hosted::raw`.
///
/// IRQL: PASSIVE_LEVEL.
///
/// # Safety
/// `qp` NULL or an NDK object; `remote_ip` NULL or NUL-terminated; `params`
/// NULL or readable.
#[no_mangle]
pub unsafe extern "C" fn softroce_qp_connect_raw(
    qp: *mut crate::abi::NDK_QP,
    remote_ip: *const c_char,
    params: *const super::raw::RawConnect,
) -> NtStatus {
    // SAFETY: forwarded contract.
    unsafe { super::raw::connect_raw(qp, remote_ip, params) }
}
