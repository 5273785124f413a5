//! The server's persistence files: snapshots written in place (SAVE, SHUTDOWN) or by a
//! forked child (BGSAVE, save points) while the parent keeps serving, and the dataset read
//! at startup while clients are told LOADING. The core keeps the bookkeeping (see
//! `cinnabar::persistence`); this file does the files, the fork and the waiting.
//! Redis: rdb.c (rdbSave, rdbSaveBackground, rdbRemoveTempFile), server.c (redisFork,
//! checkChildrenDone, loadDataFromDisk), childinfo.c (the child's copy-on-write report).
//!
//! A snapshot is always written as Redis writes one: to `temp-<pid>.rdb` in `dir`, fsynced,
//! renamed over `dbfilename`, and the directory fsynced, so a crash leaves either the old
//! file or the new one, never half of one.
//!
//! Fork. The child gets a copy-on-write image of the parent's memory, including the engine
//! the forking thread holds locked: it serialises that copy (`rdb_snapshot`), writes the
//! file, reports through a pipe and `_exit`s. Only the forking thread exists in the child,
//! so it must not touch what other threads may have held at the fork: no stdout (its
//! lock), nothing but the engine, the allocator (glibc's fork makes malloc usable in the
//! child) and plain system calls. A reaper thread per child waits for it and reports to
//! the loop.

use cinnabar::HostReport;
use std::io::Read;
use std::os::fd::{FromRawFd, RawFd};
use std::path::{Path, PathBuf};
use std::sync::{Condvar, Mutex};
use std::time::{Duration, Instant};

use cinnabar::persistence::{ChildExit, Forked};
use cinnabar::{ClientId, Engine};

use crate::files::{strerror as reason, Step};
use crate::host::now_us;
use crate::server::{Notifier, Server};

/// The background save child, as the parent tracks it.
struct Child {
    pid: libc::pid_t,
    dir: PathBuf,
    /// Set by the reaper once the child is gone.
    exit: Option<ChildExit>,
}

/// The running child (at most one), and a signal for whoever waits for it to end.
#[derive(Default)]
pub struct Children {
    child: Mutex<Option<Child>>,
    ended: Condvar,
}

impl Children {
    /// A background save child runs.
    pub fn active(&self) -> bool {
        self.child.lock().unwrap_or_else(|p| p.into_inner()).as_ref().is_some_and(|c| c.exit.is_none())
    }
}

/// Where snapshots live: `dir` (the working directory when empty) and `dbfilename`.
pub fn snapshot_paths(engine: &Engine) -> (PathBuf, PathBuf) {
    let cfg = engine.config();
    let dir = PathBuf::from(Some(cfg.get(cinnabar::param!("dir"))).filter(|d| !d.is_empty()).unwrap_or("."));
    let file = dir.join(cfg.get(cinnabar::param!("dbfilename")));
    (dir, file)
}

/// rdbSave's file work: the snapshot into `dir/temp-<pid>.rdb`, fsync, rename over the
/// snapshot file, fsync of the directory. On failure the temp file is removed and the error
/// is Redis's log line.
fn write_snapshot(bytes: &[u8], dir: &Path, file: &Path, pid: u32) -> Result<(), String> {
    let tmp_name = format!("temp-{}.rdb", pid);
    let root = || std::fs::canonicalize(dir).map(|p| p.display().to_string()).unwrap_or_else(|_| "unknown".into());
    crate::files::replace(file, &dir.join(&tmp_name), bytes).map_err(|(step, e)| match step {
        Step::Create => format!("Failed opening the temp RDB file {} (in server root dir {}) for saving: {}", tmp_name, root(), reason(&e)),
        Step::Write => format!("Write error saving DB on disk(rdbSaveRio): {}", reason(&e)),
        Step::Fsync => format!("Write error saving DB on disk(fsync): {}", reason(&e)),
        Step::Rename => {
            let name = file.file_name().map(|n| n.to_string_lossy().into_owned()).unwrap_or_default();
            format!("Error moving temp DB file {} on the final destination {} (in server root dir {}): {}", tmp_name, name, root(), reason(&e))
        }
        // The rename is durable only once the directory entry is (fsyncFileDir).
        Step::SyncDir => format!("Write error saving DB on disk(fsyncFileDir): {}", reason(&e)),
    })
}

