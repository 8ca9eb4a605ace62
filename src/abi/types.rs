//! Plain NDKPI data types (ndkpi.h, facts §2): NDK_VERSION, the object header,
//! NDK_SGE, NDK_RESULT(_EX), the logical address mapping (LAM), the extension
//! interface, GUID, GROUP_AFFINITY and the x64 MDL header. Owns layouts and their
//! compile-time size/offset checks; must not hold behaviour.

use core::ffi::c_void;
use core::fmt;
use core::mem::{offset_of, size_of};

use static_assertions::const_assert_eq;

use super::status::NTSTATUS;

pub type ULONG = u32;
pub type USHORT = u16;
pub type UINT32 = u32;
pub type UCHAR = u8;
/// `BOOLEAN` is one byte: 0 = FALSE, anything else = TRUE.
pub type BOOLEAN = u8;
pub type SIZE_T = usize;
pub type ULONG_PTR = usize;
pub type KAFFINITY = usize;
pub type PVOID = *mut c_void;

pub const FALSE: BOOLEAN = 0;
pub const TRUE: BOOLEAN = 1;

/// `LARGE_INTEGER` is a union of `QuadPart: i64` and `{LowPart, HighPart}`;
/// only `QuadPart` is ever used here, and an `i64` has the same size,
/// alignment and calling convention.
pub type LARGE_INTEGER = i64;
pub type PHYSICAL_ADDRESS = LARGE_INTEGER;
/// A device-logical (bus) address of one PAGE_SIZE page.
pub type NDK_LOGICAL_ADDRESS = PHYSICAL_ADDRESS;

/// NDK_VERSION: passed by value to NdkQueryExtension and WskOpenNdkAdapter.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Default)]
#[repr(C)]
pub struct NDK_VERSION {
    pub Major: USHORT,
    pub Minor: USHORT,
}
const_assert_eq!(size_of::<NDK_VERSION>(), 4);
const_assert_eq!(offset_of!(NDK_VERSION, Major), 0);
const_assert_eq!(offset_of!(NDK_VERSION, Minor), 2);

/// NDK_OBJECT_TYPE (a C enum, so a `u32` on the wire of the ABI). The typed
/// form is [`super::enums::ObjectType`].
pub type NDK_OBJECT_TYPE = u32;

/// Four pointers NDIS and the consumer own; the provider zeroes them at create
/// and never touches them again until the object is closed.
#[derive(Debug, Clone, Copy)]
#[repr(C)]
pub struct NDK_OBJECT_HEADER_RESERVED_BLOCK {
    pub rf: [PVOID; 4],
}

impl NDK_OBJECT_HEADER_RESERVED_BLOCK {
    pub const ZEROED: Self = Self {
        rf: [core::ptr::null_mut(); 4],
    };
}

/// The header at offset 0 of every NDK object.
#[derive(Debug, Clone, Copy)]
#[repr(C)]
pub struct NDK_OBJECT_HEADER {
    pub Version: NDK_VERSION,
    pub ObjectType: NDK_OBJECT_TYPE,
    pub NdkReserved: NDK_OBJECT_HEADER_RESERVED_BLOCK,
}
const_assert_eq!(offset_of!(NDK_OBJECT_HEADER, Version), 0x00);
const_assert_eq!(offset_of!(NDK_OBJECT_HEADER, ObjectType), 0x04);
const_assert_eq!(offset_of!(NDK_OBJECT_HEADER, NdkReserved), 0x08);
#[cfg(target_pointer_width = "64")]
const _: () = {
    assert!(size_of::<NDK_OBJECT_HEADER_RESERVED_BLOCK>() == 0x20);
    assert!(size_of::<NDK_OBJECT_HEADER>() == 0x28);
};

/// The address half of an NDK_SGE: a virtual address inside a registered MR,
/// or a logical address when the token is the PD's privileged token.
#[derive(Clone, Copy)]
#[repr(C)]
pub union NDK_SGE_ADDRESS {
    pub VirtualAddress: PVOID,
    pub LogicalAddress: NDK_LOGICAL_ADDRESS,
}

/// Opaque: which member is live depends on the SGE's token, which this
/// union does not know.
impl fmt::Debug for NDK_SGE_ADDRESS {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str("NDK_SGE_ADDRESS(..)")
    }
}

