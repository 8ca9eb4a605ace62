//! One softroce virtual adapter (MiniportAdapterContext): its configuration,
//! platform, counters and state, MiniportInitializeEx (attributes:
//! registration, general, NDK even when NDK is disabled), MiniportHaltEx,
//! MiniportPauseEx and MiniportRestartEx. With `LowerMacAddress` set the
//! adapter is in paired mode: it takes the NIC's MAC, gets an
//! `lower::link::AdapterLink` (pairing with the protocol binding on that
//! NIC, pass-through data path, frame carrier) and reports media connected
//! only while paired with the NIC's link up.
//!
//! Owns: the adapter's lifetime. Must not hold NDK objects (the `ndk` layer
//! owns them; NDIS closes them before halt).

use alloc::boxed::Box;
use alloc::sync::Arc;
use core::cell::UnsafeCell;
use core::mem::size_of;
use core::ptr;
use core::sync::atomic::{AtomicBool, AtomicU32, AtomicU64, Ordering};

use crate::abi::{
    NDIS_HANDLE, NDIS_MINIPORT_ADAPTER_NDK_ATTRIBUTES,
    NDIS_MINIPORT_ADAPTER_NDK_ATTRIBUTES_REVISION_1, NDIS_NDK_CAPABILITIES,
    NDIS_NDK_CAPABILITIES_REVISION_1, NDIS_OBJECT_HEADER,
    NDIS_OBJECT_TYPE_MINIPORT_ADAPTER_NDK_ATTRIBUTES, NDIS_STATUS, NDIS_STATUS_RESOURCES,
    NDIS_STATUS_SUCCESS, NDK_ADAPTER_INFO,
};
use crate::ndk::limits;
use crate::ndk::NDK_PROVIDER_VERSION;
use crate::os::{irql, NdkCounters, Platform};

use core::net::IpAddr;

use super::super::ffi::{DPFLTR_ERROR_LEVEL, DPFLTR_IHVNETWORK_ID, DPFLTR_INFO_LEVEL};
use super::super::imports::{
    DbgPrintEx, KeInitializeEvent, KeWaitForSingleObject, NdisAllocateIoWorkItem,
    NdisFreeIoWorkItem, NdisMSetMiniportAttributes,
};
use super::super::lower::link::{drain, register_link, sleep_ms, unregister_link, AdapterLink};
use super::super::lower::protocol;
use super::super::ndis::*;
use super::super::nt::{EXECUTIVE, FALSE, KERNEL_MODE, KEVENT, NOTIFICATION_EVENT};
use super::super::platform::WindowsPlatform;
use super::config::{generated_mac, mtu_for_frame, AdapterConfig};
use super::ndk_instances::NdkInstances;
use super::ndk_state::NdkState;
use super::oid::SUPPORTED_OIDS;
use super::oid_payload::GeneralInfo;
use super::registry;

/// The link speed the virtual adapter reports: 10 Gb/s (SMB multichannel
/// ranks interfaces by speed; the real limit is the carrier NIC).
pub const LINK_SPEED_BPS: u64 = 10_000_000_000;

/// Per-adapter NDK object limits reported in NDIS_NDK_CAPABILITIES.
pub const MAX_QP: u32 = 4096;
pub const MAX_CQ: u32 = 4096;
pub const MAX_MR: u32 = 65536;
pub const MAX_PD: u32 = 1024;
pub const MAX_MW: u32 = 65536;
pub const MAX_SRQ: u32 = 1024;

/// The adapter context.
#[allow(missing_debug_implementations)]
pub struct Adapter {
    pub handle: NDIS_HANDLE,
    pub config: AdapterConfig,
    pub mac: [u8; 6],
    pub mtu: u32,
    pub platform: Arc<WindowsPlatform>,
    /// The NDK performance counters (OID_NDK_STATISTICS) every NDK instance
    /// opened on this adapter feeds.
    pub counters: Arc<NdkCounters>,
    pub paused: AtomicBool,
    pub packet_filter: AtomicU32,
    pub lookahead: AtomicU32,
    pub xmit_discards: AtomicU64,
    /// NDK enable/disable (OID_NDK_SET_STATE and the PnP events).
    pub ndk: NdkState,
    /// The work item that raises the NDK PnP events.
    pub work_item: NDIS_HANDLE,
    /// An event nobody sets: halt waits on it with a timeout to sleep.
    pub sleeper: UnsafeCell<KEVENT>,
    /// NDK adapter instances open on this adapter.
    pub ndk_open: AtomicU32,
    /// Their shared states (OID_NDK_CONNECTIONS / OID_NDK_LOCAL_ENDPOINTS).
    pub ndk_instances: NdkInstances,
    pub ndk_info: NDK_ADAPTER_INFO,
    pub capabilities: UnsafeCell<NDIS_NDK_CAPABILITIES>,
    /// Paired mode (`LowerMacAddress` set): the adapter's side of the lower
    /// edge. `None`: the WSK bring-up mode (`CarrierIpAddress`).
    pub link: Option<Arc<AdapterLink>>,
}

