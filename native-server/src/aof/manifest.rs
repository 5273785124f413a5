//! The AOF manifest (aofManifest): which files make the AOF, in order, as Redis 7 writes
//! and reads `<appendfilename>.manifest`, with its checks and its error texts.

/// One file the manifest names.
#[derive(Clone, Debug, PartialEq)]
pub struct Part {
    pub(super) name: String,
    pub(super) seq: u64,
}

/// The manifest (aofManifest): the base, the incremental files in order, and history
/// files that are no longer part of the AOF and are deleted once the manifest is written.
#[derive(Default, Debug, PartialEq)]
pub struct Manifest {
    pub(super) base: Option<Part>,
    pub(super) incrs: Vec<Part>,
    pub(super) history: Vec<Part>,
}

impl Manifest {
    /// aofLoadManifestFromFile: `file <name> seq <n> type <b|i|h>` lines; comments skipped.
    pub fn parse(text: &str) -> Result<Manifest, String> {
        let mut m = Manifest::default();
        let mut max_incr = 0;
        let fatal = |n: usize, line: &str, why: &str| {
            format!("\n*** FATAL AOF MANIFEST FILE ERROR ***\nReading the manifest file, at line {}\n>>> '{}'\n{}", n, line, why)
        };
        let mut lines = 0;
        for (i, raw) in text.lines().enumerate() {
            let line = raw.trim_matches(|c| c == ' ' || c == '\t' || c == '\r' || c == '\n');
            if line.starts_with('#') {
                continue;
            }
            lines += 1;
            let invalid = || fatal(i + 1, line, "Invalid AOF manifest file format");
            let args = cinnabar::resp::inline::split_inline(line.as_bytes()).ok_or_else(invalid)?;
            if args.len() < 6 || args.len() % 2 != 0 {
                return Err(invalid());
            }
            let (mut name, mut seq, mut kind) = (None, None, None);
            for kv in args.chunks(2) {
                let v = String::from_utf8_lossy(&kv[1]).into_owned();
                match &kv[0][..] {
                    b"file" => {
                        if v.contains('/') {
                            return Err(fatal(i + 1, line, "File can't be a path, just a filename"));
                        }
                        name = Some(v)
                    }
                    b"seq" => seq = v.parse::<u64>().ok(),
                    b"type" => kind = v.bytes().next(),
                    _ => {}
                }
            }
            let (Some(name), Some(seq), Some(kind)) = (name, seq, kind) else {
                return Err(invalid());
            };
            let part = Part { name, seq };
            match kind {
                b'b' => {
                    if m.base.is_some() {
                        return Err(fatal(i + 1, line, "Found duplicate base file information"));
                    }
                    m.base = Some(part);
                }
                b'i' => {
                    if part.seq <= max_incr {
                        return Err(fatal(i + 1, line, "Found a non-monotonic sequence number"));
                    }
                    max_incr = part.seq;
                    m.incrs.push(part);
                }
                b'h' => m.history.push(part),
                _ => return Err(fatal(i + 1, line, "Unknown AOF file type")),
            }
        }
        if lines == 0 {
            return Err(fatal(0, "", "Found an empty AOF manifest"));
        }
        Ok(m)
    }

    /// getAofManifestAsString: base, history, then incremental files.
    pub fn render(&self) -> String {
        let mut out = String::new();
        let mut line = |p: &Part, kind: char| {
            let name =
                if p.name.bytes().all(|b| b.is_ascii_graphic() && b != b'"' && b != b'\'' && b != b'\\') { p.name.clone() } else { format!("{:?}", p.name) };
            out.push_str(&format!("file {} seq {} type {}\n", name, p.seq, kind));
        };
        if let Some(b) = &self.base {
            line(b, 'b');
        }
        for h in &self.history {
            line(h, 'h');
        }
        for i in &self.incrs {
            line(i, 'i');
        }
        out
    }

    pub(super) fn next_incr_seq(&self) -> u64 {
        self.incrs.last().map_or(1, |p| p.seq + 1)
    }

    pub(super) fn next_base_seq(&self) -> u64 {
        self.base.as_ref().map_or(1, |p| p.seq + 1)
    }
}
