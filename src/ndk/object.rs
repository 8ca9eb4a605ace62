//! The object framework every NDK object (PD, CQ, QP, SRQ, MR, MW, listener,
//! connector, shared endpoint) is built on:
//! - layout: a heap `#[repr(C)]` struct whose first field is its NDK object
//!   (header + dispatch pointer), then a [`Base`], then its own state;
//! - [`recover`]: the consumer's pointer back to the provider object, only
//!   after checking the object type, the dispatch table and a live cookie;
//! - [`Events`]: the per-object DPC routine that delivers every callback of
//!   the object (deferred create/request completions, CQ/SRQ notifications,
//!   close completion) one at a time, with no provider lock held, at
//!   DISPATCH_LEVEL, close completion always last;
//! - parent/child counts (the antecedent->successor pairs of NDKPI facts
//!   §5.2): a close with live children (or a callback running or queued)
//!   pends, and completes after the last child's close completion has
//!   returned (a child tells its parents only once it is freed, after that
//!   callback). Parents fixed at create (PD, CQ, SRQ, listener) are given
//!   with [`NewObject::child_of`]; relations made later are counted with
//!   [`Events::add_child`] / [`Events::child_closed`] by their owner (QP
//!   and shared endpoint -> connector at Connect/Accept, `net/tables.rs`;
//!   MR -> bound MW at NdkBind, `mw.rs`).
//!
//! Owns lifetimes and callback delivery; must not know what the objects do.

use alloc::boxed::Box;
use alloc::sync::Arc;
use core::ffi::c_void;
use core::ptr::NonNull;
use core::sync::atomic::{AtomicU32, AtomicUsize, Ordering};

use crate::abi::{
    NtStatus, NDK_ADAPTER, NDK_CONNECTOR, NDK_FN_CLOSE_COMPLETION, NDK_FN_CONNECT_EVENT_CALLBACK,
    NDK_FN_CREATE_COMPLETION, NDK_FN_DISCONNECT_EVENT_CALLBACK,
    NDK_FN_DISCONNECT_EVENT_CALLBACK_EX, NDK_FN_REQUEST_COMPLETION, NDK_OBJECT_HEADER,
    NDK_OBJECT_HEADER_RESERVED_BLOCK, NDK_PD, STATUS_INSUFFICIENT_RESOURCES, STATUS_INVALID_HANDLE,
    STATUS_INVALID_PARAMETER, STATUS_PENDING, STATUS_SUCCESS,
};
use crate::os::{consumer_call, DeferredRoutine, Dpc, Instant, PoolTag, SpinLock};

use super::adapter::Adapter;
use super::core::{tags, AdapterCore};
use super::object_alloc::{free_object, try_box};

/// The cookie of a live object.
const MAGIC_LIVE: u32 = 0x5352_4F42;
/// The cookie once close was called (and written again just before free).
const MAGIC_CLOSED: u32 = 0xDEAD_C105;

/// A callback with the `(context, status)` shape: request completions, CQ
/// and SRQ notifications.
pub type StatusCallback = NDK_FN_REQUEST_COMPLETION;

/// Requests whose completion can wait in an object's queue at once.
const QUEUED_ITEMS: usize = 8;
/// Notifications that can wait (more coalesce into the last one).
const QUEUED_NOTIFICATIONS: usize = 4;

/// One NDK object type of this provider.
pub(crate) trait Object: Sized + 'static {
    /// The NDK_OBJECT_TYPE value.
    const TYPE: u32;
    /// The pool tag of its allocation.
    const TAG: PoolTag;
    /// The name of its close entry (for the IRQL books).
    const CLOSE: &'static str;
    /// The static dispatch table its header points to.
    fn dispatch() -> *const c_void;
    /// Its framework part.
    fn base(&self) -> &Base;
    /// Starts flushing/cancelling pending requests at close (facts §5.2),
    /// before the close decides between inline and pending: a QP completes
    /// its outstanding requests with STATUS_CANCELLED on its CQs, a
    /// connector queues its pending request's cancellation ahead of the
    /// close completion. IRQL: <= DISPATCH_LEVEL.
    fn on_close(&self) {}
}

