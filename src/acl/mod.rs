//! ACL users: who a connection is, what it may run, on which keys and channels (Redis 6/7
//! ACLs with 7.0's selectors). The `default` user starts with every permission and no
//! password, so a server without ACL rules behaves as one without ACLs; `requirepass` is the
//! default user's password. Passwords are kept only as SHA-256 hex digests, as in Redis.
//! Redis: acl.c.

pub mod selector;

use std::collections::{BTreeMap, VecDeque};

use bytes::Bytes;
use sha2::{Digest, Sha256};

pub use selector::{Denied, RuleError, Selector};

#[derive(Debug, Clone, PartialEq, Eq)]
pub struct User {
    pub name: Bytes,
    pub enabled: bool,
    pub nopass: bool,
    /// `sanitize-payload` / `skip-sanitize-payload` (RESTORE's deep check), or neither.
    pub sanitize: Option<bool>,
    /// SHA-256 digests, lower-case hex.
    pub passwords: Vec<String>,
    /// The root selector first, then the `(...)` ones.
    pub selectors: Vec<Selector>,
}

/// Redis's ACLHashPassword.
pub fn hash_password(clear: &[u8]) -> String {
    let d = Sha256::digest(clear);
    d.iter().map(|b| format!("{:02x}", b)).collect()
}

fn valid_hash(h: &[u8]) -> bool {
    h.len() == 64 && h.iter().all(|c| matches!(c, b'0'..=b'9' | b'a'..=b'f'))
}

/// The digest a password rule names: `>pw`/`<pw` give the password (hashed), `#hex`/`!hex`
/// the digest itself, which must be one.
fn digest_of(op: &[u8], clear: u8) -> Result<String, RuleError> {
    if op[0] == clear {
        Ok(hash_password(&op[1..]))
    } else if valid_hash(&op[1..]) {
        Ok(String::from_utf8_lossy(&op[1..]).into_owned())
    } else {
        Err(RuleError::BadHash)
    }
}

impl User {
    /// ACLCreateUser: off, no password, no permissions.
    pub fn new(name: Bytes, all_channels: bool) -> User {
        User { name, enabled: false, nopass: false, sanitize: None, passwords: vec![], selectors: vec![Selector::new(true, all_channels)] }
    }

    pub fn root(&self) -> &Selector {
        &self.selectors[0]
    }

    /// ACLSetUser: one rule (a flag, a password, a selector or a root-selector rule).
    pub fn apply(&mut self, op: &[u8], all_channels_default: bool) -> Result<(), RuleError> {
        if op.is_empty() {
            return Ok(());
        }
        let is = |w: &str| op.eq_ignore_ascii_case(w.as_bytes());
        if is("on") {
            self.enabled = true;
        } else if is("off") {
            self.enabled = false;
        } else if is("skip-sanitize-payload") {
            self.sanitize = Some(false);
        } else if is("sanitize-payload") {
            self.sanitize = Some(true);
        } else if is("nopass") {
            self.nopass = true;
            self.passwords.clear();
        } else if is("resetpass") {
            self.nopass = false;
            self.passwords.clear();
        } else if op[0] == b'>' || op[0] == b'#' {
            let h = digest_of(op, b'>')?;
            if !self.passwords.contains(&h) {
                self.passwords.push(h);
            }
            self.nopass = false;
        } else if op[0] == b'<' || op[0] == b'!' {
            let h = digest_of(op, b'<')?;
            let i = self.passwords.iter().position(|p| *p == h).ok_or(RuleError::NoSuchPassword)?;
            self.passwords.remove(i);
        } else if op[0] == b'(' && op[op.len() - 1] == b')' {
            let mut s = Selector::new(false, all_channels_default);
            // Unbalanced quotes inside give an empty selector, as sdssplitargs's NULL does.
            for a in crate::resp::inline::split_inline(&op[1..op.len() - 1]).unwrap_or_default() {
                s.apply(&a)?;
            }
            self.selectors.push(s);
        } else if is("clearselectors") {
            self.selectors.truncate(1);
        } else if is("reset") {
            self.nopass = false;
            self.passwords.clear();
            let root = &mut self.selectors[0];
            root.apply(b"resetkeys")?;
            root.apply(b"resetchannels")?;
            if all_channels_default {
                root.apply(b"allchannels")?;
            }
            self.enabled = false;
            self.sanitize = Some(true);
            self.selectors.truncate(1);
            self.selectors[0].apply(b"-@all")?;
        } else {
            self.selectors[0].apply(op)?;
        }
        Ok(())
    }