/// A snapshot written now, in this process (SAVE, DEBUG RELOAD, SHUTDOWN, and every save
/// of a host that cannot fork).
pub fn save(engine: &Engine) -> Result<(), String> {
    let (dir, file) = snapshot_paths(engine);
    write_snapshot(&engine.rdb_snapshot(), &dir, &file, std::process::id())?;
    serverlog!(Notice, "DB saved on disk");
    Ok(())
}

/// `Event::BackgroundSave`: fork (on the loop thread, so the child's copy of the engine is
/// between two commands), tell the engine how the fork went, and leave a thread waiting
/// for the child.
pub fn bgsave(server: &mut Server) {
    let engine = &mut server.engine;
    let (dir, file) = snapshot_paths(engine);
    let mut pipe: [RawFd; 2] = [-1, -1];
    // SAFETY: pipe2 fills the two descriptors it is given room for.
    if unsafe { libc::pipe2(pipe.as_mut_ptr(), libc::O_CLOEXEC) } != 0 {
        let e = std::io::Error::last_os_error();
        serverlog!(Warning, "Can't save in background: pipe: {}", reason(&e));
        engine.report(HostReport::BgsaveStarted { forked: Err(reason(&e)), now_us: now_us() });
        return;
    }
    let start = Instant::now();
    // SAFETY: the child runs only `child_main`, which keeps to the engine (its own copy),
    // the allocator and system calls, and leaves with _exit.
    let pid = unsafe { libc::fork() };
    if pid == 0 {
        child_main(engine, &dir, &file, pipe[0], pipe[1]);
    }
    let fork_usec = start.elapsed().as_micros() as u64;
    // SAFETY: the parent's copy of the write end; the child holds its own.
    unsafe { libc::close(pipe[1]) };
    if pid < 0 {
        let e = std::io::Error::last_os_error();
        // SAFETY: the read end is ours and no longer needed.
        unsafe { libc::close(pipe[0]) };
        serverlog!(Warning, "Can't save in background: fork: {}", reason(&e));
        engine.report(HostReport::BgsaveStarted { forked: Err(reason(&e)), now_us: now_us() });
        return;
    }
    serverlog!(Notice, "Background saving started by pid {}", pid);
    engine.report(HostReport::BgsaveStarted { forked: Ok(Forked { pid: pid as u32, fork_usec }), now_us: now_us() });
    *server.children.child.lock().unwrap_or_else(|p| p.into_inner()) = Some(Child { pid, dir, exit: None });
    // SAFETY: the read end is ours alone from here; the File closes it.
    let report = unsafe { std::fs::File::from_raw_fd(pipe[0]) };
    let (children, notifier) = (server.children.clone(), server.notifier());
    let spawned = std::thread::Builder::new().name("rdb-child".into()).spawn(move || reap(&children, &notifier, pid, report));
    if let Err(e) = spawned {
        serverlog!(Warning, "Can't watch the background save child {}: {}", pid, e);
    }
}