/// The header an object of `version` and `object_type` starts with:
/// NdkReserved zeroed (never touched again by the provider).
pub(crate) fn header(core: &AdapterCore, object_type: u32) -> NDK_OBJECT_HEADER {
    NDK_OBJECT_HEADER {
        Version: core.version,
        ObjectType: object_type,
        NdkReserved: NDK_OBJECT_HEADER_RESERVED_BLOCK::ZEROED,
    }
}

/// Recovers a provider object from a consumer's pointer.
/// NULL -> STATUS_INVALID_PARAMETER; another type, another provider's table,
/// or an object whose close was called -> STATUS_INVALID_HANDLE.
///
/// # Safety
/// `p` is NULL or points to a readable NDK object (the NDKPI contract; a
/// freed object cannot be detected).
///
/// IRQL: any.
pub(crate) unsafe fn recover<'a, T: Object>(p: *const c_void) -> Result<&'a T, NtStatus> {
    if p.is_null() {
        return Err(STATUS_INVALID_PARAMETER);
    }
    // Every NDK object is `{ header, dispatch }`; NDK_PD stands for all.
    let any = p.cast::<NDK_PD>();
    // SAFETY: non-null, readable as an NDK object by the caller's contract.
    let (object_type, dispatch) = unsafe { ((*any).Header.ObjectType, (*any).Dispatch) };
    if object_type != T::TYPE || !core::ptr::eq(dispatch.cast::<c_void>(), T::dispatch()) {
        return Err(STATUS_INVALID_HANDLE);
    }
    // SAFETY: only this provider installs T's table, always in a T allocated
    // by `create` with the NDK object at offset 0.
    let obj = unsafe { &*p.cast::<T>() };
    if obj.base().magic.load(Ordering::Acquire) != MAGIC_LIVE {
        return Err(STATUS_INVALID_HANDLE);
    }
    Ok(obj)
}

/// A callback waiting for the object's DPC.
#[derive(Clone, Copy)]
enum Item {
    Create {
        f: NDK_FN_CREATE_COMPLETION,
        ctx: usize,
        obj: usize,
    },
    Status {
        f: StatusCallback,
        ctx: usize,
        status: NtStatus,
    },
    /// A listener's ConnectEvent with a new connector.
    Connect {
        f: NDK_FN_CONNECT_EVENT_CALLBACK,
        ctx: usize,
        connector: usize,
    },
    /// A connector's DisconnectEvent (2.0 shape or Ex with a reason).
    Disconnect(DisconnectCallback),
}

/// The disconnect callback a connector registered (CompleteConnect(Ex) or
/// Accept(Ex)) and its context.
#[derive(Clone, Copy)]
pub(crate) enum DisconnectCallback {
    Plain(NDK_FN_DISCONNECT_EVENT_CALLBACK, usize),
    Ex(NDK_FN_DISCONNECT_EVENT_CALLBACK_EX, usize),
}

struct EvState {
    dpc: Option<Box<dyn Dpc>>,
    /// The object's address; 0 once freed.
    target: usize,
    finalize: Option<unsafe fn(usize)>,
    running: bool,
    children: usize,
    items: [Option<Item>; QUEUED_ITEMS],
    notifier: Option<(StatusCallback, usize)>,
    notes: [Option<NtStatus>; QUEUED_NOTIFICATIONS],
    closing: bool,
    close: Option<(Option<NDK_FN_CLOSE_COMPLETION>, usize)>,
}

impl EvState {
    fn idle(&self) -> bool {
        self.items.iter().all(Option::is_none) && self.notes.iter().all(Option::is_none)
    }

    fn pop_item(&mut self) -> Option<Item> {
        let first = self.items.iter_mut().find(|i| i.is_some())?.take();
        self.items.rotate_left(1);
        first
    }

    fn pop_note(&mut self) -> Option<NtStatus> {
        let first = self.notes.iter_mut().find(|n| n.is_some())?.take();
        self.notes.rotate_left(1);
        first
    }

