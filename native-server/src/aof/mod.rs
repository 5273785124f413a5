//! The append-only file on disk, as Redis 7 keeps it: a directory (`appenddirname`) with a
//! base file (an RDB, or commands), incremental files of commands, and a manifest naming
//! them in order. The engine produces the bytes (`Engine::take_aof`, `Engine::aof_base`)
//! and replays them (`Engine::aof_load`); this module owns the files: appending, the
//! fsync policy, the manifest, loading at startup, and rewrites.
//!
//! A rewrite never stops writes from being durable: first a new incremental file is
//! opened and the manifest (old base, old and new incremental files) is written, so every
//! command from then on is in the new file; then the new base is written to a temporary
//! file in the background; only when it is complete, synced and renamed does the manifest
//! switch to (new base, new incremental file) and the old files go. A crash at any point
//! leaves a manifest whose files are all there.

use cinnabar::HostReport;
use std::fs::{File, OpenOptions};
use std::io::Write;
use std::path::{Path, PathBuf};
use std::sync::atomic::{AtomicUsize, Ordering};
use std::sync::mpsc::{channel, Sender};
use std::sync::Arc;

use cinnabar::Engine;

mod manifest;
pub use manifest::{Manifest, Part};

#[derive(Clone, Copy, PartialEq, Debug)]
pub enum Fsync {
    Always,
    EverySec,
    No,
}

impl Fsync {
    pub fn from_config(engine: &Engine) -> Fsync {
        match engine.config().get(cinnabar::param!("appendfsync")) {
            "always" => Fsync::Always,
            "no" => Fsync::No,
            _ => Fsync::EverySec,
        }
    }
}

/// The background fsync thread (Redis's bio AOF_FSYNC): `everysec` hands it the file once a
/// second, and the loop never waits for the disk.
struct Bio {
    jobs: Sender<Arc<File>>,
    pending: Arc<AtomicUsize>,
}

impl Bio {
    fn start() -> Bio {
        let (jobs, rx) = channel::<Arc<File>>();
        let pending = Arc::new(AtomicUsize::new(0));
        let count = pending.clone();
        std::thread::Builder::new()
            .name("bio_aof".into())
            .spawn(move || {
                for f in rx {
                    let _ = f.sync_data();
                    count.fetch_sub(1, Ordering::SeqCst);
                }
            })
            .expect("spawn the AOF fsync thread");
        Bio { jobs, pending }
    }

    fn fsync(&self, f: Arc<File>) {
        self.pending.fetch_add(1, Ordering::SeqCst);
        if self.jobs.send(f).is_err() {
            self.pending.fetch_sub(1, Ordering::SeqCst);
        }
    }

    /// aofFsyncInProgress: a background fsync is queued or running.
    fn in_progress(&self) -> bool {
        self.pending.load(Ordering::SeqCst) != 0
    }
}

/// A rewrite in flight: the new base being written, and the incremental file it started.
struct Rewrite {
    /// The child writing the base (a fork: its copy of the dataset is the snapshot).
    pid: libc::pid_t,
    temp: PathBuf,
    base_name: String,
    /// The first incremental file written after the snapshot (stays in the manifest).
    first_incr_seq: u64,
}

pub struct Aof {
    dir: PathBuf,
    name: String,
    manifest: Manifest,
    /// The incremental file being appended to (None while the AOF is off but a manifest
    /// is kept, as after BGREWRITEAOF with appendonly no).
    file: Option<Arc<File>>,
    /// The background fsync thread (everysec), Redis's bio AOF_FSYNC job queue.
    bio: Bio,
    /// Unix seconds of the last fsync started (everysec: at most one a second).
    last_fsync_s: i64,
    /// Bytes written to the current file, and how many of them an fsync has covered
    /// (everysec syncs what was written even when no new write comes).
    written: u64,
    synced: u64,
    /// everysec with a background fsync still running: the write is held back, for at most
    /// two seconds, from this Unix second (aof_flush_postponed_start).
    postponed_since: i64,
    /// Writes that could not wait any longer for a running fsync (INFO aof_delayed_fsync).
    delayed_fsync: u64,
    base_size: u64,
    incr_size: u64,
    rewrite: Option<Rewrite>,
    /// Bytes a failed write left behind, written first next time.
    unwritten: Vec<u8>,
    /// AOF_WAIT_REWRITE: turned on at runtime, the AOF has no base yet. Writes go to a
    /// temporary incremental file (`temp-<name>.incr`) the manifest does not name, which the
    /// first successful rewrite renames into the manifest.
    waiting: bool,
}

