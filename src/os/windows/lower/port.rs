//! The frame carrier's `LinkPort` on a lower binding ([`LowerPort`]) and the
//! `os::Carrier` the platform hands out for it ([`LinkCarrier`]).
//!
//! `send_frame` takes a preallocated send context (free list under a spin
//! lock) of the binding the adapter is paired with at that moment (`Closed`
//! while unpaired), lets the carrier write the frame into its nonpaged buffer, sets
//! the NET_BUFFER's data length and sends it with
//! `NDIS_SEND_FLAGS_DISPATCH_LEVEL` when at DISPATCH; the completion
//! (`datapath::send_complete`) puts the context back. `request_resolution`
//! queues the adapter's resolver (`resolve`). `now` is the platform clock.
//!
//! [`LinkCarrier`] shares the `FrameCarrier` with the receive path (the
//! adapter link's carrier slot); dropping it (PASSIVE, NDK close) empties
//! the slot and waits until no receive still uses the carrier, so the
//! carrier itself is always dropped at PASSIVE.
//!
//! Owns: the port and the carrier handle. Must not parse frames.

use alloc::sync::Arc;
use core::net::IpAddr;
use core::ptr;

use crate::link::LinkPort;
use crate::os::{Carrier, CarrierOwner, Instant, Irql, SendError};

use super::super::imports::NdisSendNetBufferLists;
use super::super::ndis::NDIS_SEND_FLAGS_DISPATCH_LEVEL;
use super::super::ndis_protocol::NET_BUFFER;
use super::super::platform::interrupt_time_now;
use super::link::{sleep_ms, AdapterLink, LowerCarrier};

/// See the module documentation.
#[allow(missing_debug_implementations)]
pub struct LowerPort {
    pub link: Arc<AdapterLink>,
}

impl LinkPort for LowerPort {
    /// IRQL: <= DISPATCH_LEVEL.
    fn send_frame(&self, len: usize, fill: &mut dyn FnMut(&mut [u8])) -> Result<(), SendError> {
        // The binding the adapter is paired with now, not the one of the
        // carrier's open: an unbind and a new bind (Restart-NetAdapter or a
        // driver update of the NIC, `netcfg` unbinding) make a new
        // `Binding`, and a carrier that kept the old one would answer
        // `Closed` until NDK closed and reopened it.
        let Some(b) = self.link.binding() else {
            return Err(SendError::Closed);
        };
        if len > b.frame_capacity {
            return Err(SendError::TooBig);
        }
        b.enter_send()?;
        let Some(ctx) = b.pop_ctx() else {
            b.leave();
            return Err(SendError::WouldBlock);
        };
        // SAFETY: the context is ours until its send completes; its buffer
        // holds frame_capacity >= len bytes.
        let frame = unsafe { core::slice::from_raw_parts_mut(ctx.buf, len) };
        fill(frame);
        // SAFETY: our NBL with its one NET_BUFFER (allocated together), not
        // in flight (it was on the free list).
        unsafe {
            let nb = (*ctx.nbl).FirstNetBuffer.cast::<NET_BUFFER>();
            (*nb).DataLength = len as u32;
            (*ctx.nbl).Next = ptr::null_mut();
            // NdisSendNetBufferLists: SourceHandle = the NdisBindingHandle.
            (*ctx.nbl).SourceHandle = b.handle();
        }
        let flags = if crate::os::current_irql() == Irql::Dispatch {
            NDIS_SEND_FLAGS_DISPATCH_LEVEL
        } else {
            0
        };
        // SAFETY: a Running binding (enter_send) whose handle is open; the
        // NBL is ours until ProtocolSendNetBufferListsComplete.
        unsafe { NdisSendNetBufferLists(b.handle(), ctx.nbl, 0, flags) };
        Ok(())
    }

    /// IRQL: <= DISPATCH_LEVEL.
    fn request_resolution(&self, dst: IpAddr) {
        self.link.resolver.request(&self.link, dst);
    }

    /// IRQL: any.
    fn now(&self) -> Instant {
        interrupt_time_now()
    }
}

/// The `os::Carrier` of a paired adapter. See the module documentation.
#[allow(missing_debug_implementations)]
pub struct LinkCarrier {
    pub carrier: Arc<LowerCarrier>,
    pub link: Arc<AdapterLink>,
}

impl CarrierOwner for LinkCarrier {
    /// IRQL: any.
    fn carrier(&self) -> &dyn Carrier {
        &*self.carrier
    }
}

impl Drop for LinkCarrier {
    /// IRQL: PASSIVE_LEVEL (the NDK adapter's close).
    fn drop(&mut self) {
        self.link.remove_carrier(&self.carrier);
        // The receive path and the resolver clone the Arc only while it is
        // in the slot; wait for those clones to go so the last drop is here.
        while Arc::strong_count(&self.carrier) > 1 {
            sleep_ms(1);
        }
    }
}