    fn queue(&self) {
        if let Some(dpc) = self.dpc.as_ref() {
            dpc.queue();
        }
    }
}

/// The per-object deliverer of callbacks (the object's DPC routine).
pub(crate) struct Events {
    state: SpinLock<EvState>,
}

/// What the routine does next (decided under the lock, done without it).
enum Step {
    Item(Item),
    Note(StatusCallback, usize, NtStatus),
    Close(
        Option<NDK_FN_CLOSE_COMPLETION>,
        usize,
        Option<unsafe fn(usize)>,
        usize,
        Option<Box<dyn Dpc>>,
    ),
    Done,
}

impl Events {
    fn new(notifier: Option<(StatusCallback, usize)>) -> Self {
        Self {
            state: SpinLock::new(EvState {
                dpc: None,
                target: 0,
                finalize: None,
                running: false,
                children: 0,
                items: [None; QUEUED_ITEMS],
                notifier,
                notes: [None; QUEUED_NOTIFICATIONS],
                closing: false,
                close: None,
            }),
        }
    }

    /// Counts a new child (an object whose close must come first).
    /// IRQL: <= DISPATCH_LEVEL.
    pub(crate) fn add_child(&self) {
        let mut s = self.state.lock();
        s.children = s.children.saturating_add(1);
    }

    /// Children counted now (objects whose close must come first).
    /// IRQL: <= DISPATCH_LEVEL.
    pub(crate) fn children(&self) -> usize {
        self.state.lock().children
    }

    /// A child's close completed (its callback returned): a pending close
    /// waiting for the last child goes ahead. IRQL: <= DISPATCH_LEVEL.
    pub(crate) fn child_closed(&self) {
        let mut s = self.state.lock();
        s.children = s.children.saturating_sub(1);
        if s.children == 0 && s.close.is_some() && !s.running {
            s.queue();
        }
    }

    /// Queues a notification through the object's notifier (CQ/SRQ). Dropped
    /// once close was called, or without a notifier. IRQL: <= DISPATCH_LEVEL.
    pub(crate) fn notify(&self, status: NtStatus) {
        let mut s = self.state.lock();
        if s.closing || s.notifier.is_none() {
            return;
        }
        match s.notes.iter_mut().find(|n| n.is_none()) {
            Some(slot) => *slot = Some(status),
            None => {
                if let Some(last) = s.notes.last_mut() {
                    *last = Some(status);
                }
            }
        }
        if !s.running {
            s.queue();
        }
    }

    /// Queues a completion item; `false` if the queue is full (the caller
    /// then completes inline). IRQL: <= DISPATCH_LEVEL.
    fn push(&self, item: Item) -> bool {
        let mut s = self.state.lock();
        let Some(slot) = s.items.iter_mut().find(|i| i.is_none()) else {
            return false;
        };
        *slot = Some(item);
        if !s.running {
            s.queue();
        }
        true
    }

    /// Queues a request completion with `status` (also errors and
    /// STATUS_CANCELLED); `false` if the queue is full.
    /// IRQL: <= DISPATCH_LEVEL.
    pub(crate) fn complete(&self, f: StatusCallback, ctx: usize, status: NtStatus) -> bool {
        self.push(Item::Status { f, ctx, status })
    }

    /// Queues a ConnectEvent callback delivering `connector`; `false` if the
    /// queue is full. IRQL: <= DISPATCH_LEVEL.
    pub(crate) fn connect_event(
        &self,
        f: NDK_FN_CONNECT_EVENT_CALLBACK,
        ctx: usize,
        connector: *mut NDK_CONNECTOR,
    ) -> bool {
        self.push(Item::Connect {
            f,
            ctx,
            connector: connector as usize,
        })
    }

    /// Queues a DisconnectEvent callback; `false` if the queue is full.
    /// IRQL: <= DISPATCH_LEVEL.
    pub(crate) fn disconnect_event(&self, cb: DisconnectCallback) -> bool {
        self.push(Item::Disconnect(cb))
    }

