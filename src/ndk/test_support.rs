//! Unit-test helpers for the provider's internal (data-path) entries: an
//! adapter on a virtual platform and objects made through the dispatch
//! tables, recovered as provider objects. Test-only.

use alloc::sync::Arc;
use core::ffi::c_void;
use core::net::{IpAddr, Ipv4Addr};
use core::ptr::{null_mut, NonNull};

use crate::abi::{NDK_ADAPTER, NDK_CQ, NDK_PD, NDK_VERSION, STATUS_SUCCESS};
use crate::os::hosted::VirtualPlatform;

use super::adapter::Adapter;
use super::cq::CqObject;
use super::object::recover;
use super::pd::Pd;

pub(crate) struct TestAdapter {
    pub platform: Arc<VirtualPlatform>,
    pub adapter: NonNull<NDK_ADAPTER>,
}

impl TestAdapter {
    pub fn new() -> Self {
        let platform = VirtualPlatform::new(3);
        let adapter = super::open_adapter(
            IpAddr::V4(Ipv4Addr::new(192, 0, 2, 7)),
            NDK_VERSION { Major: 2, Minor: 1 },
            platform.clone(),
        )
        .unwrap_or_else(|e| panic!("open: {e:?}"));
        Self { platform, adapter }
    }

    pub fn adapter(&self) -> &Adapter {
        // SAFETY: open until `finish`.
        unsafe { Adapter::from_ndk(self.adapter.as_ptr()) }.unwrap_or_else(|| panic!("adapter"))
    }

    pub fn pd(&self) -> (*mut NDK_PD, &Pd) {
        let mut pd = null_mut();
        // SAFETY: an open adapter, a writable out-param.
        let s = unsafe {
            (self
                .adapter()
                .ndk()
                .Dispatch
                .as_ref()
                .unwrap_or_else(|| panic!("table"))
                .NdkCreatePd)(self.adapter.as_ptr(), None, null_mut(), &mut pd)
        };
        assert_eq!(s, STATUS_SUCCESS);
        // SAFETY: just created.
        (
            pd,
            unsafe { recover::<Pd>(pd.cast()) }.unwrap_or_else(|e| panic!("{e:?}")),
        )
    }

    pub fn cq(
        &self,
        depth: u32,
        notify: crate::abi::NDK_FN_CQ_NOTIFICATION_CALLBACK,
        ctx: *mut c_void,
    ) -> (*mut NDK_CQ, &CqObject) {
        let mut cq = null_mut();
        // SAFETY: an open adapter, a writable out-param.
        let s = unsafe {
            super::cq::ndk_create_cq(
                self.adapter.as_ptr(),
                depth,
                Some(notify),
                ctx,
                null_mut(),
                None,
                null_mut(),
                &mut cq,
            )
        };
        assert_eq!(s, STATUS_SUCCESS);
        // SAFETY: just created.
        (
            cq,
            unsafe { recover::<CqObject>(cq.cast()) }.unwrap_or_else(|e| panic!("{e:?}")),
        )
    }

    /// Closes the adapter; the pool books must balance.
    pub fn finish(self) {
        // SAFETY: opened in `new`, closed once.
        unsafe { super::close_adapter(self.adapter) }.unwrap_or_else(|e| panic!("{e:?}"));
        assert!(crate::os::Platform::pool(&*self.platform).is_balanced());
    }
}
