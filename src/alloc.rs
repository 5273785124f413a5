//! Counted allocation where the core is the whole program: the wasm build, whose host (a
//! browser tab, an edge isolate) has no allocator to ask, and the core's own unit tests.
//! maxmemory needs the bytes the engine really holds, and only the allocator sees them all.
//! The native server counts in its own allocator (native-server/src/alloc.rs).
//!
//! In wasm there is one thread, so one counter. In tests each test thread counts what it
//! allocates and frees, so parallel tests do not see each other's memory.

#[cfg(any(target_arch = "wasm32", test))]
mod counting {
    use std::alloc::{GlobalAlloc, Layout, System};

    pub struct Counting;

    #[cfg(target_arch = "wasm32")]
    mod counter {
        use std::sync::atomic::{AtomicIsize, Ordering};
        static LIVE: AtomicIsize = AtomicIsize::new(0);
        pub fn add(n: isize) {
            LIVE.fetch_add(n, Ordering::Relaxed);
        }
        pub fn get() -> isize {
            LIVE.load(Ordering::Relaxed)
        }
    }

    #[cfg(not(target_arch = "wasm32"))]
    mod counter {
        use std::cell::Cell;
        thread_local! {
            // A const-initialised Cell has no destructor, so the allocator may use it at any
            // point of a thread's life without allocating.
            static LIVE: Cell<isize> = const { Cell::new(0) };
        }
        pub fn add(n: isize) {
            let _ = LIVE.try_with(|c| c.set(c.get() + n));
        }
        pub fn get() -> isize {
            LIVE.try_with(|c| c.get()).unwrap_or(0)
        }
    }

    // SAFETY: every method forwards to the system allocator with the caller's own arguments,
    // so the GlobalAlloc contract (layouts, pointers from this allocator) is the caller's and
    // System's; the counting beside it allocates nothing.
    unsafe impl GlobalAlloc for Counting {
        unsafe fn alloc(&self, layout: Layout) -> *mut u8 {
            // SAFETY: forwarded as received (see the impl).
            let p = unsafe { System.alloc(layout) };
            if !p.is_null() {
                counter::add(layout.size() as isize);
            }
            p
        }

        unsafe fn dealloc(&self, ptr: *mut u8, layout: Layout) {
            // SAFETY: forwarded as received (see the impl).
            unsafe { System.dealloc(ptr, layout) };
            counter::add(-(layout.size() as isize));
        }

        unsafe fn alloc_zeroed(&self, layout: Layout) -> *mut u8 {
            // SAFETY: forwarded as received (see the impl).
            let p = unsafe { System.alloc_zeroed(layout) };
            if !p.is_null() {
                counter::add(layout.size() as isize);
            }
            p
        }

        unsafe fn realloc(&self, ptr: *mut u8, layout: Layout, new_size: usize) -> *mut u8 {
            // SAFETY: forwarded as received (see the impl).
            let p = unsafe { System.realloc(ptr, layout, new_size) };
            if !p.is_null() {
                counter::add(new_size as isize - layout.size() as isize);
            }
            p
        }
    }

    #[global_allocator]
    static GLOBAL: Counting = Counting;

    /// Bytes allocated and not freed (by this thread, in tests).
    pub fn live_bytes() -> u64 {
        counter::get().max(0) as u64
    }
}

#[cfg(any(target_arch = "wasm32", test))]
pub use counting::live_bytes;
