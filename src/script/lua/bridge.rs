//! How Lua's native functions (redis.call, the count hook, math.random) reach the
//! invocation that is running. rilua's native functions are plain `fn(&mut LuaState)`
//! pointers with no room for a context, so the running invocation is published in a
//! thread-local for exactly the duration of the call into Lua.

use std::cell::Cell;
use std::ptr;

use crate::script::Invocation;

thread_local! {
    static CURRENT: Cell<*mut ()> = const { Cell::new(ptr::null_mut()) };
}

/// Runs `f` with `inv` reachable through `with`. Restores whatever was published before,
/// also when `f` unwinds, so a nested or failed run never leaves a dangling pointer behind.
pub fn enter<R>(inv: &mut Invocation<'_>, f: impl FnOnce() -> R) -> R {
    struct Restore(*mut ());
    impl Drop for Restore {
        fn drop(&mut self) {
            CURRENT.with(|c| c.set(self.0));
        }
    }
    let prev = CURRENT.with(|c| c.replace(ptr::from_mut(inv).cast::<()>()));
    let _restore = Restore(prev);
    f()
}

/// The running invocation, or `None` outside a script run (Redis answers "... can only be
/// called inside a script invocation"). The pointer is withdrawn while `f` runs, so a
/// re-entrant call sees no invocation instead of a second mutable alias.
pub fn with<R>(f: impl FnOnce(&mut Invocation<'_>) -> R) -> Option<R> {
    let p = CURRENT.with(|c| c.replace(ptr::null_mut()));
    if p.is_null() {
        return None;
    }
    struct Restore(*mut ());
    impl Drop for Restore {
        fn drop(&mut self) {
            CURRENT.with(|c| c.set(self.0));
        }
    }
    let _restore = Restore(p);
    // SAFETY: `p` was published by `enter` from a `&mut Invocation` that outlives the call
    // `enter` is running (the pointer is restored to the previous value before `enter`
    // returns), and it is withdrawn from the thread-local while this borrow lives, so no
    // other reference to the invocation exists meanwhile.
    let inv = unsafe { &mut *p.cast::<Invocation<'static>>() };
    Some(f(inv))
}