fn err(e: std::io::Error) -> String {
    crate::files::strerror(&e)
}

/// The directory the server works in (`dir`).
fn work_dir(engine: &Engine) -> PathBuf {
    PathBuf::from(Some(engine.config().get(cinnabar::param!("dir"))).filter(|d| !d.is_empty()).unwrap_or("."))
}

/// Writes `bytes` to `path` through a temporary file, fsync and rename (the manifest and
/// every file a manifest names are complete or absent).
fn write_atomically(path: &Path, bytes: &[u8]) -> std::io::Result<()> {
    let tmp = path.with_file_name(format!("temp-{}", path.file_name().and_then(|n| n.to_str()).unwrap_or("aof")));
    crate::files::replace(path, &tmp, bytes).map_err(|(_, e)| e)
}

/// Makes a rename durable.
fn sync_dir(dir: &Path) {
    let _ = crate::files::sync_dir(dir);
}

impl Aof {
    fn new(engine: &Engine) -> Aof {
        let dir = work_dir(engine).join(engine.config().get(cinnabar::param!("appenddirname")));
        let name = engine.config().get(cinnabar::param!("appendfilename")).to_string();
        Aof {
            dir,
            name,
            manifest: Manifest::default(),
            file: None,
            bio: Bio::start(),
            last_fsync_s: 0,
            written: 0,
            synced: 0,
            postponed_since: 0,
            delayed_fsync: 0,
            base_size: 0,
            incr_size: 0,
            rewrite: None,
            unwritten: Vec::new(),
            waiting: false,
        }
    }

    /// getTempIncrAofName.
    fn temp_incr_name(&self) -> String {
        format!("temp-{}.incr", self.name)
    }

    /// The temporary incremental file, emptied: a rewrite about to start covers everything
    /// written to it so far.
    fn open_temp_incr(&mut self) -> std::io::Result<()> {
        let path = self.dir.join(self.temp_incr_name());
        let f = Arc::new(OpenOptions::new().create(true).write(true).truncate(true).open(&path)?);
        drop(f);
        self.open_incr(&self.temp_incr_name())
    }

    fn manifest_path(&self) -> PathBuf {
        self.dir.join(format!("{}.manifest", self.name))
    }

    fn persist_manifest(&self) -> std::io::Result<()> {
        write_atomically(&self.manifest_path(), self.manifest.render().as_bytes())
    }

    /// Startup with `appendonly yes`, first step (on the main thread): the directory, an
    /// old single-file AOF in `dir` moved in as the base, the manifest read. Then `load`
    /// replays (on the loader), then `open` starts appending (on the server's engine).
    /// Errors are Redis's fatal messages.
    pub fn prepare(engine: &Engine) -> Result<Aof, String> {
        let mut aof = Aof::new(engine);
        std::fs::create_dir_all(&aof.dir).map_err(|e| format!("Can't open or create append-only dir {}: {}", aof.dir.display(), err(e)))?;
        aof.remove_stale_temp_files();
        let manifest = aof.manifest_path();
        let old_style = work_dir(engine).join(&aof.name);
        if !manifest.exists() && old_style.is_file() {
            // aofUpgradePrepare: a Redis 6 appendonly.aof becomes the base of a manifest.
            std::fs::rename(&old_style, aof.dir.join(&aof.name))
                .map_err(|e| format!("Error trying to move the old AOF file {} into dir {}: {}", old_style.display(), aof.dir.display(), err(e)))?;
            aof.manifest.base = Some(Part { name: aof.name.clone(), seq: 1 });
            aof.persist_manifest().map_err(err)?;
            serverlog!(Notice, "Successfully migrated an old-style AOF into the AOF directory");
        }
        match std::fs::read_to_string(&manifest) {
            Ok(text) => aof.manifest = Manifest::parse(&text)?,
            Err(e) if e.kind() == std::io::ErrorKind::NotFound => {}
            Err(e) => return Err(format!("Fatal error: can't open the AOF manifest {} for reading: {}", manifest.display(), err(e))),
        }
        Ok(aof)
    }