    /// ACLDescribeUser: the rules that rebuild the user (ACL LIST, CONFIG REWRITE).
    pub fn describe(&self) -> String {
        let mut s = String::new();
        for f in self.flags() {
            s.push_str(f);
            s.push(' ');
        }
        for p in &self.passwords {
            s.push('#');
            s.push_str(p);
            s.push(' ');
        }
        for (i, sel) in self.selectors.iter().enumerate() {
            if i == 0 {
                s.push_str(&sel.describe());
            } else {
                s.push_str(&format!(" ({})", sel.describe()));
            }
        }
        s
    }

    /// The flags ACL GETUSER lists, in Redis's order.
    pub fn flags(&self) -> Vec<&'static str> {
        let mut f = vec![if self.enabled { "on" } else { "off" }];
        if self.nopass {
            f.push("nopass");
        }
        match self.sanitize {
            Some(false) => f.push("skip-sanitize-payload"),
            Some(true) => f.push("sanitize-payload"),
            None => {}
        }
        f
    }

    /// ACLCheckUserCredentials for an existing user.
    pub fn accepts(&self, password: &[u8]) -> bool {
        if !self.enabled {
            return false;
        }
        if self.nopass {
            return true;
        }
        let h = hash_password(password);
        // Every digest is compared in full (time_independent_strcmp).
        self.passwords.iter().fold(false, |ok, p| ok | (p.bytes().zip(h.bytes()).fold(0u8, |d, (a, b)| d | (a ^ b)) == 0))
    }

    /// Whether a new connection is authenticated as this (default) user without AUTH.
    pub fn needs_no_auth(&self) -> bool {
        self.nopass && self.enabled
    }

    pub fn unrestricted(&self) -> bool {
        self.selectors.iter().any(|s| s.unrestricted())
    }

    /// ACLCheckAllUserCommandPerm.
    pub fn check(&self, spec: &crate::command::CommandSpec, id: usize, is_sub: bool, argv: &[Bytes]) -> Result<(), Denied> {
        selector::check_all(&self.selectors, spec, id, is_sub, argv)
    }

    /// ACLUserCheckChannelPerm.
    pub fn channel_allowed(&self, channel: &[u8], is_pattern: bool) -> bool {
        self.selectors.iter().any(|s| s.channel_allowed(channel, is_pattern))
    }
}

/// ACL LOG reasons and contexts, as ACL LOG prints them.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Reason {
    Command,
    Key,
    Channel,
    Auth,
}

impl Reason {
    pub fn name(self) -> &'static str {
        match self {
            Reason::Command => "command",
            Reason::Key => "key",
            Reason::Channel => "channel",
            Reason::Auth => "auth",
        }
    }
}

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum LogContext {
    Toplevel,
    Multi,
    Lua,
}

impl LogContext {
    pub fn name(self) -> &'static str {
        match self {
            LogContext::Toplevel => "toplevel",
            LogContext::Multi => "multi",
            LogContext::Lua => "lua",
        }
    }
}

#[derive(Debug, Clone)]
pub struct LogEntry {
    pub count: u64,
    pub reason: Reason,
    pub context: LogContext,
    pub object: Bytes,
    pub username: Bytes,
    pub ctime_ms: i64,
    pub client_info: String,
}

/// Entries this close in time with the same reason, context, object and user are counted
/// in one (ACL_LOG_GROUPING_MAX_TIME_DELTA).
const GROUPING_MS: i64 = 60_000;

