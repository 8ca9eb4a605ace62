//! `os::Carrier` over one WSK datagram socket (UDP, port 4791 in production)
//! bound to the adapter's address.
//!
//! - Open (PASSIVE): `WskSocket(family, SOCK_DGRAM, IPPROTO_UDP,
//!   WSK_FLAG_DATAGRAM_SOCKET)` with our receive-from dispatch;
//!   `IP_DONTFRAGMENT` / `IPV6_DONTFRAG` = 1; `IP_PKTINFO` / `IPV6_PKTINFO` =
//!   1 (destination of each datagram); `WskBind`; then
//!   `SO_WSK_EVENT_CALLBACK(WSK_EVENT_RECEIVE_FROM)` (Irp NULL, as WSK
//!   requires for enabling callbacks). All but the last through a
//!   synchronous IRP.
//! - Send (<= DISPATCH): a bounded pool of [`SEND_CONTEXTS`] preallocated
//!   contexts (IRP from `IoAllocateIrp(1)`, a nonpaged buffer with its MDL
//!   built by `MmBuildMdlForNonPagedPool`, the destination SOCKADDR); a send
//!   copies the datagram, `IoReuseIrp`s the IRP and calls `WskSendTo`; the
//!   completion routine returns the context. No allocation per send; an
//!   empty pool is `SendError::WouldBlock` (the transport retransmits).
//! - Receive (WSK event, <= DISPATCH): raised to DISPATCH if needed; each
//!   datagram of the indication list goes to the sink: zero-copy when it lies
//!   in the first MDL, else copied into a per-processor scratch buffer (two
//!   per processor, for one level of nesting: a loopback send from inside the
//!   sink may indicate synchronously on the same processor; deeper nesting
//!   drops the datagram and counts it). Returns STATUS_SUCCESS: WSK reclaims
//!   the buffers.
//! - Close (drop, PASSIVE): refuse new sends, wait until every `WskSendTo`
//!   call has returned and every send IRP has completed (wsk.h: closing
//!   while a WSK call has not returned is illegal), `WskCloseSocket` (after
//!   which WSK makes no more callbacks), then free the pool.
//!
//! IPv4 (per `docs/CARRIER.md`): `tx_ipv4()` is `None` and receives are
//! `RxIp::V4Unverifiable` (WSK shows no IPv4 header). IPv6: `RxIp::V6` with
//! payload length = UDP length.
//!
//! Owns: the socket and its buffers. Must not parse RoCE.

use alloc::boxed::Box;
use alloc::sync::Arc;
use alloc::vec::Vec;
use core::cell::UnsafeCell;
use core::ffi::c_void;
use core::mem::size_of;
use core::net::SocketAddr;
use core::ptr::{self, NonNull};
use core::sync::atomic::{AtomicU64, AtomicU8, Ordering};

use crate::os::{
    irql, Carrier, CarrierError, DatagramSink, PoolBooks, PoolTag, Received, RxIp, SendError,
    TxIpv4,
};

