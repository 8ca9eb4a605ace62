//! Opens two hosted adapters through the exported C entry points (declared
//! here as `extern "C"`, as a C consumer sees them), queries their info
//! through `(*adapter).Dispatch`, checks the size protocol, version
//! negotiation and argument checks, and closes them.

use core::ffi::CStr;
use core::mem::size_of;
use core::ptr::{null, null_mut};

use softroce::abi::*;

mod hosted_open_common;
use hosted_open_common::*;

/// A recognisable non-NULL value for out pointers the provider must (or
/// must not) overwrite; never dereferenced.
const POISON: *mut u8 = core::ptr::dangling_mut::<u64>().cast();

const fn v(major: u16, minor: u16) -> NDK_VERSION {
    NDK_VERSION {
        Major: major,
        Minor: minor,
    }
}

/// The flags docs/HOSTED-API.md documents, no more and no fewer.
const DOCUMENTED_FLAGS: u32 = NDK_ADAPTER_FLAG_IN_ORDER_DMA_SUPPORTED
    | NDK_ADAPTER_FLAG_RDMA_READ_SINK_NOT_REQUIRED
    | NDK_ADAPTER_FLAG_RDMA_READ_LOCAL_INVALIDATE_SUPPORTED
    | NDK_ADAPTER_FLAG_CQ_RESIZE_SUPPORTED
    | NDK_ADAPTER_FLAG_LOOPBACK_CONNECTIONS_SUPPORTED;

fn open(ip: &CStr, requested: NDK_VERSION) -> Result<*mut NDK_ADAPTER, NtStatus> {
    let mut adapter: *mut NDK_ADAPTER = POISON.cast(); // must be overwritten
                                                       // SAFETY: NUL-terminated string and a writable out pointer.
    let status = unsafe { softroce_open_adapter(ip.as_ptr(), requested, &mut adapter) };
    if status == STATUS_SUCCESS {
        assert!(!adapter.is_null() && adapter.cast() != POISON);
        Ok(adapter)
    } else {
        assert!(adapter.is_null(), "{status}: out pointer not cleared");
        Err(status)
    }
}

fn dispatch(adapter: *mut NDK_ADAPTER) -> &'static NDK_ADAPTER_DISPATCH {
    // SAFETY: an open adapter; its table is static.
    unsafe { &*(*adapter).Dispatch }
}

fn query(adapter: *mut NDK_ADAPTER, info: *mut NDK_ADAPTER_INFO, size: *mut u32) -> NtStatus {
    // SAFETY: an open adapter; `info`/`size` are NULL or valid as each test arranges.
    unsafe { (dispatch(adapter).NdkQueryAdapterInfo)(adapter, info, size) }
}

fn check_header(adapter: *mut NDK_ADAPTER) {
    // SAFETY: an open adapter.
    let header = unsafe { &(*adapter).Header };
    assert_eq!(header.Version, v(2, 1));
    assert_eq!(
        ObjectType::try_from(header.ObjectType),
        Ok(ObjectType::Adapter)
    );
    assert!(header.NdkReserved.rf.iter().all(|p| p.is_null()));
}