// SAFETY: shared state is atomics; the UnsafeCells are written only at
// initialisation (before NDIS can call in) and read by NDIS afterwards.
unsafe impl Sync for Adapter {}
// SAFETY: as above.
unsafe impl Send for Adapter {}

impl Adapter {
    /// Whether NDK is enabled now: configured on and last signalled on.
    ///
    /// IRQL: any.
    pub fn ndk_enabled(&self) -> bool {
        self.ndk.enabled()
    }

    /// The numbers the general OIDs report.
    ///
    /// IRQL: any.
    pub fn general_info(&self) -> GeneralInfo {
        GeneralInfo {
            permanent_mac: self.mac,
            current_mac: self.mac,
            mtu: self.mtu,
            link_speed_bps: LINK_SPEED_BPS,
            connected: self.connected(),
            packet_filter: self.packet_filter.load(Ordering::Relaxed),
            lookahead: self.lookahead.load(Ordering::Relaxed),
            xmit_discards: self.xmit_discards.load(Ordering::Relaxed),
        }
    }

    /// The media connect state: paired mode, paired with the NIC's link up;
    /// WSK mode, `CarrierIpAddress` set.
    ///
    /// IRQL: <= DISPATCH_LEVEL.
    pub fn connected(&self) -> bool {
        match &self.link {
            Some(l) => l.connected(),
            None => self.config.carrier_ip.is_some(),
        }
    }

    /// The local address NDK instances open on: paired mode, the softroce
    /// interface's own unicast address (a preferred IPv4 address, else a
    /// global IPv6 one; `None` until paired and configured); WSK mode,
    /// `CarrierIpAddress`. The NDK open handler calls this instead of
    /// reading `config.carrier_ip`.
    ///
    /// IRQL: PASSIVE_LEVEL.
    pub fn ndk_address(&self) -> Option<IpAddr> {
        match &self.link {
            Some(l) if l.binding().is_some() => l.interface_address(),
            Some(_) => None,
            None => self.config.carrier_ip,
        }
    }

    /// Recovers the adapter from NDIS's context pointer.
    ///
    /// # Safety
    /// `ctx` is the MiniportAdapterContext NDIS got from `initialize`, and
    /// the adapter has not been halted.
    ///
    /// IRQL: any.
    pub unsafe fn from_context<'a>(ctx: NDIS_HANDLE) -> &'a Adapter {
        // SAFETY: the caller's contract.
        unsafe { &*ctx.cast::<Adapter>() }
    }
}

/// IRQL: <= DIRQL.
fn log(level: u32, msg: &core::ffi::CStr) {
    // SAFETY: a NUL-terminated format with no conversions.
    unsafe { DbgPrintEx(DPFLTR_IHVNETWORK_ID, level, msg.as_ptr().cast()) };
}

/// IRQL: any.
fn header(kind: u8, revision: u8, size: usize) -> NDIS_OBJECT_HEADER {
    NDIS_OBJECT_HEADER {
        Type: kind,
        Revision: revision,
        Size: size as u16,
    }
}

