//! Reads the adapter's advanced properties with NdisOpenConfigurationEx /
//! NdisReadConfiguration / NdisReadNetworkAddress (PASSIVE_LEVEL, from
//! MiniportInitializeEx) into an [`AdapterConfig`]; parsing and defaults are
//! the pure `config` module's.
//!
//! Owns: the NDIS configuration calls. Must not interpret values.

use core::mem::offset_of;
use core::ptr;

use crate::abi::{NDIS_HANDLE, NDIS_OBJECT_HEADER, NDIS_STATUS_SUCCESS};

use super::super::ffi::UNICODE_STRING;
use super::super::imports::{
    NdisCloseConfiguration, NdisOpenConfigurationEx, NdisReadConfiguration, NdisReadNetworkAddress,
};
use super::super::ndis::{
    NDIS_CONFIGURATION_OBJECT, NDIS_CONFIGURATION_OBJECT_REVISION_1, NDIS_CONFIGURATION_PARAMETER,
    NDIS_OBJECT_TYPE_CONFIGURATION_OBJECT, NDIS_PARAMETER_INTEGER, NDIS_PARAMETER_STRING,
};
use super::config::{
    frame_size, parse_carrier_ip, parse_lower_mac, valid_mac, AdapterConfig, KW_CARRIER_IP,
    KW_LOWER_MAC, KW_NETWORK_DIRECT, KW_ROCE_FRAME_SIZE, KW_SELF_TEST,
};

/// IRQL: any.
fn keyword(k: &'static [u16]) -> UNICODE_STRING {
    let bytes = (k.len() * 2) as u16;
    UNICODE_STRING {
        Length: bytes,
        MaximumLength: bytes,
        // NDIS only reads the keyword.
        Buffer: k.as_ptr().cast_mut(),
    }
}

/// One open configuration handle.
struct Config(NDIS_HANDLE);

impl Config {
    /// IRQL: PASSIVE_LEVEL.
    fn read(&self, kw: &'static [u16], kind: u32) -> Option<&NDIS_CONFIGURATION_PARAMETER> {
        let name = keyword(kw);
        let mut status = NDIS_STATUS_SUCCESS;
        let mut value: *mut NDIS_CONFIGURATION_PARAMETER = ptr::null_mut();
        // SAFETY: PASSIVE; an open handle; the keyword lives through the call.
        unsafe { NdisReadConfiguration(&mut status, &mut value, self.0, &name, kind) };
        if status != NDIS_STATUS_SUCCESS {
            return None;
        }
        // SAFETY: on success NDIS returns a parameter that lives until
        // NdisCloseConfiguration (drop of `self`, which outlives the borrow).
        unsafe { value.as_ref() }
    }

    /// IRQL: PASSIVE_LEVEL.
    fn integer(&self, kw: &'static [u16]) -> Option<u32> {
        self.read(kw, NDIS_PARAMETER_INTEGER).map(|p| p.integer())
    }

    /// A string keyword handed to `parse` while the handle is open.
    ///
    /// IRQL: PASSIVE_LEVEL.
    fn string<T>(&self, kw: &'static [u16], parse: fn(&[u16]) -> Option<T>) -> Option<T> {
        let p = self.read(kw, NDIS_PARAMETER_STRING)?;
        let s = &p.StringData;
        if s.Buffer.is_null() {
            return None;
        }
        // SAFETY: NDIS's string of `Length` bytes, valid while the handle is open.
        let text = unsafe { core::slice::from_raw_parts(s.Buffer, usize::from(s.Length) / 2) };
        parse(text)
    }

    /// IRQL: PASSIVE_LEVEL.
    fn mac(&self) -> Option<[u8; 6]> {
        let mut status = NDIS_STATUS_SUCCESS;
        let mut addr: *mut core::ffi::c_void = ptr::null_mut();
        let mut len = 0u32;
        // SAFETY: PASSIVE; an open handle; out pointers are locals.
        unsafe { NdisReadNetworkAddress(&mut status, &mut addr, &mut len, self.0) };
        if status != NDIS_STATUS_SUCCESS || addr.is_null() {
            return None;
        }
        // SAFETY: NDIS's buffer of `len` bytes, valid while the handle is open.
        valid_mac(unsafe { core::slice::from_raw_parts(addr.cast::<u8>(), len as usize) })
    }
}

impl Drop for Config {
    /// IRQL: PASSIVE_LEVEL.
    fn drop(&mut self) {
        // SAFETY: opened by NdisOpenConfigurationEx; PASSIVE.
        unsafe { NdisCloseConfiguration(self.0) };
    }
}

/// Reads the configuration of the adapter `miniport`; missing or invalid
/// values take their defaults.
///
/// IRQL: PASSIVE_LEVEL.
pub fn read(miniport: NDIS_HANDLE) -> AdapterConfig {
    let object = NDIS_CONFIGURATION_OBJECT {
        Header: NDIS_OBJECT_HEADER {
            Type: NDIS_OBJECT_TYPE_CONFIGURATION_OBJECT,
            Revision: NDIS_CONFIGURATION_OBJECT_REVISION_1,
            Size: (offset_of!(NDIS_CONFIGURATION_OBJECT, Flags) + 4) as u16,
        },
        NdisHandle: miniport,
        Flags: 0,
    };
    let mut handle: NDIS_HANDLE = ptr::null_mut();
    // SAFETY: PASSIVE; the object lives through the call.
    if unsafe { NdisOpenConfigurationEx(&object, &mut handle) } != NDIS_STATUS_SUCCESS {
        return AdapterConfig::default();
    }
    let cfg = Config(handle);
    AdapterConfig {
        network_direct: cfg.integer(&KW_NETWORK_DIRECT).is_none_or(|v| v != 0),
        frame_size: frame_size(cfg.integer(&KW_ROCE_FRAME_SIZE)),
        carrier_ip: cfg.string(&KW_CARRIER_IP, parse_carrier_ip),
        mac_override: cfg.mac(),
        self_test: cfg.integer(&KW_SELF_TEST).is_some_and(|v| v != 0),
        lower_mac: cfg.string(&KW_LOWER_MAC, parse_lower_mac),
    }
}
