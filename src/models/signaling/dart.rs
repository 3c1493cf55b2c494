//! A deterministic runtime for the app's Dart code: each Dart `async` method is a Rust
//! `async fn`, and each Dart `await` is a visible `.await` on one of the futures here.
//!
//! # How an `await` maps onto the engine
//!
//! Dart runs one event loop. An async method runs synchronously until its first `await`;
//! what it awaits decides when it goes on:
//!
//! - **I/O** (a socket handshake or close, a platform call through flutter_webrtc's method
//!   channel): the method resumes on a later event. [`io`] arms a timer whose length the
//!   tape picks in the scenario's `await` window; the agenda hands it over among every other
//!   item due on that tick, in the tape's order.
//! - **A platform call on one peer connection** (`createDataChannel`, `createOffer`,
//!   `setLocalDescription`, `setRemoteDescription`, `addCandidate`, `close`): the same,
//!   but the calls on one connection complete in the order they were made (flutter_webrtc's
//!   method channel is FIFO and WebRTC chains a connection's operations), so [`platform`]
//!   queues the task on the connection's chain and the chain's head alone has a timer.
//! - **An already-complete future** (`await sub.cancel()` on a broadcast stream, whose
//!   cancel future is `Future._nullFuture`; `await x?.m()` with `x == null`; closing a
//!   broadcast controller; an async method that finished without awaiting I/O): the
//!   continuation is a microtask. Dart runs every queued microtask before it takes the next
//!   event, so nothing else (no timer, no socket message, no platform callback) can run in
//!   between. [`micro`] therefore goes on at once, in the same step of the same tick
//!   (`[signaling] microtask = "inline"`, the default).
//!
//! Going on at once differs from Dart only in the order of microtasks of different tasks,
//! never in what can run between them: Dart drains every microtask before the next event,
//! and so does this runtime. Each event (a scripted user action, a socket message, a
//! platform callback, an I/O completion) starts or resumes one task. A method that starts
//! another without awaiting it ([`Dart::spawn`]: an `async void` handler, the counterfactual
//! un-awaited `_webrtcService.dispose()`) runs the new task up to its first I/O before the
//! caller goes on, where Dart would run the caller's code up to its next await first and the
//! new task's microtask continuation after it; no event can come between the two either way,
//! so nothing that an invariant or another event sees changes, only the order of a few trace
//! lines within one step. So the model needs no queue of its own and no engine feature (the
//! feature it would take to get Dart's exact FIFO among the microtasks of several tasks: an
//! item armed with no delay, handed over on the tick's next step before its other batches).
//! The choice is still a scenario option: `microtask = "tick"` resumes after a 1-tick timer
//! instead, which lets the events of the next tick in between; every shipped scenario gives
//! the same verdicts both ways.
//!
//! Tasks are polled with a no-op waker: a task is polled when it starts and then only when
//! the one timer its pending await armed fires, so a leaf future knows that its second poll
//! means "done".
//!
//! The heap lives in the model's `Runtime` resource between steps and is lent to the Dart
//! code for a step ([`lend`]): [`Dart`] is a handle that reaches it through a thread-local.
//! It was an `Arc<Mutex<Heap>>`, which cost two atomic operations on every [`Dart::with`]
//! (about 140 a run) and two on every handle cloned into a task or an await.

use super::heap::Heap;
use std::cell::RefCell;
use std::future::Future;
use std::pin::Pin;
use std::task::{Context, Poll, Waker};

thread_local! {
    /// The heap lent to the Dart code of the step running on this thread (see [`lend`]).
    static HEAP: RefCell<Option<Box<Heap>>> = const { RefCell::new(None) };
}

/// Run `f` with `heap` lent to the Dart code: every [`Dart::with`] inside `f` works on it.
/// Gives the heap back with `f`'s result. The heap lent before, if any, is lent again after.
/// Boxed, so that lending it moves a pointer, not the heap.
pub fn lend<R>(heap: Box<Heap>, f: impl FnOnce() -> R) -> (Box<Heap>, R) {
    let before = HEAP.replace(Some(heap));
    let r = f();
    let heap = HEAP.replace(before).expect("the heap lent above is still lent");
    (heap, r)
}