/// One scatter/gather entry. (The C struct has an anonymous union at
/// offset 0; windows-sys calls it `Anonymous`, and so do we.)
#[derive(Debug, Clone, Copy)]
#[repr(C)]
pub struct NDK_SGE {
    pub Anonymous: NDK_SGE_ADDRESS,
    pub Length: ULONG,
    pub MemoryRegionToken: UINT32,
}
const_assert_eq!(offset_of!(NDK_SGE, Anonymous), 0x00);
const_assert_eq!(offset_of!(NDK_SGE, Length), 0x08);
const_assert_eq!(offset_of!(NDK_SGE, MemoryRegionToken), 0x0C);
const_assert_eq!(size_of::<NDK_SGE>(), 0x10);

/// A completion as NdkGetCqResults returns it.
#[derive(Debug, Clone, Copy)]
#[repr(C)]
pub struct NDK_RESULT {
    pub Status: NTSTATUS,
    /// Only defined for receive completions.
    pub BytesTransferred: ULONG,
    pub QPContext: PVOID,
    pub RequestContext: PVOID,
}
const_assert_eq!(offset_of!(NDK_RESULT, Status), 0x00);
const_assert_eq!(offset_of!(NDK_RESULT, BytesTransferred), 0x04);
#[cfg(target_pointer_width = "64")]
const _: () = {
    assert!(offset_of!(NDK_RESULT, QPContext) == 0x08);
    assert!(offset_of!(NDK_RESULT, RequestContext) == 0x10);
    assert!(size_of::<NDK_RESULT>() == 0x18);
};

/// A completion as NdkGetCqResultsEx returns it (NDKPI 2.1 layout).
#[derive(Debug, Clone, Copy)]
#[repr(C)]
pub struct NDK_RESULT_EX {
    pub Status: NTSTATUS,
    pub BytesTransferred: ULONG,
    pub QPContext: PVOID,
    pub RequestContext: PVOID,
    /// An NDK_OPERATION_TYPE value.
    pub Type: u32,
    /// 2.1: 0 on success; on failure 0 means "not provided".
    pub ProviderErrorCode: ULONG,
    /// For ReceiveAndInvalidate: the invalidated token; otherwise undefined.
    pub TypeSpecificCompletionOutput: ULONG_PTR,
}
const_assert_eq!(offset_of!(NDK_RESULT_EX, Status), 0x00);
const_assert_eq!(offset_of!(NDK_RESULT_EX, BytesTransferred), 0x04);
#[cfg(target_pointer_width = "64")]
const _: () = {
    assert!(offset_of!(NDK_RESULT_EX, QPContext) == 0x08);
    assert!(offset_of!(NDK_RESULT_EX, RequestContext) == 0x10);
    assert!(offset_of!(NDK_RESULT_EX, Type) == 0x18);
    assert!(offset_of!(NDK_RESULT_EX, ProviderErrorCode) == 0x1C);
    assert!(offset_of!(NDK_RESULT_EX, TypeSpecificCompletionOutput) == 0x20);
    assert!(size_of::<NDK_RESULT_EX>() == 0x28);
};

/// NDK_LOGICAL_ADDRESS_MAPPING: a header followed by `AdapterPageCount`
/// logical addresses. The array is declared with zero length here; use
/// [`lam_size`] for the byte size of a LAM with `n` pages.
#[derive(Debug)]
#[repr(C)]
pub struct NDK_LOGICAL_ADDRESS_MAPPING {
    /// Provider-private.
    pub AdapterContext: PVOID,
    pub AdapterPageCount: ULONG,
    pub AdapterPageArray: [NDK_LOGICAL_ADDRESS; 0],
}
#[cfg(target_pointer_width = "64")]
const _: () = {
    assert!(offset_of!(NDK_LOGICAL_ADDRESS_MAPPING, AdapterContext) == 0x00);
    assert!(offset_of!(NDK_LOGICAL_ADDRESS_MAPPING, AdapterPageCount) == 0x08);
    assert!(offset_of!(NDK_LOGICAL_ADDRESS_MAPPING, AdapterPageArray) == 0x10);
};

/// Bytes needed for a LAM holding `page_count` pages, or `None` on overflow.
pub const fn lam_size(page_count: u32) -> Option<usize> {
    let pages = match (page_count as usize).checked_mul(size_of::<NDK_LOGICAL_ADDRESS>()) {
        Some(p) => p,
        None => return None,
    };
    offset_of!(NDK_LOGICAL_ADDRESS_MAPPING, AdapterPageArray).checked_add(pages)
}

