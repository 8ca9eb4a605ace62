//! NDK version negotiation at adapter open (facts §1): one pure function,
//! shared by the Windows OPEN_NDK_ADAPTER_HANDLER and the hosted entry point.
//! Owns the negotiation rule only.

use crate::abi::{NtStatus, NDIS_STATUS_BAD_VERSION, NDK_VERSION};

/// The highest NDK version this provider implements: NDKPI 2.1.
pub const NDK_PROVIDER_VERSION: NDK_VERSION = NDK_VERSION { Major: 2, Minor: 1 };

/// Negotiates the version of a new adapter instance.
///
/// The consumer passes the Major it speaks and the *lowest* Minor it can use.
/// - Major other than ours (2) -> `NDIS_STATUS_BAD_VERSION`. A 1.x consumer
///   is refused: minors are supersets only within one major.
/// - Minor above ours (1) -> `NDIS_STATUS_BAD_VERSION`.
/// - Otherwise the adapter runs at *our* version, {2,1}, which is then
///   reported in NDK_ADAPTER_INFO.Version and in every object header.
///
/// IRQL: any (pure).
pub const fn negotiate_version(requested: NDK_VERSION) -> Result<NDK_VERSION, NtStatus> {
    if requested.Major != NDK_PROVIDER_VERSION.Major {
        return Err(NDIS_STATUS_BAD_VERSION);
    }
    if requested.Minor > NDK_PROVIDER_VERSION.Minor {
        return Err(NDIS_STATUS_BAD_VERSION);
    }
    Ok(NDK_PROVIDER_VERSION)
}

#[cfg(test)]
mod tests {
    use super::*;

    const fn v(major: u16, minor: u16) -> NDK_VERSION {
        NDK_VERSION {
            Major: major,
            Minor: minor,
        }
    }

    #[test]
    fn same_major_lower_or_equal_minor_gets_our_version() {
        assert_eq!(negotiate_version(v(2, 0)), Ok(v(2, 1)));
        assert_eq!(negotiate_version(v(2, 1)), Ok(v(2, 1)));
    }

    #[test]
    fn higher_minor_is_refused() {
        assert_eq!(negotiate_version(v(2, 2)), Err(NDIS_STATUS_BAD_VERSION));
        assert_eq!(
            negotiate_version(v(2, u16::MAX)),
            Err(NDIS_STATUS_BAD_VERSION)
        );
    }

    #[test]
    fn other_majors_are_refused() {
        for major in [0, 1, 3, u16::MAX] {
            for minor in [0, 1, 2] {
                assert_eq!(
                    negotiate_version(v(major, minor)),
                    Err(NDIS_STATUS_BAD_VERSION),
                    "{major}.{minor}"
                );
            }
        }
    }
}
