//! Locks as entities: holders and a FIFO queue of waiters.
//!
//! A mutex is asyncio.Lock: not re-entrant (a task taking a lock it holds waits for itself
//! forever), fair (a release hands the lock to the first waiter, so a newcomer cannot barge
//! past the queue), and releasable by any task. A reader-writer lock admits many readers or
//! one writer, in arrival order: a reader arriving behind a queued writer waits for it.

use super::ast::Mode;
use super::spec::LockKind;
use crate::engine::Id;
use bevy_ecs::prelude::*;
use std::collections::VecDeque;

/// Who holds a lock, in which mode, since which line of their program.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct Holder {
    /// The task instance.
    pub task: u32,
    /// How.
    pub mode: Mode,
    /// The program line that took it.
    pub line: u32,
}

/// A task waiting for a lock.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct Waiter {
    /// The task instance.
    pub task: u32,
    /// How it wants the lock.
    pub mode: Mode,
    /// The program line that asks.
    pub line: u32,
    /// Whether it is a `with` block (which releases the lock when left).
    pub with: bool,
}

/// A lock.
#[derive(Component, Clone, Debug)]
pub struct Lock {
    /// Its index in the program's lock table.
    pub ix: u16,
    /// Its stable id.
    pub id: Id,
    /// Mutex or reader-writer.
    pub kind: LockKind,
    /// Current holders (one, or several readers).
    pub holders: Vec<Holder>,
    /// Waiters in arrival order.
    pub queue: VecDeque<Waiter>,
}

impl Lock {
    /// A free lock.
    pub fn new(ix: u16, id: Id, kind: LockKind) -> Self {
        Lock { ix, id, kind, holders: Vec::new(), queue: VecDeque::new() }
    }

    fn admits(&self, mode: Mode) -> bool {
        if mode.exclusive() { self.holders.is_empty() } else { self.holders.iter().all(|h| !h.mode.exclusive()) }
    }

    /// Take the lock at once if nobody holds it in a conflicting mode and nobody waits;
    /// otherwise queue the waiter. Returns whether it was granted.
    pub fn acquire(&mut self, w: Waiter) -> bool {
        if self.queue.is_empty() && self.admits(w.mode) {
            self.holders.push(Holder { task: w.task, mode: w.mode, line: w.line });
            true
        } else {
            self.queue.push_back(w);
            false
        }
    }

    /// Release `task`'s hold. A mutex may be released by any task (asyncio does not check
    /// the owner); releasing a free lock is an error, as in asyncio. Returns the waiters
    /// that now hold the lock.
    pub fn release(&mut self, task: u32) -> Result<Vec<Waiter>, String> {
        let at = match self.kind {
            LockKind::Mutex => (!self.holders.is_empty()).then_some(0),
            LockKind::RwLock => self.holders.iter().position(|h| h.task == task),
        };
        let Some(at) = at else {
            return Err(match self.kind {
                LockKind::Mutex => "RuntimeError: Lock is not acquired".to_owned(),
                LockKind::RwLock => "RuntimeError: cannot release a lock this task does not hold".to_owned(),
            });
        };
        self.holders.remove(at);
        Ok(self.grant())
    }

    /// Hand the lock to waiters at the head of the queue while they fit.
    fn grant(&mut self) -> Vec<Waiter> {
        let mut granted = Vec::new();
        while let Some(w) = self.queue.front().copied() {
            if !self.admits(w.mode) {
                break;
            }
            self.queue.pop_front();
            self.holders.push(Holder { task: w.task, mode: w.mode, line: w.line });
            granted.push(w);
        }
        granted
    }

    /// Remove `task` from the queue (it was cancelled while waiting). Returns the waiters
    /// that now hold the lock (a reader behind a removed writer may now enter).
    pub fn withdraw(&mut self, task: u32) -> Vec<Waiter> {
        self.queue.retain(|w| w.task != task);
        self.grant()
    }

    /// The tasks `waiter` waits for: the holders in its way and the waiters queued before
    /// it whose turn comes first (edges of the wait-for graph).
    pub fn blockers(&self, task: u32) -> Vec<u32> {
        let Some(pos) = self.queue.iter().position(|w| w.task == task) else { return Vec::new() };
        let me = self.queue[pos];
        let mut out: Vec<u32> =
            self.holders.iter().filter(|h| me.mode.exclusive() || h.mode.exclusive()).map(|h| h.task).collect();
        out.extend(self.queue.iter().take(pos).filter(|w| me.mode.exclusive() || w.mode.exclusive()).map(|w| w.task));
        out.dedup();
        out
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn w(task: u32, mode: Mode) -> Waiter {
        Waiter { task, mode, line: 1, with: false }
    }

    #[test]
    fn mutex_is_fair_and_not_reentrant() {
        let mut l = Lock::new(0, Id::NONE, LockKind::Mutex);
        assert!(l.acquire(w(1, Mode::Mutex)));
        assert!(!l.acquire(w(1, Mode::Mutex)));
        assert_eq!(l.blockers(1), vec![1]);
        assert!(!l.acquire(w(2, Mode::Mutex)));
        let granted = l.release(1).unwrap_or_default();
        assert_eq!(granted.iter().map(|g| g.task).collect::<Vec<_>>(), vec![1]);
        assert!(l.release(5).is_ok());
        assert!(l.release(5).is_ok());
        assert!(l.release(5).is_err());
    }

    #[test]
    fn readers_share_writers_wait_in_order() {
        let mut l = Lock::new(0, Id::NONE, LockKind::RwLock);
        assert!(l.acquire(w(1, Mode::Read)));
        assert!(l.acquire(w(2, Mode::Read)));
        assert!(!l.acquire(w(3, Mode::Write)));
        assert!(!l.acquire(w(4, Mode::Read)));
        assert_eq!(l.blockers(4), vec![3]);
        assert_eq!(l.blockers(3), vec![1, 2]);
        assert!(l.release(1).unwrap_or_default().is_empty());
        let g = l.release(2).unwrap_or_default();
        assert_eq!(g.iter().map(|g| g.task).collect::<Vec<_>>(), vec![3]);
        let g = l.release(3).unwrap_or_default();
        assert_eq!(g.iter().map(|g| g.task).collect::<Vec<_>>(), vec![4]);
    }
}
