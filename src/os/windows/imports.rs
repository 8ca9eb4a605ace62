//! The kernel functions softroce.sys imports, declared as `raw-dylib` so the
//! Linux cross-build needs no WDK import libraries: rustc writes the import
//! descriptors itself and `scripts/check-pe.sh` checks the result.
//!
//! Owns: the extern declarations only (each with the IRQL it may be called
//! at). Allowed DLLs: ntoskrnl.exe, hal.dll, ndis.sys, netio.sys. Must not hold
//! behaviour; only code in `src/os/windows` calls these. Macros of the WDK
//! headers are not imports: `KeQueryInterruptTime` (x64: a read of
//! KUSER_SHARED_DATA, `platform::interrupt_time`), `IoSetCompletionRoutine`
//! (`nt::io_set_completion_routine`), `MmGetSystemAddressForMdlSafe` (over
//! `MmMapLockedPagesSpecifyCache`, `mdl::system_address`),
//! `MmGetMdlPfnArray` (`mdl::pfn_array`), `KeRaiseIrql`/`KeLowerIrql` (x64:
//! CR8, `irql::RaiseToDispatch`).

use core::ffi::c_void;

use crate::abi::{NDIS_HANDLE, NDIS_STATUS};

use super::ffi::{DRIVER_OBJECT, NTSTATUS, UNICODE_STRING};
use super::ndis::{
    NDIS_CONFIGURATION_OBJECT, NDIS_CONFIGURATION_PARAMETER, NDIS_IO_WORKITEM_ROUTINE,
    NDIS_MINIPORT_DRIVER_CHARACTERISTICS, NDIS_OID_REQUEST, NDIS_PORT_NUMBER, NET_BUFFER_LIST,
    NET_PNP_EVENT_NOTIFICATION,
};
use super::ndis_protocol::{
    NDIS_OPEN_PARAMETERS, NDIS_PROTOCOL_DRIVER_CHARACTERISTICS, NDIS_STATUS_INDICATION,
    NET_BUFFER_LIST_POOL_PARAMETERS,
};
use super::netio::{MIB_IPFORWARD_ROW2, MIB_IPNET_ROW2, MIB_UNICASTIPADDRESS_TABLE, SOCKADDR_INET};
use super::nt::{
    MdlHeader, BOOLEAN, IRP, KDPC, KEVENT, KPRIORITY, KTIMER, LARGE_INTEGER, PKDEFERRED_ROUTINE,
};
use super::wsk::types::{WSK_CLIENT_NPI, WSK_PROVIDER_NPI, WSK_REGISTRATION};