    fn next_step(&self) -> Step {
        let mut s = self.state.lock();
        if let Some(item) = s.pop_item() {
            return Step::Item(item);
        }
        if let Some(status) = s.pop_note() {
            if let Some((f, ctx)) = s.notifier {
                return Step::Note(f, ctx, status);
            }
        }
        if s.children == 0 {
            if let Some((cc, ctx)) = s.close.take() {
                let target = core::mem::replace(&mut s.target, 0);
                s.running = false;
                return Step::Close(cc, ctx, s.finalize.take(), target, s.dpc.take());
            }
        }
        s.running = false;
        Step::Done
    }
}

impl DeferredRoutine for Events {
    /// Delivers the object's callbacks one at a time (serialized even if the
    /// DPC runs again on another processor meanwhile), then, once nothing
    /// else is queued or running and no child is left, the close completion
    /// and the free.
    ///
    /// IRQL: DISPATCH_LEVEL.
    fn run(&self, _now: Instant) {
        {
            let mut s = self.state.lock();
            if s.running || s.target == 0 {
                return;
            }
            s.running = true;
        }
        loop {
            match self.next_step() {
                Step::Done => return,
                Step::Item(Item::Create { f, ctx, obj }) => {
                    consumer_call("NDK_FN_CREATE_COMPLETION", || {
                        // SAFETY: a consumer callback called as NDKPI
                        // defines it, with the object it asked for.
                        unsafe { f(ctx as *mut c_void, STATUS_SUCCESS, obj as *mut _) }
                    })
                }
                Step::Item(Item::Status { f, ctx, status }) => {
                    consumer_call("NDK_FN_REQUEST_COMPLETION", || {
                        // SAFETY: a consumer callback called as NDKPI defines it.
                        unsafe { f(ctx as *mut c_void, status) }
                    })
                }
                Step::Item(Item::Connect { f, ctx, connector }) => {
                    consumer_call("NDK_FN_CONNECT_EVENT_CALLBACK", || {
                        // SAFETY: a consumer callback called as NDKPI
                        // defines it, with a connector the consumer now owns.
                        unsafe { f(ctx as *mut c_void, connector as *mut NDK_CONNECTOR) }
                    })
                }
                Step::Item(Item::Disconnect(DisconnectCallback::Plain(f, ctx))) => {
                    consumer_call("NDK_FN_DISCONNECT_EVENT_CALLBACK", || {
                        // SAFETY: a consumer callback called as NDKPI defines it.
                        unsafe { f(ctx as *mut c_void) }
                    })
                }
                Step::Item(Item::Disconnect(DisconnectCallback::Ex(f, ctx))) => {
                    consumer_call("NDK_FN_DISCONNECT_EVENT_CALLBACK_EX", || {
                        // SAFETY: a consumer callback called as NDKPI defines
                        // it; reason 0: none / not supported.
                        unsafe { f(ctx as *mut c_void, 0) }
                    })
                }
                Step::Note(f, ctx, status) => consumer_call("NDK notification callback", || {
                    // SAFETY: a consumer callback called as NDKPI defines it.
                    unsafe { f(ctx as *mut c_void, status) }
                }),
                Step::Close(cc, ctx, finalize, target, dpc) => {
                    if let Some(cc) = cc {
                        consumer_call("NDK_FN_CLOSE_COMPLETION", || {
                            // SAFETY: a consumer callback called as NDKPI defines it.
                            unsafe { cc(ctx as *mut c_void) }
                        });
                    }
                    drop(dpc);
                    if let Some(finalize) = finalize {
                        // SAFETY: `target` is the live object `finalize` was
                        // made for; it is taken out of the state, so it is
                        // freed exactly once.
                        unsafe { finalize(target) };
                    }
                    return;
                }
            }
        }
    }
}

/// The framework part of every object.
pub(crate) struct Base {
    magic: AtomicU32,
    pub(crate) core: Arc<AdapterCore>,
    pub(crate) events: Arc<Events>,
    parents: [Option<Arc<Events>>; 4],
    /// Bytes charged under the object's tag.
    bytes: AtomicUsize,
}

