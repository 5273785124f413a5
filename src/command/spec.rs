//! What the table knows about a command: Redis's metadata (arity with its sign convention,
//! flags, key positions, ACL categories, docs) plus the handler. Field names follow valkey's
//! src/commands/README.md.

use crate::error::Result;
use crate::reply::Reply;

use super::dispatch::Ctx;

pub type Handler = fn(&mut Ctx, &[bytes::Bytes]) -> Result<Reply>;

/// Command flags, as bits; `FLAG_NAMES` gives their COMMAND INFO spelling.
pub mod flags {
    pub const WRITE: u32 = 1 << 0;
    pub const READONLY: u32 = 1 << 1;
    pub const DENYOOM: u32 = 1 << 2;
    pub const ADMIN: u32 = 1 << 3;
    pub const PUBSUB: u32 = 1 << 4;
    pub const NOSCRIPT: u32 = 1 << 5;
    pub const BLOCKING: u32 = 1 << 6;
    pub const LOADING: u32 = 1 << 7;
    pub const STALE: u32 = 1 << 8;
    pub const SKIP_MONITOR: u32 = 1 << 9;
    pub const SKIP_SLOWLOG: u32 = 1 << 10;
    pub const FAST: u32 = 1 << 11;
    pub const NO_AUTH: u32 = 1 << 12;
    pub const MAY_REPLICATE: u32 = 1 << 13;
    pub const NO_MULTI: u32 = 1 << 14;
    pub const ALLOW_BUSY: u32 = 1 << 15;
    pub const SENTINEL: u32 = 1 << 16;
    pub const NO_MANDATORY_KEYS: u32 = 1 << 17;
    pub const NO_ASYNC_LOADING: u32 = 1 << 18;

    // Cinnabar's own flags, never shown by COMMAND INFO: what Redis's processCommand decides
    // by comparing command procs, said once where the command is declared.
    /// Runs at once inside MULTI instead of being queued (EXEC, DISCARD, MULTI, WATCH, QUIT,
    /// RESET).
    pub const TX_CONTROL: u32 = 1 << 24;
    /// Ends the transaction (EXEC, DISCARD, QUIT, RESET): still runs inside MULTI when
    /// memory is over the limit, where every other command is refused.
    pub const TX_END: u32 = 1 << 25;
    /// Allowed on a RESP2 connection in subscribe mode, which carries messages
    /// ((P|S)SUBSCRIBE, (P|S)UNSUBSCRIBE, PING, QUIT, RESET).
    pub const SUBSCRIBED_OK: u32 = 1 << 26;

    pub const FLAG_NAMES: &[(u32, &str)] = &[
        (WRITE, "write"),
        (READONLY, "readonly"),
        (DENYOOM, "denyoom"),
        (ADMIN, "admin"),
        (PUBSUB, "pubsub"),
        (NOSCRIPT, "noscript"),
        (BLOCKING, "blocking"),
        (LOADING, "loading"),
        (STALE, "stale"),
        (SKIP_MONITOR, "skip_monitor"),
        (SKIP_SLOWLOG, "skip_slowlog"),
        (FAST, "fast"),
        (NO_AUTH, "no_auth"),
        // MAY_REPLICATE is hidden from COMMAND INFO in Redis 7.0.
        (NO_MULTI, "no_multi"),
        (ALLOW_BUSY, "allow_busy"),
        (NO_MANDATORY_KEYS, "no_mandatory_keys"),
        (NO_ASYNC_LOADING, "no_async_loading"),
    ];
}

/// ACL categories beyond those implied by flags (Redis's `acl_categories` in the JSON).
pub mod acl {
    pub const KEYSPACE: u32 = 1 << 0;
    pub const READ: u32 = 1 << 1;
    pub const WRITE: u32 = 1 << 2;
    pub const STRING: u32 = 1 << 3;
    pub const BITMAP: u32 = 1 << 4;
    pub const HASH: u32 = 1 << 5;
    pub const LIST: u32 = 1 << 6;
    pub const SET: u32 = 1 << 7;
    pub const SORTEDSET: u32 = 1 << 8;
    pub const STREAM: u32 = 1 << 9;
    pub const PUBSUB: u32 = 1 << 10;
    pub const ADMIN: u32 = 1 << 11;
    pub const FAST: u32 = 1 << 12;
    pub const SLOW: u32 = 1 << 13;
    pub const BLOCKING: u32 = 1 << 14;
    pub const DANGEROUS: u32 = 1 << 15;
    pub const CONNECTION: u32 = 1 << 16;
    pub const TRANSACTION: u32 = 1 << 17;
    pub const SCRIPTING: u32 = 1 << 18;
    pub const HYPERLOGLOG: u32 = 1 << 19;
    pub const GEO: u32 = 1 << 20;

