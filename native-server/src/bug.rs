//! A bug's report, as redis-server prints one (debug.c's serverPanic and bug report), but
//! once per distinct place. The engine contains a panic to the command (or the connection)
//! it happened in and the loop goes on, so a client repeating the command must not fill
//! the log with backtraces: later panics at a place already reported add one line each,
//! and only at powers of two.

use std::collections::HashMap;
use std::sync::Mutex;

static SEEN: Mutex<Option<HashMap<String, u64>>> = Mutex::new(None);

/// Makes the report the process's panic hook.
pub fn install() {
    std::panic::set_hook(Box::new(|info| {
        let place = info.location().map_or_else(|| "unknown".to_string(), |l| format!("{}:{}", l.file(), l.line()));
        let message = cinnabar::panic::message(info.payload());
        let times = {
            let mut seen = SEEN.lock().unwrap_or_else(|p| p.into_inner());
            let n = seen.get_or_insert_with(HashMap::new).entry(place.clone()).or_insert(0);
            *n += 1;
            *n
        };
        let pid = std::process::id();
        if times > 1 {
            if times.is_power_of_two() {
                eprintln!("{}:M # The bug at {} happened again ({} times so far): {}", pid, place, times, message);
            }
            return;
        }
        let thread = std::thread::current().name().unwrap_or("unnamed").to_string();
        let backtrace = std::backtrace::Backtrace::force_capture();
        eprintln!(
            "\n\n=== CINNABAR BUG REPORT START: Cut & paste starting from here ===\n\
             {pid}:M # ------------------------------------------------\n\
             {pid}:M # !!! Software Failure. Press left mouse button to continue\n\
             {pid}:M # Guru Meditation: {message} #{place}\n\
             {pid}:M # thread: {thread}\n\n\
             ------ STACK TRACE ------\n{backtrace}\n\
             ------ CONTAINED ------\n\
             Only the command (or the one connection) it happened in failed; the server keeps serving.\n\
             Further panics at {place} are counted, not reported again.\n\n\
             === CINNABAR BUG REPORT END. Make sure to include from START to END. ===\n\n"
        );
    }));
}