use super::super::alloc::zeroed_slice;
use super::super::ffi::{NTSTATUS, STATUS_INSUFFICIENT_RESOURCES, STATUS_INVALID_PARAMETER};
use super::super::imports::{
    IoAllocateIrp, IoAllocateMdl, IoFreeIrp, IoFreeMdl, IoReuseIrp, KeGetCurrentProcessorNumberEx,
    KeInitializeEvent, KeQueryMaximumProcessorCountEx, KeSetEvent, KeWaitForSingleObject,
    MmBuildMdlForNonPagedPool,
};
use super::super::irql::RaiseToDispatch;
use super::super::mdl;
use super::super::nt::{
    io_set_completion_routine, MdlHeader, ALL_PROCESSOR_GROUPS, EXECUTIVE, FALSE, IO_NO_INCREMENT,
    IRP, KERNEL_MODE, KEVENT, NOTIFICATION_EVENT, STATUS_ADDRESS_ALREADY_EXISTS,
    STATUS_INVALID_ADDRESS, STATUS_INVALID_ADDRESS_COMPONENT, STATUS_MORE_PROCESSING_REQUIRED,
    STATUS_PENDING, STATUS_UNSUCCESSFUL,
};
use super::super::spin::SpinLock;
use super::client::{SyncIrp, WskClient};
use super::gate::CloseGate;
use super::sockaddr::{self, SOCKADDR_MAX};
use super::types::{
    GUID, IPPROTO_IP, IPPROTO_IPV6, IPPROTO_UDP, IPV6_DONTFRAG, IPV6_PKTINFO, IP_DONTFRAGMENT,
    IP_PKTINFO, NPI_WSK_INTERFACE_ID, SOCK_DGRAM, SOL_SOCKET, SO_WSK_EVENT_CALLBACK, WSK_BUF,
    WSK_CLIENT_DATAGRAM_DISPATCH, WSK_DATAGRAM_INDICATION, WSK_EVENT_CALLBACK_CONTROL,
    WSK_EVENT_RECEIVE_FROM, WSK_FLAG_DATAGRAM_SOCKET, WSK_PROVIDER_DATAGRAM_DISPATCH,
    WSK_SET_OPTION, WSK_SOCKET,
};

/// Preallocated send contexts per carrier.
pub const SEND_CONTEXTS: usize = 64;
/// Largest datagram (UDP payload) the carrier sends or receives: a 4096-byte
/// RoCE payload with BTH, extended headers and ICRC fits with room to spare.
pub const MAX_DATAGRAM: usize = 4352;
/// Pool-book tag of the send pool and scratch buffers.
pub const TAG_BUFFERS: PoolTag = PoolTag::new(*b"RoBf");

/// One preallocated send.
struct SendCtx {
    irp: *mut IRP,
    mdl: *mut MdlHeader,
    buf: Box<[u8]>,
    remote: [u8; SOCKADDR_MAX],
    wsk_buf: WSK_BUF,
    index: u16,
    inner: *const Inner,
}

/// Per-processor receive scratch: two levels.
struct Scratch {
    depth: AtomicU8,
    bufs: [UnsafeCell<[u8; MAX_DATAGRAM]>; 2],
}

struct Inner {
    client: Arc<WskClient>,
    socket: *mut WSK_SOCKET,
    dispatch: *const WSK_PROVIDER_DATAGRAM_DISPATCH,
    local: SocketAddr,
    v6: bool,
    sink: Arc<dyn DatagramSink>,
    gate: CloseGate,
    idle: UnsafeCell<KEVENT>,
    free: SpinLock<Vec<u16>>,
    sends: Box<[UnsafeCell<SendCtx>]>,
    scratch: Box<[Scratch]>,
    books: Arc<PoolBooks>,
    booked: usize,
    sent: AtomicU64,
    send_errors: AtomicU64,
    received: AtomicU64,
    rx_dropped: AtomicU64,
}

/// The carrier handle.
pub struct WskCarrier {
    inner: NonNull<Inner>,
}

// SAFETY: Inner's shared state is atomics, a spin lock and per-context
// cells owned by whoever popped the context from the free list; the socket
// is used through WSK calls that may come from any thread.
unsafe impl Send for WskCarrier {}
// SAFETY: as above.
unsafe impl Sync for WskCarrier {}

impl core::fmt::Debug for WskCarrier {
    /// IRQL: any.
    fn fmt(&self, f: &mut core::fmt::Formatter<'_>) -> core::fmt::Result {
        f.debug_struct("WskCarrier")
            .field("local", &self.inner().local)
            .finish()
    }
}

static DATAGRAM_DISPATCH: WSK_CLIENT_DATAGRAM_DISPATCH = WSK_CLIENT_DATAGRAM_DISPATCH {
    WskReceiveFromEvent: Some(receive_from),
};

