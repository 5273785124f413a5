//! A selector: one set of command, key and channel permissions (Redis 7's aclSelector). A
//! user has a root selector and any number of `(...)` selectors; a command runs when one
//! selector allows all of it. Commands are bits indexed by the command table's dense ids
//! (subcommands included), so a check is a bit test. Redis: acl.c.

use bytes::Bytes;

use crate::command::keyspec::flags as kf;
use crate::command::spec::acl as cat;
use crate::command::table::table;
use crate::command::CommandSpec;
use crate::util::glob_match;

/// Key pattern permissions (`%R~`, `%W~`, `~` is both).
pub const READ: u8 = 1;
pub const WRITE: u8 = 2;
pub const ALL: u8 = READ | WRITE;

/// Why a rule was refused (Redis's errno values in ACLSetUser, with its messages).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum RuleError {
    UnknownCommand,
    Syntax,
    AfterAllKeys,
    AfterAllChannels,
    NoSuchPassword,
    BadHash,
    FirstArgOfSubcommand,
    Duplicate,
}

impl RuleError {
    pub fn message(self) -> &'static str {
        match self {
            RuleError::UnknownCommand => "Unknown command or category name in ACL",
            RuleError::Syntax => "Syntax error",
            RuleError::AfterAllKeys => "Adding a pattern after the * pattern (or the 'allkeys' flag) is not valid and does not have any effect. Try 'resetkeys' to start with an empty list of patterns",
            RuleError::AfterAllChannels => "Adding a pattern after the * pattern (or the 'allchannels' flag) is not valid and does not have any effect. Try 'resetchannels' to start with an empty list of channels",
            RuleError::NoSuchPassword => "The password you are trying to remove from the user does not exist",
            RuleError::BadHash => "The password hash must be exactly 64 characters and contain only lowercase hexadecimal characters",
            RuleError::FirstArgOfSubcommand => "Allowing first-arg of a subcommand is not supported",
            RuleError::Duplicate => "Duplicate user found. A user can only be defined once in config files",
        }
    }
}

/// What a check refused, ordered as Redis ranks them when several selectors fail
/// (ACL_DENIED_CMD < KEY < CHANNEL), with the argument index of the key or channel.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Denied {
    Command,
    Key(usize),
    Channel(usize),
}

impl Denied {
    /// getAclErrorMessage.
    pub fn message(self) -> &'static str {
        match self {
            Denied::Command => "can't run this command or subcommand",
            Denied::Key(_) => "can't access at least one of the keys mentioned in the command arguments",
            Denied::Channel(_) => "can't publish to the channel mentioned in the command",
        }
    }

    fn rank(self) -> (u8, usize) {
        match self {
            Denied::Command => (1, 0),
            Denied::Key(i) => (2, i),
            Denied::Channel(i) => (4, i),
        }
    }
}

#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Selector {
    pub root: bool,
    pub all_keys: bool,
    pub all_channels: bool,
    pub all_commands: bool,
    /// One bit per command-table id, plus a last bit for "commands added later" (set only by
    /// `+@all`), which decides whether the description starts from +@all or -@all.
    commands: Vec<u64>,
    /// `+cmd|arg` for a command that is otherwise denied: (command id, allowed first args).
    first_args: Vec<(usize, Vec<Bytes>)>,
    pub keys: Vec<(Bytes, u8)>,
    pub channels: Vec<Bytes>,
}

fn id_count() -> usize {
    table().names.len()
}

fn future_bit() -> usize {
    id_count()
}

/// A command by its rule name (`get`, `config|get`), from the original table (renames do not
/// change ACL rules): the spec, its id, and whether it is a subcommand.
pub fn lookup(name: &[u8]) -> Option<(&'static CommandSpec, usize, bool)> {
    let t = table();
    match name.iter().position(|&b| b == b'|') {
        None => t.lookup_with_id(name).map(|(s, id)| (s, id as usize, false)),
        Some(p) => {
            let (spec, id) = t.lookup_with_id(&name[..p])?;
            let sub = &name[p + 1..];
            let pos = spec.subcommands.iter().position(|s| s.name.as_bytes().eq_ignore_ascii_case(sub))?;
            Some((&spec.subcommands[pos], id as usize + 1 + pos, true))
        }
    }
}

