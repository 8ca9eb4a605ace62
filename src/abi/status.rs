//! NTSTATUS and NDIS_STATUS: the [`NtStatus`] newtype and a named constant for
//! every status value the provider returns or a consumer may see (facts §6).
//! Owns status values and their names only; must not decide which call
//! returns which status.

use core::ffi::CStr;
use core::fmt;

/// A Windows NTSTATUS (`LONG`). `#[repr(transparent)]`, so it can stand in
/// for `NTSTATUS` in every `extern "system"` signature; every `i32` is valid.
#[derive(Clone, Copy, PartialEq, Eq, Hash, Default)]
#[repr(transparent)]
pub struct NtStatus(pub i32);

/// The C name of an NTSTATUS value (`NTSTATUS` in the headers).
pub type NTSTATUS = NtStatus;
/// NDIS_STATUS is an NTSTATUS-compatible `int` in ndis.h.
pub type NDIS_STATUS = NtStatus;

/// Defines one `pub const` per row and the name table behind
/// [`NtStatus::name`], so every value is written exactly once.
macro_rules! statuses {
    ($($(#[$doc:meta])* $name:ident = $value:literal;)*) => {
        $(
            $(#[$doc])*
            pub const $name: NtStatus = NtStatus($value as u32 as i32);
        )*

        impl NtStatus {
            /// The NUL-terminated C name of a known status.
            pub fn name_cstr(self) -> Option<&'static CStr> {
                let text: &'static str = match self {
                    $(s if s == $name => concat!(stringify!($name), "\0"),)*
                    _ => return None,
                };
                CStr::from_bytes_with_nul(text.as_bytes()).ok()
            }
        }

        /// Every named status, in table order (for tests and tools).
        pub const ALL_NAMED_STATUSES: &[NtStatus] = &[$($name),*];
    };
}

statuses! {
    STATUS_SUCCESS = 0x0000_0000;
    STATUS_TIMEOUT = 0x0000_0102;
    /// The request completes later through its completion callback, exactly once.
    STATUS_PENDING = 0x0000_0103;
    /// Warning severity; in a CQ notification it reports a CQ overrun.
    STATUS_BUFFER_OVERFLOW = 0x8000_0005;
    STATUS_DEVICE_BUSY = 0x8000_0011;
    STATUS_NO_MORE_ENTRIES = 0x8000_001A;
    STATUS_UNSUCCESSFUL = 0xC000_0001;
    /// Returned by provider entries whose implementation is still pending.
    STATUS_NOT_IMPLEMENTED = 0xC000_0002;
    STATUS_ACCESS_VIOLATION = 0xC000_0005;
    STATUS_INVALID_HANDLE = 0xC000_0008;
    STATUS_INVALID_PARAMETER = 0xC000_000D;
    STATUS_INVALID_DEVICE_REQUEST = 0xC000_0010;
    STATUS_NO_MEMORY = 0xC000_0017;
    STATUS_BUFFER_TOO_SMALL = 0xC000_0023;
    STATUS_INVALID_PARAMETER_MIX = 0xC000_0030;
    STATUS_DATA_OVERRUN = 0xC000_003C;
    STATUS_SHARING_VIOLATION = 0xC000_0043;
    /// Also NDIS_STATUS_RESOURCES.
    STATUS_INSUFFICIENT_RESOURCES = 0xC000_009A;
    STATUS_DEVICE_NOT_READY = 0xC000_00A3;
    STATUS_IO_TIMEOUT = 0xC000_00B5;
    /// Also NDIS_STATUS_NOT_SUPPORTED.
    STATUS_NOT_SUPPORTED = 0xC000_00BB;
    STATUS_INTERNAL_ERROR = 0xC000_00E5;
    STATUS_INVALID_PARAMETER_1 = 0xC000_00EF;
    STATUS_INVALID_PARAMETER_2 = 0xC000_00F0;
    STATUS_INVALID_PARAMETER_3 = 0xC000_00F1;
    STATUS_INVALID_PARAMETER_4 = 0xC000_00F2;
    STATUS_INVALID_PARAMETER_5 = 0xC000_00F3;
    STATUS_INVALID_PARAMETER_6 = 0xC000_00F4;
    STATUS_INVALID_PARAMETER_7 = 0xC000_00F5;
    STATUS_INVALID_PARAMETER_8 = 0xC000_00F6;
    STATUS_INVALID_PARAMETER_9 = 0xC000_00F7;
    STATUS_INVALID_PARAMETER_10 = 0xC000_00F8;
    STATUS_CANCELLED = 0xC000_0120;
    STATUS_LOCAL_DISCONNECT = 0xC000_013B;
    STATUS_REMOTE_DISCONNECT = 0xC000_013C;
    STATUS_REMOTE_RESOURCES = 0xC000_013D;
    STATUS_INVALID_ADDRESS = 0xC000_0141;
    STATUS_INVALID_DEVICE_STATE = 0xC000_0184;
    STATUS_INVALID_BUFFER_SIZE = 0xC000_0206;
    STATUS_TOO_MANY_ADDRESSES = 0xC000_0209;
    STATUS_ADDRESS_ALREADY_EXISTS = 0xC000_020A;
    STATUS_CONNECTION_DISCONNECTED = 0xC000_020C;
    STATUS_CONNECTION_RESET = 0xC000_020D;
    STATUS_CONNECTION_REFUSED = 0xC000_0236;
    STATUS_CONNECTION_INVALID = 0xC000_023A;
    STATUS_CONNECTION_ACTIVE = 0xC000_023B;
    STATUS_NETWORK_UNREACHABLE = 0xC000_023C;
    STATUS_HOST_UNREACHABLE = 0xC000_023D;
    STATUS_CONNECTION_ABORTED = 0xC000_0241;
    STATUS_DEVICE_REMOVED = 0xC000_02B6;
    STATUS_IMPLEMENTATION_LIMIT = 0xC000_042B;
    /// The open handler's answer to an unsupported NDK version.
    NDIS_STATUS_BAD_VERSION = 0xC001_0004;
    /// The open handler's answer while NDK is disabled on the adapter.
    NDIS_STATUS_ADAPTER_NOT_READY = 0xC001_0011;
}

/// NDIS aliases of NTSTATUS values (same numbers, NDIS names).
pub const NDIS_STATUS_SUCCESS: NtStatus = STATUS_SUCCESS;
pub const NDIS_STATUS_PENDING: NtStatus = STATUS_PENDING;
pub const NDIS_STATUS_RESOURCES: NtStatus = STATUS_INSUFFICIENT_RESOURCES;
pub const NDIS_STATUS_NOT_SUPPORTED: NtStatus = STATUS_NOT_SUPPORTED;

impl NtStatus {
    /// The C name of a known status, e.g. `"STATUS_CONNECTION_REFUSED"`.
    /// Values shared by an NTSTATUS and an NDIS alias report the NTSTATUS name.
    pub fn name(self) -> Option<&'static str> {
        self.name_cstr().and_then(|c| c.to_str().ok())
    }

    /// The raw value as the unsigned hex the headers print.
    pub const fn to_bits(self) -> u32 {
        self.0 as u32
    }

    /// `NT_SUCCESS`: success and informational values (the sign bit clear).
    pub const fn is_success(self) -> bool {
        self.0 >= 0
    }

    /// Error severity (the two top bits set, 0xC…).
    pub const fn is_error(self) -> bool {
        self.to_bits() >> 30 == 0b11
    }

    /// Warning severity (0x8…).
    pub const fn is_warning(self) -> bool {
        self.to_bits() >> 30 == 0b10
    }
}