/// MiniportInitializeEx.
///
/// IRQL: PASSIVE_LEVEL.
///
/// # Safety
/// Called by NDIS only.
pub unsafe extern "system" fn initialize(
    miniport: NDIS_HANDLE,
    _driver_context: NDIS_HANDLE,
    params: *mut NDIS_MINIPORT_INIT_PARAMETERS,
) -> NDIS_STATUS {
    irql::assert_passive("MiniportInitializeEx");
    let config = registry::read(miniport);
    // SAFETY: NDIS's parameters for this call (null-checked).
    let net_luid = unsafe { params.as_ref() }.map_or(0, |p| p.NetLuid);
    let link = match config.lower_mac {
        // SAFETY: the handle of this initialising adapter; the link goes
        // with the adapter (`free`, PASSIVE).
        Some(mac) => match unsafe { AdapterLink::new(miniport, mac, net_luid) } {
            Some(l) => Some(l),
            None => return NDIS_STATUS_RESOURCES,
        },
        None => None,
    };
    let platform = Arc::new(WindowsPlatform::with_link(link.clone()));
    let mut random = [0u8; 3];
    platform.fill_random(&mut random);
    // Paired mode: the NIC's MAC (the stack on softroce answers ARP/ND for
    // the NIC); else NetworkAddress or a generated one.
    let mac = config
        .lower_mac
        .or(config.mac_override)
        .unwrap_or_else(|| generated_mac(config.carrier_ip, random));
    // SAFETY: the handle given to this call.
    let work_item = unsafe { NdisAllocateIoWorkItem(miniport) };
    if work_item.is_null() {
        return NDIS_STATUS_RESOURCES;
    }
    let mtu = mtu_for_frame(config.frame_size);
    let adapter = Box::new(Adapter {
        handle: miniport,
        config,
        mac,
        mtu,
        platform,
        counters: Arc::new(NdkCounters::new()),
        paused: AtomicBool::new(true),
        packet_filter: AtomicU32::new(0),
        lookahead: AtomicU32::new(mtu),
        xmit_discards: AtomicU64::new(0),
        ndk: NdkState::new(config.network_direct),
        work_item,
        sleeper: UnsafeCell::new(KEVENT::zeroed()),
        ndk_open: AtomicU32::new(0),
        ndk_instances: NdkInstances::new(),
        ndk_info: limits::adapter_info(NDK_PROVIDER_VERSION),
        capabilities: UnsafeCell::new(NDIS_NDK_CAPABILITIES {
            Header: header(
                0x80,
                NDIS_NDK_CAPABILITIES_REVISION_1,
                size_of::<NDIS_NDK_CAPABILITIES>(),
            ),
            Flags: 0,
            MaxQpCount: MAX_QP,
            MaxCqCount: MAX_CQ,
            MaxMrCount: MAX_MR,
            MaxPdCount: MAX_PD,
            MaxInboundReadLimit: limits::MAX_INBOUND_READ_LIMIT,
            MaxOutboundReadLimit: limits::MAX_OUTBOUND_READ_LIMIT,
            MaxMwCount: MAX_MW,
            MaxSrqCount: MAX_SRQ,
            MissingCounterMask: 0,
            NdkInfo: ptr::null_mut(),
        }),
        link,
    });
    let adapter = Box::into_raw(adapter);
    // SAFETY: fresh adapter, not yet visible to NDIS.
    unsafe {
        KeInitializeEvent((*adapter).sleeper.get(), NOTIFICATION_EVENT, FALSE);
        (*(*adapter).capabilities.get()).NdkInfo = ptr::addr_of_mut!((*adapter).ndk_info);
    }
    // SAFETY: `adapter` is live and ours until halt.
    let status = unsafe { set_attributes(miniport, adapter) };
    if status != NDIS_STATUS_SUCCESS {
        // SAFETY: NDIS will not call halt after a failed initialize; free
        // what this call made.
        unsafe { free(adapter) };
        return status;
    }
    // SAFETY: live adapter.
    let a = unsafe { &*adapter };
    if !a.platform.entropy_strong() {
        log(
            DPFLTR_ERROR_LEVEL,
            c"softroce: no RDSEED/RDRAND: random seed is weak\n",
        );
    }
    match &a.link {
        Some(link) => {
            if register_link(link) {
                // A NIC declined before this adapter existed is offered again.
                protocol::reenumerate();
            } else {
                log(
                    DPFLTR_ERROR_LEVEL,
                    c"softroce: another adapter uses this LowerMacAddress (or 8 already do)\n",
                );
            }
        }
        None if a.config.carrier_ip.is_none() => log(
            DPFLTR_INFO_LEVEL,
            c"softroce: neither LowerMacAddress nor CarrierIpAddress set: link down, NDK opens refused\n",
        ),
        None => {}
    }
    if a.config.self_test {
        super::super::selftest::run(&a.platform, a.config.carrier_ip);
    }
    NDIS_STATUS_SUCCESS
}