/// The child: serialise the copy of the dataset, write it, report, exit. Never returns.
fn child_main(engine: &Engine, dir: &Path, file: &Path, read_end: RawFd, write_end: RawFd) -> ! {
    // SAFETY: plain system calls on this process's own descriptors and signal dispositions.
    unsafe {
        libc::close(read_end);
        // The parent's handlers write to descriptors the child is about to close:
        // a SIGTERM or SIGUSR1 (the parent's kill) must end the child.
        for sig in [libc::SIGTERM, libc::SIGINT, libc::SIGUSR1] {
            libc::signal(sig, libc::SIG_DFL);
        }
    }
    close_inherited(write_end);
    crate::process::oom_for_child(engine);
    // Whatever happens, the child leaves through _exit below, never by unwinding into the
    // parent's code.
    let result = std::panic::catch_unwind(std::panic::AssertUnwindSafe(|| {
        // The buffer is freed when this closure returns, before measuring, so what is left
        // private to the child is what copy-on-write cost (pages either side wrote since).
        let bytes = engine.rdb_snapshot();
        write_snapshot(&bytes, dir, file, std::process::id())
    }))
    .unwrap_or_else(|_| Err("the snapshot could not be serialised".into()));
    let msg = match &result {
        Ok(()) => format!("ok {}\n", private_dirty_bytes()),
        Err(e) => format!("err {}\n", e),
    };
    // SAFETY: writes a small message (well under the pipe's buffer) and exits without
    // running the parent's atexit handlers or destructors.
    unsafe {
        libc::write(write_end, msg.as_ptr().cast(), msg.len());
        libc::_exit(if result.is_ok() { 0 } else { 1 });
    }
}

/// Closes every descriptor the child inherited except stdio and `keep`: listening and
/// client sockets stay with the parent alone, so a parent that exits frees its port and
/// its clients see their connections close at once, whatever the child still does.
pub(crate) fn close_inherited(keep: RawFd) {
    let fds: Vec<RawFd> = match std::fs::read_dir("/proc/self/fd") {
        Ok(dir) => dir.filter_map(|e| e.ok()?.file_name().to_str()?.parse().ok()).collect(),
        Err(_) => return,
    };
    for fd in fds {
        if fd > 2 && fd != keep {
            // SAFETY: the child owns nothing behind these descriptors that it still uses.
            unsafe { libc::close(fd) };
        }
    }
}

/// The process's private dirty memory (zmalloc_get_private_dirty), from smaps_rollup.
fn private_dirty_bytes() -> u64 {
    let Ok(text) = std::fs::read_to_string("/proc/self/smaps_rollup") else {
        return 0;
    };
    text.lines().filter_map(|l| l.strip_prefix("Private_Dirty:")).filter_map(|v| v.trim().trim_end_matches("kB").trim().parse::<u64>().ok()).sum::<u64>() * 1024
}

/// The reaper: waits for the child, reads its report, records how it ended (waking a
/// SHUTDOWN that waits for it), then has the loop report to the engine unless someone
/// already did.
fn reap(children: &Children, notifier: &Notifier, pid: libc::pid_t, mut report: std::fs::File) {
    let mut status = 0;
    loop {
        // SAFETY: waits for our own child.
        let r = unsafe { libc::waitpid(pid, &mut status, 0) };
        if r == pid {
            break;
        }
        if r < 0 && std::io::Error::last_os_error().kind() != std::io::ErrorKind::Interrupted {
            serverlog!(Warning, "waitpid() returned an error: {}. child_type: RDB, child_pid = {}", std::io::Error::last_os_error(), pid);
            status = 1 << 8;
            break;
        }
    }
    let mut msg = String::new();
    let _ = report.read_to_string(&mut msg);
    let exit = if libc::WIFEXITED(status) && libc::WEXITSTATUS(status) == 0 {
        let cow_bytes = msg.trim().strip_prefix("ok ").and_then(|n| n.parse().ok()).unwrap_or(0);
        serverlog!(Notice, "Background saving terminated with success");
        serverlog!(Notice, "Fork CoW for RDB: current {} MB, peak {0} MB, average {0} MB", cow_bytes >> 20);
        ChildExit::Saved { cow_bytes }
    } else if libc::WIFSIGNALED(status) {
        let sig = libc::WTERMSIG(status);
        serverlog!(Warning, "Background saving terminated by signal {}", sig);
        ChildExit::Killed { on_purpose: sig == libc::SIGUSR1 }
    } else {
        if let Some(why) = msg.trim().strip_prefix("err ") {
            serverlog!(Warning, "{}", why);
        }
        serverlog!(Warning, "Background saving error");
        ChildExit::Failed
    };
    {
        let mut slot = children.child.lock().unwrap_or_else(|p| p.into_inner());
        match slot.as_mut() {
            Some(c) if c.pid == pid => c.exit = Some(exit),
            _ => return,
        }
        children.ended.notify_all();
    }
    notifier.send(Box::new(move |server: &mut Server| {
        let taken = server.children.child.lock().unwrap_or_else(|p| p.into_inner()).take_if(|c| c.pid == pid);
        let Some(child) = taken else { return };
        if let ChildExit::Killed { .. } = exit {
            remove_temp(&child);
        }
        server.engine.report(HostReport::BgsaveFinished { exit, now_us: now_us() });
    }));
}