    /// In the order Redis prints them (ACL CAT).
    pub const NAMES: &[(u32, &str)] = &[
        (KEYSPACE, "keyspace"),
        (READ, "read"),
        (WRITE, "write"),
        (SET, "set"),
        (SORTEDSET, "sortedset"),
        (LIST, "list"),
        (HASH, "hash"),
        (STRING, "string"),
        (BITMAP, "bitmap"),
        (HYPERLOGLOG, "hyperloglog"),
        (GEO, "geo"),
        (STREAM, "stream"),
        (PUBSUB, "pubsub"),
        (ADMIN, "admin"),
        (FAST, "fast"),
        (SLOW, "slow"),
        (BLOCKING, "blocking"),
        (DANGEROUS, "dangerous"),
        (CONNECTION, "connection"),
        (TRANSACTION, "transaction"),
        (SCRIPTING, "scripting"),
    ];
}

#[derive(Clone, Copy)]
pub struct CommandSpec {
    /// Lower-case name; subcommands use their own name (`setname`), shown as `client|setname`.
    pub(crate) name: &'static str,
    /// Redis's convention: N means exactly N arguments (command name included), -N at least N.
    pub(crate) arity: i32,
    pub(crate) flags: u32,
    /// The legacy key range COMMAND INFO shows and client-side caching reads (the keys a
    /// tracked read remembers); a unit test holds it to what `key_specs` implies.
    pub(crate) first_key: i32,
    pub(crate) last_key: i32,
    pub(crate) step: i32,
    /// Keys counted by an argument (LMPOP, ZUNIONSTORE, EVAL): (index of the count, offset of
    /// the first key from it, step), the fast path of the matching `keynum` key spec.
    pub(crate) keynum: Option<(i32, i32, i32)>,
    /// Keys only a parser can find (SORT ... STORE dst), with their key flags (Redis's
    /// getkeys_proc): used where the key specs cannot say (`keyspec::keys_with_flags`).
    pub(crate) getkeys: Option<fn(&[bytes::Bytes]) -> Vec<(usize, u16)>>,
    /// Redis 7's key specs, in `keyspec`'s declaration language (COMMAND INFO, GETKEYS,
    /// GETKEYSANDFLAGS, `movablekeys`).
    pub(crate) key_specs: &'static str,
    /// Redis 7's command tips, space-separated (COMMAND INFO's eighth field), e.g.
    /// `nondeterministic_output`, `request_policy:all_shards`.
    pub(crate) tips: &'static str,
    /// Explicit ACL categories; implied ones (from flags) are added by `acl_categories()`.
    pub(crate) acl: u32,
    pub(crate) group: &'static str,
    pub(crate) since: &'static str,
    pub(crate) summary: &'static str,
    pub(crate) complexity: &'static str,
    /// The arguments in `syntax`'s declaration language (COMMAND DOCS `arguments`).
    pub(crate) syntax: &'static str,
    pub(crate) handler: Option<Handler>,
    pub(crate) subcommands: &'static [CommandSpec],
}

impl CommandSpec {
    /// A command with no keys; chain `.keys()`, `.acl()`, `.doc()` for the rest.
    pub const fn new(name: &'static str, arity: i32, flags: u32, group: &'static str, handler: Handler) -> CommandSpec {
        CommandSpec {
            name,
            arity,
            flags,
            first_key: 0,
            last_key: 0,
            step: 0,
            keynum: None,
            getkeys: None,
            key_specs: "",
            tips: "",
            acl: 0,
            group,
            since: "1.0.0",
            summary: "",
            complexity: "",
            syntax: "",
            handler: Some(handler),
            subcommands: &[],
        }
    }

    /// A container command (CLIENT, CONFIG, ...) whose work is done by its subcommands.
    pub const fn container(name: &'static str, group: &'static str, subs: &'static [CommandSpec]) -> CommandSpec {
        CommandSpec {
            name,
            arity: -2,
            flags: 0,
            first_key: 0,
            last_key: 0,
            step: 0,
            keynum: None,
            getkeys: None,
            key_specs: "",
            tips: "",
            acl: 0,
            group,
            since: "1.0.0",
            summary: "",
            complexity: "",
            syntax: "",
            handler: None,
            subcommands: subs,
        }
    }

    /// A container that also runs by itself with no subcommand (COMMAND).
    pub const fn bare(mut self, arity: i32, flags: u32, handler: Handler) -> Self {
        self.arity = arity;
        self.flags = flags;
        self.handler = Some(handler);
        self
    }