impl From<i32> for NtStatus {
    fn from(value: i32) -> Self {
        Self(value)
    }
}

impl From<NtStatus> for i32 {
    fn from(value: NtStatus) -> Self {
        value.0
    }
}

/// `STATUS_CONNECTION_REFUSED (0xC0000236)`; unknown values print as
/// `NTSTATUS (0x12345678)`.
impl fmt::Display for NtStatus {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        let name = self.name().unwrap_or("NTSTATUS");
        write!(f, "{name} (0x{:08X})", self.to_bits())
    }
}

impl fmt::Debug for NtStatus {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        fmt::Display::fmt(self, f)
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use alloc::format;

    #[test]
    fn display_names_and_hex() {
        assert_eq!(
            format!("{STATUS_CONNECTION_REFUSED}"),
            "STATUS_CONNECTION_REFUSED (0xC0000236)"
        );
        assert_eq!(format!("{STATUS_SUCCESS}"), "STATUS_SUCCESS (0x00000000)");
        assert_eq!(
            format!("{NDIS_STATUS_BAD_VERSION}"),
            "NDIS_STATUS_BAD_VERSION (0xC0010004)"
        );
        assert_eq!(
            format!("{:?}", STATUS_PENDING),
            "STATUS_PENDING (0x00000103)"
        );
        assert_eq!(
            format!("{}", NtStatus(0x1234_5678)),
            "NTSTATUS (0x12345678)"
        );
        assert_eq!(
            format!("{}", NtStatus(0xDEAD_BEEF_u32 as i32)),
            "NTSTATUS (0xDEADBEEF)"
        );
    }