/// IRQL: any.
fn open_error(status: NTSTATUS) -> CarrierError {
    match status {
        STATUS_ADDRESS_ALREADY_EXISTS => CarrierError::AddressInUse,
        STATUS_INVALID_ADDRESS | STATUS_INVALID_ADDRESS_COMPONENT => {
            CarrierError::AddressNotAvailable
        }
        s => CarrierError::Os(s),
    }
}

/// Completion of a send: return the context, count, wake a closer.
///
/// IRQL: <= DISPATCH_LEVEL.
unsafe extern "system" fn send_done(
    _device: *mut c_void,
    irp: *mut IRP,
    context: *mut c_void,
) -> NTSTATUS {
    let ctx = context.cast::<SendCtx>();
    // SAFETY: `context` is a SendCtx of a live carrier: the carrier waits
    // for every send to complete before it frees the pool.
    let (index, inner) = unsafe { ((*ctx).index, &*(*ctx).inner) };
    // SAFETY: the IRP is ours and completed.
    let status = unsafe { (*irp).IoStatus.Status };
    if status < 0 {
        inner.send_errors.fetch_add(1, Ordering::Relaxed);
    } else {
        inner.sent.fetch_add(1, Ordering::Relaxed);
    }
    inner.free.lock().push(index);
    inner.end_send();
    STATUS_MORE_PROCESSING_REQUIRED
}

/// The receive-from event.
///
/// IRQL: <= DISPATCH_LEVEL.
unsafe extern "system" fn receive_from(
    socket_context: *mut c_void,
    _flags: u32,
    indication: *mut WSK_DATAGRAM_INDICATION,
) -> NTSTATUS {
    if socket_context.is_null() || indication.is_null() {
        // NULL indication: the socket is no longer functional; the close
        // path owns the cleanup.
        return 0;
    }
    // SAFETY: the context is our Inner, alive until WskCloseSocket has
    // completed, after which WSK makes no callbacks.
    let inner = unsafe { &*socket_context.cast::<Inner>() };
    let _dispatch = RaiseToDispatch::new();
    let mut d = indication;
    while !d.is_null() {
        // SAFETY: WSK's list of indications, valid during this callback.
        unsafe { inner.deliver(&*d) };
        // SAFETY: as above.
        d = unsafe { (*d).Next };
    }
    0
}

impl Inner {
    /// Drops a gate reference; the last one after close began wakes the
    /// closer (and nothing of the carrier is touched after the signal).
    ///
    /// IRQL: <= DISPATCH_LEVEL.
    fn end_send(&self) {
        if self.gate.leave() {
            // SAFETY: the idle event lives in Inner, which the closer frees
            // only after this signal wakes it.
            unsafe { KeSetEvent(self.idle.get(), IO_NO_INCREMENT, FALSE) };
        }
    }