fn query_info(adapter: *mut NDK_ADAPTER) -> NDK_ADAPTER_INFO {
    let required = size_of::<NDK_ADAPTER_INFO>() as u32;

    // Size query: NULL info, size 0.
    let mut size = 0u32;
    assert_eq!(
        query(adapter, null_mut(), &mut size),
        STATUS_BUFFER_TOO_SMALL
    );
    assert_eq!(size, required);
    // NULL info with a large size is still too small.
    let mut size = 4096u32;
    assert_eq!(
        query(adapter, null_mut(), &mut size),
        STATUS_BUFFER_TOO_SMALL
    );
    assert_eq!(size, required);

    // NULL BufferSize.
    let mut buf = [0xABu8; 0x80];
    let info_ptr = buf.as_mut_ptr().cast::<NDK_ADAPTER_INFO>();
    assert_eq!(
        query(adapter, info_ptr, null_mut()),
        STATUS_INVALID_PARAMETER
    );
    assert!(buf.iter().all(|&b| b == 0xAB));

    // One byte short: nothing written but the size.
    let mut size = required - 1;
    assert_eq!(query(adapter, info_ptr, &mut size), STATUS_BUFFER_TOO_SMALL);
    assert_eq!(size, required);
    assert!(buf.iter().all(|&b| b == 0xAB));

    // A larger, unaligned buffer: filled, size = required, tail untouched.
    let unaligned = buf[1..].as_mut_ptr().cast::<NDK_ADAPTER_INFO>();
    let mut size = 0x7F;
    assert_eq!(query(adapter, unaligned, &mut size), STATUS_SUCCESS);
    assert_eq!(size, required);
    assert!(buf[1 + required as usize..].iter().all(|&b| b == 0xAB));
    assert_eq!(buf[0], 0xAB);
    // SAFETY: `required` bytes at buf[1..] hold an NDK_ADAPTER_INFO now.
    let from_unaligned = unsafe { unaligned.read_unaligned() };

    // The exact size, into a typed value.
    let mut info = core::mem::MaybeUninit::<NDK_ADAPTER_INFO>::uninit();
    let mut size = required;
    assert_eq!(query(adapter, info.as_mut_ptr(), &mut size), STATUS_SUCCESS);
    assert_eq!(size, required);
    // SAFETY: filled by a successful query.
    let info = unsafe { info.assume_init() };
    assert_eq!(info, from_unaligned);
    info
}

fn check_info(info: &NDK_ADAPTER_INFO) {
    assert_eq!(info.Version, v(2, 1));
    assert_eq!(
        RdmaTechnology::try_from(info.RdmaTechnology),
        Ok(RdmaTechnology::RoCEv2)
    );
    assert_eq!(info.RdmaTechnology, 4);
    assert_eq!(info.AdapterFlags, DOCUMENTED_FLAGS);
    assert!(NdkAdapterFlags::from_bits(info.AdapterFlags).is_some());

    // Every limit non-zero (MaxSrqDepth too: SRQs are documented as supported).
    let limits = [
        ("FRMRPageCount", info.FRMRPageCount),
        ("MaxInitiatorRequestSge", info.MaxInitiatorRequestSge),
        ("MaxReceiveRequestSge", info.MaxReceiveRequestSge),
        ("MaxReadRequestSge", info.MaxReadRequestSge),
        ("MaxTransferLength", info.MaxTransferLength),
        ("MaxInlineDataSize", info.MaxInlineDataSize),
        ("MaxInboundReadLimit", info.MaxInboundReadLimit),
        ("MaxOutboundReadLimit", info.MaxOutboundReadLimit),
        ("MaxReceiveQueueDepth", info.MaxReceiveQueueDepth),
        ("MaxInitiatorQueueDepth", info.MaxInitiatorQueueDepth),
        ("MaxSrqDepth", info.MaxSrqDepth),
        ("MaxCqDepth", info.MaxCqDepth),
        ("LargeRequestThreshold", info.LargeRequestThreshold),
        ("MaxCallerData", info.MaxCallerData),
        ("MaxCalleeData", info.MaxCalleeData),
    ];
    for (name, value) in limits {
        assert_ne!(value, 0, "{name}");
    }
    assert!(info.MaxRegistrationSize > 0 && info.MaxWindowSize > 0);

    // Plausible for a soft RoCEv2 provider.
    assert!(info.FRMRPageCount >= 16);
    assert!(info.FRMRPageCount as usize * 4096 <= info.MaxRegistrationSize);
    assert!(info.MaxWindowSize <= info.MaxRegistrationSize);
    assert!(info.MaxTransferLength as usize <= info.MaxRegistrationSize);
    assert!(info.MaxInlineDataSize <= info.MaxTransferLength);
    assert!(info.LargeRequestThreshold <= info.MaxTransferLength);
    assert!(info.MaxInboundReadLimit <= 255 && info.MaxOutboundReadLimit <= 255);
    assert!(info.MaxCqDepth >= info.MaxReceiveQueueDepth);
    assert!(info.MaxCqDepth >= info.MaxInitiatorQueueDepth);
    // RDMA-CM over IB CM: REQ 92 - 36 CMA header; min(REP 196, REJ 148).
    assert_eq!(info.MaxCallerData, 56);
    assert_eq!(info.MaxCalleeData, 148);
}