    #[test]
    fn values_match_the_facts_table() {
        let expect: &[(NtStatus, u32)] = &[
            (STATUS_TIMEOUT, 0x102),
            (STATUS_BUFFER_OVERFLOW, 0x8000_0005),
            (STATUS_NOT_IMPLEMENTED, 0xC000_0002),
            (STATUS_INVALID_PARAMETER, 0xC000_000D),
            (STATUS_BUFFER_TOO_SMALL, 0xC000_0023),
            (STATUS_INSUFFICIENT_RESOURCES, 0xC000_009A),
            (STATUS_NOT_SUPPORTED, 0xC000_00BB),
            (STATUS_CANCELLED, 0xC000_0120),
            (STATUS_INVALID_ADDRESS, 0xC000_0141),
            (STATUS_CONNECTION_ABORTED, 0xC000_0241),
            (STATUS_IMPLEMENTATION_LIMIT, 0xC000_042B),
            (NDIS_STATUS_RESOURCES, 0xC000_009A),
            (NDIS_STATUS_NOT_SUPPORTED, 0xC000_00BB),
            (NDIS_STATUS_ADAPTER_NOT_READY, 0xC001_0011),
        ];
        for &(status, bits) in expect {
            assert_eq!(status.to_bits(), bits, "{status}");
        }
        // The ten numbered INVALID_PARAMETER_n are consecutive.
        assert_eq!(
            STATUS_INVALID_PARAMETER_10.to_bits() - STATUS_INVALID_PARAMETER_1.to_bits(),
            9
        );
    }

    #[test]
    fn every_named_status_is_unique_and_round_trips() {
        for (i, a) in ALL_NAMED_STATUSES.iter().enumerate() {
            let name = a.name();
            assert!(name.is_some(), "{a:?} has no name");
            for b in ALL_NAMED_STATUSES.iter().skip(i + 1) {
                assert_ne!(a, b, "duplicate value {a} / {b}");
            }
        }
        assert_eq!(ALL_NAMED_STATUSES.len(), 53);
        assert_eq!(NtStatus(0x7777).name(), None);
        assert_eq!(
            STATUS_PENDING.name_cstr().map(CStr::to_bytes),
            Some(&b"STATUS_PENDING"[..])
        );
    }

    #[test]
    fn severity_classes() {
        assert!(STATUS_SUCCESS.is_success() && !STATUS_SUCCESS.is_error());
        assert!(STATUS_PENDING.is_success() && !STATUS_PENDING.is_warning());
        assert!(STATUS_BUFFER_OVERFLOW.is_warning());
        assert!(!STATUS_BUFFER_OVERFLOW.is_success() && !STATUS_BUFFER_OVERFLOW.is_error());
        assert!(STATUS_CONNECTION_REFUSED.is_error() && !STATUS_CONNECTION_REFUSED.is_success());
        assert!(NDIS_STATUS_BAD_VERSION.is_error());
    }
}