#[link(name = "ntoskrnl.exe", kind = "raw-dylib", modifiers = "+verbatim")]
extern "system" {
    /// IRQL: <= DISPATCH_LEVEL for nonpaged pool. Returns null on failure.
    pub fn ExAllocatePool2(flags: u64, number_of_bytes: usize, tag: u32) -> *mut c_void;
    /// IRQL: <= DISPATCH_LEVEL for nonpaged pool.
    pub fn ExFreePoolWithTag(p: *mut c_void, tag: u32);
    /// The stack probe LLVM calls (rax = frame size) before a frame larger
    /// than a page; never called from Rust. Kernel stacks are small: keep
    /// frames well under 4 KiB so it stays unused.
    ///
    /// IRQL: any (never called from Rust).
    pub fn __chkstk();
    /// IRQL: <= DISPATCH_LEVEL; raises to DISPATCH_LEVEL and returns the old IRQL.
    pub fn KeAcquireSpinLockRaiseToDpc(lock: *mut usize) -> u8;
    /// IRQL: DISPATCH_LEVEL (holding `lock`); lowers to `new_irql`.
    pub fn KeReleaseSpinLock(lock: *mut usize, new_irql: u8);
    /// Any IRQL; does not return.
    pub fn KeBugCheckEx(code: u32, p1: usize, p2: usize, p3: usize, p4: usize) -> !;

    // --- DPCs and timers ---
    /// IRQL: any. Initialises a KDPC (caller-owned nonpaged storage).
    pub fn KeInitializeDpc(dpc: *mut KDPC, routine: PKDEFERRED_ROUTINE, context: *mut c_void);
    /// IRQL: any (<= HIGH). FALSE if the DPC is already queued.
    pub fn KeInsertQueueDpc(dpc: *mut KDPC, arg1: *mut c_void, arg2: *mut c_void) -> BOOLEAN;
    /// IRQL: any. TRUE if the DPC was queued (now removed).
    pub fn KeRemoveQueueDpc(dpc: *mut KDPC) -> BOOLEAN;
    /// IRQL: PASSIVE_LEVEL. Returns when every DPC queued before the call ran.
    pub fn KeFlushQueuedDpcs();
    /// IRQL: <= DISPATCH_LEVEL.
    pub fn KeInitializeTimerEx(timer: *mut KTIMER, kind: u32);
    /// IRQL: <= DISPATCH_LEVEL. Due time < 0: relative, 100 ns units. TRUE
    /// if the timer was already in the timer queue.
    pub fn KeSetTimer(timer: *mut KTIMER, due_time: LARGE_INTEGER, dpc: *mut KDPC) -> BOOLEAN;
    /// IRQL: <= DISPATCH_LEVEL. TRUE if the timer was in the queue.
    pub fn KeCancelTimer(timer: *mut KTIMER) -> BOOLEAN;

    // --- time and randomness ---
    /// IRQL: any. Interrupt time (100 ns units) with the QPC it was read at.
    pub fn KeQueryInterruptTimePrecise(qpc_timestamp: *mut u64) -> u64;
    /// IRQL: any. Returns the performance counter; `frequency` may be null.
    pub fn KeQueryPerformanceCounter(frequency: *mut LARGE_INTEGER) -> LARGE_INTEGER;
    /// IRQL: any (not cryptographic; the entropy source of last resort).
    pub fn RtlRandomEx(seed: *mut u32) -> u32;

    // --- processors ---
    /// IRQL: any.
    pub fn KeQueryMaximumProcessorCountEx(group: u16) -> u32;
    /// IRQL: any. `number` may be null (PROCESSOR_NUMBER out).
    pub fn KeGetCurrentProcessorNumberEx(number: *mut c_void) -> u32;

    // --- events ---
    /// IRQL: any (caller-owned nonpaged storage).
    pub fn KeInitializeEvent(event: *mut KEVENT, kind: u32, state: BOOLEAN);
    /// IRQL: <= DISPATCH_LEVEL. Returns the previous state.
    pub fn KeResetEvent(event: *mut KEVENT) -> i32;
    /// IRQL: <= DISPATCH_LEVEL (Wait FALSE).
    pub fn KeSetEvent(event: *mut KEVENT, increment: KPRIORITY, wait: BOOLEAN) -> i32;
    /// IRQL: PASSIVE_LEVEL for a non-zero timeout (null = forever).
    pub fn KeWaitForSingleObject(
        object: *mut c_void,
        wait_reason: u32,
        wait_mode: i8,
        alertable: BOOLEAN,
        timeout: *mut LARGE_INTEGER,
    ) -> NTSTATUS;

    // --- IRPs and MDLs ---
    /// IRQL: <= DISPATCH_LEVEL.
    pub fn IoAllocateIrp(stack_size: i8, charge_quota: BOOLEAN) -> *mut IRP;
    /// IRQL: <= DISPATCH_LEVEL. Re-initialises an IRP from IoAllocateIrp.
    pub fn IoReuseIrp(irp: *mut IRP, status: NTSTATUS);
    /// IRQL: <= DISPATCH_LEVEL.
    pub fn IoFreeIrp(irp: *mut IRP);
    /// IRQL: <= DISPATCH_LEVEL.
    pub fn IoAllocateMdl(
        va: *mut c_void,
        length: u32,
        secondary: BOOLEAN,
        charge_quota: BOOLEAN,
        irp: *mut IRP,
    ) -> *mut MdlHeader;
    /// IRQL: <= DISPATCH_LEVEL.
    pub fn IoFreeMdl(mdl: *mut MdlHeader);
    /// IRQL: <= DISPATCH_LEVEL. Fills the PFNs of a nonpaged-pool MDL.
    pub fn MmBuildMdlForNonPagedPool(mdl: *mut MdlHeader);
    /// IRQL: <= DISPATCH_LEVEL for KernelMode mappings. The function behind
    /// the `MmGetSystemAddressForMdlSafe` macro.
    pub fn MmMapLockedPagesSpecifyCache(
        mdl: *mut MdlHeader,
        access_mode: i8,
        cache_type: u32,
        requested_address: *mut c_void,
        bug_check_on_failure: u32,
        priority: u32,
    ) -> *mut c_void;
}