/// Registration, general and NDK attributes, in that order.
///
/// # Safety
/// `adapter` is live; PASSIVE_LEVEL inside MiniportInitializeEx.
///
/// IRQL: PASSIVE_LEVEL.
unsafe fn set_attributes(miniport: NDIS_HANDLE, adapter: *mut Adapter) -> NDIS_STATUS {
    // SAFETY: live adapter by contract.
    let a = unsafe { &*adapter };
    let mut reg = NDIS_MINIPORT_ADAPTER_REGISTRATION_ATTRIBUTES {
        Header: header(
            NDIS_OBJECT_TYPE_MINIPORT_ADAPTER_REGISTRATION_ATTRIBUTES,
            NDIS_MINIPORT_ADAPTER_REGISTRATION_ATTRIBUTES_REVISION_2,
            size_of::<NDIS_MINIPORT_ADAPTER_REGISTRATION_ATTRIBUTES>(),
        ),
        MiniportAdapterContext: adapter.cast(),
        AttributeFlags: 0,
        CheckForHangTimeInSeconds: 0,
        InterfaceType: NDIS_INTERFACE_INTERNAL,
    };
    // SAFETY: a valid attributes structure for this call.
    let status = unsafe { NdisMSetMiniportAttributes(miniport, ptr::addr_of_mut!(reg).cast()) };
    if status != NDIS_STATUS_SUCCESS {
        return status;
    }
    let mut mac32 = [0u8; NDIS_MAX_PHYS_ADDRESS_LENGTH];
    mac32[..6].copy_from_slice(&a.mac);
    // Paired mode starts disconnected: the link comes with the pairing
    // (NDIS_STATUS_LINK_STATE, from MiniportRestartEx on).
    let connected = a.link.is_none() && a.config.carrier_ip.is_some();
    let mut general = NDIS_MINIPORT_ADAPTER_GENERAL_ATTRIBUTES {
        Header: header(
            NDIS_OBJECT_TYPE_MINIPORT_ADAPTER_GENERAL_ATTRIBUTES,
            NDIS_MINIPORT_ADAPTER_GENERAL_ATTRIBUTES_REVISION_2,
            size_of::<NDIS_MINIPORT_ADAPTER_GENERAL_ATTRIBUTES>(),
        ),
        Flags: 0,
        MediaType: NDIS_MEDIUM_802_3,
        PhysicalMediumType: NDIS_PHYSICAL_MEDIUM_802_3,
        MtuSize: a.mtu,
        MaxXmitLinkSpeed: LINK_SPEED_BPS,
        XmitLinkSpeed: LINK_SPEED_BPS,
        MaxRcvLinkSpeed: LINK_SPEED_BPS,
        RcvLinkSpeed: LINK_SPEED_BPS,
        MediaConnectState: if connected {
            MEDIA_CONNECT_STATE_CONNECTED
        } else {
            MEDIA_CONNECT_STATE_DISCONNECTED
        },
        MediaDuplexState: MEDIA_DUPLEX_STATE_FULL,
        LookaheadSize: a.mtu,
        PowerManagementCapabilities: ptr::null_mut(),
        MacOptions: SOFTROCE_MAC_OPTIONS,
        SupportedPacketFilters: SOFTROCE_PACKET_FILTERS,
        MaxMulticastListSize: super::oid_payload::MAX_MULTICAST,
        MacAddressLength: 6,
        PermanentMacAddress: mac32,
        CurrentMacAddress: mac32,
        RecvScaleCapabilities: ptr::null_mut(),
        AccessType: NET_IF_ACCESS_BROADCAST,
        DirectionType: NET_IF_DIRECTION_SENDRECEIVE,
        ConnectionType: NET_IF_CONNECTION_DEDICATED,
        IfType: IF_TYPE_ETHERNET_CSMACD,
        IfConnectorPresent: 0,
        SupportedStatistics: SOFTROCE_SUPPORTED_STATISTICS,
        SupportedPauseFunctions: NDIS_PAUSE_FUNCTIONS_UNSUPPORTED,
        DataBackFillSize: 0,
        ContextBackFillSize: 0,
        SupportedOidList: SUPPORTED_OIDS.as_ptr(),
        SupportedOidListLength: (SUPPORTED_OIDS.len() * size_of::<u32>()) as u32,
        AutoNegotiationFlags: 0,
        PowerManagementCapabilitiesEx: ptr::null_mut(),
    };
    // SAFETY: a valid attributes structure; the OID list is static.
    let status = unsafe { NdisMSetMiniportAttributes(miniport, ptr::addr_of_mut!(general).cast()) };
    if status != NDIS_STATUS_SUCCESS {
        return status;
    }
    // NDK attributes even when NDK is disabled (facts §7.2).
    let mut ndk = NDIS_MINIPORT_ADAPTER_NDK_ATTRIBUTES {
        Header: header(
            NDIS_OBJECT_TYPE_MINIPORT_ADAPTER_NDK_ATTRIBUTES,
            NDIS_MINIPORT_ADAPTER_NDK_ATTRIBUTES_REVISION_1,
            size_of::<NDIS_MINIPORT_ADAPTER_NDK_ATTRIBUTES>(),
        ),
        Enabled: u8::from(a.config.network_direct),
        NdkCapabilities: a.capabilities.get(),
    };
    // SAFETY: a valid attributes structure; the capabilities and the adapter
    // info they point at live in the adapter until halt.
    unsafe { NdisMSetMiniportAttributes(miniport, ptr::addr_of_mut!(ndk).cast()) }
}

