//! Where JS and the engine exchange bytes without a boundary call per value: the io words
//! JS reads, and the argument area JS writes commands into.

use bytes::{Bytes, BytesMut};

/// What JS reads after each call (www/src/wire.js reads the words in this order).
#[repr(C)]
#[derive(Default)]
pub struct Io {
    pub arg_ptr: u32,
    pub arg_cap: u32,
    pub out_ptr: u32,
    pub out_len: u32,
    /// Whether the engine has events for the host: checked after every command without a
    /// boundary call.
    pub events: u32,
    /// What the host's journal must take (checked after every call, the one test a command
    /// that wrote nothing costs): `JOURNAL_AOF` when AOF text is pending (`aof_ptr`,
    /// `aof_len`), `JOURNAL_CONFIG` when the configuration (or the ACL users) changed since
    /// the host last took `configText`.
    pub journal: u32,
    pub aof_ptr: u32,
    pub aof_len: u32,
    /// Written by JS: how many bytes at the front of the pending AOF text it has copied. The
    /// next call drops them before it publishes the rest, so the text is taken without a
    /// boundary call, and bytes JS has not copied stay until it does.
    pub aof_taken: u32,
}

pub const JOURNAL_AOF: u32 = 1;
pub const JOURNAL_CONFIG: u32 = 2;

/// Buffers above this are given back after the call that needed them (a huge value, a
/// long KEYS reply), so one big command does not hold its memory for good.
pub const KEEP: usize = 64 * 1024;

/// The size the argument area is made whenever fewer bytes than this are left: room for
/// most commands, and for hundreds of them before the area is reused.
const AREA: usize = 16 * 1024;

/// The argument area: the unused capacity of one buffer, which JS fills and `take` turns
/// into shared bytes (arguments are slices of it, no copy each). Once nothing holds a slice
/// any more (the usual case: commands copy what they keep), the area starts over at the
/// front of the same allocation.
#[derive(Default)]
pub struct Args {
    buf: BytesMut,
}

impl Args {
    /// Room for at least `n` bytes.
    pub fn reserve(&mut self, n: usize) {
        if self.buf.capacity() < n {
            self.grow(n);
        }
    }

    /// Enough room for the next command, and nothing larger than it needs kept.
    pub fn ready(&mut self) {
        if self.buf.capacity() > KEEP.max(AREA) {
            self.buf = BytesMut::new();
        }
        if self.buf.capacity() < AREA / 4 {
            self.grow(AREA);
        }
    }

    fn grow(&mut self, n: usize) {
        self.buf.reserve(n);
        // Zeroed once per allocation: the area is handed out as initialised bytes.
        let cap = self.buf.capacity();
        self.buf.resize(cap, 0);
        self.buf.clear();
    }

    /// Where JS may write, and how many bytes.
    pub fn area(&mut self) -> (u32, u32) {
        (self.buf.as_mut_ptr() as u32, self.buf.capacity() as u32)
    }

    /// The first `len` bytes JS wrote, as shared bytes; None if `len` overruns the area.
    pub fn take(&mut self, len: u32) -> Option<Bytes> {
        let len = len as usize;
        if len > self.buf.capacity() {
            return None;
        }
        // SAFETY: the area's bytes were initialised by `grow` (zeros, then whatever JS
        // wrote) and `len` is within its capacity.
        unsafe { self.buf.set_len(len) };
        Some(self.buf.split().freeze())
    }
}