pub struct Acl {
    /// By name, in name order (Redis's radix tree lists users sorted).
    pub users: BTreeMap<Bytes, User>,
    /// Bumped on every change to any user: sessions cache "may run anything" against it.
    pub generation: u64,
    pub log: VecDeque<LogEntry>,
    /// `user` lines came with the configuration (then no `aclfile` may).
    pub users_from_config: bool,
}

impl Default for Acl {
    fn default() -> Self {
        let mut acl = Acl { users: BTreeMap::new(), generation: 1, log: VecDeque::new(), users_from_config: false };
        acl.users.insert(Bytes::from_static(b"default"), default_user());
        acl
    }
}

/// ACLCreateDefaultUser.
pub fn default_user() -> User {
    let mut u = User::new(Bytes::from_static(b"default"), false);
    for op in ["+@all", "~*", "&*", "on", "nopass"] {
        u.apply(op.as_bytes(), false).expect("default user rules");
    }
    u
}

/// ACLMergeSelectorArguments: a `(...)` selector may arrive split over several arguments.
/// Err: the argument where an unclosed parenthesis starts.
pub fn merge_selector_args(args: &[Bytes]) -> Result<Vec<Bytes>, usize> {
    let mut out = Vec::with_capacity(args.len());
    let mut open: Option<(usize, Vec<u8>)> = None;
    for (j, a) in args.iter().enumerate() {
        if let Some((_, buf)) = open.as_mut() {
            buf.push(b' ');
            buf.extend_from_slice(a);
            if a.last() == Some(&b')') {
                out.push(Bytes::from(open.take().unwrap().1));
            }
            continue;
        }
        if a.first() == Some(&b'(') && a.last() != Some(&b')') {
            open = Some((j, a.to_vec()));
            continue;
        }
        out.push(a.clone());
    }
    match open {
        Some((j, _)) => Err(j),
        None => Ok(out),
    }
}

/// sdstrim: `set`'s bytes off both ends.
fn trim<'a>(mut l: &'a [u8], set: &[u8]) -> &'a [u8] {
    while l.first().is_some_and(|c| set.contains(c)) {
        l = &l[1..];
    }
    while l.last().is_some_and(|c| set.contains(c)) {
        l = &l[..l.len() - 1];
    }
    l
}

/// ACLLoadFromFile's parse of an ACL file (`user <name> <rule> ...` lines; blank lines
/// skipped; fields split on single spaces, no quoting): the users it defines, or every error
/// found, each prefixed with `filename:line`, worded as Redis words them.
pub fn parse_acl_file(filename: &str, text: &[u8], all_channels_default: bool) -> Result<BTreeMap<Bytes, User>, String> {
    // fgets into a C string: the file ends at its first NUL.
    let text = text.split(|&c| c == 0).next().unwrap_or(b"");
    let mut users: BTreeMap<Bytes, User> = BTreeMap::new();
    let mut errors = String::new();
    for (i, line) in text.split(|&c| c == b'\n').enumerate() {
        let linenum = i + 1;
        let line = trim(line, b" \t\r\n");
        if line.is_empty() {
            continue;
        }
        let argv: Vec<Bytes> = line.split(|&c| c == b' ').map(Bytes::copy_from_slice).collect();
        if &argv[0][..] != b"user" || argv.len() < 2 {
            errors.push_str(&format!("{}:{} should start with user keyword followed by the username. ", filename, linenum));
            continue;
        }
        let name = &argv[1];
        if selector::has_spaces(name) {
            errors.push_str(&format!("'{}:{}: username '{}' contains invalid characters. ", filename, linenum, String::from_utf8_lossy(name)));
            continue;
        }
        if users.contains_key(name) {
            errors.push_str(&format!("WARNING: Duplicate user '{}' found on line {}. ", String::from_utf8_lossy(name), linenum));
            continue;
        }
        let mut u = User::new(name.clone(), all_channels_default);
        match merge_selector_args(&argv[2..]) {
            Err(_) => errors.push_str(&format!("{}:{}: Unmatched parenthesis in selector definition.", filename, linenum)),
            Ok(rules) => {
                let mut syntax_error = false;
                for op in rules {
                    let op = trim(&op, b"\t\r\n");
                    match u.apply(op, all_channels_default) {
                        Ok(()) => {}
                        // A missing command is named: it tells nothing secret.
                        Err(RuleError::UnknownCommand) => errors.push_str(&format!(
                            "{}:{}: Error in applying operation '{}': {}. ",
                            filename,
                            linenum,
                            String::from_utf8_lossy(op),
                            RuleError::UnknownCommand.message()
                        )),
                        // Others only once per line: the rest may follow from the first.
                        Err(e) if !syntax_error => {
                            errors.push_str(&format!("{}:{}: {}. ", filename, linenum, e.message()));
                            syntax_error = true;
                        }
                        Err(_) => {}
                    }
                }
            }
        }
        users.insert(name.clone(), u);
    }
    if !errors.is_empty() {
        errors.push_str("WARNING: ACL errors detected, no change to the previously active ACL rules was performed");
        return Err(errors);
    }
    users.entry(Bytes::from_static(b"default")).or_insert_with(default_user);
    Ok(users)
}