impl Base {
    /// The object's charge changed from `old` to `new` extra bytes (a ring
    /// was resized; the caller charged or released the difference).
    ///
    /// IRQL: any.
    pub(crate) fn adjust_bytes(&self, old: usize, new: usize) {
        let _ = self
            .bytes
            .fetch_update(Ordering::AcqRel, Ordering::Acquire, |b| {
                Some(b.saturating_sub(old).saturating_add(new))
            });
    }
}

impl core::fmt::Debug for Base {
    fn fmt(&self, f: &mut core::fmt::Formatter<'_>) -> core::fmt::Result {
        f.debug_struct("Base")
            .field("magic", &self.magic.load(Ordering::Relaxed))
            .finish_non_exhaustive()
    }
}

/// Frees an object once its close completed: drop, pool release, then the
/// parents learn of it (a parent's pending close may now go ahead).
///
/// # Safety
/// `addr` is a `T` allocated by [`create`] and freed exactly once.
unsafe fn finalize<T: Object>(addr: usize) {
    let ptr = addr as *mut T;
    // SAFETY: the caller guarantees a live T.
    let obj = unsafe { &*ptr };
    let base = obj.base();
    base.magic.store(MAGIC_CLOSED, Ordering::Release);
    let core = base.core.clone();
    let bytes = base.bytes.load(Ordering::Acquire);
    let parents = base.parents.clone();
    if let Some(p) = NonNull::new(ptr) {
        // SAFETY: allocated by `try_box::<T>` in `create`; freed once.
        unsafe { free_object(p) };
    }
    core.release(T::TAG, bytes);
    core.release(tags::EVENTS, core::mem::size_of::<Events>());
    core.object_freed();
    for parent in parents.iter().flatten() {
        parent.child_closed();
    }
}

/// What [`create`] needs besides the object itself.
pub(crate) struct NewObject<'a> {
    core: &'a Arc<AdapterCore>,
    /// The objects whose close must wait for this one.
    parents: [Option<&'a Arc<Events>>; 4],
    /// Bytes beyond `size_of::<T>()` the object allocates (rings).
    extra_bytes: usize,
    /// The notification callback (CQ, SRQ).
    notifier: Option<(StatusCallback, usize)>,
}

impl<'a> NewObject<'a> {
    /// An object of `core` with no parent object, no extra bytes, no notifier.
    pub fn of(core: &'a Arc<AdapterCore>) -> Self {
        Self {
            core,
            parents: [None, None, None, None],
            extra_bytes: 0,
            notifier: None,
        }
    }

    /// Adds a parent (up to four; more are ignored: no object has more).
    pub fn child_of(mut self, parent: &'a Arc<Events>) -> Self {
        if let Some(slot) = self.parents.iter_mut().find(|p| p.is_none()) {
            *slot = Some(parent);
        }
        self
    }

    /// Bytes beyond the object itself (rings) to charge.
    pub fn extra(mut self, bytes: usize) -> Self {
        self.extra_bytes = bytes;
        self
    }

    /// The notification callback and its context.
    pub fn notifier(mut self, notifier: Option<(StatusCallback, usize)>) -> Self {
        self.notifier = notifier;
        self
    }
}

/// The common frame of an adapter-level create: NULL adapter or out-param
/// -> STATUS_INVALID_PARAMETER, not one of our adapters ->
/// STATUS_INVALID_HANDLE; then `make` (its checks, then [`create`]), then
/// [`finish_create`] (inline or deferred).
///
/// # Safety
/// NDKPI contract: `adapter` is NULL or readable, `out` NULL or writable.
///
/// IRQL: <= DISPATCH_LEVEL.
pub(crate) unsafe fn adapter_create<T: Object, N>(
    adapter: *mut NDK_ADAPTER,
    out: *mut *mut N,
    completion: Option<NDK_FN_CREATE_COMPLETION>,
    ctx: *mut c_void,
    make: impl FnOnce(&Arc<AdapterCore>) -> Result<NonNull<T>, NtStatus>,
) -> NtStatus {
    if adapter.is_null() || out.is_null() {
        return STATUS_INVALID_PARAMETER;
    }
    // SAFETY: non-null, readable by the caller's contract.
    let Some(adapter) = (unsafe { Adapter::from_ndk(adapter) }) else {
        return STATUS_INVALID_HANDLE;
    };
    match make(adapter.core()) {
        // SAFETY: `out` is non-null and writable by contract.
        Ok(obj) => unsafe { finish_create(obj, completion, ctx, out) },
        Err(e) => e,
    }
}

