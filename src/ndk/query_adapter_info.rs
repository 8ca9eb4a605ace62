//! NdkQueryAdapterInfo: the size protocol (NULL BufferSize, too small, NULL
//! Info) and a padding-free copy of NDK_ADAPTER_INFO into the consumer's
//! buffer. Owns that one entry; the values come from the adapter.

use core::mem::size_of;
use core::ptr::addr_of_mut;

use crate::abi::{
    NtStatus, NDK_ADAPTER, NDK_ADAPTER_INFO, STATUS_BUFFER_TOO_SMALL, STATUS_INVALID_HANDLE,
    STATUS_INVALID_PARAMETER, STATUS_SUCCESS,
};

use super::adapter::Adapter;

/// The bytes NdkQueryAdapterInfo needs (0x68 on x64).
pub const ADAPTER_INFO_SIZE: u32 = {
    assert!(size_of::<NDK_ADAPTER_INFO>() <= u32::MAX as usize);
    size_of::<NDK_ADAPTER_INFO>() as u32
};

/// What the size protocol decides, before any memory is written.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum InfoAnswer {
    /// Fill the buffer, write the size, STATUS_SUCCESS.
    Fill,
    /// Write the required size, STATUS_BUFFER_TOO_SMALL.
    TooSmall,
    /// STATUS_INVALID_PARAMETER (no BufferSize to write to).
    NoSize,
}

/// The size protocol on plain values: `buffer_size` is `*pBufferSize` or
/// `None` when the pointer is NULL.
///
/// IRQL: any (pure).
pub fn info_answer(have_info: bool, buffer_size: Option<u32>) -> InfoAnswer {
    match buffer_size {
        None => InfoAnswer::NoSize,
        Some(size) if !have_info || size < ADAPTER_INFO_SIZE => InfoAnswer::TooSmall,
        Some(_) => InfoAnswer::Fill,
    }
}

/// Writes `info` field by field into zeroed memory, so no uninitialised
/// padding byte reaches the consumer. The exhaustive `let` makes adding a
/// field to NDK_ADAPTER_INFO without copying it a compile error.
///
/// # Safety
/// `dst` is valid for writes of `size_of::<NDK_ADAPTER_INFO>()` bytes (any
/// alignment).
#[allow(non_snake_case)] // the locals carry the C field names
unsafe fn write_info(dst: *mut NDK_ADAPTER_INFO, info: &NDK_ADAPTER_INFO) {
    macro_rules! copy_fields {
        ($($field:ident),* $(,)?) => {{
            let NDK_ADAPTER_INFO { $($field),* } = *info;
            // SAFETY: the caller guarantees `dst` covers the whole struct.
            unsafe { dst.cast::<u8>().write_bytes(0, size_of::<NDK_ADAPTER_INFO>()) };
            $(
                // SAFETY: each field lies inside `*dst`; unaligned writes
                // because the consumer's buffer alignment is not ours to trust.
                unsafe { addr_of_mut!((*dst).$field).write_unaligned($field) };
            )*
        }};
    }
    copy_fields!(
        Version,
        VendorId,
        DeviceId,
        MaxRegistrationSize,
        MaxWindowSize,
        FRMRPageCount,
        MaxInitiatorRequestSge,
        MaxReceiveRequestSge,
        MaxReadRequestSge,
        MaxTransferLength,
        MaxInlineDataSize,
        MaxInboundReadLimit,
        MaxOutboundReadLimit,
        MaxReceiveQueueDepth,
        MaxInitiatorQueueDepth,
        MaxSrqDepth,
        MaxCqDepth,
        LargeRequestThreshold,
        MaxCallerData,
        MaxCalleeData,
        AdapterFlags,
        RdmaTechnology,
    );
}