/// What NdkQueryExtension fills in: the extension's dispatch table.
#[derive(Debug, Clone, Copy)]
#[repr(C)]
pub struct NDK_EXTENSION_INTERFACE {
    pub Dispatch: *const c_void,
}
#[cfg(target_pointer_width = "64")]
const_assert_eq!(size_of::<NDK_EXTENSION_INTERFACE>(), 8);

/// A GUID (16 bytes).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Default)]
#[repr(C)]
pub struct GUID {
    pub Data1: u32,
    pub Data2: u16,
    pub Data3: u16,
    pub Data4: [u8; 8],
}
const_assert_eq!(size_of::<GUID>(), 16);
const_assert_eq!(offset_of!(GUID, Data1), 0);
const_assert_eq!(offset_of!(GUID, Data2), 4);
const_assert_eq!(offset_of!(GUID, Data3), 6);
const_assert_eq!(offset_of!(GUID, Data4), 8);

/// GROUP_AFFINITY: a processor group and a mask inside it.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default)]
#[repr(C)]
pub struct GROUP_AFFINITY {
    pub Mask: KAFFINITY,
    pub Group: USHORT,
    pub Reserved: [USHORT; 3],
}
#[cfg(target_pointer_width = "64")]
const _: () = {
    assert!(offset_of!(GROUP_AFFINITY, Mask) == 0);
    assert!(offset_of!(GROUP_AFFINITY, Group) == 8);
    assert!(offset_of!(GROUP_AFFINITY, Reserved) == 10);
    assert!(size_of::<GROUP_AFFINITY>() == 16);
};

/// A memory descriptor list, laid out as the Windows x64 `MDL` header
/// (followed in memory by its PFN array). The core reads only `Next`,
/// `StartVa`, `ByteOffset` and `ByteCount`; the OS glue maps the bytes
/// (`os::Platform::map_mdl`: `MmGetSystemAddressForMdlSafe` in the kernel,
/// `MappedSystemVa` of a non-paged-pool-style MDL when hosted).
#[derive(Debug)]
#[repr(C)]
pub struct MDL {
    pub Next: *mut MDL,
    pub Size: i16,
    pub MdlFlags: i16,
    pub AllocationProcessorNumber: USHORT,
    pub Reserved: USHORT,
    pub Process: PVOID,
    pub MappedSystemVa: PVOID,
    pub StartVa: PVOID,
    pub ByteCount: ULONG,
    pub ByteOffset: ULONG,
}

/// MdlFlags: the pages are mapped at `MappedSystemVa`.
pub const MDL_MAPPED_TO_SYSTEM_VA: i16 = 0x0001;
/// MdlFlags: the buffer is non-paged pool (`MappedSystemVa` is its address).
pub const MDL_SOURCE_IS_NONPAGED_POOL: i16 = 0x0004;

#[cfg(target_pointer_width = "64")]
const _: () = {
    assert!(offset_of!(MDL, Next) == 0x00);
    assert!(offset_of!(MDL, Size) == 0x08);
    assert!(offset_of!(MDL, MdlFlags) == 0x0A);
    assert!(offset_of!(MDL, AllocationProcessorNumber) == 0x0C);
    assert!(offset_of!(MDL, Reserved) == 0x0E);
    assert!(offset_of!(MDL, Process) == 0x10);
    assert!(offset_of!(MDL, MappedSystemVa) == 0x18);
    assert!(offset_of!(MDL, StartVa) == 0x20);
    assert!(offset_of!(MDL, ByteCount) == 0x28);
    assert!(offset_of!(MDL, ByteOffset) == 0x2C);
    assert!(size_of::<MDL>() == 0x30);
};

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn lam_size_counts_pages_and_refuses_overflow() {
        assert_eq!(
            lam_size(0),
            Some(offset_of!(NDK_LOGICAL_ADDRESS_MAPPING, AdapterPageArray))
        );
        assert_eq!(
            lam_size(3),
            Some(offset_of!(NDK_LOGICAL_ADDRESS_MAPPING, AdapterPageArray) + 24)
        );
        #[cfg(target_pointer_width = "64")]
        assert_eq!(lam_size(u32::MAX), Some(0x10 + (u32::MAX as usize) * 8));
    }
}