    /// Hands one datagram to the sink.
    ///
    /// IRQL: DISPATCH_LEVEL.
    ///
    /// # Safety
    /// `d` is a datagram indication WSK is delivering now.
    unsafe fn deliver(&self, d: &WSK_DATAGRAM_INDICATION) {
        let len = d.Buffer.Length;
        // SAFETY: WSK's RemoteAddress is a SOCKADDR of its family's size.
        let Some(src) = (unsafe { read_sockaddr(d.RemoteAddress) }) else {
            self.rx_dropped.fetch_add(1, Ordering::Relaxed);
            return;
        };
        let control = if d.ControlInfo.is_null() {
            &[][..]
        } else {
            // SAFETY: WSK's control data of ControlInfoLength bytes.
            unsafe { core::slice::from_raw_parts(d.ControlInfo, d.ControlInfoLength as usize) }
        };
        let dst_ip = sockaddr::find_pktinfo(control, self.v6).unwrap_or(self.local.ip());
        let dst = SocketAddr::new(dst_ip, self.local.port());
        let ip = if self.v6 {
            match u16::try_from(len + 8) {
                Ok(payload_length) => RxIp::V6 { payload_length },
                Err(_) => {
                    self.rx_dropped.fetch_add(1, Ordering::Relaxed);
                    return;
                }
            }
        } else {
            RxIp::V4Unverifiable
        };
        let Some(head) = NonNull::new(d.Buffer.Mdl) else {
            self.rx_dropped.fetch_add(1, Ordering::Relaxed);
            return;
        };
        let offset = d.Buffer.Offset as usize;
        // SAFETY: WSK's buffer MDL, valid during the callback.
        let first_count = unsafe { (*head.as_ptr()).ByteCount } as usize;
        if offset
            .checked_add(len)
            .is_some_and(|end| end <= first_count)
        {
            // Zero copy: the datagram lies in the first MDL.
            // SAFETY: WSK's MDLs describe locked buffers.
            let Ok(base) = (unsafe { mdl::system_address(head) }) else {
                self.rx_dropped.fetch_add(1, Ordering::Relaxed);
                return;
            };
            // SAFETY: offset + len <= ByteCount of this mapping.
            let payload = unsafe { core::slice::from_raw_parts(base.as_ptr().add(offset), len) };
            self.hand(src, dst, ip, payload);
            return;
        }
        // SAFETY: any IRQL; a null PROCESSOR_NUMBER pointer is allowed.
        let cpu = unsafe { KeGetCurrentProcessorNumberEx(ptr::null_mut()) } as usize;
        let Some(scratch) = self.scratch.get(cpu) else {
            self.rx_dropped.fetch_add(1, Ordering::Relaxed);
            return;
        };
        // At DISPATCH this processor cannot switch threads, so the depth
        // counter is only raced by our own nesting.
        let level = scratch.depth.fetch_add(1, Ordering::Relaxed) as usize;
        if let Some(cell) = scratch.bufs.get(level) {
            // SAFETY: the buffer of this processor at this nesting level is
            // used by this call only until it returns.
            let buf = unsafe { &mut *cell.get() };
            // SAFETY: WSK's locked MDL chain.
            match unsafe { mdl::copy_from_chain(head, offset, len, buf) } {
                Some(n) => self.hand(src, dst, ip, &buf[..n]),
                None => {
                    self.rx_dropped.fetch_add(1, Ordering::Relaxed);
                }
            }
        } else {
            self.rx_dropped.fetch_add(1, Ordering::Relaxed);
        }
        scratch.depth.fetch_sub(1, Ordering::Relaxed);
    }

    /// IRQL: DISPATCH_LEVEL.
    fn hand(&self, src: SocketAddr, dst: SocketAddr, ip: RxIp, payload: &[u8]) {
        self.received.fetch_add(1, Ordering::Relaxed);
        self.sink.on_datagram(&Received {
            src,
            dst,
            ip,
            payload,
        });
    }
}

/// Reads a SOCKADDR_IN/IN6 from WSK memory.
///
/// # Safety
/// `p` is null or points to a SOCKADDR of its family's size.
///
/// IRQL: <= DISPATCH_LEVEL.
unsafe fn read_sockaddr(p: *const u8) -> Option<SocketAddr> {
    if p.is_null() {
        return None;
    }
    // SAFETY: a SOCKADDR starts with its 2-byte family.
    let fam = sockaddr::family(unsafe { [*p, *p.add(1)] });
    let n = sockaddr::len_of_family(fam)?;
    // SAFETY: the caller guarantees the family's size is readable.
    sockaddr::decode(unsafe { core::slice::from_raw_parts(p, n) })
}

impl WskCarrier {
    /// IRQL: any.
    fn inner(&self) -> &Inner {
        // SAFETY: Inner lives until drop.
        unsafe { self.inner.as_ref() }
    }