/// A task: a started Dart async call, suspended at an await.
pub type Task = Pin<Box<dyn Future<Output = ()> + Send>>;

/// The index of a task in the heap's task table (stable within a run).
pub type TaskId = u32;

/// What a suspended task waits for.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Wait {
    /// An I/O future: a window from the tape.
    Io,
    /// A platform call on connection `pc`, queued behind its earlier calls.
    Platform(u16),
    /// A fixed number of ticks (`microtask = "tick"`).
    Ticks(u64),
    /// The state machine's turn: an operation buffered behind a transition in progress.
    Turn,
}

/// A handle on the app's heap: the ConnectionManager, the WebRTCService, the signaling
/// clients and the peer connections. Every task holds one; code touches the heap only
/// between awaits, through [`Dart::with`], as Dart code runs between two awaits atomically.
/// The heap is the one [`lend`] lent for the step.
#[derive(Clone, Copy, Debug, Default)]
pub struct Dart;

impl Dart {
    /// Run synchronous code on the heap. Not from inside another `with` (as the lock it
    /// replaces would have deadlocked, the heap's `RefCell` panics).
    pub fn with<R>(&self, f: impl FnOnce(&mut Heap) -> R) -> R {
        HEAP.with_borrow_mut(|heap| f(heap.as_mut().expect("Dart code runs while a heap is lent (dart::lend)")))
    }

    /// Call an async method without awaiting it: it runs now up to its first await, then
    /// the caller goes on (Dart's semantics for an un-awaited call).
    pub fn spawn(&self, fut: impl Future<Output = ()> + Send + 'static) {
        let id = self.with(|h| {
            h.tasks.push(None);
            (h.tasks.len() - 1) as TaskId
        });
        self.poll(id, Box::pin(fut));
    }

    /// The await task `id` was suspended at completed: run it to its next await.
    pub fn resume(&self, id: TaskId) {
        let task = self.with(|h| h.tasks.get_mut(id as usize).and_then(Option::take));
        if let Some(task) = task {
            self.poll(id, task);
        }
    }

    fn poll(&self, id: TaskId, mut task: Task) {
        let outer = self.with(|h| std::mem::replace(&mut h.current, id));
        let done = task.as_mut().poll(&mut Context::from_waker(Waker::noop())).is_ready();
        self.with(|h| {
            h.current = outer;
            if !done {
                h.tasks[id as usize] = Some(task);
            }
        });
    }
}

/// The leaf of every await: parks the current task on its first poll, completes on the second.
struct Park {
    dart: Dart,
    wait: Option<Wait>,
}

impl Future for Park {
    type Output = ();

    fn poll(mut self: Pin<&mut Self>, _: &mut Context<'_>) -> Poll<()> {
        match self.wait.take() {
            Some(wait) => {
                self.dart.with(|h| h.park(wait));
                Poll::Pending
            }
            None => Poll::Ready(()),
        }
    }
}

/// `await` an I/O future: resumes on a later tick, after a window the tape picks.
pub async fn io(d: &Dart) {
    Park { dart: *d, wait: Some(Wait::Io) }.await;
}

/// `await` a platform call on connection `pc`: completes after the connection's earlier
/// calls, a window later.
pub async fn platform(d: &Dart, pc: u16) {
    Park { dart: *d, wait: Some(Wait::Platform(pc)) }.await;
}

/// `await` an already-complete future: a microtask (see the module docs).
pub async fn micro(d: &Dart) {
    if d.with(|h| h.params.microtask_ticks) {
        Park { dart: *d, wait: Some(Wait::Ticks(1)) }.await;
    }
}

/// Wait until the state machine hands this operation its turn (`state_machine` only).
pub async fn turn(d: &Dart) {
    Park { dart: *d, wait: Some(Wait::Turn) }.await;
}