    /// The bytes a startup load will read (for LOADING's progress and its 2 MB rule).
    pub fn files_size(&self) -> u64 {
        self.manifest.base.iter().chain(&self.manifest.incrs).filter_map(|p| std::fs::metadata(self.dir.join(&p.name)).ok()).map(|m| m.len()).sum()
    }

    /// Startup, last step (aofOpenIfNeededOnServerStart), with the replayed data in the
    /// server's engine: a base of the dataset if there was none, an incremental file if
    /// there was none, the manifest written, the last incremental file opened for appends.
    pub fn open(mut self, engine: &mut Engine) -> Result<Aof, String> {
        if self.manifest.base.is_none() && self.manifest.incrs.is_empty() {
            let seq = self.manifest.next_base_seq();
            let base = self.base_name(seq, engine);
            let bytes = engine.aof_base();
            write_atomically(&self.dir.join(&base), &bytes).map_err(|e| format!("Can't write the AOF base file {}: {}", base, err(e)))?;
            self.base_size = bytes.len() as u64;
            self.manifest.base = Some(Part { name: base, seq });
        }
        if self.manifest.incrs.is_empty() {
            let seq = self.manifest.next_incr_seq();
            self.manifest.incrs.push(Part { name: format!("{}.{}.incr.aof", self.name, seq), seq });
        }
        // The file exists before any manifest names it, so a crash between the two never
        // leaves a manifest naming a missing file (which is fatal at the next start).
        let last = self.manifest.incrs.last().expect("one at least").name.clone();
        self.open_incr(&last).map_err(|e| format!("Can't open the append-only file {}: {}", last, err(e)))?;
        self.persist_manifest().map_err(|e| format!("Can't persist the AOF manifest: {}", err(e)))?;
        self.collect_history(engine);
        engine.set_aof(true);
        engine.report(HostReport::AofNewFile);
        self.report_sizes(engine);
        Ok(self)
    }

    /// CONFIG SET appendonly yes (startAppendOnly): the AOF waits for its first rewrite
    /// (AOF_WAIT_REWRITE), writes going to a temporary incremental file meanwhile, and a
    /// rewrite makes the base from the dataset as it is now.
    pub fn enable(engine: &mut Engine) -> Result<Aof, String> {
        let mut aof = Aof::new(engine);
        std::fs::create_dir_all(&aof.dir).map_err(err)?;
        if let Ok(text) = std::fs::read_to_string(aof.manifest_path()) {
            aof.manifest = Manifest::parse(&text)?;
        }
        aof.waiting = true;
        aof.open_temp_incr().map_err(err)?;
        engine.set_aof(true);
        engine.report(HostReport::AofNewFile);
        Ok(aof)
    }

    fn base_name(&self, seq: u64, engine: &Engine) -> String {
        let ext = if engine.config().get(cinnabar::param!("aof-use-rdb-preamble")) == "no" { "aof" } else { "rdb" };
        format!("{}.{}.base.{}", self.name, seq, ext)
    }

    fn remove_stale_temp_files(&self) {
        if let Ok(entries) = std::fs::read_dir(&self.dir) {
            for e in entries.flatten() {
                if e.file_name().to_string_lossy().starts_with("temp-") {
                    let _ = std::fs::remove_file(e.path());
                }
            }
        }
    }