fn check_extension_and_pending_entries(adapter: *mut NDK_ADAPTER) {
    let d = dispatch(adapter);
    let guid = GUID {
        Data1: 1,
        ..GUID::default()
    };
    let mut ext = NDK_EXTENSION_INTERFACE { Dispatch: null() };
    let header = adapter.cast::<NDK_OBJECT_HEADER>();
    // SAFETY: open adapter; valid GUID and output.
    let status = unsafe { (d.NdkQueryExtension)(header, &guid, v(2, 1), &mut ext) };
    assert_eq!(status, STATUS_NOT_SUPPORTED);
    // SAFETY: NULL output is checked by the provider.
    let status = unsafe { (d.NdkQueryExtension)(header, &guid, v(2, 1), null_mut()) };
    assert_eq!(status, STATUS_INVALID_PARAMETER);

    // The adapter's creates are real now: inline success through the
    // out-param, inline close (no children).
    let mut pd: *mut NDK_PD = POISON.cast();
    // SAFETY: open adapter; no completion is called for a non-pending status.
    let status = unsafe { (d.NdkCreatePd)(adapter, None, null_mut(), &mut pd) };
    assert_eq!(status, STATUS_SUCCESS);
    assert_ne!(pd.cast(), POISON);
    let mut connector: *mut NDK_CONNECTOR = null_mut();
    // SAFETY: as above.
    let status = unsafe { (d.NdkCreateConnector)(adapter, None, null_mut(), &mut connector) };
    assert_eq!(status, STATUS_SUCCESS);
    // SAFETY: live objects, closed once, no children.
    unsafe {
        assert_eq!(
            ((*(*connector).Dispatch).NdkCloseConnector)(connector.cast(), None, null_mut()),
            STATUS_SUCCESS
        );
        assert_eq!(
            ((*(*pd).Dispatch).NdkClosePd)(pd.cast(), None, null_mut()),
            STATUS_SUCCESS
        );
    }
}

#[test]
fn two_adapters_open_query_and_close() {
    // SAFETY: plain value return.
    assert_eq!(unsafe { softroce_version() }, v(2, 1));

    let a4 = open(c"127.0.0.1", v(2, 1)).expect("IPv4 adapter");
    let a6 = open(c"::1", v(2, 0)).expect("IPv6 adapter");
    assert_ne!(a4, a6);

    for adapter in [a4, a6] {
        check_header(adapter);
        let info = query_info(adapter);
        check_info(&info);
        check_extension_and_pending_entries(adapter);
    }
    // Both instances share the one dispatch table.
    // SAFETY: both open.
    assert!(core::ptr::eq(unsafe { (*a4).Dispatch }, unsafe {
        (*a6).Dispatch
    }));

    // SAFETY: each opened once, closed once, not used afterwards.
    unsafe {
        softroce_close_adapter(a4);
        softroce_close_adapter(a6);
    }
}

#[test]
fn version_negotiation_through_open() {
    // Accepted: Major 2 with a lowest usable Minor of 0 or 1; runs at 2.1.
    for requested in [v(2, 0), v(2, 1)] {
        let a = open(c"127.0.0.2", requested).expect("accepted version");
        let info = query_info(a);
        assert_eq!(info.Version, v(2, 1));
        // SAFETY: opened above, closed once.
        unsafe { softroce_close_adapter(a) };
    }
    // Refused: another Major (1.x included: minors are supersets only within
    // a major), or a Minor above ours.
    for requested in [
        v(1, 0),
        v(1, 1),
        v(1, 2),
        v(0, 0),
        v(3, 0),
        v(2, 2),
        v(2, 0xFFFF),
    ] {
        assert_eq!(
            open(c"127.0.0.1", requested),
            Err(NDIS_STATUS_BAD_VERSION),
            "{}.{}",
            requested.Major,
            requested.Minor
        );
    }
}