#[link(name = "ntoskrnl.exe", kind = "raw-dylib", modifiers = "+verbatim")]
extern "C" {
    /// IRQL: <= DIRQL; `%wZ` reads a `UNICODE_STRING` (only at PASSIVE_LEVEL).
    pub fn DbgPrintEx(component_id: u32, level: u32, format: *const u8, ...) -> u32;
}

#[link(name = "ndis.sys", kind = "raw-dylib", modifiers = "+verbatim")]
extern "system" {
    /// IRQL: any. The NDIS version of the running system, major in the high 16 bits.
    pub fn NdisGetVersion() -> u32;
    /// IRQL: PASSIVE_LEVEL (DriverEntry).
    pub fn NdisMRegisterMiniportDriver(
        driver: *mut DRIVER_OBJECT,
        registry_path: *const UNICODE_STRING,
        driver_context: NDIS_HANDLE,
        characteristics: *const NDIS_MINIPORT_DRIVER_CHARACTERISTICS,
        driver_handle: *mut NDIS_HANDLE,
    ) -> NDIS_STATUS;
    /// IRQL: PASSIVE_LEVEL (MiniportDriverUnload, or DriverEntry on failure).
    pub fn NdisMDeregisterMiniportDriver(driver_handle: NDIS_HANDLE);
    /// IRQL: PASSIVE_LEVEL (MiniportInitializeEx).
    pub fn NdisMSetMiniportAttributes(
        miniport_handle: NDIS_HANDLE,
        attributes: *mut c_void,
    ) -> NDIS_STATUS;
    /// IRQL: PASSIVE_LEVEL (MiniportSetOptions).
    pub fn NdisSetOptionalHandlers(
        ndis_handle: NDIS_HANDLE,
        optional_handlers: *mut c_void,
    ) -> NDIS_STATUS;
    /// IRQL: PASSIVE_LEVEL; never from inside MiniportOidRequest.
    pub fn NdisMNetPnPEvent(
        miniport_handle: NDIS_HANDLE,
        notification: *mut NET_PNP_EVENT_NOTIFICATION,
    ) -> NDIS_STATUS;
    /// IRQL: <= DISPATCH_LEVEL.
    pub fn NdisAllocateIoWorkItem(ndis_object_handle: NDIS_HANDLE) -> NDIS_HANDLE;
    /// IRQL: <= DISPATCH_LEVEL. The routine runs at PASSIVE_LEVEL.
    pub fn NdisQueueIoWorkItem(
        work_item: NDIS_HANDLE,
        routine: NDIS_IO_WORKITEM_ROUTINE,
        context: *mut c_void,
    );
    /// IRQL: <= DISPATCH_LEVEL; the item must not be queued.
    pub fn NdisFreeIoWorkItem(work_item: NDIS_HANDLE);
    /// IRQL: PASSIVE_LEVEL.
    pub fn NdisOpenConfigurationEx(
        object: *const NDIS_CONFIGURATION_OBJECT,
        configuration_handle: *mut NDIS_HANDLE,
    ) -> NDIS_STATUS;
    /// IRQL: PASSIVE_LEVEL. The parameter lives until NdisCloseConfiguration.
    pub fn NdisReadConfiguration(
        status: *mut NDIS_STATUS,
        value: *mut *mut NDIS_CONFIGURATION_PARAMETER,
        configuration_handle: NDIS_HANDLE,
        keyword: *const UNICODE_STRING,
        parameter_type: u32,
    );
    /// IRQL: PASSIVE_LEVEL. Reads the `NetworkAddress` keyword (a MAC).
    pub fn NdisReadNetworkAddress(
        status: *mut NDIS_STATUS,
        network_address: *mut *mut c_void,
        network_address_length: *mut u32,
        configuration_handle: NDIS_HANDLE,
    );
    /// IRQL: PASSIVE_LEVEL.
    pub fn NdisCloseConfiguration(configuration_handle: NDIS_HANDLE);
    /// IRQL: <= DISPATCH_LEVEL.
    pub fn NdisMSendNetBufferListsComplete(
        miniport_handle: NDIS_HANDLE,
        net_buffer_lists: *mut NET_BUFFER_LIST,
        send_complete_flags: u32,
    );

    // --- the lower edge (protocol driver, `lower/`) ---
    /// IRQL: PASSIVE_LEVEL (DriverEntry).
    pub fn NdisRegisterProtocolDriver(
        protocol_driver_context: NDIS_HANDLE,
        characteristics: *const NDIS_PROTOCOL_DRIVER_CHARACTERISTICS,
        protocol_handle: *mut NDIS_HANDLE,
    ) -> NDIS_STATUS;
    /// IRQL: PASSIVE_LEVEL; unbinds every binding first.
    pub fn NdisDeregisterProtocolDriver(protocol_handle: NDIS_HANDLE);
    /// IRQL: PASSIVE_LEVEL (ProtocolBindAdapterEx). May pend: then
    /// ProtocolOpenAdapterCompleteEx follows.
    pub fn NdisOpenAdapterEx(
        protocol_handle: NDIS_HANDLE,
        protocol_binding_context: NDIS_HANDLE,
        open_parameters: *mut NDIS_OPEN_PARAMETERS,
        bind_context: NDIS_HANDLE,
        binding_handle: *mut NDIS_HANDLE,
    ) -> NDIS_STATUS;
    /// IRQL: PASSIVE_LEVEL. May pend: then ProtocolCloseAdapterCompleteEx.
    pub fn NdisCloseAdapterEx(binding_handle: NDIS_HANDLE) -> NDIS_STATUS;
    /// IRQL: <= DISPATCH_LEVEL. May pend: then ProtocolOidRequestComplete.
    pub fn NdisOidRequest(
        binding_handle: NDIS_HANDLE,
        request: *mut NDIS_OID_REQUEST,
    ) -> NDIS_STATUS;
    /// IRQL: PASSIVE_LEVEL. Offers again the bindings the protocol declined.
    pub fn NdisReEnumerateProtocolBindings(protocol_handle: NDIS_HANDLE);
    /// IRQL: <= DISPATCH_LEVEL.
    pub fn NdisSendNetBufferLists(
        binding_handle: NDIS_HANDLE,
        net_buffer_lists: *mut NET_BUFFER_LIST,
        port_number: NDIS_PORT_NUMBER,
        send_flags: u32,
    );
    /// IRQL: <= DISPATCH_LEVEL.
    pub fn NdisReturnNetBufferLists(
        binding_handle: NDIS_HANDLE,
        net_buffer_lists: *mut NET_BUFFER_LIST,
        return_flags: u32,
    );
    /// IRQL: <= DISPATCH_LEVEL. Null on failure.
    pub fn NdisAllocateNetBufferListPool(
        ndis_handle: NDIS_HANDLE,
        parameters: *mut NET_BUFFER_LIST_POOL_PARAMETERS,
    ) -> NDIS_HANDLE;
    /// IRQL: <= DISPATCH_LEVEL; every NBL of the pool freed.
    pub fn NdisFreeNetBufferListPool(pool_handle: NDIS_HANDLE);
    /// IRQL: <= DISPATCH_LEVEL. An NBL with one NB over `mdl_chain`.
    pub fn NdisAllocateNetBufferAndNetBufferList(
        pool_handle: NDIS_HANDLE,
        context_size: u16,
        context_backfill: u16,
        mdl_chain: *mut MdlHeader,
        data_offset: u32,
        data_length: usize,
    ) -> *mut NET_BUFFER_LIST;
    /// IRQL: <= DISPATCH_LEVEL.
    pub fn NdisFreeNetBufferList(net_buffer_list: *mut NET_BUFFER_LIST);
    /// IRQL: <= DISPATCH_LEVEL. Null on failure.
    pub fn NdisAllocateCloneNetBufferList(
        original: *mut NET_BUFFER_LIST,
        net_buffer_list_pool: NDIS_HANDLE,
        net_buffer_pool: NDIS_HANDLE,
        allocate_clone_flags: u32,
    ) -> *mut NET_BUFFER_LIST;
    /// IRQL: <= DISPATCH_LEVEL; the flags the clone was allocated with.
    pub fn NdisFreeCloneNetBufferList(clone: *mut NET_BUFFER_LIST, free_clone_flags: u32);
    /// IRQL: <= DISPATCH_LEVEL.
    pub fn NdisCopySendNetBufferListInfo(
        destination: *mut NET_BUFFER_LIST,
        source: *mut NET_BUFFER_LIST,
    ) -> NDIS_STATUS;
    /// IRQL: <= DISPATCH_LEVEL.
    pub fn NdisCopyReceiveNetBufferListInfo(
        destination: *mut NET_BUFFER_LIST,
        source: *mut NET_BUFFER_LIST,
    ) -> NDIS_STATUS;
    /// IRQL: <= DISPATCH_LEVEL. `bytes_needed` contiguous bytes from the
    /// NET_BUFFER's data start: in place, else copied into `storage` (null
    /// storage: null when not contiguous).
    pub fn NdisGetDataBuffer(
        net_buffer: *mut c_void,
        bytes_needed: u32,
        storage: *mut c_void,
        align_multiple: u32,
        align_offset: u32,
    ) -> *mut c_void;
    /// IRQL: <= DISPATCH_LEVEL.
    pub fn NdisMIndicateReceiveNetBufferLists(
        miniport_handle: NDIS_HANDLE,
        net_buffer_lists: *mut NET_BUFFER_LIST,
        port_number: NDIS_PORT_NUMBER,
        number_of_net_buffer_lists: u32,
        receive_flags: u32,
    );
    /// IRQL: <= DISPATCH_LEVEL.
    pub fn NdisMIndicateStatusEx(
        miniport_handle: NDIS_HANDLE,
        status_indication: *mut NDIS_STATUS_INDICATION,
    );
}

