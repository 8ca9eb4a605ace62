//! NdkQueryExtension, shared by every dispatch table: there are no standard
//! NDK extension interfaces and this provider defines none, so a well-formed
//! query answers STATUS_NOT_SUPPORTED. Owns that one entry.

use crate::abi::{
    NtStatus, ObjectType, GUID, NDK_EXTENSION_INTERFACE, NDK_OBJECT_HEADER, NDK_VERSION,
    STATUS_INVALID_PARAMETER, STATUS_NOT_SUPPORTED,
};

/// The checks and answer behind the thunk, on plain values.
///
/// IRQL: any (pure).
pub fn query_extension(
    object_type: Option<u32>,
    have_interface_id: bool,
    have_out: bool,
) -> NtStatus {
    let known_object = matches!(
        object_type.map(ObjectType::try_from),
        Some(Ok(t)) if t != ObjectType::Undefined
    );
    if !known_object || !have_interface_id || !have_out {
        return STATUS_INVALID_PARAMETER;
    }
    STATUS_NOT_SUPPORTED
}

/// NDK_FN_QUERY_EXTENSION_INTERFACE. NULL object, interface id or output, or
/// an object header with no valid object type -> STATUS_INVALID_PARAMETER;
/// otherwise STATUS_NOT_SUPPORTED. Never writes the output. Never pends.
///
/// IRQL: <= DISPATCH_LEVEL.
///
/// # Safety
/// `object` is NULL or points to a readable NDK object header.
pub unsafe extern "system" fn ndk_query_extension(
    object: *mut NDK_OBJECT_HEADER,
    interface_id: *const GUID,
    _version: NDK_VERSION,
    out: *mut NDK_EXTENSION_INTERFACE,
) -> NtStatus {
    let object_type = if object.is_null() {
        None
    } else {
        // SAFETY: non-null, and by the NDKPI contract the object header of a
        // live object the consumer got from this provider.
        Some(unsafe { (*object).ObjectType })
    };
    query_extension(object_type, !interface_id.is_null(), !out.is_null())
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::abi::{NdkObjectTypeAdapter, NdkObjectTypeMax, NdkObjectTypeUndefined};

    #[test]
    fn argument_checks_then_not_supported() {
        let adapter = Some(NdkObjectTypeAdapter);
        assert_eq!(query_extension(adapter, true, true), STATUS_NOT_SUPPORTED);
        assert_eq!(query_extension(None, true, true), STATUS_INVALID_PARAMETER);
        assert_eq!(
            query_extension(adapter, false, true),
            STATUS_INVALID_PARAMETER
        );
        assert_eq!(
            query_extension(adapter, true, false),
            STATUS_INVALID_PARAMETER
        );
        assert_eq!(
            query_extension(Some(NdkObjectTypeUndefined), true, true),
            STATUS_INVALID_PARAMETER
        );
        assert_eq!(
            query_extension(Some(NdkObjectTypeMax), true, true),
            STATUS_INVALID_PARAMETER
        );
    }
}