/// rdbRemoveTempFile: what a child killed mid-save left behind.
fn remove_temp(child: &Child) {
    let _ = std::fs::remove_file(child.dir.join(format!("temp-{}.rdb", child.pid)));
}

/// SHUTDOWN's first step, FLUSHALL: a running save child is killed and waited for (so it
/// cannot rename its file over a newer snapshot), its temp file removed, and the engine
/// told.
pub fn kill_child(children: &Children, engine: &mut Engine) {
    let mut slot = children.child.lock().unwrap_or_else(|p| p.into_inner());
    let Some(child) = slot.as_ref() else { return };
    if child.exit.is_none() {
        serverlog!(Notice, "There is a child saving an .rdb. Killing it!");
        // SAFETY: signals our own child.
        unsafe { libc::kill(child.pid, libc::SIGUSR1) };
        // The reaper records the exit without the engine lock, so waiting here is safe.
        slot = children
            .ended
            .wait_timeout_while(slot, Duration::from_secs(10), |s| s.as_ref().is_some_and(|c| c.exit.is_none()))
            .map(|(g, _)| g)
            .unwrap_or_else(|p| p.into_inner().0);
    }
    let Some(child) = slot.take() else { return };
    drop(slot);
    remove_temp(&child);
    engine.report(HostReport::BgsaveFinished { exit: child.exit.unwrap_or(ChildExit::Killed { on_purpose: true }), now_us: now_us() });
}

/// At exit without SHUTDOWN's path (SHUTDOWN NOSAVE while a script is busy): the child
/// must not outlive the server and write a file nobody asked for any more.
pub fn kill_child_now(children: &Children) {
    if let Some(child) = children.child.lock().unwrap_or_else(|p| p.into_inner()).as_ref() {
        // SAFETY: signals our own child.
        unsafe { libc::kill(child.pid, libc::SIGUSR1) };
        remove_temp(child);
    }
}

/// SHUTDOWN (and SIGTERM): kill a running save child, then save in place when asked or
/// when save points are set. False when that save failed (the server stays up).
pub fn shutdown(children: &Children, engine: &mut Engine, save_flag: Option<bool>) -> bool {
    kill_child(children, engine);
    crate::ldb::kill_sessions();
    let wanted = save_flag.unwrap_or_else(|| !engine.config().get(cinnabar::param!("save")).trim().is_empty()) && !engine.is_loading();
    if wanted {
        serverlog!(Notice, "Saving the final RDB snapshot before exiting.");
        if let Err(e) = save(engine) {
            serverlog!(Warning, "{}", e);
            serverlog!(Warning, "Error trying to save the DB, can't exit.");
            return false;
        }
    }
    true
}