    /// Replays base then incremental files. A short read is forgiven only in the last file
    /// and only with `aof-load-truncated yes`: the file is cut back to its last whole
    /// command and loading goes on.
    pub fn load(&mut self, engine: &mut Engine) -> Result<(), String> {
        let mut parts: Vec<(Part, bool)> = self.manifest.base.iter().map(|p| (p.clone(), true)).collect();
        parts.extend(self.manifest.incrs.iter().map(|p| (p.clone(), false)));
        let n = parts.len();
        let start = std::time::Instant::now();
        for (i, (part, is_base)) in parts.into_iter().enumerate() {
            let path = self.dir.join(&part.name);
            let bytes = match std::fs::read(&path) {
                Ok(b) => b,
                // A file the manifest names but the disk lacks: the writes in it are lost,
                // so the server does not start (loadAppendOnlyFiles).
                Err(e) if e.kind() == std::io::ErrorKind::NotFound => {
                    return Err(format!("Unable to obtain the AOF file {} length. stat: {}", part.name, err(e)));
                }
                Err(e) => return Err(format!("Unrecoverable error reading the append only file {}: {}", part.name, err(e))),
            };
            if is_base {
                self.base_size = bytes.len() as u64;
                if bytes.starts_with(b"REDIS") {
                    serverlog!(Notice, "Reading RDB base file on AOF loading...");
                }
            } else {
                self.incr_size += bytes.len() as u64;
            }
            let loaded = engine.aof_load(&bytes, crate::host::now_us()).map_err(|e| match e {
                cinnabar::aof::LoadError::Preamble(why) => format!("Error reading the RDB base file {}, AOF loading aborted: {}", part.name, why),
                cinnabar::aof::LoadError::UnknownCommand(c) => format!("Unknown command '{}' reading the append only file {}", c, part.name),
                cinnabar::aof::LoadError::BadFormat { .. } => format!(
                    "Bad file format reading the append only file {}: make a backup of your AOF file, then use ./redis-check-aof --fix <filename.manifest>",
                    part.name
                ),
            })?;
            if let Some(valid) = loaded.truncated_at {
                if loaded.incomplete_multi {
                    serverlog!(Warning, "Revert incomplete MULTI/EXEC transaction in AOF file {}", part.name);
                }
                let truncate_ok = engine.config().get(cinnabar::param!("aof-load-truncated")) != "no";
                if i + 1 != n {
                    return Err("Fatal error: the truncated file is not the last file".into());
                }
                if !truncate_ok {
                    return Err(format!("Unexpected end of file reading the append only file {}. You can: 1) Make a backup of your AOF file, then use ./redis-check-aof --fix <filename.manifest>. 2) Alternatively you can set the 'aof-load-truncated' configuration option to yes and restart the server.", part.name));
                }
                serverlog!(Warning, "!!! Warning: short read while loading the AOF file {}!!!", part.name);
                serverlog!(Warning, "!!! Truncating the AOF {} at offset {} !!!", part.name, valid);
                let f = OpenOptions::new().write(true).open(&path).map_err(err)?;
                f.set_len(valid as u64).map_err(|e| format!("Error truncating the AOF file {}: {}", part.name, err(e)))?;
                f.sync_all().map_err(err)?;
                self.incr_size -= (bytes.len() - valid) as u64;
                serverlog!(Warning, "AOF {} loaded anyway because aof-load-truncated is enabled", part.name);
            }
            serverlog!(Notice, "DB loaded from {} file {}: {:.3} seconds", if is_base { "base" } else { "incr" }, part.name, start.elapsed().as_secs_f64());
        }
        engine.report(HostReport::LoadingFinished);
        Ok(())
    }

    fn open_incr(&mut self, name: &str) -> std::io::Result<()> {
        let f = Arc::new(OpenOptions::new().create(true).append(true).open(self.dir.join(name))?);
        sync_dir(&self.dir);
        self.file = Some(f);
        self.written = 0;
        self.synced = 0;
        Ok(())
    }