#[test]
fn open_argument_checks() {
    let mut adapter: *mut NDK_ADAPTER = POISON.cast();
    // SAFETY: NULL string is checked by the entry point.
    let status = unsafe { softroce_open_adapter(null(), v(2, 1), &mut adapter) };
    assert_eq!(status, STATUS_INVALID_PARAMETER);
    assert!(adapter.is_null());
    // SAFETY: NULL out pointer is checked by the entry point.
    let status = unsafe { softroce_open_adapter(c"127.0.0.1".as_ptr(), v(2, 1), null_mut()) };
    assert_eq!(status, STATUS_INVALID_PARAMETER);

    for bad in [
        c"",
        c"localhost",
        c"127.0.0.1:4791",
        c"fe80::1%eth0",
        c"0.0.0.0",
        c"::",
        c"255.255.255.255",
        c"ff02::1",
        c" 127.0.0.1",
    ] {
        assert_eq!(open(bad, v(2, 1)), Err(STATUS_INVALID_ADDRESS), "{bad:?}");
    }
    // Version is checked before the address.
    assert_eq!(
        open(c"not an address", v(3, 0)),
        Err(NDIS_STATUS_BAD_VERSION)
    );
    // Non-UTF-8 bytes are an invalid address, not a crash.
    assert_eq!(open(c"\xff\xfe", v(2, 1)), Err(STATUS_INVALID_ADDRESS));

    // Closing NULL is a no-op.
    // SAFETY: NULL is allowed.
    unsafe { softroce_close_adapter(null_mut()) };
}

#[test]
fn status_names_over_the_c_abi() {
    // SAFETY: returns NULL or a static NUL-terminated string.
    let name = unsafe { softroce_status_name(STATUS_CONNECTION_REFUSED) };
    assert!(!name.is_null());
    // SAFETY: non-null static C string.
    assert_eq!(
        unsafe { CStr::from_ptr(name) },
        c"STATUS_CONNECTION_REFUSED"
    );
    // SAFETY: as above.
    assert!(unsafe { softroce_status_name(NtStatus(0x1234_5678)) }.is_null());
}

static COMPLETIONS: std::sync::atomic::AtomicUsize = std::sync::atomic::AtomicUsize::new(0);

unsafe extern "system" fn create_done(
    _ctx: PVOID,
    _status: NTSTATUS,
    _obj: *mut NDK_OBJECT_HEADER,
) {
    COMPLETIONS.fetch_add(1, std::sync::atomic::Ordering::SeqCst);
}

unsafe extern "system" fn request_done(_ctx: PVOID, _status: NTSTATUS) {
    COMPLETIONS.fetch_add(1, std::sync::atomic::Ordering::SeqCst);
}

