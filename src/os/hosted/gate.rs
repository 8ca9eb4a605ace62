//! A sink wrapper that lets a carrier close cleanly: after `close` returns,
//! the wrapped sink is never called again (deliveries already queued in the
//! engine are dropped), as the `Carrier` contract promises; and a carrier's
//! receive thread tied to it, stopped, joined and the gate closed on drop.
//! Owns nothing else.

use std::sync::atomic::{AtomicBool, AtomicUsize, Ordering};
use std::sync::Arc;
use std::thread::JoinHandle;

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

/// A carrier's receive thread and the gate of its sink. Dropping it sets
/// `stop`, joins the thread and closes the gate: after the drop returns the
/// sink is not called again.
pub(crate) struct ReceiveThread {
    stop: Arc<AtomicBool>,
    thread: Option<JoinHandle<()>>,
    gate: Arc<GatedSink>,
}

impl ReceiveThread {
    /// Runs `run` on a thread named `name`; `run` returns soon after `stop`
    /// is set.
    pub(crate) fn spawn(
        name: String,
        stop: Arc<AtomicBool>,
        gate: Arc<GatedSink>,
        run: impl FnOnce() + Send + 'static,
    ) -> std::io::Result<ReceiveThread> {
        let thread = std::thread::Builder::new().name(name).spawn(run)?;
        Ok(ReceiveThread {
            stop,
            thread: Some(thread),
            gate,
        })
    }
}

impl Drop for ReceiveThread {
    fn drop(&mut self) {
        self.stop.store(true, Ordering::SeqCst);
        if let Some(t) = self.thread.take() {
            let _ = t.join();
        }
        self.gate.close();
    }
}