    /// Appends what the engine recorded (flushAppendOnlyFile), called once per loop turn
    /// before any reply of the turn is written. Under `always` it is on disk when this
    /// returns: one fsync for every client the turn served. Under `everysec` a background
    /// thread fsyncs at most once a second; while one still runs, the write waits (up to two
    /// seconds, then goes ahead: INFO aof_delayed_fsync), as Redis's does, so the loop never
    /// stalls behind the disk. `force` writes regardless (shutdown, turning the AOF off).
    /// `child` says a fork is running: with `no-appendfsync-on-rewrite yes` nothing is synced
    /// meanwhile. A failed write is reported to the engine (INFO, and the bytes are kept to
    /// retry); with `always` it is fatal, as in Redis.
    pub fn flush(&mut self, engine: &mut Engine, force: bool, child: bool) {
        engine.take_aof_into(&mut self.unwritten);
        let Some(f) = self.file.clone() else {
            self.unwritten.clear();
            return;
        };
        let policy = Fsync::from_config(engine);
        let now_s = crate::host::now_us() / 1_000_000;
        let in_progress = policy == Fsync::EverySec && self.bio.in_progress();
        if self.unwritten.is_empty() {
            // Written but not yet synced: its fsync comes within the second even if no
            // write follows.
            if policy == Fsync::EverySec && self.synced != self.written && now_s > self.last_fsync_s && !in_progress {
                self.fsync_in_background(&f, now_s, engine);
            }
            return;
        }
        if policy == Fsync::EverySec && in_progress && !force {
            if self.postponed_since == 0 {
                self.postponed_since = now_s;
                return;
            }
            if now_s - self.postponed_since < 2 {
                return;
            }
            self.delayed_fsync += 1;
            serverlog!(Notice, "Asynchronous AOF fsync is taking too long (disk is busy?). Writing the AOF buffer without waiting for fsync to complete, this may slow down Redis.");
        }
        self.postponed_since = 0;
        let before = f.metadata().map(|m| m.len()).ok();
        match (&*f).write_all(&self.unwritten) {
            Ok(()) => {
                let n = self.unwritten.len() as u64;
                self.unwritten.clear();
                self.written += n;
                self.incr_size += n;
                engine.report(HostReport::AofWriteResult { result: Ok(()) });
                self.report_sizes(engine);
            }
            Err(e) if policy == Fsync::Always => {
                serverlog!(Warning, "Can't recover from AOF write error when the AOF fsync policy is 'always': {}. Exiting...", err(e));
                std::process::exit(1);
            }
            Err(e) => {
                // Undo a short write so the file never holds half a command, and keep
                // everything for the next attempt.
                let why = err(e);
                serverlog!(Warning, "Error writing to the AOF file: {}", why);
                if let Some(len) = before {
                    let _ = f.set_len(len);
                }
                engine.report(HostReport::AofWriteResult { result: Err(why) });
                return;
            }
        }
        if child && engine.config().get(cinnabar::param!("no-appendfsync-on-rewrite")) == "yes" {
            return;
        }
        match policy {
            Fsync::Always => {
                if let Err(e) = f.sync_data() {
                    serverlog!(Warning, "Can't persist AOF for fsync error when the AOF fsync policy is 'always': {}. Exiting...", err(e));
                    std::process::exit(1);
                }
                self.synced = self.written;
                self.last_fsync_s = now_s;
            }
            Fsync::EverySec if now_s > self.last_fsync_s => {
                if !in_progress {
                    self.fsync_in_background(&f, now_s, engine);
                }
                self.last_fsync_s = now_s;
            }
            _ => {}
        }
    }

    /// A rewrite child runs.
    pub fn rewriting(&self) -> bool {
        self.rewrite.is_some()
    }

    fn fsync_in_background(&mut self, f: &Arc<File>, now_s: i64, engine: &mut Engine) {
        self.bio.fsync(f.clone());
        self.synced = self.written;
        self.last_fsync_s = now_s;
        engine.report(HostReport::AofFsyncState { pending: true, delayed: self.delayed_fsync });
    }

    fn report_sizes(&self, engine: &mut Engine) {
        engine.report(HostReport::AofSizes { current: self.base_size + self.incr_size, base: self.base_size });
        engine.report(HostReport::AofFsyncState { pending: self.bio.in_progress(), delayed: self.delayed_fsync });
    }

    /// Syncs everything written (shutdown, turning the AOF off).
    pub fn sync(&mut self, engine: &mut Engine) {
        self.flush(engine, true, false);
        if let Some(f) = &self.file {
            let _ = f.sync_all();
        }
    }

    /// CONFIG SET appendonly no (stopAppendOnly): the last writes are synced and the file
    /// closed; the engine stops recording, and a rewrite in progress is killed.
    pub fn disable(mut self, engine: &mut Engine) {
        self.sync(engine);
        engine.set_aof(false);
        self.kill_rewrite(engine);
        if self.waiting {
            let _ = std::fs::remove_file(self.dir.join(self.temp_incr_name()));
        }
    }