#[test]
fn bad_arguments_fail_inline_and_never_complete() {
    let a = open(c"127.0.0.3", v(2, 1)).expect("adapter");
    let d = dispatch(a);
    let ctx = null_mut();
    let mut cq: *mut NDK_CQ = POISON.cast();
    let mut pd: *mut NDK_PD = POISON.cast();
    let mut se: *mut NDK_SHARED_ENDPOINT = POISON.cast();
    let mut conn: *mut NDK_CONNECTOR = POISON.cast();
    let mut listener: *mut NDK_LISTENER = POISON.cast();
    let mut lam_size = 77u32;
    let mut fbo = 88u32;
    let addr = SOCKADDR_IN {
        sin_family: AF_INET,
        sin_port: 4791u16.to_be(),
        sin_addr: IN_ADDR::from_octets([127, 0, 0, 9]),
        sin_zero: [0; 8],
    };
    let done = Some(create_done as NDK_FN_CREATE_COMPLETION);
    let req = Some(request_done as NDK_FN_REQUEST_COMPLETION);
    // SAFETY: an open adapter and valid out pointers; a non-PENDING status
    // means no completion may be called.
    let statuses = unsafe {
        [
            (d.NdkCreateCq)(a, 64, None, ctx, null_mut(), done, ctx, &mut cq),
            (d.NdkCreatePd)(a, done, ctx, &mut pd),
            (d.NdkCreateSharedEndpoint)(
                a,
                (&raw const addr).cast(),
                size_of::<SOCKADDR_IN>() as u32,
                done,
                ctx,
                &mut se,
            ),
            (d.NdkCreateConnector)(a, done, ctx, &mut conn),
            (d.NdkCreateListener)(a, None, ctx, done, ctx, &mut listener),
            (d.NdkBuildLAM)(
                a,
                null_mut(),
                4096,
                req,
                ctx,
                null_mut(),
                &mut lam_size,
                &mut fbo,
            ),
        ]
    };
    // NULL CQ notification, wrong local IP, NULL ConnectEvent, NULL MDL
    // (the PD and connector creates are well-formed and succeed inline).
    assert_eq!(statuses[0], STATUS_INVALID_PARAMETER);
    assert_eq!(statuses[1], STATUS_SUCCESS);
    assert_eq!(statuses[2], STATUS_INVALID_ADDRESS);
    assert_eq!(statuses[3], STATUS_SUCCESS);
    assert_eq!(statuses[4], STATUS_INVALID_PARAMETER);
    assert_eq!(statuses[5], STATUS_INVALID_PARAMETER);
    // SAFETY: live objects, closed once, no children.
    unsafe {
        assert_eq!(
            ((*(*pd).Dispatch).NdkClosePd)(pd.cast(), None, null_mut()),
            STATUS_SUCCESS
        );
        assert_eq!(
            ((*(*conn).Dispatch).NdkCloseConnector)(conn.cast(), None, null_mut()),
            STATUS_SUCCESS
        );
    }
    pd = POISON.cast();
    conn = POISON.cast();
    // SAFETY: ReleaseLAM with nothing to release is a no-op.
    unsafe { (d.NdkReleaseLAM)(a, null_mut()) };
    assert_eq!(COMPLETIONS.load(std::sync::atomic::Ordering::SeqCst), 0);
    let untouched: [*mut u8; 5] = [
        cq.cast(),
        pd.cast(),
        se.cast(),
        conn.cast(),
        listener.cast(),
    ];
    assert!(untouched.iter().all(|&p| p == POISON));
    assert_eq!((lam_size, fbo), (77, 88));

    // NULL adapter: refused before anything else.
    // SAFETY: NULL adapter is checked by the provider.
    let status = unsafe { (d.NdkCreatePd)(null_mut(), done, ctx, &mut pd) };
    assert_eq!(status, STATUS_INVALID_PARAMETER);
    // SAFETY: opened above, closed once.
    unsafe { softroce_close_adapter(a) };
}

#[test]
fn query_info_refuses_null_and_foreign_adapters() {
    let a = open(c"127.0.0.4", v(2, 1)).expect("adapter");
    let d = dispatch(a);
    let mut size = 0x68u32;
    let mut info = core::mem::MaybeUninit::<NDK_ADAPTER_INFO>::uninit();
    // SAFETY: NULL adapter is checked by the provider.
    let status = unsafe { (d.NdkQueryAdapterInfo)(null_mut(), info.as_mut_ptr(), &mut size) };
    assert_eq!(status, STATUS_INVALID_PARAMETER);

    // Same table contents, same header, but not an adapter the provider made.
    let table_copy = *d;
    let mut fake = NDK_ADAPTER {
        // SAFETY: `a` is open.
        Header: unsafe { (*a).Header },
        Dispatch: &table_copy,
    };
    // SAFETY: `fake` is a readable NDK object.
    let status = unsafe { (d.NdkQueryAdapterInfo)(&mut fake, info.as_mut_ptr(), &mut size) };
    assert_eq!(status, STATUS_INVALID_HANDLE);
    assert_eq!(size, 0x68);
    // Closing a foreign object is ignored (and must not crash or free it).
    // SAFETY: `fake` is readable; it is refused, not freed.
    unsafe { softroce_close_adapter(&mut fake) };
    // SAFETY: opened above, closed once.
    unsafe { softroce_close_adapter(a) };
}
