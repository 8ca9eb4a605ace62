//! A sink wrapper that lets a carrier close cleanly: after `close` returns,
//! the wrapped sink is never called again (deliveries already queued in the
//! engine are dropped), as the `Carrier` contract promises. Owns nothing else.

use std::sync::atomic::{AtomicBool, AtomicUsize, Ordering};
use std::sync::Arc;

use crate::os::{current_irql, DatagramSink, Irql, Received};

pub(crate) struct GatedSink {
    open: AtomicBool,
    inflight: AtomicUsize,
    sink: Arc<dyn DatagramSink>,
}

impl GatedSink {
    pub(crate) fn new(sink: Arc<dyn DatagramSink>) -> Arc<Self> {
        Arc::new(GatedSink {
            open: AtomicBool::new(true),
            inflight: AtomicUsize::new(0),
            sink,
        })
    }

    /// Stops deliveries and waits for running ones, unless called from a
    /// delivery itself (DISPATCH_LEVEL), where waiting would deadlock.
    pub(crate) fn close(&self) {
        self.open.store(false, Ordering::SeqCst);
        if current_irql() >= Irql::Dispatch {
            return;
        }
        while self.inflight.load(Ordering::SeqCst) != 0 {
            std::thread::yield_now();
        }
    }
}

impl DatagramSink for GatedSink {
    fn on_datagram(&self, d: &Received<'_>) {
        self.inflight.fetch_add(1, Ordering::SeqCst);
        if self.open.load(Ordering::SeqCst) {
            self.sink.on_datagram(d);
        }
        self.inflight.fetch_sub(1, Ordering::SeqCst);
    }
}