    /// Starts a rewrite (rewriteAppendOnlyFileBackground): a new incremental file and
    /// manifest first, then the new base written by a background thread from a snapshot
    /// taken now. `None` when it could not start (reported to the engine as failed).
    pub fn begin_rewrite(&mut self, engine: &mut Engine) {
        if self.rewrite.is_some() {
            return;
        }
        if let Err(e) = self.try_begin_rewrite(engine) {
            serverlog!(Warning, "Can't rewrite append only file in background: {}", e);
            engine.report(HostReport::AofRewriteFinished { ok: false, now_us: crate::host::now_us() });
        }
    }

    fn try_begin_rewrite(&mut self, engine: &mut Engine) -> Result<(), String> {
        std::fs::create_dir_all(&self.dir).map_err(err)?;
        self.flush(engine, true, false);
        let first_incr_seq = self.manifest.next_incr_seq();
        if self.waiting {
            // openNewIncrAofForAppend in AOF_WAIT_REWRITE: the temporary file starts over.
            self.open_temp_incr().map_err(err)?;
            engine.report(HostReport::AofNewFile);
            self.incr_size = 0;
        } else if self.file.is_some() {
            let name = format!("{}.{}.incr.aof", self.name, first_incr_seq);
            self.open_incr(&name).map_err(err)?;
            self.manifest.incrs.push(Part { name, seq: first_incr_seq });
            self.persist_manifest().map_err(err)?;
            engine.report(HostReport::AofNewFile);
            self.incr_size = 0;
        }
        let base_seq = self.manifest.next_base_seq();
        let base_name = self.base_name(base_seq, engine);
        // aof-rewrite-incremental-fsync: sync every 4 MB so the final sync is not one
        // huge latency spike for everything else on the disk.
        let incremental = engine.config().get(cinnabar::param!("aof-rewrite-incremental-fsync")) != "no";
        // As Redis: a child process with a copy-on-write image of the dataset serialises and
        // writes the base, so the server only pauses for the fork itself.
        let start = std::time::Instant::now();
        // SAFETY: the child runs only `rewrite_child`, which keeps to its copy of the engine,
        // the allocator and system calls, and leaves with _exit.
        let pid = unsafe { libc::fork() };
        if pid == 0 {
            rewrite_child(engine, &self.dir, incremental);
        }
        if pid < 0 {
            return Err(err(std::io::Error::last_os_error()));
        }
        engine.report(HostReport::AofForkDone { usec: start.elapsed().as_micros() as u64 });
        let temp = self.dir.join(format!("temp-rewriteaof-bg-{}.aof", pid));
        self.rewrite = Some(Rewrite { pid, temp, base_name, first_incr_seq });
        serverlog!(Notice, "Background append only file rewriting started by pid {}", pid);
        Ok(())
    }

    /// SHUTDOWN or CONFIG SET appendonly no while a rewrite runs (killAppendOnlyChild): the
    /// child is killed and its temp file removed; the manifest never named it.
    pub fn kill_rewrite(&mut self, engine: &mut Engine) {
        let Some(r) = self.rewrite.take() else { return };
        serverlog!(Notice, "Killing running AOF rewrite child: {}", r.pid);
        // SAFETY: signals and reaps our own child.
        unsafe {
            libc::kill(r.pid, libc::SIGUSR1);
            let mut status = 0;
            libc::waitpid(r.pid, &mut status, 0);
        }
        let _ = std::fs::remove_file(&r.temp);
        engine.report(HostReport::AofRewriteFinished { ok: false, now_us: crate::host::now_us() });
    }