    /// Opens the socket bound to `local`.
    ///
    /// IRQL: PASSIVE_LEVEL.
    pub fn open(
        client: Arc<WskClient>,
        local: SocketAddr,
        sink: Arc<dyn DatagramSink>,
        books: Arc<PoolBooks>,
    ) -> Result<WskCarrier, CarrierError> {
        irql::assert_passive("WskCarrier::open");
        if local.port() == 0 {
            return Err(CarrierError::Os(STATUS_INVALID_PARAMETER));
        }
        // SAFETY: any IRQL.
        let cpus = unsafe { KeQueryMaximumProcessorCountEx(ALL_PROCESSOR_GROUPS) } as usize;
        let booked = SEND_CONTEXTS * (size_of::<SendCtx>() + MAX_DATAGRAM)
            + cpus.max(1) * size_of::<Scratch>();
        // SAFETY: a zero AtomicU8 and zero bytes are valid.
        let scratch = unsafe { zeroed_slice::<Scratch>(cpus) }
            .ok_or(CarrierError::Os(STATUS_INSUFFICIENT_RESOURCES))?;
        books
            .charge(TAG_BUFFERS, booked)
            .map_err(|_| CarrierError::Os(STATUS_INSUFFICIENT_RESOURCES))?;
        if books
            .charge(super::super::platform::TAG_CARRIER, size_of::<WskCarrier>())
            .is_err()
        {
            books.release(TAG_BUFFERS, booked);
            return Err(CarrierError::Os(STATUS_INSUFFICIENT_RESOURCES));
        }
        let inner = Box::new(Inner {
            client,
            socket: ptr::null_mut(),
            dispatch: ptr::null(),
            local,
            v6: local.is_ipv6(),
            sink,
            gate: CloseGate::new(),
            idle: UnsafeCell::new(KEVENT::zeroed()),
            free: SpinLock::new(Vec::with_capacity(SEND_CONTEXTS)),
            sends: Box::new([]),
            scratch,
            books,
            booked,
            sent: AtomicU64::new(0),
            send_errors: AtomicU64::new(0),
            received: AtomicU64::new(0),
            rx_dropped: AtomicU64::new(0),
        });
        let inner = NonNull::from(Box::leak(inner));
        let carrier = WskCarrier { inner };
        // From here `carrier`'s drop undoes whatever was made.
        // SAFETY: fresh Inner, not yet shared with WSK.
        unsafe { KeInitializeEvent((*inner.as_ptr()).idle.get(), NOTIFICATION_EVENT, FALSE) };
        // SAFETY: Inner is exclusively ours until the socket exists.
        unsafe { carrier.make_send_pool() }.map_err(CarrierError::Os)?;
        // SAFETY: as above.
        unsafe { carrier.make_socket() }.map_err(open_error)?;
        Ok(carrier)
    }

    /// # Safety
    /// Called once from `open`, before the socket exists.
    ///
    /// IRQL: PASSIVE_LEVEL.
    unsafe fn make_send_pool(&self) -> Result<(), NTSTATUS> {
        let inner = self.inner.as_ptr();
        let mut sends = Vec::with_capacity(SEND_CONTEXTS);
        for i in 0..SEND_CONTEXTS {
            // SAFETY: bytes are valid when zero.
            let Some(mut buf) = (unsafe { zeroed_slice::<u8>(MAX_DATAGRAM) }) else {
                // SAFETY: Inner is exclusively ours (see caller).
                unsafe { (*inner).sends = sends.into_boxed_slice() };
                return Err(STATUS_INSUFFICIENT_RESOURCES);
            };
            // SAFETY: plain allocations at PASSIVE.
            let irp = unsafe { IoAllocateIrp(1, FALSE) };
            // SAFETY: the buffer is nonpaged pool (global allocator) and lives
            // as long as the MDL (both freed in drop).
            let mdl = unsafe {
                IoAllocateMdl(
                    buf.as_mut_ptr().cast(),
                    MAX_DATAGRAM as u32,
                    FALSE,
                    FALSE,
                    ptr::null_mut(),
                )
            };
            if irp.is_null() || mdl.is_null() {
                // SAFETY: free what was just allocated (null-checked).
                unsafe {
                    if !irp.is_null() {
                        IoFreeIrp(irp);
                    }
                    if !mdl.is_null() {
                        IoFreeMdl(mdl);
                    }
                }
                // The contexts made so far are freed by drop.
                // SAFETY: Inner is exclusively ours (see caller).
                unsafe { (*inner).sends = sends.into_boxed_slice() };
                return Err(STATUS_INSUFFICIENT_RESOURCES);
            }
            // SAFETY: an MDL describing nonpaged pool.
            unsafe { MmBuildMdlForNonPagedPool(mdl) };
            sends.push(UnsafeCell::new(SendCtx {
                irp,
                mdl,
                buf,
                remote: [0; SOCKADDR_MAX],
                wsk_buf: WSK_BUF {
                    Mdl: mdl,
                    Offset: 0,
                    Length: 0,
                },
                index: i as u16,
                inner,
            }));
        }
        // SAFETY: Inner is exclusively ours (see caller).
        unsafe {
            (*inner).sends = sends.into_boxed_slice();
            let mut free = (*inner).free.lock();
            free.extend((0..SEND_CONTEXTS as u16).rev());
        }
        Ok(())
    }

