//! How an engine completion becomes an NDK_RESULT_EX: the NTSTATUS and the
//! softroce ProviderErrorCode of each transport status, the operation type
//! of each completion, BytesTransferred and the ReceiveAndInvalidate token.
//! The table is documented in `docs/COMPLIANCE.md` ("Completion statuses").
//! Owns the mapping only; must not queue anything.
#![deny(unsafe_code)]

use crate::abi::{
    NdkOperationTypeRead, NdkOperationTypeReceive, NdkOperationTypeReceiveAndInvalidate,
    NdkOperationTypeSend, NdkOperationTypeWrite, NtStatus, STATUS_ACCESS_VIOLATION,
    STATUS_CANCELLED, STATUS_DATA_OVERRUN, STATUS_INTERNAL_ERROR, STATUS_INVALID_DEVICE_REQUEST,
    STATUS_IO_TIMEOUT, STATUS_REMOTE_RESOURCES, STATUS_SUCCESS,
};
use crate::transport::{Completion, WcOpcode, WcQueue, WcStatus, WrKind};
use crate::verbs::cq::CqEntry;

/// "SR" in the high half of every softroce ProviderErrorCode; the low half
/// names the transport status (0 is never used: 0 means "not provided").
pub(crate) const PROVIDER_ERROR_BASE: u32 = 0x5352_0000;

/// The NTSTATUS and ProviderErrorCode of a transport completion status.
///
/// IRQL: any.
pub(crate) fn status_of(s: WcStatus) -> (NtStatus, u32) {
    let (status, code) = match s {
        WcStatus::Success => return (STATUS_SUCCESS, 0),
        WcStatus::Flushed => (STATUS_CANCELLED, 1),
        WcStatus::RetryExceeded => (STATUS_IO_TIMEOUT, 2),
        WcStatus::RnrRetryExceeded => (STATUS_IO_TIMEOUT, 3),
        WcStatus::RemoteAccessError => (STATUS_REMOTE_RESOURCES, 4),
        WcStatus::RemoteInvalidRequest => (STATUS_INVALID_DEVICE_REQUEST, 5),
        WcStatus::RemoteOperationalError => (STATUS_REMOTE_RESOURCES, 6),
        WcStatus::LocalLengthError => (STATUS_DATA_OVERRUN, 7),
        WcStatus::LocalProtectionError => (STATUS_ACCESS_VIOLATION, 8),
        WcStatus::LocalQpOperationError => (STATUS_INTERNAL_ERROR, 9),
    };
    (status, PROVIDER_ERROR_BASE | code)
}

/// The NDK operation type of an initiator work request.
///
/// IRQL: any.
pub(crate) fn op_of(kind: &WrKind) -> u32 {
    match kind {
        WrKind::Write { .. } => NdkOperationTypeWrite,
        WrKind::Read { .. } => NdkOperationTypeRead,
        _ => NdkOperationTypeSend,
    }
}

/// The NDK_RESULT_EX of an engine completion on a QP with `qp_context`
/// (the engine's wr_id is the consumer's RequestContext).
///
/// IRQL: any.
pub(crate) fn entry_of(c: &Completion, qp_context: usize) -> CqEntry {
    let (status, provider_error) = status_of(c.status);
    let ok = c.status == WcStatus::Success;
    let (op, bytes, type_specific) = match (c.queue, c.opcode) {
        (WcQueue::Recv, _) => match c.invalidated_rkey.filter(|_| ok) {
            Some(token) => (
                NdkOperationTypeReceiveAndInvalidate,
                c.byte_len,
                token as usize,
            ),
            None => (NdkOperationTypeReceive, if ok { c.byte_len } else { 0 }, 0),
        },
        (WcQueue::Send, WcOpcode::RdmaWrite) => (NdkOperationTypeWrite, 0, 0),
        (WcQueue::Send, WcOpcode::RdmaRead) => (NdkOperationTypeRead, 0, 0),
        // NdkSend and NdkSendAndInvalidate both report Send (facts §2.7);
        // the atomics are never posted through NDK.
        (WcQueue::Send, _) => (NdkOperationTypeSend, 0, 0),
    };
    CqEntry {
        status: status.0,
        bytes,
        qp_context,
        request_context: c.wr_id as usize,
        op,
        provider_error,
        type_specific,
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn statuses_and_types() {
        assert_eq!(status_of(WcStatus::Success), (STATUS_SUCCESS, 0));
        assert_eq!(
            status_of(WcStatus::Flushed),
            (STATUS_CANCELLED, PROVIDER_ERROR_BASE | 1)
        );
        let mut c = Completion {
            wr_id: 7,
            queue: WcQueue::Recv,
            status: WcStatus::Success,
            opcode: WcOpcode::Recv,
            byte_len: 42,
            imm: None,
            invalidated_rkey: Some(0xABCD),
            src_qp: None,
            solicited: false,
        };
        let e = entry_of(&c, 9);
        assert_eq!(
            (
                e.op,
                e.bytes,
                e.type_specific,
                e.request_context,
                e.qp_context
            ),
            (NdkOperationTypeReceiveAndInvalidate, 42, 0xABCD, 7, 9)
        );
        c.status = WcStatus::LocalLengthError;
        let e = entry_of(&c, 9);
        assert_eq!((e.op, e.bytes), (NdkOperationTypeReceive, 0));
        assert_eq!(e.status, STATUS_DATA_OVERRUN.0);
    }
}