/// Runs `load` against an empty engine of the same configuration on its own thread, while
/// the server's engine answers LOADING to commands that cannot run during a load (INFO,
/// CONFIG and the others Redis allows still run); then the loop moves the loaded data in
/// and runs `then`. A loader that fails ends the server, as Redis does. Redis serves events
/// during a load only every loading-process-events-interval-bytes (2 MB) read, so a smaller
/// dataset is loaded before any client is answered: so it is here.
pub fn load_in_background<T, F, G>(server: &mut Server, total_bytes: u64, load: F, then: G)
where
    T: Send + 'static,
    F: FnOnce(&mut Engine) -> Result<(String, T), String> + Send + 'static,
    G: FnOnce(&mut Server, T) + Send + 'static,
{
    let mut loader = server.engine.begin_loading(total_bytes, now_us());
    let notifier = server.notifier();
    let spawned = std::thread::Builder::new().name("loader".into()).spawn(move || {
        let start = Instant::now();
        match load(&mut loader) {
            Ok((what, extra)) => notifier.send(Box::new(move |server: &mut Server| {
                server.engine.end_loading(Some(loader));
                // Nothing runs between the data arriving and `then`.
                then(server, extra);
                serverlog!(Notice, "{}: {:.3} seconds", what, start.elapsed().as_secs_f64());
            })),
            Err(e) => {
                serverlog!(Warning, "{}", e);
                std::process::exit(1);
            }
        }
    });
    let loader = spawned.unwrap_or_else(|e| {
        serverlog!(Warning, "Can't start loading the dataset: {}", e);
        std::process::exit(1);
    });
    if total_bytes < LOAD_EVENTS_INTERVAL {
        let _ = loader.join();
        server.drain_messages();
    }
}

const LOAD_EVENTS_INTERVAL: u64 = 2 * 1024 * 1024;

/// A snapshot whose value fails rdbLoadObject's checks ends the server as Redis ends it
/// (rdbReportError): the reason, the file checked (redis-check-rdb's report of it), then
/// "Terminating server after rdb file reading failure.". None for other failures.
fn corrupt_file(file: &Path, e: &str) -> Option<String> {
    // A wrong checksum is said first, then reported as the CRC error it is.
    let reason = if e.starts_with("Wrong RDB checksum") {
        serverlog!(Warning, "{}", e);
        "RDB CRC error"
    } else {
        e
    };
    let line = cinnabar::rdb::load::report_line(reason, 0);
    if line.contains("rdb.c:0 ") {
        return None;
    }
    serverlog!(Warning, "{}", line);
    serverlog!(Warning, "[offset 0] Checking RDB file {}", file.file_name().map_or(String::new(), |n| n.to_string_lossy().into_owned()));
    serverlog!(Warning, "--- RDB ERROR DETECTED ---");
    serverlog!(Warning, "[offset 0] {}", reason);
    Some("Terminating server after rdb file reading failure.".to_string())
}

/// loadDataFromDisk: the snapshot in `dir`/`dbfilename`, if there is one, loaded in the
/// background. A file that cannot be read or parsed is fatal rather than silently starting
/// empty (and later overwriting it).
pub fn load_at_startup(server: &mut Server) {
    let (_, file) = snapshot_paths(&server.engine);
    let size = match std::fs::metadata(&file) {
        Ok(m) => m.len(),
        Err(e) if e.kind() == std::io::ErrorKind::NotFound => return,
        Err(e) => {
            serverlog!(Warning, "Fatal error loading the DB ({}): {}. Exiting.", file.display(), reason(&e));
            std::process::exit(1);
        }
    };
    load_in_background(
        server,
        size,
        move |engine| {
            let fatal = |e: String| format!("Fatal error loading the DB ({}): {}. Exiting.", file.display(), e);
            let bytes = std::fs::read(&file).map_err(|e| fatal(reason(&e)))?;
            let keys = engine.rdb_load(&bytes).map_err(|e| corrupt_file(&file, &e).unwrap_or_else(|| fatal(e)))?;
            Ok((format!("DB loaded from disk ({} keys)", keys), ()))
        },
        |_, ()| {},
    );
}

/// loadDataFromDisk with `appendonly yes`: the AOF's files replayed behind LOADING as an
/// RDB is, then (with the data in) the AOF opened for appends. The RDB is not read.
pub fn load_aof_at_startup(server: &mut Server, aof: crate::aof::Aof) {
    let size = aof.files_size();
    load_in_background(
        server,
        size,
        move |engine| {
            let mut aof = aof;
            aof.load(engine)?;
            Ok(("DB loaded from append only file".to_string(), aof))
        },
        |server, aof| match aof.open(&mut server.engine) {
            Ok(aof) => server.aof = Some(aof),
            Err(e) => {
                serverlog!(Warning, "{}", e);
                std::process::exit(1);
            }
        },
    );
}

