//! The WSK (Winsock Kernel) declarations the datagram carrier uses, written
//! by hand from wsk.h (Windows 10 WDK, the copy quoted in `docs/WINDOWS.md`):
//! the client/provider NPIs and dispatch tables, the registration block,
//! WSK_BUF, WSK_DATAGRAM_INDICATION, the event-callback control, the
//! function-pointer types and the flag/option numbers, plus the ws2def.h
//! socket constants. x64 sizes and offsets are asserted below (every member
//! is a pointer, a USHORT pair or a ULONG, so the layout follows from the
//! header text).
//!
//! Owns: layouts and numbers. Must not call WSK.

#![allow(
    missing_debug_implementations,
    non_camel_case_types,
    non_snake_case,
    dead_code
)]

use core::ffi::c_void;
use core::mem::{offset_of, size_of};

use super::super::ffi::NTSTATUS;
use super::super::nt::{MdlHeader, IRP};

/// `WSK_SOCKET`: `Dispatch` points at the provider's dispatch table of the
/// socket's type (`WSK_PROVIDER_DATAGRAM_DISPATCH` for ours).
#[repr(C)]
pub struct WSK_SOCKET {
    pub Dispatch: *const c_void,
}

/// `PWSK_CLIENT` (opaque).
pub type PWSK_CLIENT = *mut c_void;

/// `MAKE_WSK_VERSION(1, 0)`.
pub const WSK_VERSION_1_0: u16 = 0x0100;
/// `WSK_NO_WAIT` / `WSK_INFINITE_WAIT` for `WskCaptureProviderNPI`.
pub const WSK_NO_WAIT: u32 = 0;
pub const WSK_INFINITE_WAIT: u32 = 0xFFFF_FFFF;

/// Socket type flags of `WskSocket`.
pub const WSK_FLAG_DATAGRAM_SOCKET: u32 = 0x0000_0004;
/// Flag of event callbacks: the callback runs at DISPATCH_LEVEL.
pub const WSK_FLAG_AT_DISPATCH_LEVEL: u32 = 0x0000_0008;
/// `WSK_SO_BASE` options: `SO_WSK_EVENT_CALLBACK` = WSK_SO_BASE + 2.
pub const SO_WSK_EVENT_CALLBACK: u32 = 0x4002;
/// `WSK_EVENT_RECEIVE_FROM` (datagram sockets) and `WSK_EVENT_DISABLE`.
pub const WSK_EVENT_RECEIVE_FROM: u32 = 0x0000_0100;
pub const WSK_EVENT_DISABLE: u32 = 0x8000_0000;

/// `WSK_CONTROL_SOCKET_TYPE`.
pub const WSK_SET_OPTION: u32 = 0;
pub const WSK_GET_OPTION: u32 = 1;
pub const WSK_IOCTL: u32 = 2;

// ws2def.h / ws2ipdef.h
pub const SOL_SOCKET: u32 = 0xFFFF;
pub const SOCK_DGRAM: u16 = 2;
pub const IPPROTO_IP: u32 = 0;
pub const IPPROTO_UDP: u32 = 17;
pub const IPPROTO_IPV6: u32 = 41;
/// `IP_DONTFRAGMENT` (IPPROTO_IP level): set DF on every datagram.
pub const IP_DONTFRAGMENT: u32 = 14;
/// `IP_PKTINFO` (IPPROTO_IP level): receive IN_PKTINFO control data.
pub const IP_PKTINFO: u32 = 19;
/// `IPV6_DONTFRAG` (IPPROTO_IPV6 level).
pub const IPV6_DONTFRAG: u32 = 14;
/// `IPV6_PKTINFO` (IPPROTO_IPV6 level): receive IN6_PKTINFO control data.
pub const IPV6_PKTINFO: u32 = 19;
/// `IPV6_V6ONLY`.
pub const IPV6_V6ONLY: u32 = 27;

/// `NPIID` (a GUID).
#[repr(C)]
#[derive(Debug, Clone, Copy)]
pub struct GUID {
    pub Data1: u32,
    pub Data2: u16,
    pub Data3: u16,
    pub Data4: [u8; 8],
}

/// `NPI_WSK_INTERFACE_ID` {2227E803-8D8B-11D4-ABAD-009027719E09}. wsk.h
/// declares it `extern`; it is defined here so no data import is needed.
pub static NPI_WSK_INTERFACE_ID: GUID = GUID {
    Data1: 0x2227_E803,
    Data2: 0x8D8B,
    Data3: 0x11D4,
    Data4: [0xAB, 0xAD, 0x00, 0x90, 0x27, 0x71, 0x9E, 0x09],
};

/// `WSK_EVENT_CALLBACK_CONTROL` (SO_WSK_EVENT_CALLBACK input).
#[repr(C)]
pub struct WSK_EVENT_CALLBACK_CONTROL {
    pub NpiId: *const GUID,
    pub EventMask: u32,
}