/// The common frame of a create on a parent object `P` (a PD's MR, MW, SRQ,
/// QP): the parent recovered (its status otherwise), NULL out-param ->
/// STATUS_INVALID_PARAMETER, then `make`, then [`finish_create`].
///
/// # Safety
/// NDKPI contract: `parent` is NULL or readable, `out` NULL or writable.
///
/// IRQL: <= DISPATCH_LEVEL.
pub(crate) unsafe fn child_create<P: Object, T: Object, N>(
    parent: *const c_void,
    out: *mut *mut N,
    completion: Option<NDK_FN_CREATE_COMPLETION>,
    ctx: *mut c_void,
    make: impl FnOnce(&P) -> Result<NonNull<T>, NtStatus>,
) -> NtStatus {
    // SAFETY: forwarded contract.
    let parent = match unsafe { recover::<P>(parent) } {
        Ok(p) => p,
        Err(e) => return e,
    };
    if out.is_null() {
        return STATUS_INVALID_PARAMETER;
    }
    match make(parent) {
        // SAFETY: `out` is non-null and writable by contract.
        Ok(obj) => unsafe { finish_create(obj, completion, ctx, out) },
        Err(e) => e,
    }
}

/// Allocates an object: pool charge, its events and DPC, the box; counts it
/// as a child of its parents and a live descendant of the adapter. On error
/// nothing is left behind.
///
/// IRQL: <= DISPATCH_LEVEL.
pub(crate) fn create<T: Object>(
    new: NewObject<'_>,
    build: impl FnOnce(Base) -> T,
) -> Result<NonNull<T>, NtStatus> {
    let core = new.core;
    let bytes = core::mem::size_of::<T>().saturating_add(new.extra_bytes);
    core.charge(T::TAG, bytes)?;
    if let Err(e) = core.charge(tags::EVENTS, core::mem::size_of::<Events>()) {
        core.release(T::TAG, bytes);
        return Err(e);
    }
    let fail = |e: NtStatus| {
        core.release(T::TAG, bytes);
        core.release(tags::EVENTS, core::mem::size_of::<Events>());
        e
    };
    let events = Arc::new(Events::new(new.notifier));
    let dpc = core
        .platform
        .new_dpc(events.clone())
        .map_err(|_| fail(STATUS_INSUFFICIENT_RESOURCES))?;
    let base = Base {
        magic: AtomicU32::new(MAGIC_LIVE),
        core: core.clone(),
        events: events.clone(),
        parents: new.parents.map(|p| p.cloned()),
        bytes: AtomicUsize::new(bytes),
    };
    let ptr = try_box(build(base)).map_err(|_| fail(STATUS_INSUFFICIENT_RESOURCES))?;
    {
        let mut s = events.state.lock();
        s.dpc = Some(dpc);
        s.target = ptr.as_ptr() as usize;
        s.finalize = Some(finalize::<T>);
    }
    for parent in new.parents.iter().flatten() {
        parent.add_child();
    }
    core.object_created();
    Ok(ptr)
}

/// Ends a create: inline (writes `*out`, STATUS_SUCCESS), or, when the
/// adapter defers completions and there is a CreateCompletion, STATUS_PENDING
/// with the object delivered later through it (`out` untouched).
///
/// # Safety
/// `out` is writable (checked non-NULL by the caller).
///
/// IRQL: <= DISPATCH_LEVEL.
pub(crate) unsafe fn finish_create<T: Object, N>(
    obj: NonNull<T>,
    completion: Option<NDK_FN_CREATE_COMPLETION>,
    ctx: *mut c_void,
    out: *mut *mut N,
) -> NtStatus {
    // SAFETY: just created, not yet visible to the consumer.
    let base = unsafe { obj.as_ref() }.base();
    if base.core.deferred() {
        if let Some(f) = completion {
            let item = Item::Create {
                f,
                ctx: ctx as usize,
                obj: obj.as_ptr() as usize,
            };
            if base.events.push(item) {
                return STATUS_PENDING;
            }
        }
    }
    // SAFETY: writable by the caller's contract.
    unsafe { out.write(obj.as_ptr().cast::<N>()) };
    STATUS_SUCCESS
}

