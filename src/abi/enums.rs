//! The NDKPI C enums: raw `u32` constants with the C names (for `#[repr(C)]`
//! fields, where any value may arrive) and typed Rust enums with
//! `TryFrom<u32>` (for code that has validated the value). Owns the numbers;
//! must not decide which values an operation accepts.

use core::fmt;

/// A `u32` that names no enumerator of the expected C enum.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub struct UnknownValue(pub u32);

impl fmt::Display for UnknownValue {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "unknown enumerator value {:#x}", self.0)
    }
}

/// Defines the raw constants and the typed enum from one list.
macro_rules! abi_enum {
    (
        $(#[$meta:meta])*
        $ty:ident { $($(#[$vdoc:meta])* $variant:ident = $raw:ident = $value:literal,)* }
    ) => {
        $(
            $(#[$vdoc])*
            #[allow(non_upper_case_globals)]
            pub const $raw: u32 = $value;
        )*

        $(#[$meta])*
        #[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord)]
        #[repr(u32)]
        pub enum $ty {
            $($(#[$vdoc])* $variant = $raw,)*
        }

        impl TryFrom<u32> for $ty {
            type Error = UnknownValue;
            fn try_from(value: u32) -> Result<Self, UnknownValue> {
                match value {
                    $($raw => Ok(Self::$variant),)*
                    other => Err(UnknownValue(other)),
                }
            }
        }

        impl From<$ty> for u32 {
            fn from(value: $ty) -> u32 {
                value as u32
            }
        }

        impl $ty {
            /// Every enumerator, in declaration order.
            pub const ALL: &'static [$ty] = &[$($ty::$variant),*];
        }
    };
}

abi_enum! {
    /// NDK_OBJECT_TYPE. `NdkObjectTypeMax` (11) is a bound, not a type.
    ObjectType {
        Undefined = NdkObjectTypeUndefined = 0,
        Adapter = NdkObjectTypeAdapter = 1,
        Qp = NdkObjectTypeQp = 2,
        Cq = NdkObjectTypeCq = 3,
        Mr = NdkObjectTypeMr = 4,
        Mw = NdkObjectTypeMw = 5,
        Pd = NdkObjectTypePd = 6,
        SharedEndpoint = NdkObjectTypeSharedEndpoint = 7,
        Connector = NdkObjectTypeConnector = 8,
        Listener = NdkObjectTypeListener = 9,
        Srq = NdkObjectTypeSrq = 10,
    }
}
#[allow(non_upper_case_globals)]
pub const NdkObjectTypeMax: u32 = 11;

abi_enum! {
    /// NDK_OPERATION_TYPE, the `Type` of an NDK_RESULT_EX.
    OperationType {
        Receive = NdkOperationTypeReceive = 0x1,
        Send = NdkOperationTypeSend = 0x2,
        FastRegister = NdkOperationTypeFastRegister = 0x4,
        Bind = NdkOperationTypeBind = 0x8,
        Invalidate = NdkOperationTypeInvalidate = 0x10,
        Read = NdkOperationTypeRead = 0x20,
        Write = NdkOperationTypeWrite = 0x40,
        /// A receive that also invalidated a local token (in
        /// TypeSpecificCompletionOutput).
        ReceiveAndInvalidate = NdkOperationTypeReceiveAndInvalidate = 0x8001,
    }
}

abi_enum! {
    /// NDK_RDMA_TECHNOLOGY. `NdkMaxTechnology` (5) is a bound.
    RdmaTechnology {
        Undefined = NdkUndefined = 0,
        IWarp = NdkiWarp = 1,
        InfiniBand = NdkInfiniBand = 2,
        RoCE = NdkRoCE = 3,
        RoCEv2 = NdkRoCEv2 = 4,
    }
}
#[allow(non_upper_case_globals)]
pub const NdkMaxTechnology: u32 = 5;
/// The C enum type of `NDK_ADAPTER_INFO::RdmaTechnology`.
pub type NDK_RDMA_TECHNOLOGY = u32;

abi_enum! {
    /// The `Type` argument of NdkArmCq (NDK_CQ_NOTIFY_*).
    CqNotifyType {
        /// CQ errors only (overrun, catastrophic failure).
        Errors = NDK_CQ_NOTIFY_ERRORS = 0,
        /// The next completion of any kind.
        Any = NDK_CQ_NOTIFY_ANY = 1,
        /// A receive of a send with SEND_AND_SOLICIT_EVENT, or any error.
        Solicited = NDK_CQ_NOTIFY_SOLICITED = 2,
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn object_types_round_trip_and_reject_the_rest() {
        for &t in ObjectType::ALL {
            assert_eq!(ObjectType::try_from(u32::from(t)), Ok(t));
        }
        assert_eq!(ObjectType::ALL.len() as u32, NdkObjectTypeMax);
        assert_eq!(
            ObjectType::try_from(NdkObjectTypeMax),
            Err(UnknownValue(11))
        );
        assert_eq!(ObjectType::try_from(u32::MAX), Err(UnknownValue(u32::MAX)));
        assert_eq!(NdkObjectTypeConnector, 8);
        assert_eq!(ObjectType::Srq as u32, 10);
    }

    #[test]
    fn operation_types_match_the_facts() {
        let expect = [
            (OperationType::Receive, 1),
            (OperationType::Send, 2),
            (OperationType::FastRegister, 4),
            (OperationType::Bind, 8),
            (OperationType::Invalidate, 16),
            (OperationType::Read, 32),
            (OperationType::Write, 64),
            (OperationType::ReceiveAndInvalidate, 32769),
        ];
        assert_eq!(OperationType::ALL.len(), expect.len());
        for (t, v) in expect {
            assert_eq!(u32::from(t), v);
            assert_eq!(OperationType::try_from(v), Ok(t));
        }
        assert!(OperationType::try_from(0).is_err());
        assert!(OperationType::try_from(3).is_err());
        assert!(OperationType::try_from(0x8000).is_err());
    }

    #[test]
    fn technologies_and_notify_types() {
        assert_eq!(RdmaTechnology::try_from(4), Ok(RdmaTechnology::RoCEv2));
        assert_eq!(RdmaTechnology::try_from(1), Ok(RdmaTechnology::IWarp));
        assert_eq!(
            RdmaTechnology::try_from(NdkMaxTechnology),
            Err(UnknownValue(5))
        );
        assert_eq!(CqNotifyType::try_from(0), Ok(CqNotifyType::Errors));
        assert_eq!(CqNotifyType::try_from(2), Ok(CqNotifyType::Solicited));
        assert_eq!(CqNotifyType::try_from(3), Err(UnknownValue(3)));
        assert_eq!(
            alloc::format!("{}", UnknownValue(3)),
            "unknown enumerator value 0x3"
        );
    }
}