/// `WSK_BUF`: a locked MDL chain, an offset into the first MDL, a length.
#[repr(C)]
pub struct WSK_BUF {
    pub Mdl: *mut MdlHeader,
    pub Offset: u32,
    pub Length: usize,
}

/// `WSK_DATAGRAM_INDICATION`: one received datagram in a list.
#[repr(C)]
pub struct WSK_DATAGRAM_INDICATION {
    pub Next: *mut WSK_DATAGRAM_INDICATION,
    pub Buffer: WSK_BUF,
    /// `PCMSGHDR`: ancillary data (IP_PKTINFO / IPV6_PKTINFO).
    pub ControlInfo: *const u8,
    pub ControlInfoLength: u32,
    /// `PSOCKADDR`: the sender.
    pub RemoteAddress: *const u8,
}

/// PFN_WSK_CLIENT_EVENT.
pub type PFN_WSK_CLIENT_EVENT = unsafe extern "system" fn(
    ClientContext: *mut c_void,
    EventType: u32,
    Information: *mut c_void,
    InformationLength: usize,
) -> NTSTATUS;
/// PFN_WSK_RECEIVE_FROM_EVENT: IRQL <= DISPATCH_LEVEL.
pub type PFN_WSK_RECEIVE_FROM_EVENT = unsafe extern "system" fn(
    SocketContext: *mut c_void,
    Flags: u32,
    DataIndication: *mut WSK_DATAGRAM_INDICATION,
) -> NTSTATUS;
/// PFN_WSK_SOCKET: IRQL <= DISPATCH_LEVEL; the socket comes back in
/// `Irp->IoStatus.Information`.
pub type PFN_WSK_SOCKET = unsafe extern "system" fn(
    Client: PWSK_CLIENT,
    AddressFamily: u16,
    SocketType: u16,
    Protocol: u32,
    Flags: u32,
    SocketContext: *mut c_void,
    Dispatch: *const c_void,
    OwningProcess: *mut c_void,
    OwningThread: *mut c_void,
    SecurityDescriptor: *mut c_void,
    Irp: *mut IRP,
) -> NTSTATUS;
/// PFN_WSK_CONTROL_SOCKET: IRQL <= DISPATCH_LEVEL (Irp NULL for
/// SO_WSK_EVENT_CALLBACK).
pub type PFN_WSK_CONTROL_SOCKET = unsafe extern "system" fn(
    Socket: *mut WSK_SOCKET,
    RequestType: u32,
    ControlCode: u32,
    Level: u32,
    InputSize: usize,
    InputBuffer: *const c_void,
    OutputSize: usize,
    OutputBuffer: *mut c_void,
    OutputSizeReturned: *mut usize,
    Irp: *mut IRP,
) -> NTSTATUS;
/// PFN_WSK_CLOSE_SOCKET: IRQL <= DISPATCH_LEVEL.
pub type PFN_WSK_CLOSE_SOCKET =
    unsafe extern "system" fn(Socket: *mut WSK_SOCKET, Irp: *mut IRP) -> NTSTATUS;
/// PFN_WSK_BIND: IRQL <= DISPATCH_LEVEL.
pub type PFN_WSK_BIND = unsafe extern "system" fn(
    Socket: *mut WSK_SOCKET,
    LocalAddress: *const u8,
    Flags: u32,
    Irp: *mut IRP,
) -> NTSTATUS;
/// PFN_WSK_SEND_TO: IRQL <= DISPATCH_LEVEL.
pub type PFN_WSK_SEND_TO = unsafe extern "system" fn(
    Socket: *mut WSK_SOCKET,
    Buffer: *mut WSK_BUF,
    Flags: u32,
    RemoteAddress: *const u8,
    ControlInfoLength: u32,
    ControlInfo: *const c_void,
    Irp: *mut IRP,
) -> NTSTATUS;
/// PFN_WSK_RELEASE_DATAGRAM_INDICATION_LIST: IRQL <= DISPATCH_LEVEL.
pub type PFN_WSK_RELEASE_DATAGRAM_INDICATION_LIST = unsafe extern "system" fn(
    Socket: *mut WSK_SOCKET,
    DatagramIndication: *mut WSK_DATAGRAM_INDICATION,
) -> NTSTATUS;

/// `WSK_CLIENT_DISPATCH`.
#[repr(C)]
pub struct WSK_CLIENT_DISPATCH {
    pub Version: u16,
    pub Reserved: u16,
    pub WskClientEvent: Option<PFN_WSK_CLIENT_EVENT>,
}