    /// # Safety
    /// Called once from `open`, after the send pool.
    ///
    /// IRQL: PASSIVE_LEVEL.
    unsafe fn make_socket(&self) -> Result<(), NTSTATUS> {
        let inner = self.inner.as_ptr();
        // SAFETY: Inner is live.
        let (client, local) = unsafe { ((*inner).client.clone(), (*inner).local) };
        let (handle, provider) = client.provider();
        // SAFETY: the provider dispatch was captured and stays valid while
        // the client is registered.
        let Some(wsk_socket) = (unsafe { provider.as_ref() }).and_then(|p| p.WskSocket) else {
            return Err(STATUS_UNSUCCESSFUL);
        };
        let family = if local.is_ipv6() {
            sockaddr::AF_INET6
        } else {
            sockaddr::AF_INET
        };
        let (status, info) = SyncIrp::new()?.call(|irp| {
            // SAFETY: PASSIVE; the context (Inner) outlives the socket; the
            // dispatch table is static.
            unsafe {
                wsk_socket(
                    handle,
                    family,
                    SOCK_DGRAM,
                    IPPROTO_UDP,
                    WSK_FLAG_DATAGRAM_SOCKET,
                    inner.cast(),
                    ptr::addr_of!(DATAGRAM_DISPATCH).cast(),
                    ptr::null_mut(),
                    ptr::null_mut(),
                    ptr::null_mut(),
                    irp,
                )
            }
        });
        if status < 0 {
            return Err(status);
        }
        let socket = info as *mut WSK_SOCKET;
        if socket.is_null() {
            return Err(STATUS_UNSUCCESSFUL);
        }
        // SAFETY: a WSK datagram socket's Dispatch is the datagram table.
        unsafe {
            (*inner).socket = socket;
            (*inner).dispatch = (*socket).Dispatch.cast();
        }
        let (level, df, pktinfo) = if local.is_ipv6() {
            (IPPROTO_IPV6, IPV6_DONTFRAG, IPV6_PKTINFO)
        } else {
            (IPPROTO_IP, IP_DONTFRAGMENT, IP_PKTINFO)
        };
        // SAFETY: live socket.
        unsafe {
            self.set_option(level, df, 1)?;
            self.set_option(level, pktinfo, 1)?;
        }
        let (addr, addr_len) = sockaddr::encode(local);
        let _ = addr_len;
        let d = self.datagram_dispatch().ok_or(STATUS_UNSUCCESSFUL)?;
        let bind = d.WskBind.ok_or(STATUS_UNSUCCESSFUL)?;
        let (status, _) = SyncIrp::new()?.call(|irp| {
            // SAFETY: live socket; the address buffer lives through the call.
            unsafe { bind(socket, addr.as_ptr(), 0, irp) }
        });
        if status < 0 {
            return Err(status);
        }
        let control = d.WskControlSocket.ok_or(STATUS_UNSUCCESSFUL)?;
        let ctl = WSK_EVENT_CALLBACK_CONTROL {
            NpiId: &NPI_WSK_INTERFACE_ID as *const GUID,
            EventMask: WSK_EVENT_RECEIVE_FROM,
        };
        // SAFETY: live socket; enabling callbacks is synchronous and takes a
        // NULL IRP.
        let status = unsafe {
            control(
                socket,
                WSK_SET_OPTION,
                SO_WSK_EVENT_CALLBACK,
                SOL_SOCKET,
                size_of::<WSK_EVENT_CALLBACK_CONTROL>(),
                ptr::addr_of!(ctl).cast(),
                0,
                ptr::null_mut(),
                ptr::null_mut(),
                ptr::null_mut(),
            )
        };
        if status < 0 {
            return Err(status);
        }
        Ok(())
    }