/// Every command of the table with its id and full name (`config|get`), containers first.
pub fn each_command(mut f: impl FnMut(&'static CommandSpec, usize, String, bool)) {
    let t = table();
    let mut id = 0;
    for spec in &t.all {
        f(spec, id, spec.name.to_string(), false);
        for (i, sub) in spec.subcommands.iter().enumerate() {
            f(sub, id + 1 + i, format!("{}|{}", spec.name, sub.name), true);
        }
        id += 1 + spec.subcommands.len();
    }
}

pub fn category(name: &[u8]) -> Option<u32> {
    cat::NAMES.iter().find(|(_, n)| n.as_bytes().eq_ignore_ascii_case(name)).map(|&(f, _)| f)
}

/// Redis's ACLStringHasSpaces: names and patterns stay one word in ACL LIST and the config.
pub fn has_spaces(s: &[u8]) -> bool {
    s.iter().any(|&c| c == 0 || c.is_ascii_whitespace() || c == 0x0b)
}

impl Selector {
    /// An empty selector: no commands, keys or channels (channels per `acl-pubsub-default`).
    pub fn new(root: bool, all_channels: bool) -> Selector {
        Selector {
            root,
            all_keys: false,
            all_channels,
            all_commands: false,
            commands: vec![0; id_count() / 64 + 1],
            first_args: Vec::new(),
            keys: Vec::new(),
            channels: Vec::new(),
        }
    }

    pub fn bit(&self, id: usize) -> bool {
        self.commands.get(id / 64).is_some_and(|w| w & (1 << (id % 64)) != 0)
    }

    fn set_bit(&mut self, id: usize, on: bool) {
        if on {
            self.commands[id / 64] |= 1 << (id % 64);
        } else {
            self.commands[id / 64] &= !(1 << (id % 64));
            self.all_commands = false;
        }
    }

    /// ACLChangeSelectorPerm: a container's rule covers its subcommands.
    fn change(&mut self, spec: &CommandSpec, id: usize, allow: bool) {
        self.set_bit(id, allow);
        self.first_args.retain(|(c, _)| *c != id);
        for i in 0..spec.subcommands.len() {
            self.set_bit(id + 1 + i, allow);
        }
    }

    fn set_all(&mut self, on: bool) {
        let fill = if on { u64::MAX } else { 0 };
        self.commands.iter_mut().for_each(|w| *w = fill);
        self.all_commands = on;
        self.first_args.clear();
    }

    /// ACLSetSelectorCommandBitsForCategory: every command in the category, a container
    /// carrying its subcommands with it, then each subcommand by its own categories.
    fn set_category(&mut self, flag: u32, allow: bool) {
        let t = table();
        let mut id = 0;
        for spec in &t.all {
            if spec.acl_categories() & flag != 0 {
                self.change(spec, id, allow);
            }
            for (i, sub) in spec.subcommands.iter().enumerate() {
                if sub.acl_categories() & flag != 0 {
                    self.change(sub, id + 1 + i, allow);
                }
            }
            id += 1 + spec.subcommands.len();
        }
    }

    /// ACLSetSelector: one rule about commands, keys or channels.
    pub fn apply(&mut self, op: &[u8]) -> Result<(), RuleError> {
        if op.is_empty() {
            return Err(RuleError::Syntax);
        }
        let is = |w: &str| op.eq_ignore_ascii_case(w.as_bytes());
        if is("allkeys") || op == b"~*" {
            self.all_keys = true;
            self.keys.clear();
        } else if is("resetkeys") {
            self.all_keys = false;
            self.keys.clear();
        } else if is("allchannels") || op == b"&*" {
            self.all_channels = true;
            self.channels.clear();
        } else if is("resetchannels") {
            self.all_channels = false;
            self.channels.clear();
        } else if is("allcommands") || is("+@all") {
            self.set_all(true);
        } else if is("nocommands") || is("-@all") {
            self.set_all(false);
        } else if op[0] == b'~' || op[0] == b'%' {
            if self.all_keys {
                return Err(RuleError::AfterAllKeys);
            }
            let (mut flags, mut offset) = (0u8, 1);
            if op[0] == b'%' {
                loop {
                    match op.get(offset).map(|c| c.to_ascii_uppercase()) {
                        Some(b'R') if flags & READ == 0 => flags |= READ,
                        Some(b'W') if flags & WRITE == 0 => flags |= WRITE,
                        Some(b'~') => {
                            offset += 1;
                            break;
                        }
                        // Redis stops at the end of the op without a '~' and takes the rest
                        // (nothing) as the pattern.
                        None => break,
                        _ => return Err(RuleError::Syntax),
                    }
                    offset += 1;
                }
            } else {
                flags = ALL;
            }
            let pat = &op[offset.min(op.len())..];
            if has_spaces(pat) {
                return Err(RuleError::Syntax);
            }
            match self.keys.iter_mut().find(|(p, _)| &p[..] == pat) {
                Some((_, f)) => *f |= flags,
                None => self.keys.push((Bytes::copy_from_slice(pat), flags)),
            }
            self.all_keys = false;
        } else if op[0] == b'&' {
            if self.all_channels {
                return Err(RuleError::AfterAllChannels);
            }
            let pat = &op[1..];
            if has_spaces(pat) {
                return Err(RuleError::Syntax);
            }
            if !self.channels.iter().any(|p| &p[..] == pat) {
                self.channels.push(Bytes::copy_from_slice(pat));
            }
            self.all_channels = false;
        } else if op[0] == b'+' && op.get(1) != Some(&b'@') {
            let name = &op[1..];
            match name.iter().rposition(|&b| b == b'|') {
                None => {
                    let (spec, id, _) = lookup(name).ok_or(RuleError::UnknownCommand)?;
                    self.change(spec, id, true);
                }
                Some(p) => {
                    let (cmd, sub) = (&name[..p], &name[p + 1..]);
                    let (spec, id, is_sub) = lookup(cmd).ok_or(RuleError::UnknownCommand)?;
                    if is_sub {
                        return Err(RuleError::FirstArgOfSubcommand);
                    }
                    if sub.is_empty() {
                        return Err(RuleError::Syntax);
                    }
                    if !spec.subcommands.is_empty() {
                        let (sspec, sid, _) = lookup(name).ok_or(RuleError::UnknownCommand)?;
                        self.change(sspec, sid, true);
                    } else {
                        // SELECT|0, DEBUG|OBJECT: a first argument of an otherwise denied command.
                        let entry = match self.first_args.iter_mut().position(|(c, _)| *c == id) {
                            Some(i) => &mut self.first_args[i].1,
                            None => {
                                self.first_args.push((id, Vec::new()));
                                &mut self.first_args.last_mut().unwrap().1
                            }
                        };
                        if !entry.iter().any(|a| a.eq_ignore_ascii_case(sub)) {
                            entry.push(Bytes::copy_from_slice(sub));
                        }
                    }
                }
            }
        } else if op[0] == b'-' && op.get(1) != Some(&b'@') {
            let (spec, id, _) = lookup(&op[1..]).ok_or(RuleError::UnknownCommand)?;
            self.change(spec, id, false);
        } else if (op[0] == b'+' || op[0] == b'-') && op.get(1) == Some(&b'@') {
            let flag = category(&op[2..]).ok_or(RuleError::UnknownCommand)?;
            self.set_category(flag, op[0] == b'+');
        } else {
            return Err(RuleError::Syntax);
        }
        Ok(())
    }

    fn can_run_future_commands(&self) -> bool {
        self.bit(future_bit())
    }

    fn category_counts(&self, flag: u32) -> (usize, usize) {
        let (mut on, mut off) = (0, 0);
        each_command(|spec, id, _, _| {
            if spec.acl_categories() & flag != 0 {
                if self.bit(id) {
                    on += 1;
                } else {
                    off += 1;
                }
            }
        });
        (on, off)
    }

    /// ACLDescribeSelectorCommandRules: +@all or -@all, then the categories that fit best,
    /// then single commands until the rules rebuild this exact bitmap.
    pub fn describe_commands(&self) -> String {
        let mut rules = String::new();
        let additive = !self.can_run_future_commands();
        let mut fake = Selector::new(false, false);
        if additive {
            rules.push_str("-@all ");
        } else {
            rules.push_str("+@all ");
            fake.set_all(true);
        }
        let mut temp = Selector::new(false, false);
        temp.commands = self.commands.clone();
        let mut applied = vec![false; cat::NAMES.len()];
        loop {
            let mut best = None;
            let (mut mindiff, mut maxsame) = (usize::MAX, 0);
            for (j, &(flag, _)) in cat::NAMES.iter().enumerate() {
                if applied[j] {
                    continue;
                }
                let (on, off) = temp.category_counts(flag);
                let (diff, same) = if additive { (off, on) } else { (on, off) };
                if same > diff && (diff < mindiff || (diff == mindiff && same > maxsame)) {
                    best = Some(j);
                    mindiff = diff;
                    maxsame = same;
                }
            }
            let Some(j) = best else { break };
            let (flag, name) = cat::NAMES[j];
            fake.set_category(flag, additive);
            temp.set_category(flag, !additive);
            rules.push_str(if additive { "+@" } else { "-@" });
            rules.push_str(name);
            rules.push(' ');
            applied[j] = true;
        }
        each_command(|spec, id, full, _| {
            let mine = self.bit(id);
            if mine != fake.bit(id) {
                rules.push(if mine { '+' } else { '-' });
                rules.push_str(&full);
                rules.push(' ');
                fake.change(spec, id, mine);
            }
            if !mine {
                if let Some((_, args)) = self.first_args.iter().find(|(c, _)| *c == id) {
                    for a in args {
                        rules.push('+');
                        rules.push_str(&full);
                        rules.push('|');
                        rules.push_str(&String::from_utf8_lossy(a));
                        rules.push(' ');
                    }
                }
            }
        });
        rules.pop();
        rules
    }

    pub fn describe_keys(&self) -> String {
        if self.all_keys {
            return "~*".into();
        }
        self.keys.iter().map(|(p, f)| pattern_string(p, *f)).collect::<Vec<_>>().join(" ")
    }

    pub fn describe_channels(&self) -> String {
        if self.all_channels {
            return "&*".into();
        }
        self.channels.iter().map(|p| format!("&{}", String::from_utf8_lossy(p))).collect::<Vec<_>>().join(" ")
    }

    /// ACLDescribeSelector: the rules that rebuild this selector, as ACL LIST shows them.
    pub fn describe(&self) -> String {
        let mut s = String::new();
        if self.all_keys {
            s.push_str("~* ");
        } else {
            for (p, f) in &self.keys {
                s.push_str(&pattern_string(p, *f));
                s.push(' ');
            }
        }
        if self.all_channels {
            s.push_str("&* ");
        } else {
            s.push_str("resetchannels ");
            for p in &self.channels {
                s.push('&');
                s.push_str(&String::from_utf8_lossy(p));
                s.push(' ');
            }
        }
        s.push_str(&self.describe_commands());
        s
    }

    /// Allowed to run every command on every key and channel: checks can be skipped.
    pub fn unrestricted(&self) -> bool {
        self.all_commands && self.all_keys && self.all_channels
    }

    /// Whether a pattern with the permissions a key spec's flags need (reading for an
    /// access, writing for an insert, update or delete) passes `matches`.
    fn keys_covered(&self, spec_flags: u16, matches: impl Fn(&[u8]) -> bool) -> bool {
        if self.all_keys {
            return true;
        }
        let mut need = 0;
        if spec_flags & kf::ACCESS != 0 {
            need |= READ;
        }
        if spec_flags & (kf::INSERT | kf::DELETE | kf::UPDATE) != 0 {
            need |= WRITE;
        }
        self.keys.iter().any(|(p, f)| f & need == need && matches(p))
    }

    fn key_allowed(&self, key: &[u8], spec_flags: u16) -> bool {
        self.keys_covered(spec_flags, |p| glob_match(p, key, false))
    }

    /// ACLSelectorHasUnrestrictedKeyAccess: `~*` (or `%R~*` for reads) among the patterns.
    pub fn unrestricted_keys(&self, spec_flags: u16) -> bool {
        self.keys_covered(spec_flags, |p| p == b"*")
    }

    /// ACLCheckChannelAgainstList: a PSUBSCRIBE pattern must be one of the patterns as
    /// written; a channel is matched against them.
    pub fn channel_allowed(&self, channel: &[u8], is_pattern: bool) -> bool {
        self.all_channels || self.channels.iter().any(|p| if is_pattern { &p[..] == channel } else { glob_match(p, channel, false) })
    }

    /// ACLSelectorCheckCmd. `keys` is computed once for all of a user's selectors.
    pub fn check(&self, spec: &CommandSpec, id: usize, is_sub: bool, argv: &[Bytes], keys: &mut Option<Vec<(usize, u16)>>) -> Result<(), Denied> {
        use crate::command::spec::flags::NO_AUTH;
        if !self.all_commands && spec.flags & NO_AUTH == 0 && !self.bit(id) {
            let idx = if is_sub { 2 } else { 1 };
            let ok = argv.len() >= 2
                && self
                    .first_args
                    .iter()
                    .find(|(c, _)| *c == id)
                    .is_some_and(|(_, args)| argv.get(idx).is_some_and(|a| args.iter().any(|x| x.eq_ignore_ascii_case(a))));
            if !ok {
                return Err(Denied::Command);
            }
        }
        if !self.all_keys && crate::command::keyspec::has_keys(spec) {
            let keys = keys.get_or_insert_with(|| crate::command::keyspec::keys_with_flags(spec, argv).unwrap_or_default());
            for &(pos, fl) in keys.iter() {
                if !self.key_allowed(&argv[pos], fl) {
                    return Err(Denied::Key(pos));
                }
            }
        }
        if !self.all_channels {
            for (pos, is_pattern) in channels_of(spec, is_sub, argv) {
                if !self.channel_allowed(&argv[pos], is_pattern) {
                    return Err(Denied::Channel(pos));
                }
            }
        }
        Ok(())
    }
}

fn pattern_string(p: &[u8], f: u8) -> String {
    let prefix = match f {
        READ => "%R~",
        WRITE => "%W~",
        _ => "~",
    };
    format!("{}{}", prefix, String::from_utf8_lossy(p))
}

/// getChannelsFromCommand, for the channels ACLs check (publish and subscribe; unsubscribing
/// is always allowed): (argument index, is a pattern).
pub fn channels_of(spec: &CommandSpec, is_sub: bool, argv: &[Bytes]) -> Vec<(usize, bool)> {
    if is_sub {
        return vec![];
    }
    match spec.name {
        "publish" | "spublish" => vec![(1, false)],
        "subscribe" | "ssubscribe" => (1..argv.len()).map(|i| (i, false)).collect(),
        "psubscribe" => (1..argv.len()).map(|i| (i, true)).collect(),
        _ => vec![],
    }
}

/// ACLCheckAllUserCommandPerm over a user's selectors: allowed if one selector allows all of
/// it; else the most telling refusal (a key or channel over the command, the later argument).
pub fn check_all(selectors: &[Selector], spec: &CommandSpec, id: usize, is_sub: bool, argv: &[Bytes]) -> Result<(), Denied> {
    let mut keys = None;
    let mut worst = Denied::Command;
    for s in selectors {
        match s.check(spec, id, is_sub, argv, &mut keys) {
            Ok(()) => return Ok(()),
            Err(d) => {
                if d.rank() > worst.rank() {
                    worst = d;
                }
            }
        }
    }
    Err(worst)
}
