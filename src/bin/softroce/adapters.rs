//! `softroce adapters`: opens hosted adapters through the exported C entry
//! point (`softroce_open_adapter`), asks each for its NDK_ADAPTER_INFO through
//! its dispatch table exactly as an NDK consumer would, prints it, and closes
//! them. Owns this subcommand; must not reach into provider internals.

use std::ffi::CString;
use std::fmt::Write as _;
use std::process::ExitCode;

use softroce::abi::{
    NdkAdapterFlags, NtStatus, NDK_ADAPTER, NDK_ADAPTER_INFO, NDK_VERSION, STATUS_SUCCESS,
};
use softroce::os::hosted::entry::{softroce_close_adapter, softroce_open_adapter};

/// The version a current consumer asks for: NDKPI 2, any minor.
const REQUESTED: NDK_VERSION = NDK_VERSION { Major: 2, Minor: 0 };

/// Opens one adapter through the C entry point.
fn open(address: &str) -> Result<*mut NDK_ADAPTER, String> {
    let c_address = CString::new(address).map_err(|_| format!("{address}: NUL in address"))?;
    let mut adapter: *mut NDK_ADAPTER = std::ptr::null_mut();
    // SAFETY: a NUL-terminated address and a valid out-pointer, as the C API asks.
    let status = unsafe { softroce_open_adapter(c_address.as_ptr(), REQUESTED, &mut adapter) };
    if status != STATUS_SUCCESS || adapter.is_null() {
        return Err(format!("{address}: softroce_open_adapter: {status}"));
    }
    Ok(adapter)
}

/// Queries and prints the info of an open adapter.
fn show(address: &str, adapter: *mut NDK_ADAPTER, out: &mut String) -> Result<(), String> {
    // The zeroed struct is a valid NDK_ADAPTER_INFO (plain integers).
    // SAFETY: all-zero bytes are a valid value of this plain-data struct.
    let mut info: NDK_ADAPTER_INFO = unsafe { std::mem::zeroed() };
    let mut size = std::mem::size_of::<NDK_ADAPTER_INFO>() as u32;
    // SAFETY: `adapter` came from a successful open and is not yet closed;
    // its Dispatch points at the provider's table; `info` and `size` are valid.
    let status: NtStatus = unsafe {
        let query = (*(*adapter).Dispatch).NdkQueryAdapterInfo;
        query(adapter, &mut info, &mut size)
    };
    if status == STATUS_SUCCESS {
        describe(address, &info, out);
        Ok(())
    } else {
        Err(format!("{address}: NdkQueryAdapterInfo: {status}"))
    }
}

fn describe(address: &str, i: &NDK_ADAPTER_INFO, out: &mut String) {
    let flags = NdkAdapterFlags::from_bits_retain(i.AdapterFlags);
    let tech = match i.RdmaTechnology {
        4 => "RoCEv2".to_string(),
        t => format!("technology {t}"),
    };
    let _ = writeln!(
        out,
        "adapter {address}: NDK {}.{}, {tech}, vendor 0x{:06x} device 0x{:x}",
        i.Version.Major, i.Version.Minor, i.VendorId, i.DeviceId
    );
    let rows: [(&str, u64); 19] = [
        ("MaxRegistrationSize", i.MaxRegistrationSize as u64),
        ("MaxWindowSize", i.MaxWindowSize as u64),
        ("FRMRPageCount", i.FRMRPageCount.into()),
        ("MaxInitiatorRequestSge", i.MaxInitiatorRequestSge.into()),
        ("MaxReceiveRequestSge", i.MaxReceiveRequestSge.into()),
        ("MaxReadRequestSge", i.MaxReadRequestSge.into()),
        ("MaxTransferLength", i.MaxTransferLength.into()),
        ("MaxInlineDataSize", i.MaxInlineDataSize.into()),
        ("MaxInboundReadLimit", i.MaxInboundReadLimit.into()),
        ("MaxOutboundReadLimit", i.MaxOutboundReadLimit.into()),
        ("MaxReceiveQueueDepth", i.MaxReceiveQueueDepth.into()),
        ("MaxInitiatorQueueDepth", i.MaxInitiatorQueueDepth.into()),
        ("MaxSrqDepth", i.MaxSrqDepth.into()),
        ("MaxCqDepth", i.MaxCqDepth.into()),
        ("LargeRequestThreshold", i.LargeRequestThreshold.into()),
        ("MaxCallerData", i.MaxCallerData.into()),
        ("MaxCalleeData", i.MaxCalleeData.into()),
        ("AdapterFlags", i.AdapterFlags.into()),
        ("RdmaTechnology", i.RdmaTechnology.into()),
    ];
    for (name, value) in rows {
        let _ = writeln!(out, "  {name:<24} {value}");
    }
    let _ = writeln!(out, "  flags: {flags:?}");
}

/// Runs the subcommand over `addresses`: every adapter is open at the same
/// time, then each is queried, then all are closed.
pub fn run(addresses: &[String]) -> ExitCode {
    let mut out = String::new();
    let mut failed = false;
    let mut open_adapters = Vec::new();
    for address in addresses {
        match open(address) {
            Ok(adapter) => open_adapters.push((address, adapter)),
            Err(e) => {
                eprintln!("softroce adapters: {e}");
                failed = true;
            }
        }
    }
    for &(address, adapter) in &open_adapters {
        if let Err(e) = show(address, adapter, &mut out) {
            eprintln!("softroce adapters: {e}");
            failed = true;
        }
    }
    for (_, adapter) in open_adapters {
        // SAFETY: opened above, closed once, no longer used.
        unsafe { softroce_close_adapter(adapter) };
    }
    print!("{out}");
    if failed {
        ExitCode::FAILURE
    } else {
        ExitCode::SUCCESS
    }
}