    /// IRQL: any.
    fn datagram_dispatch(&self) -> Option<&WSK_PROVIDER_DATAGRAM_DISPATCH> {
        // SAFETY: set once in make_socket from the socket's own dispatch; the
        // table is the provider's and stays valid while the socket is open.
        unsafe { self.inner().dispatch.as_ref() }
    }

    /// Sets a ULONG socket option through a synchronous IRP.
    ///
    /// # Safety
    /// The socket is open; PASSIVE_LEVEL.
    ///
    /// IRQL: PASSIVE_LEVEL.
    unsafe fn set_option(&self, level: u32, option: u32, value: u32) -> Result<(), NTSTATUS> {
        let d = self.datagram_dispatch().ok_or(STATUS_UNSUCCESSFUL)?;
        let control = d.WskControlSocket.ok_or(STATUS_UNSUCCESSFUL)?;
        let socket = self.inner().socket;
        let (status, _) = SyncIrp::new()?.call(|irp| {
            // SAFETY: live socket; `value` lives through the call.
            unsafe {
                control(
                    socket,
                    WSK_SET_OPTION,
                    option,
                    level,
                    size_of::<u32>(),
                    ptr::addr_of!(value).cast(),
                    0,
                    ptr::null_mut(),
                    ptr::null_mut(),
                    irp,
                )
            }
        });
        if status < 0 {
            Err(status)
        } else {
            Ok(())
        }
    }

    /// Datagrams sent, send completions with an error, datagrams delivered,
    /// datagrams dropped on receive.
    ///
    /// IRQL: any.
    pub fn stats(&self) -> (u64, u64, u64, u64) {
        let i = self.inner();
        (
            i.sent.load(Ordering::Relaxed),
            i.send_errors.load(Ordering::Relaxed),
            i.received.load(Ordering::Relaxed),
            i.rx_dropped.load(Ordering::Relaxed),
        )
    }
}

impl Carrier for WskCarrier {
    /// IRQL: <= DISPATCH_LEVEL.
    fn local_addr(&self) -> SocketAddr {
        self.inner().local
    }

