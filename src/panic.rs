//! What a panic (a bug) costs: the one command it happened in. `command::dispatch` runs each
//! handler, and each batch's bookkeeping, under `catch_unwind`: a handler's panic becomes that
//! command's error reply (a transaction goes on, the connection stays usable), a panic in
//! the batch around it closes that one connection, and every other client is served on. The
//! native server logs each distinct panic once, as Redis's bug report (docs/SECURITY.md).
//! In wasm a panic aborts (traps); the JS package recovers the engine instead.

/// The panic's message, from its payload (`panic!` with a literal or a format).
pub fn message(payload: &(dyn std::any::Any + Send)) -> String {
    if let Some(s) = payload.downcast_ref::<&str>() {
        s.to_string()
    } else if let Some(s) = payload.downcast_ref::<String>() {
        s.clone()
    } else {
        "panic".to_string()
    }
}

#[cfg(debug_assertions)]
thread_local! {
    static AFTER_COMMAND: std::cell::Cell<bool> = const { std::cell::Cell::new(false) };
}

/// DEBUG CINNABAR-PANIC BATCH (debug builds): the batch panics once this command is done.
#[cfg(debug_assertions)]
pub fn panic_after_command() {
    AFTER_COMMAND.with(|c| c.set(true));
}

/// Panics if a test asked for it (see `panic_after_command`).
#[cfg(debug_assertions)]
pub fn test_point() {
    if AFTER_COMMAND.with(|c| c.replace(false)) {
        panic!("DEBUG CINNABAR-PANIC BATCH asked for it");
    }
}