/// `WSK_CLIENT_NPI`.
#[repr(C)]
pub struct WSK_CLIENT_NPI {
    pub ClientContext: *mut c_void,
    pub Dispatch: *const WSK_CLIENT_DISPATCH,
}

/// `WSK_REGISTRATION`: filled by `WskRegister`, never touched by us.
#[repr(C)]
pub struct WSK_REGISTRATION {
    pub ReservedRegistrationState: u64,
    pub ReservedRegistrationContext: *mut c_void,
    pub ReservedRegistrationLock: usize,
}

/// `WSK_PROVIDER_DISPATCH` (Windows 7+ layout).
#[repr(C)]
pub struct WSK_PROVIDER_DISPATCH {
    pub Version: u16,
    pub Reserved: u16,
    pub WskSocket: Option<PFN_WSK_SOCKET>,
    pub WskSocketConnect: *const c_void,
    pub WskControlClient: *const c_void,
    pub WskGetAddressInfo: *const c_void,
    pub WskFreeAddressInfo: *const c_void,
    pub WskGetNameInfo: *const c_void,
}

/// `WSK_PROVIDER_NPI`.
#[repr(C)]
pub struct WSK_PROVIDER_NPI {
    pub Client: PWSK_CLIENT,
    pub Dispatch: *const WSK_PROVIDER_DISPATCH,
}

/// `WSK_PROVIDER_DATAGRAM_DISPATCH` (Basic inlined; Windows 8+ adds
/// WskSendMessages, which softroce does not call).
#[repr(C)]
pub struct WSK_PROVIDER_DATAGRAM_DISPATCH {
    pub WskControlSocket: Option<PFN_WSK_CONTROL_SOCKET>,
    pub WskCloseSocket: Option<PFN_WSK_CLOSE_SOCKET>,
    pub WskBind: Option<PFN_WSK_BIND>,
    pub WskSendTo: Option<PFN_WSK_SEND_TO>,
    pub WskReceiveFrom: *const c_void,
    pub WskRelease: Option<PFN_WSK_RELEASE_DATAGRAM_INDICATION_LIST>,
    pub WskGetLocalAddress: *const c_void,
    pub WskSendMessages: *const c_void,
}

/// `WSK_CLIENT_DATAGRAM_DISPATCH`.
#[repr(C)]
pub struct WSK_CLIENT_DATAGRAM_DISPATCH {
    pub WskReceiveFromEvent: Option<PFN_WSK_RECEIVE_FROM_EVENT>,
}

const _: () = {
    assert!(size_of::<WSK_SOCKET>() == 8);
    assert!(size_of::<GUID>() == 16);
    assert!(offset_of!(WSK_EVENT_CALLBACK_CONTROL, EventMask) == 8);
    assert!(size_of::<WSK_EVENT_CALLBACK_CONTROL>() == 16);
    assert!(offset_of!(WSK_BUF, Offset) == 8);
    assert!(offset_of!(WSK_BUF, Length) == 0x10);
    assert!(size_of::<WSK_BUF>() == 0x18);
    assert!(offset_of!(WSK_DATAGRAM_INDICATION, Buffer) == 0x08);
    assert!(offset_of!(WSK_DATAGRAM_INDICATION, ControlInfo) == 0x20);
    assert!(offset_of!(WSK_DATAGRAM_INDICATION, ControlInfoLength) == 0x28);
    assert!(offset_of!(WSK_DATAGRAM_INDICATION, RemoteAddress) == 0x30);
    assert!(size_of::<WSK_DATAGRAM_INDICATION>() == 0x38);
    assert!(offset_of!(WSK_CLIENT_DISPATCH, WskClientEvent) == 8);
    assert!(size_of::<WSK_CLIENT_DISPATCH>() == 0x10);
    assert!(size_of::<WSK_CLIENT_NPI>() == 0x10);
    assert!(size_of::<WSK_REGISTRATION>() == 0x18);
    assert!(offset_of!(WSK_PROVIDER_DISPATCH, WskSocket) == 0x08);
    assert!(offset_of!(WSK_PROVIDER_DISPATCH, WskControlClient) == 0x18);
    assert!(size_of::<WSK_PROVIDER_DISPATCH>() == 0x38);
    assert!(size_of::<WSK_PROVIDER_NPI>() == 0x10);
    assert!(offset_of!(WSK_PROVIDER_DATAGRAM_DISPATCH, WskBind) == 0x10);
    assert!(offset_of!(WSK_PROVIDER_DATAGRAM_DISPATCH, WskSendTo) == 0x18);
    assert!(offset_of!(WSK_PROVIDER_DATAGRAM_DISPATCH, WskRelease) == 0x28);
    assert!(size_of::<WSK_PROVIDER_DATAGRAM_DISPATCH>() == 0x40);
    assert!(size_of::<WSK_CLIENT_DATAGRAM_DISPATCH>() == 8);
};