/// Frees an adapter and its work item (its platform is dropped here, at
/// PASSIVE, which flushes its DPCs).
///
/// # Safety
/// `adapter` came from `initialize` and nothing refers to it any more.
///
/// IRQL: PASSIVE_LEVEL.
unsafe fn free(adapter: *mut Adapter) {
    // SAFETY: the work item is idle (halt waited) or was never queued.
    unsafe { NdisFreeIoWorkItem((*adapter).work_item) };
    // SAFETY: allocated by Box in `initialize`.
    drop(unsafe { Box::from_raw(adapter) });
}

/// MiniportHaltEx: NDIS has closed every NDK adapter instance and issues no
/// more requests; wait for the NDK state work item, stop the adapter's NDK
/// network (and with it a frame carrier), unpair the link, then free.
///
/// IRQL: PASSIVE_LEVEL.
///
/// # Safety
/// Called by NDIS only.
pub unsafe extern "system" fn halt(ctx: NDIS_HANDLE, _action: u32) {
    irql::assert_passive("MiniportHaltEx");
    let adapter = ctx.cast::<Adapter>();
    // SAFETY: NDIS's context, live until this returns.
    let a = unsafe { &*adapter };
    while a.ndk.busy() {
        let mut ten_ms: i64 = -100_000;
        // SAFETY: PASSIVE; an event nobody signals: a 10 ms sleep.
        unsafe {
            KeWaitForSingleObject(
                a.sleeper.get().cast(),
                EXECUTIVE,
                KERNEL_MODE,
                FALSE,
                &mut ten_ms,
            )
        };
    }
    if a.ndk_open.load(Ordering::SeqCst) != 0 {
        // NDIS closes every NDK instance before halt; an instance left open
        // would outlive this adapter (a consumer or NDIS bug): report it.
        log(
            DPFLTR_ERROR_LEVEL,
            c"softroce: halt with NDK adapters still open\n",
        );
    }
    // The adapter's NDK network stays in `ndk_instances` after the last NDK
    // close until NDK is disabled (`take_idle_network` in the work item) or
    // the adapter is freed. Paired, it owns the frame carrier, whose
    // `LinkCarrier` and `LowerPort` each hold a reference of the link, so the
    // wait below would never end if the network were only dropped by `free`.
    // Every instance is closed by now: stop the network here, at PASSIVE.
    drop(a.ndk_instances.take_idle_network());
    if let Some(link) = &a.link {
        unregister_link(link);
        // A receive or status indication of the (former) binding may still
        // hold a reference taken before the unpairing; wait for it so the
        // link's last reference goes here, at PASSIVE (the adapter's and the
        // platform's references remain).
        while Arc::strong_count(link) > 2 {
            sleep_ms(1);
        }
    }
    // SAFETY: no work item runs; NDIS holds no more references.
    unsafe { free(adapter) };
}

/// MiniportPauseEx: WSK mode completes sends inline, so nothing is
/// outstanding; paired mode stops forwarding and indicating, then waits for
/// the forwarded sends to complete and the indicated receives to return.
///
/// IRQL: PASSIVE_LEVEL.
///
/// # Safety
/// Called by NDIS only.
pub unsafe extern "system" fn pause(
    ctx: NDIS_HANDLE,
    _params: *mut NDIS_MINIPORT_PAUSE_PARAMETERS,
) -> NDIS_STATUS {
    // SAFETY: NDIS's live context.
    let a = unsafe { Adapter::from_context(ctx) };
    a.paused.store(true, Ordering::SeqCst);
    if let Some(link) = &a.link {
        link.running.store(false, Ordering::SeqCst);
        drain(&link.tx_pending);
        drain(&link.rx_pending);
    }
    NDIS_STATUS_SUCCESS
}

/// MiniportRestartEx.
///
/// IRQL: PASSIVE_LEVEL.
///
/// # Safety
/// Called by NDIS only.
pub unsafe extern "system" fn restart(
    ctx: NDIS_HANDLE,
    _params: *mut NDIS_MINIPORT_RESTART_PARAMETERS,
) -> NDIS_STATUS {
    // SAFETY: NDIS's live context.
    let a = unsafe { Adapter::from_context(ctx) };
    a.paused.store(false, Ordering::SeqCst);
    if let Some(link) = &a.link {
        link.running.store(true, Ordering::SeqCst);
        link.set_ready();
        link.indicate_link();
    }
    NDIS_STATUS_SUCCESS
}