    pub const fn keys(mut self, first: i32, last: i32, step: i32) -> Self {
        self.first_key = first;
        self.last_key = last;
        self.step = step;
        self
    }

    pub const fn numkeys(mut self, index: i32, first: i32, step: i32) -> Self {
        self.keynum = Some((index, first, step));
        self
    }

    pub const fn getkeys(mut self, f: fn(&[bytes::Bytes]) -> Vec<(usize, u16)>) -> Self {
        self.getkeys = Some(f);
        self
    }

    /// Declares the command tips.
    pub const fn tips(mut self, tips: &'static str) -> Self {
        self.tips = tips;
        self
    }

    /// Declares the key specs (see `keyspec` for the language).
    pub const fn key_specs(mut self, decl: &'static str) -> Self {
        self.key_specs = decl;
        self
    }

    pub const fn acl(mut self, acl: u32) -> Self {
        self.acl = acl;
        self
    }

    pub const fn doc(mut self, since: &'static str, summary: &'static str, complexity: &'static str) -> Self {
        self.since = since;
        self.summary = summary;
        self.complexity = complexity;
        self
    }

    /// Declares the arguments (see `syntax` for the language).
    pub const fn args(mut self, syntax: &'static str) -> Self {
        self.syntax = syntax;
        self
    }

    /// Explicit categories plus those Redis implies from flags (setImplicitACLCategories).
    pub fn acl_categories(&self) -> u32 {
        use flags as f;
        let mut c = self.acl;
        if self.flags & f::WRITE != 0 {
            c |= acl::WRITE;
        }
        if self.flags & f::READONLY != 0 && c & acl::SCRIPTING == 0 {
            c |= acl::READ;
        }
        if self.flags & f::ADMIN != 0 {
            c |= acl::ADMIN | acl::DANGEROUS;
        }
        if self.flags & f::PUBSUB != 0 {
            c |= acl::PUBSUB;
        }
        if self.flags & f::FAST != 0 {
            c |= acl::FAST;
        }
        if self.flags & f::BLOCKING != 0 {
            c |= acl::BLOCKING;
        }
        if c & acl::FAST == 0 {
            c |= acl::SLOW;
        }
        c
    }

    pub fn flag_names(&self) -> Vec<&'static str> {
        let mut v: Vec<&'static str> = flags::FLAG_NAMES.iter().filter(|(b, _)| self.flags & b != 0).map(|(_, n)| *n).collect();
        // Derived from the key specs as Redis derives it (populateCommandLegacyRangeSpec).
        if super::keyspec::legacy_range(&super::keyspec::specs_of(self.key_specs)).1 {
            v.push("movablekeys");
        }
        v
    }

    pub fn acl_names(&self) -> Vec<&'static str> {
        let c = self.acl_categories();
        acl::NAMES.iter().filter(|(b, _)| c & b != 0).map(|(_, n)| *n).collect()
    }

    pub fn is(&self, flag: u32) -> bool {
        self.flags & flag != 0
    }

    /// Whether `argc` satisfies the arity (commandCheckArity).
    pub fn arity_ok(&self, argc: usize) -> bool {
        let a = self.arity;
        (a > 0 && argc as i32 == a) || (a < 0 && argc as i32 >= -a)
    }

    /// Key positions for argv (COMMAND GETKEYS, later WATCH/ACL/cluster): Redis's legacy
    /// first/last/step triple; negative `last` counts from the end.
    pub fn key_positions(&self, argc: usize) -> Vec<usize> {
        let mut v = vec![];
        if self.first_key > 0 {
            let last = if self.last_key < 0 { argc as i32 + self.last_key } else { self.last_key };
            let mut i = self.first_key;
            while i <= last && (i as usize) < argc {
                v.push(i as usize);
                i += self.step.max(1);
            }
        }
        v
    }

    /// Key positions including those counted by a numkeys argument; None when that count is
    /// not a valid number of keys for `argv` (COMMAND GETKEYS reports it).
    pub fn all_key_positions(&self, argv: &[bytes::Bytes]) -> Option<Vec<usize>> {
        if let Some(f) = self.getkeys {
            return Some(f(argv).into_iter().map(|(i, _)| i).collect());
        }
        let mut v = self.key_positions(argv.len());
        if let Some((idx, first, step)) = self.keynum {
            let n = crate::util::parse_i64(argv.get(idx as usize)?)?;
            let start = idx as i64 + first as i64;
            if n < 0 || start + (n - 1).max(0) * step as i64 >= argv.len() as i64 {
                return None;
            }
            v.extend((0..n).map(|k| (start + k * step as i64) as usize));
        }
        Some(v)
    }
}