    /// Finishes a rewrite whose base is written (backgroundRewriteDoneHandler): the base
    /// goes in place, the manifest switches to it, the old files are deleted.
    pub fn poll_rewrite(&mut self, engine: &mut Engine) {
        let Some(pid) = self.rewrite.as_ref().map(|r| r.pid) else {
            return;
        };
        let mut status = 0;
        // SAFETY: polls our own child without blocking.
        if unsafe { libc::waitpid(pid, &mut status, libc::WNOHANG) } != pid {
            return;
        }
        let Rewrite { temp, base_name, first_incr_seq, .. } = self.rewrite.take().expect("checked");
        let exited_ok = libc::WIFEXITED(status) && libc::WEXITSTATUS(status) == 0;
        let ok = exited_ok
            && match std::fs::metadata(&temp).map(|m| m.len()).map_err(err).and_then(|size| {
                let gc = !auto_gc_disabled(engine);
                self.install_base(&temp, &base_name, first_incr_seq, size, gc)
            }) {
                Ok(()) => true,
                Err(e) => {
                    serverlog!(Warning, "Error trying to rename the temporary AOF base file {} into {}: {}", temp.display(), base_name, e);
                    false
                }
            };
        if !ok {
            if libc::WIFSIGNALED(status) {
                serverlog!(Warning, "Background AOF rewrite terminated by signal {}", libc::WTERMSIG(status));
            } else if !exited_ok {
                serverlog!(Warning, "Background AOF rewrite terminated with error");
            }
            let _ = std::fs::remove_file(&temp);
        } else {
            serverlog!(Notice, "Background AOF rewrite finished successfully");
        }
        engine.report(HostReport::AofRewriteFinished { ok, now_us: crate::host::now_us() });
        if !ok && self.waiting {
            // The AOF still waits for a base: what the temporary file held goes, and the
            // rewrite is tried again (backgroundRewriteDoneHandler's cleanup).
            serverlog!(Notice, "Removing the temp incr aof file {} in the background", self.temp_incr_name());
            let _ = std::fs::remove_file(self.dir.join(self.temp_incr_name()));
            engine.schedule_aof_rewrite();
        }
        self.report_sizes(engine);
    }

    fn install_base(&mut self, temp: &Path, base_name: &str, first_incr_seq: u64, size: u64, gc: bool) -> Result<(), String> {
        std::fs::rename(temp, self.dir.join(base_name)).map_err(err)?;
        sync_dir(&self.dir);
        let base_seq = self.manifest.next_base_seq();
        // Retired files go to the head of the history, the base first and then the
        // incremental files, as Redis lists them (newest first).
        if let Some(old) = self.manifest.base.replace(Part { name: base_name.to_string(), seq: base_seq }) {
            self.manifest.history.insert(0, old);
        }
        // markRewrittenIncrAofAsHistory: the new base holds everything the files before the
        // rewrite held; with the AOF off there is no file being written, so every one goes.
        let off = self.file.is_none();
        let (keep, old): (Vec<Part>, Vec<Part>) =
            std::mem::take(&mut self.manifest.incrs).into_iter().partition(|p| !off && !self.waiting && p.seq >= first_incr_seq);
        self.manifest.history.splice(0..0, old);
        self.manifest.incrs = keep;
        if self.waiting {
            // The temporary file becomes the first incremental file of the new base (the
            // open handle follows the rename), and the AOF is on.
            let seq = self.manifest.next_incr_seq();
            let name = format!("{}.{}.incr.aof", self.name, seq);
            std::fs::rename(self.dir.join(self.temp_incr_name()), self.dir.join(&name)).map_err(err)?;
            sync_dir(&self.dir);
            self.manifest.incrs.push(Part { name, seq });
            self.waiting = false;
        }
        self.persist_manifest().map_err(err)?;
        self.base_size = size;
        if gc {
            self.delete_history();
        }
        Ok(())
    }

    /// aofDelHistoryFiles when `aof-disable-auto-gc` allows it (checked every cron turn, so
    /// turning it back off collects what piled up).
    pub fn collect_history(&mut self, engine: &Engine) {
        if !self.manifest.history.is_empty() && !auto_gc_disabled(engine) {
            self.delete_history();
        }
    }

    /// aofDelHistoryFiles: files the manifest no longer needs.
    fn delete_history(&mut self) {
        if self.manifest.history.is_empty() {
            return;
        }
        for h in std::mem::take(&mut self.manifest.history) {
            let _ = std::fs::remove_file(self.dir.join(&h.name));
        }
        let _ = self.persist_manifest();
    }
}