/// Ends a request that has a RequestCompletion: a success is reported
/// through the callback (STATUS_PENDING) when the adapter defers
/// completions; everything else is returned inline and calls nothing.
///
/// IRQL: <= DISPATCH_LEVEL.
pub(crate) fn finish_request(
    base: &Base,
    status: NtStatus,
    completion: Option<NDK_FN_REQUEST_COMPLETION>,
    ctx: *mut c_void,
) -> NtStatus {
    if status == STATUS_SUCCESS && base.core.deferred() {
        if let Some(f) = completion {
            let item = Item::Status {
                f,
                ctx: ctx as usize,
                status,
            };
            if base.events.push(item) {
                return STATUS_PENDING;
            }
        }
    }
    status
}

/// NdkCloseXxx for any object: never fails. The object stops answering at
/// once (STATUS_INVALID_HANDLE to later calls); `on_close` starts flushing.
/// With no child, no running or queued callback: freed now, STATUS_SUCCESS,
/// no callback. Otherwise STATUS_PENDING and CloseCompletion runs from the
/// object's DPC as its last callback, after its children's close completions
/// have returned. A NULL CloseCompletion still pends (silently).
///
/// # Safety
/// `p` is NULL or a readable NDK object (NDKPI contract).
///
/// IRQL: <= DISPATCH_LEVEL.
pub(crate) unsafe fn close<T: Object>(
    p: *const c_void,
    completion: Option<NDK_FN_CLOSE_COMPLETION>,
    ctx: *mut c_void,
) -> NtStatus {
    // SAFETY: forwarded contract.
    let obj = match unsafe { recover::<T>(p) } {
        Ok(o) => o,
        Err(e) => return e,
    };
    let base = obj.base();
    if base
        .magic
        .compare_exchange(
            MAGIC_LIVE,
            MAGIC_CLOSED,
            Ordering::AcqRel,
            Ordering::Acquire,
        )
        .is_err()
    {
        return STATUS_INVALID_HANDLE;
    }
    obj.on_close();
    let events = base.events.clone();
    let mut s = events.state.lock();
    s.closing = true;
    s.notes = [None; QUEUED_NOTIFICATIONS];
    if s.children == 0 && !s.running && s.idle() {
        let target = core::mem::replace(&mut s.target, 0);
        let finalize = s.finalize.take();
        let dpc = s.dpc.take();
        drop(s);
        drop(dpc);
        if let Some(finalize) = finalize {
            // SAFETY: `target` is this live object; taken out of the state,
            // so freed exactly once.
            unsafe { finalize(target) };
        }
        return STATUS_SUCCESS;
    }
    s.close = Some((completion, ctx as usize));
    if s.children == 0 && !s.running {
        s.queue();
    }
    STATUS_PENDING
}

/// NdkCloseXxx of every object type, as the tables hold it: [`close`] for a
/// `T` (see there: never fails; inline without children or callbacks,
/// otherwise pending with CloseCompletion as the last callback).
///
/// IRQL: <= DISPATCH_LEVEL.
///
/// # Safety
/// NDKPI contract: `object` is NULL or a readable NDK object.
pub(crate) unsafe extern "system" fn ndk_close<T: Object>(
    object: *mut NDK_OBJECT_HEADER,
    completion: Option<NDK_FN_CLOSE_COMPLETION>,
    context: *mut c_void,
) -> NtStatus {
    crate::os::irql::assert_at_most(crate::os::Irql::Dispatch, T::CLOSE);
    // SAFETY: forwarded contract.
    unsafe { close::<T>(object.cast_const().cast(), completion, context) }
}