/// NDK_FN_QUERY_ADAPTER_INFO.
/// - not one of our adapters -> STATUS_INVALID_PARAMETER (NULL) or
///   STATUS_INVALID_HANDLE (foreign object);
/// - NULL `buffer_size` -> STATUS_INVALID_PARAMETER;
/// - NULL `info` or `*buffer_size` < 0x68 -> `*buffer_size` = 0x68,
///   STATUS_BUFFER_TOO_SMALL, `info` untouched;
/// - else `*info` filled, `*buffer_size` = 0x68, STATUS_SUCCESS.
///
/// Never pends. IRQL: PASSIVE_LEVEL (blocking allowed, none needed).
///
/// # Safety
/// NDKPI contract: `adapter` is an adapter this provider opened and that is
/// not closed; non-NULL `info` has `*buffer_size` writable bytes; non-NULL
/// `buffer_size` is readable and writable.
pub unsafe extern "system" fn ndk_query_adapter_info(
    adapter: *mut NDK_ADAPTER,
    info: *mut NDK_ADAPTER_INFO,
    buffer_size: *mut u32,
) -> NtStatus {
    if adapter.is_null() {
        return STATUS_INVALID_PARAMETER;
    }
    // SAFETY: non-null; the NDKPI contract makes it a live adapter header.
    let Some(adapter) = (unsafe { Adapter::from_ndk(adapter) }) else {
        return STATUS_INVALID_HANDLE;
    };
    let size = if buffer_size.is_null() {
        None
    } else {
        // SAFETY: non-null and readable by contract; no alignment assumed.
        Some(unsafe { buffer_size.read_unaligned() })
    };
    let answer = info_answer(!info.is_null(), size);
    if answer == InfoAnswer::NoSize {
        return STATUS_INVALID_PARAMETER;
    }
    // SAFETY: `buffer_size` is non-null here (answer != NoSize) and writable.
    unsafe { buffer_size.write_unaligned(ADAPTER_INFO_SIZE) };
    if answer == InfoAnswer::TooSmall {
        return STATUS_BUFFER_TOO_SMALL;
    }
    // SAFETY: `info` is non-null and the consumer declared at least
    // ADAPTER_INFO_SIZE writable bytes there.
    unsafe { write_info(info, adapter.info()) };
    STATUS_SUCCESS
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn size_protocol() {
        assert_eq!(info_answer(true, None), InfoAnswer::NoSize);
        assert_eq!(info_answer(false, None), InfoAnswer::NoSize);
        assert_eq!(info_answer(false, Some(0)), InfoAnswer::TooSmall);
        assert_eq!(info_answer(false, Some(u32::MAX)), InfoAnswer::TooSmall);
        assert_eq!(
            info_answer(true, Some(ADAPTER_INFO_SIZE - 1)),
            InfoAnswer::TooSmall
        );
        assert_eq!(info_answer(true, Some(ADAPTER_INFO_SIZE)), InfoAnswer::Fill);
        assert_eq!(info_answer(true, Some(u32::MAX)), InfoAnswer::Fill);
    }

    #[cfg(target_pointer_width = "64")]
    #[test]
    fn copy_leaves_padding_zero_and_fields_equal() {
        let info =
            super::super::limits::adapter_info(crate::abi::NDK_VERSION { Major: 2, Minor: 1 });
        let mut buf = [0xAAu8; 0x70];
        // SAFETY: `buf` has 0x70 >= 0x68 writable bytes.
        unsafe { write_info(buf.as_mut_ptr().cast(), &info) };
        assert_eq!(buf[0x0C..0x10], [0; 4]); // padding after DeviceId
        assert_eq!(buf[0x64..0x68], [0; 4]); // tail padding
        assert_eq!(buf[0x68..], [0xAA; 8]); // beyond the struct: untouched
                                            // SAFETY: the first 0x68 bytes now hold an NDK_ADAPTER_INFO.
        let back = unsafe { buf.as_ptr().cast::<NDK_ADAPTER_INFO>().read_unaligned() };
        assert_eq!(back, info);
    }
}
