//! The WSK client registration of one adapter platform: `WskRegister` with
//! our client NPI, `WskCaptureProviderNPI` (PASSIVE, bounded wait), and on
//! drop `WskReleaseProviderNPI` + `WskDeregister` (which waits until every
//! socket of the registration is closed: carriers hold an `Arc` of the
//! client, so they are closed first). Also the synchronous IRP helper the
//! control path uses (socket create/options/bind/close at PASSIVE).
//!
//! Owns: registration and [`SyncIrp`]. Must not send or receive.

use alloc::boxed::Box;
use alloc::sync::Arc;
use core::ffi::c_void;
use core::ptr;

use super::super::ffi::{NTSTATUS, STATUS_INSUFFICIENT_RESOURCES};
use super::super::imports::{
    IoAllocateIrp, IoFreeIrp, KeInitializeEvent, KeSetEvent, KeWaitForSingleObject,
    WskCaptureProviderNPI, WskDeregister, WskRegister, WskReleaseProviderNPI,
};
use super::super::nt::{
    io_set_completion_routine, EXECUTIVE, FALSE, IO_NO_INCREMENT, IRP, KERNEL_MODE, KEVENT,
    NOTIFICATION_EVENT, STATUS_MORE_PROCESSING_REQUIRED, STATUS_PENDING,
};
use super::types::{
    PWSK_CLIENT, WSK_CLIENT_DISPATCH, WSK_CLIENT_NPI, WSK_PROVIDER_DISPATCH, WSK_PROVIDER_NPI,
    WSK_REGISTRATION, WSK_VERSION_1_0,
};

/// How long `WskCaptureProviderNPI` may wait for the WSK provider (TCPIP)
/// to come up, in milliseconds.
const CAPTURE_WAIT_MS: u32 = 10_000;

static CLIENT_DISPATCH: WSK_CLIENT_DISPATCH = WSK_CLIENT_DISPATCH {
    Version: WSK_VERSION_1_0,
    Reserved: 0,
    WskClientEvent: None,
};

struct Registration {
    npi: WSK_CLIENT_NPI,
    registration: WSK_REGISTRATION,
    provider: WSK_PROVIDER_NPI,
}

/// A registered WSK client with its captured provider NPI.
pub struct WskClient {
    reg: Box<Registration>,
}

// SAFETY: the registration block is only passed to Wsk* calls, which may be
// made from any thread; the provider NPI is read-only after capture.
unsafe impl Send for WskClient {}
// SAFETY: as above.
unsafe impl Sync for WskClient {}

impl core::fmt::Debug for WskClient {
    /// IRQL: any.
    fn fmt(&self, f: &mut core::fmt::Formatter<'_>) -> core::fmt::Result {
        f.write_str("WskClient")
    }
}

impl WskClient {
    /// Registers and captures the provider NPI.
    ///
    /// IRQL: PASSIVE_LEVEL.
    pub fn open() -> Result<Arc<WskClient>, NTSTATUS> {
        let mut reg = Box::new(Registration {
            npi: WSK_CLIENT_NPI {
                ClientContext: ptr::null_mut(),
                Dispatch: &CLIENT_DISPATCH,
            },
            registration: WSK_REGISTRATION {
                ReservedRegistrationState: 0,
                ReservedRegistrationContext: ptr::null_mut(),
                ReservedRegistrationLock: 0,
            },
            provider: WSK_PROVIDER_NPI {
                Client: ptr::null_mut(),
                Dispatch: ptr::null(),
            },
        });
        // SAFETY: PASSIVE_LEVEL; the NPI and registration block live in the
        // Box until WskDeregister (drop).
        let status = unsafe { WskRegister(&reg.npi, &mut reg.registration) };
        if status < 0 {
            return Err(status);
        }
        // SAFETY: registered block; PASSIVE_LEVEL for the bounded wait.
        let status = unsafe {
            WskCaptureProviderNPI(&mut reg.registration, CAPTURE_WAIT_MS, &mut reg.provider)
        };
        if status < 0 {
            // SAFETY: registered above, nothing captured, no sockets.
            unsafe { WskDeregister(&mut reg.registration) };
            return Err(status);
        }
        Ok(Arc::new(WskClient { reg }))
    }

