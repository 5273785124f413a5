//! The two things every file the server writes needs: replacing a file so that a crash
//! leaves the old one or the new one and never half of either (a temporary file beside it,
//! fsync, rename, fsync of the directory: rdbSave, rewriteConfigOverwriteFile, the AOF
//! manifest), and the system's error text as Redis prints it (strerror).

use std::fs::File;
use std::io::Write;
use std::path::Path;

/// The system's reason alone, as Redis prints strerror (std appends " (os error N)").
pub fn strerror(e: &std::io::Error) -> String {
    let s = e.to_string();
    match s.find(" (os error") {
        Some(i) => s[..i].to_string(),
        None => s,
    }
}

/// The step of `replace` that failed, so each caller can say it in Redis's words.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Step {
    Create,
    Write,
    Fsync,
    Rename,
    SyncDir,
}

/// Writes `bytes` to `tmp` (a path in the same directory as `path`), syncs it, renames it
/// over `path` and syncs the directory, so the rename survives a crash. On failure the
/// temporary file is removed and the failing step returned with the system's error.
pub fn replace(path: &Path, tmp: &Path, bytes: &[u8]) -> Result<(), (Step, std::io::Error)> {
    let written = (|| {
        let mut f = File::create(tmp).map_err(|e| (Step::Create, e))?;
        f.write_all(bytes).map_err(|e| (Step::Write, e))?;
        f.sync_all().map_err(|e| (Step::Fsync, e))?;
        std::fs::rename(tmp, path).map_err(|e| (Step::Rename, e))
    })();
    if written.is_err() {
        let _ = std::fs::remove_file(tmp);
        return written;
    }
    sync_dir(path.parent().filter(|p| !p.as_os_str().is_empty()).unwrap_or(Path::new("."))).map_err(|e| (Step::SyncDir, e))
}

/// The core's `read_file` hook (ACL files): the file whole, or strerror's text.
pub fn read_whole(path: &str) -> Result<Vec<u8>, String> {
    std::fs::read(path).map_err(|e| strerror(&e))
}

/// The core's `replace_file` hook (ACL SAVE): `replace` through a temporary file named as
/// Redis names it (`<path>.tmp-<pid>-<ms>`).
pub fn replace_whole(path: &str, bytes: &[u8]) -> Result<(), (cinnabar::FileStep, String)> {
    use cinnabar::FileStep;
    let ms = std::time::SystemTime::now().duration_since(std::time::UNIX_EPOCH).map_or(0, |d| d.as_millis());
    let tmp = format!("{}.tmp-{}-{}", path, std::process::id(), ms);
    replace(Path::new(path), Path::new(&tmp), bytes).map_err(|(step, e)| {
        let step = match step {
            Step::Create => FileStep::Open,
            Step::Write | Step::Fsync => FileStep::Write,
            Step::Rename | Step::SyncDir => FileStep::Rename,
        };
        (step, strerror(&e))
    })
}

/// Makes a rename (or a file's creation) in `dir` durable (fsyncFileDir).
pub fn sync_dir(dir: &Path) -> std::io::Result<()> {
    File::open(dir)?.sync_all()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_replaced_file_is_whole_and_a_failed_replace_leaves_no_temp_file() {
        let dir = std::env::temp_dir().join(format!("cinnabar-files-{}", std::process::id()));
        let _ = std::fs::remove_dir_all(&dir);
        std::fs::create_dir_all(&dir).unwrap();
        let (file, tmp) = (dir.join("f"), dir.join("f.tmp"));
        std::fs::write(&file, b"old").unwrap();
        replace(&file, &tmp, b"new").unwrap();
        assert_eq!(std::fs::read(&file).unwrap(), b"new");
        assert!(!tmp.exists());
        // A directory where the file should go: the rename fails, the temp file goes.
        std::fs::remove_file(&file).unwrap();
        std::fs::create_dir(&file).unwrap();
        let (step, e) = replace(&file, &tmp, b"x").unwrap_err();
        assert_eq!((step, strerror(&e).as_str()), (Step::Rename, "Is a directory"));
        assert!(!tmp.exists());
        let (step, e) = replace(&dir.join("missing/f"), &dir.join("missing/t"), b"x").unwrap_err();
        assert_eq!((step, strerror(&e).as_str()), (Step::Create, "No such file or directory"));
        let _ = std::fs::remove_dir_all(&dir);
    }
}