/// CONFIG REWRITE (rewriteConfigOverwriteFile), off the loop: a thread reads the config file
/// the server started with (a missing one reads as empty), turns it into the new text with
/// the rewriter the engine gave (its config and users as they were at the command), writes
/// it beside the old one, fsyncs and renames it over; the loop reports the outcome. The error
/// is the system's reason, as Redis reports it (strerror).
pub fn rewrite_config(server: &mut Server, client: Option<ClientId>) {
    let path = PathBuf::from(&server.engine.host_info().config_file);
    let dir = Some(server.engine.config().get(cinnabar::param!("dir"))).filter(|d| !d.is_empty()).unwrap_or(".").to_string();
    let rewrite = server.engine.config_rewriter();
    let notifier = server.notifier();
    let work = move || -> Result<(), String> {
        let old = match std::fs::read(&path) {
            Ok(b) => String::from_utf8_lossy(&b).into_owned(),
            Err(e) if e.kind() == std::io::ErrorKind::NotFound => String::new(),
            Err(e) => return Err(reason(&e)),
        };
        let dir = std::fs::canonicalize(&dir).map(|p| p.display().to_string()).unwrap_or(dir);
        let text = rewrite(&old, &dir);
        let tmp = path.with_file_name(format!("{}.{}.tmp", path.file_name().map(|n| n.to_string_lossy().into_owned()).unwrap_or_default(), std::process::id()));
        crate::files::replace(&path, &tmp, text.as_bytes()).map_err(|(_, e)| reason(&e))
    };
    // Inside MULTI/EXEC (no client waits) the transaction was answered OK already: the file
    // is written before that reply leaves, on the loop, as Redis always writes it.
    if client.is_none() {
        let _ = work().inspect_err(|e| serverlog!(Warning, "CONFIG REWRITE failed: {}", e));
        return;
    }
    let spawned = std::thread::Builder::new().name("config-rewrite".into()).spawn(move || {
        let result = work().inspect_err(|e| serverlog!(Warning, "CONFIG REWRITE failed: {}", e));
        notifier.send(Box::new(move |server: &mut Server| server.engine.report(HostReport::ConfigRewriteFinished { client, result })));
    });
    if let Err(e) = spawned {
        server.engine.report(HostReport::ConfigRewriteFinished { client, result: Err(e.to_string()) });
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_snapshot_replaces_the_file_through_a_temp_file() {
        let dir = std::env::temp_dir().join(format!("cinnabar-persist-{}", std::process::id()));
        let _ = std::fs::remove_dir_all(&dir);
        std::fs::create_dir_all(&dir).unwrap();
        let file = dir.join("dump.rdb");
        std::fs::write(&file, b"old").unwrap();
        write_snapshot(b"new", &dir, &file, 77).unwrap();
        assert_eq!(std::fs::read(&file).unwrap(), b"new");
        assert!(!dir.join("temp-77.rdb").exists());
        // A directory where the file should go: the rename fails, the temp file goes.
        std::fs::remove_file(&file).unwrap();
        std::fs::create_dir(&file).unwrap();
        let e = write_snapshot(b"x", &dir, &file, 78).unwrap_err();
        assert!(e.starts_with("Error moving temp DB file temp-78.rdb on the final destination dump.rdb (in server root dir "), "{}", e);
        assert!(e.ends_with("): Is a directory"), "{}", e);
        assert!(!dir.join("temp-78.rdb").exists());
        let e = write_snapshot(b"x", &dir.join("missing"), &file, 79).unwrap_err();
        assert!(e.starts_with("Failed opening the temp RDB file temp-79.rdb (in server root dir unknown) for saving: No such file or directory"), "{}", e);
        let _ = std::fs::remove_dir_all(&dir);
    }
}