    /// IRQL: <= DISPATCH_LEVEL.
    fn send(&self, dst: SocketAddr, datagram: &[u8]) -> Result<(), SendError> {
        irql::assert_at_most(crate::os::Irql::Dispatch, "Carrier::send");
        let inner = self.inner();
        if datagram.len() > MAX_DATAGRAM {
            return Err(SendError::TooBig);
        }
        if dst.is_ipv6() != inner.v6 || dst.port() == 0 || dst.ip().is_unspecified() {
            return Err(SendError::Unreachable);
        }
        // One reference for this call (released when WskSendTo has
        // returned: WskCloseSocket must not overlap a WSK call) and, below,
        // one for the IRP (released by its completion).
        if let Err(signal) = inner.gate.enter() {
            if signal {
                // SAFETY: as in `end_send`.
                unsafe { KeSetEvent(inner.idle.get(), IO_NO_INCREMENT, FALSE) };
            }
            return Err(SendError::Closed);
        }
        if inner.socket.is_null() {
            inner.end_send();
            return Err(SendError::Closed);
        }
        let Some(index) = inner.free.lock().pop() else {
            inner.end_send();
            return Err(SendError::WouldBlock);
        };
        let Some(cell) = inner.sends.get(index as usize) else {
            inner.end_send();
            return Err(SendError::Closed);
        };
        let ctx = cell.get();
        let Some(send_to) = self.datagram_dispatch().and_then(|d| d.WskSendTo) else {
            inner.free.lock().push(index);
            inner.end_send();
            return Err(SendError::Closed);
        };
        inner.gate.add();
        // SAFETY: the context was popped from the free list, so it is ours
        // until its completion pushes it back; its IRP is idle.
        let status = unsafe {
            (&mut (*ctx).buf)[..datagram.len()].copy_from_slice(datagram);
            let (remote, _) = sockaddr::encode(dst);
            (*ctx).remote = remote;
            (*ctx).wsk_buf = WSK_BUF {
                Mdl: (*ctx).mdl,
                Offset: 0,
                Length: datagram.len(),
            };
            IoReuseIrp((*ctx).irp, STATUS_UNSUCCESSFUL);
            io_set_completion_routine((*ctx).irp, Some(send_done), ctx.cast(), true, true, true);
            send_to(
                inner.socket,
                ptr::addr_of_mut!((*ctx).wsk_buf),
                0,
                (*ctx).remote.as_ptr(),
                0,
                ptr::null(),
                (*ctx).irp,
            )
        };
        // The completion routine has run or will run: the context is not
        // ours any more. A synchronous failure is reported; otherwise the
        // datagram is on its way (or lost, which the transport covers).
        inner.end_send();
        if status < 0 && status != STATUS_PENDING {
            return Err(SendError::Unreachable);
        }
        Ok(())
    }

    /// IRQL: any.
    fn tx_ipv4(&self) -> Option<TxIpv4> {
        None
    }

    /// IRQL: any.
    fn rx_icrc_verifiable(&self) -> bool {
        self.inner().v6
    }
}

impl Drop for WskCarrier {
    /// IRQL: PASSIVE_LEVEL.
    fn drop(&mut self) {
        irql::assert_passive("WskCarrier::drop");
        let inner = self.inner.as_ptr();
        // SAFETY: Inner is live until the end of this function.
        let i = unsafe { &*inner };
        if i.gate.close() {
            // SAFETY: PASSIVE; the last holder of a gate reference signals
            // this notification event exactly once.
            unsafe {
                KeWaitForSingleObject(
                    i.idle.get().cast(),
                    EXECUTIVE,
                    KERNEL_MODE,
                    FALSE,
                    ptr::null_mut(),
                )
            };
        }
        if !i.socket.is_null() {
            if let Some(close) = self.datagram_dispatch().and_then(|d| d.WskCloseSocket) {
                let socket = i.socket;
                if let Ok(irp) = SyncIrp::new() {
                    // SAFETY: no send is in flight; after the close completes
                    // WSK makes no more callbacks on this socket.
                    let _ = irp.call(|irp| unsafe { close(socket, irp) });
                }
            }
        }
        for cell in i.sends.iter() {
            let ctx = cell.get();
            // SAFETY: no send is in flight, so every IRP/MDL is idle.
            unsafe {
                IoFreeMdl((*ctx).mdl);
                IoFreeIrp((*ctx).irp);
            }
        }
        i.books.release(TAG_BUFFERS, i.booked);
        i.books
            .release(super::super::platform::TAG_CARRIER, size_of::<WskCarrier>());
        // SAFETY: Inner came from Box::leak in `open`; nothing refers to it
        // any more (socket closed, sends completed).
        drop(unsafe { Box::from_raw(inner) });
    }
}