/// An ACL file's text as ACL SAVE writes it (ACLSaveToFile): one `user` line per user, in
/// name order.
pub fn acl_file_text(users: &BTreeMap<Bytes, User>) -> Vec<u8> {
    let mut out = Vec::new();
    for u in users.values() {
        out.extend_from_slice(b"user ");
        out.extend_from_slice(&u.name);
        out.push(b' ');
        out.extend_from_slice(u.describe().as_bytes());
        out.push(b'\n');
    }
    out
}

impl Acl {
    pub fn user(&self, name: &[u8]) -> Option<&User> {
        self.users.get(name)
    }

    pub fn default_user(&self) -> &User {
        &self.users[&b"default"[..]]
    }

    /// ACLStringSetUser: every rule applied to a copy; the user changes only if all are valid.
    /// Returns the user as it was (None if new) and as it is now.
    pub fn set_user(&mut self, name: &[u8], rules: &[Bytes], all_channels_default: bool) -> Result<(Option<User>, User), String> {
        let merged =
            merge_selector_args(rules).map_err(|j| format!("Unmatched parenthesis in acl selector starting at '{}'.", String::from_utf8_lossy(&rules[j])))?;
        let old = self.users.get(name).cloned();
        let mut u = old.clone().unwrap_or_else(|| User::new(Bytes::copy_from_slice(name), all_channels_default));
        for op in &merged {
            u.apply(op, all_channels_default).map_err(|e| format!("Error in ACL SETUSER modifier '{}': {}", String::from_utf8_lossy(op), e.message()))?;
        }
        self.users.insert(Bytes::copy_from_slice(name), u.clone());
        self.generation += 1;
        Ok((old, u))
    }

    pub fn delete(&mut self, name: &[u8]) -> bool {
        let gone = self.users.remove(name).is_some();
        if gone {
            self.generation += 1;
        }
        gone
    }

    /// ACLUpdateDefaultUserPassword: `requirepass` (empty: no password).
    pub fn set_default_password(&mut self, pass: &[u8]) {
        let u = self.users.get_mut(&b"default"[..]).expect("the default user exists");
        u.apply(b"resetpass", false).ok();
        if pass.is_empty() {
            u.apply(b"nopass", false).ok();
        } else {
            let mut op = b">".to_vec();
            op.extend_from_slice(pass);
            u.apply(&op, false).ok();
        }
        self.generation += 1;
    }

    /// addACLLogEntry: a refusal, counted into a recent entry that matches it.
    pub fn log(&mut self, e: LogEntry, max_len: usize) {
        let found = self.log.iter().take(10).position(|x| {
            x.reason == e.reason && x.context == e.context && (x.ctime_ms - e.ctime_ms).abs() <= GROUPING_MS && x.object == e.object && x.username == e.username
        });
        match found {
            Some(i) => {
                let mut m = self.log.remove(i).unwrap();
                m.client_info = e.client_info;
                m.ctime_ms = e.ctime_ms;
                m.count += 1;
                self.log.push_front(m);
            }
            None => {
                self.log.push_front(e);
                self.log.truncate(max_len);
            }
        }
    }
}

#[cfg(test)]
mod tests;