    /// The provider's client handle and dispatch table.
    ///
    /// IRQL: any.
    pub fn provider(&self) -> (PWSK_CLIENT, *const WSK_PROVIDER_DISPATCH) {
        (self.reg.provider.Client, self.reg.provider.Dispatch)
    }
}

impl Drop for WskClient {
    /// IRQL: PASSIVE_LEVEL (WskDeregister waits).
    fn drop(&mut self) {
        // SAFETY: captured in `open`; every socket was closed by the carriers
        // (they hold an Arc of this client); PASSIVE_LEVEL.
        unsafe {
            WskReleaseProviderNPI(&mut self.reg.registration);
            WskDeregister(&mut self.reg.registration);
        }
    }
}

/// An IRP + event for calling a WSK function synchronously at PASSIVE.
#[allow(missing_debug_implementations)]
pub struct SyncIrp {
    irp: *mut IRP,
    event: Box<KEVENT>,
}

/// Completion of a [`SyncIrp`]: signal the waiter, keep the IRP.
///
/// IRQL: <= DISPATCH_LEVEL.
unsafe extern "system" fn sync_done(
    _device: *mut c_void,
    _irp: *mut IRP,
    context: *mut c_void,
) -> NTSTATUS {
    // SAFETY: `context` is the SyncIrp's event, alive until `call` returns.
    unsafe { KeSetEvent(context.cast(), IO_NO_INCREMENT, FALSE) };
    STATUS_MORE_PROCESSING_REQUIRED
}

impl SyncIrp {
    /// Allocates the IRP (one stack location, for the WSK provider).
    ///
    /// IRQL: <= DISPATCH_LEVEL.
    pub fn new() -> Result<Self, NTSTATUS> {
        // SAFETY: plain allocation.
        let irp = unsafe { IoAllocateIrp(1, FALSE) };
        if irp.is_null() {
            return Err(STATUS_INSUFFICIENT_RESOURCES);
        }
        Ok(SyncIrp {
            irp,
            event: Box::new(KEVENT::zeroed()),
        })
    }

    /// Runs `f(irp)` and waits for the IRP to complete; returns its final
    /// status and `IoStatus.Information`. WSK completes the IRP in every
    /// case, so the completion routine has run (or will, and is waited for)
    /// before this returns. One call per `SyncIrp`.
    ///
    /// IRQL: PASSIVE_LEVEL.
    pub fn call(self, f: impl FnOnce(*mut IRP) -> NTSTATUS) -> (NTSTATUS, usize) {
        let event: *mut KEVENT = Box::as_ref(&self.event) as *const KEVENT as *mut KEVENT;
        // SAFETY: the event is fresh nonpaged storage; the IRP is ours and
        // unused, with one stack location.
        unsafe {
            KeInitializeEvent(event, NOTIFICATION_EVENT, FALSE);
            io_set_completion_routine(self.irp, Some(sync_done), event.cast(), true, true, true);
        }
        let status = f(self.irp);
        if status == STATUS_PENDING {
            // SAFETY: PASSIVE_LEVEL, infinite wait on our own event, which
            // the completion routine signals exactly once.
            unsafe {
                KeWaitForSingleObject(event.cast(), EXECUTIVE, KERNEL_MODE, FALSE, ptr::null_mut())
            };
        }
        // SAFETY: the IRP completed (synchronously, or the wait returned).
        let (st, info) = unsafe {
            (
                (*self.irp).IoStatus.Status,
                (*self.irp).IoStatus.Information,
            )
        };
        // A synchronous failure is the call's own status (the IRP carries
        // the same); otherwise the IRP's final status.
        let st = if status != STATUS_PENDING && status < 0 {
            status
        } else {
            st
        };
        (st, info)
    }
}

impl Drop for SyncIrp {
    /// IRQL: <= DISPATCH_LEVEL.
    fn drop(&mut self) {
        // SAFETY: the IRP came from IoAllocateIrp and is not in flight (call
        // consumed `self` only after completion).
        unsafe { IoFreeIrp(self.irp) };
    }
}