#[link(name = "netio.sys", kind = "raw-dylib", modifiers = "+verbatim")]
extern "system" {
    /// IRQL: PASSIVE_LEVEL.
    pub fn WskRegister(
        client_npi: *const WSK_CLIENT_NPI,
        registration: *mut WSK_REGISTRATION,
    ) -> NTSTATUS;
    /// IRQL: PASSIVE_LEVEL (a non-zero wait), <= DISPATCH_LEVEL with WSK_NO_WAIT.
    pub fn WskCaptureProviderNPI(
        registration: *mut WSK_REGISTRATION,
        wait_timeout: u32,
        provider_npi: *mut WSK_PROVIDER_NPI,
    ) -> NTSTATUS;
    /// IRQL: <= DISPATCH_LEVEL.
    pub fn WskReleaseProviderNPI(registration: *mut WSK_REGISTRATION);
    /// IRQL: PASSIVE_LEVEL. Waits for captured NPIs and sockets to go.
    pub fn WskDeregister(registration: *mut WSK_REGISTRATION);

    // --- IP Helper (netioapi.h, kernel mode) ---
    /// IRQL: PASSIVE_LEVEL. The best route (and source) to a destination.
    pub fn GetBestRoute2(
        interface_luid: *const u64,
        interface_index: u32,
        source_address: *const SOCKADDR_INET,
        destination_address: *const SOCKADDR_INET,
        address_sort_options: u32,
        best_route: *mut MIB_IPFORWARD_ROW2,
        best_source_address: *mut SOCKADDR_INET,
    ) -> NTSTATUS;
    /// IRQL: PASSIVE_LEVEL. Resolves (ARP/ND) and fills the row; blocks.
    pub fn ResolveIpNetEntry2(
        row: *mut MIB_IPNET_ROW2,
        source_address: *const SOCKADDR_INET,
    ) -> NTSTATUS;
    /// IRQL: PASSIVE_LEVEL. Allocates the table (FreeMibTable frees it).
    pub fn GetUnicastIpAddressTable(
        family: u16,
        table: *mut *mut MIB_UNICASTIPADDRESS_TABLE,
    ) -> NTSTATUS;
    /// IRQL: PASSIVE_LEVEL.
    pub fn FreeMibTable(memory: *mut c_void);
}