fn auto_gc_disabled(engine: &Engine) -> bool {
    engine.config().get_bool(cinnabar::param!("aof-disable-auto-gc"))
}

/// DEBUG LOADAOF: the AOF's last writes synced, the dataset emptied, the files the manifest
/// on disk names replayed (a damaged AOF is an error reply here, where Redis exits).
pub fn reload(engine: &mut Engine, current: Option<&mut Aof>) -> Result<(), String> {
    if let Some(a) = current {
        a.sync(engine);
    }
    let mut files = Aof::prepare(engine)?;
    if files.manifest.base.is_none() && files.manifest.incrs.is_empty() {
        return Err("There is no append only file to load".into());
    }
    engine.empty_data();
    let loaded = files.load(engine);
    engine.report(HostReport::LoadingFinished);
    serverlog!(Notice, "Append Only File loaded by DEBUG LOADAOF");
    loaded
}

/// The rewrite child: writes the new base from its copy of the dataset to
/// `temp-rewriteaof-bg-<pid>.aof`, synced, then exits. Never returns.
fn rewrite_child(engine: &Engine, dir: &Path, incremental: bool) -> ! {
    // SAFETY: resets this process's own signal dispositions.
    unsafe {
        for sig in [libc::SIGTERM, libc::SIGINT, libc::SIGUSR1] {
            libc::signal(sig, libc::SIG_DFL);
        }
    }
    crate::persist::close_inherited(-1);
    crate::process::oom_for_child(engine);
    let path = dir.join(format!("temp-rewriteaof-bg-{}.aof", std::process::id()));
    let ok = std::panic::catch_unwind(std::panic::AssertUnwindSafe(|| -> std::io::Result<()> {
        let bytes = engine.aof_base();
        let mut f = File::create(&path)?;
        for chunk in bytes.chunks(4 << 20) {
            f.write_all(chunk)?;
            if incremental {
                f.sync_data()?;
            }
        }
        f.sync_all()
    }))
    .map(|r| r.is_ok())
    .unwrap_or(false);
    // SAFETY: leaves without running the parent's destructors or atexit handlers.
    unsafe { libc::_exit(if ok { 0 } else { 1 }) }
}

/// BGREWRITEAOF with appendonly no still writes a base and a manifest (Redis does), so
/// turning the AOF on later starts from a recent base.
pub fn rewrite_while_off(engine: &mut Engine) -> Aof {
    let mut aof = Aof::new(engine);
    if let Ok(text) = std::fs::read_to_string(aof.manifest_path()) {
        aof.manifest = Manifest::parse(&text).unwrap_or_default();
    }
    aof.begin_rewrite(engine);
    aof
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn manifests_round_trip_and_bad_ones_are_refused_with_redis_texts() {
        let text = "file appendonly.aof.1.base.rdb seq 1 type b\nfile appendonly.aof.1.incr.aof seq 1 type i\nfile appendonly.aof.2.incr.aof seq 2 type i\n";
        let m = Manifest::parse(text).unwrap();
        assert_eq!(m.render(), text);
        assert_eq!(m.next_incr_seq(), 3);
        assert_eq!(m.next_base_seq(), 2);
        let e = Manifest::parse("file a seq 2 type i\nfile b seq 1 type i\n").unwrap_err();
        assert!(e.contains("at line 2") && e.contains("Found a non-monotonic sequence number"), "{}", e);
        assert!(Manifest::parse("file x/y seq 1 type b\n").unwrap_err().contains("File can't be a path"));
        assert!(Manifest::parse("file a seq 1\n").unwrap_err().contains("Invalid AOF manifest file format"));
        assert!(Manifest::parse("file a seq 1 type z\n").unwrap_err().contains("Unknown AOF file type"));
        assert!(Manifest::parse("# only a comment\n").unwrap_err().contains("Found an empty AOF manifest"));
        let spaced = Manifest { base: Some(Part { name: "my aof.1.base.rdb".into(), seq: 1 }), ..Default::default() };
        assert_eq!(Manifest::parse(&spaced.render()).unwrap(), spaced);
    }
}
