//! `io-threads N`: N-1 threads that read and parse requests, and write replies, for the
//! loop, as Redis 6's threaded I/O and Valkey's io_threads.c do. The split of work is
//! theirs: only the loop thread runs commands and touches the engine; an I/O thread only
//! moves bytes between a connection's socket and its session's buffers (and parses, which
//! needs no engine). Each turn is fork-join: the loop hands the connections it has events
//! for to the threads, does its own share, and waits for all of them before it runs a
//! command, so no connection is ever touched by two threads at once.
//!
//! Like Redis, threads are used only when there is enough work to share (at least two
//! connections per thread); below that the loop does its own I/O.

use std::sync::mpsc::{channel, Receiver, Sender};

use std::os::fd::RawFd;

use cinnabar::session::Session;

use crate::conn::Read;

/// One connection's I/O job: the loop's key for it, its socket, and its session (out of
/// the connection while the job runs, as while the loop runs its commands).
pub type Job = (usize, RawFd, Box<Session>);

/// What one connection's I/O came to.
pub enum Done {
    Read(Read),
    Wrote(crate::conn::Wrote),
}

enum Work {
    Read(Vec<Job>),
    Write(Vec<Job>),
}

pub struct IoThreads {
    jobs: Vec<Sender<Work>>,
    done: Receiver<Vec<(Job, Done)>>,
}

impl IoThreads {
    /// `n` from `io-threads`: None for 1 (the loop does its own I/O).
    pub fn start(n: usize) -> Option<IoThreads> {
        if n <= 1 {
            return None;
        }
        let (done_tx, done) = channel();
        let jobs = (1..n)
            .map(|i| {
                let (tx, rx) = channel::<Work>();
                let done_tx = done_tx.clone();
                std::thread::Builder::new()
                    .name(format!("io_thd_{}", i))
                    .spawn(move || {
                        for work in rx {
                            if done_tx.send(run(work)).is_err() {
                                return;
                            }
                        }
                    })
                    .expect("spawn an I/O thread");
                tx
            })
            .collect();
        Some(IoThreads { jobs, done })
    }

    /// Whether `pending` connections are worth sharing out.
    pub fn worth_it(&self, pending: usize) -> bool {
        pending >= 2 * (self.jobs.len() + 1)
    }

    /// Reads (and parses) every connection, in parallel; returns them with what each read
    /// found, in no particular order.
    pub fn read(&self, conns: Vec<Job>) -> Vec<(Job, Done)> {
        self.share(conns, Work::Read)
    }

    /// Writes every connection's replies, in parallel.
    pub fn write(&self, conns: Vec<Job>) -> Vec<(Job, Done)> {
        self.share(conns, Work::Write)
    }

    fn share(&self, conns: Vec<Job>, work: fn(Vec<Job>) -> Work) -> Vec<(Job, Done)> {
        let parts = self.jobs.len() + 1;
        let mut shares: Vec<Vec<Job>> = (0..parts).map(|_| Vec::new()).collect();
        for (i, c) in conns.into_iter().enumerate() {
            shares[i % parts].push(c);
        }
        let mine = shares.pop().unwrap_or_default();
        let mut sent = 0;
        let mut out = Vec::new();
        for (tx, share) in self.jobs.iter().zip(shares) {
            if share.is_empty() {
                continue;
            }
            match tx.send(work(share)) {
                Ok(()) => sent += 1,
                // A thread that is gone (it panicked): its share is done here.
                Err(e) => out.extend(run(e.0)),
            }
        }
        out.extend(run(work(mine)));
        for _ in 0..sent {
            match self.done.recv() {
                Ok(part) => out.extend(part),
                Err(_) => break,
            }
        }
        out
    }
}

fn run(work: Work) -> Vec<(Job, Done)> {
    match work {
        Work::Read(jobs) => jobs
            .into_iter()
            .map(|(k, fd, mut s)| {
                let r = crate::conn::read(fd, &mut s, true);
                ((k, fd, s), Done::Read(r))
            })
            .collect(),
        Work::Write(jobs) => jobs
            .into_iter()
            .map(|(k, fd, mut s)| {
                let w = crate::conn::write(fd, &mut s);
                ((k, fd, s), Done::Wrote(w))
            })
            .collect(),
    }
}
