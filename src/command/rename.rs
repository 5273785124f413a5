//! redis.conf's `rename-command <name> <new-name>`: a command answers to its new name only
//! (an empty one removes it), for what clients send and what scripts call, as Redis's
//! server.commands dict does after the directive. The command table itself stays static
//! and shared; each engine keeps its own renames, and everything past the entry points
//! (EXEC's queue, blocked commands, the AOF) works with the original names.

use std::collections::{HashMap, HashSet};

use bytes::Bytes;

use super::spec::CommandSpec;
use super::table::table;
use crate::error::Error;

#[derive(Default, Clone)]
pub struct Renames {
    /// Lower-cased new name → the command.
    by_new_name: HashMap<Vec<u8>, &'static CommandSpec>,
    /// Commands no longer reachable by their own name.
    moved: HashSet<&'static str>,
}

impl Renames {
    pub fn is_empty(&self) -> bool {
        self.moved.is_empty()
    }

    /// One directive, judged against the names in force after the ones before it, with
    /// Redis's reasons.
    pub fn add(&mut self, name: &[u8], new_name: &[u8]) -> Result<(), &'static str> {
        let spec = self.lookup(name).ok_or("No such command in rename-command")?;
        self.by_new_name.retain(|_, s| s.name != spec.name);
        self.moved.insert(spec.name);
        if new_name.is_empty() {
            return Ok(());
        }
        if self.lookup(new_name).is_some() {
            return Err("Target command name already exists");
        }
        self.by_new_name.insert(new_name.to_ascii_lowercase(), spec);
        Ok(())
    }

    /// The command a name calls now (COMMAND INFO and friends, `add`).
    pub fn lookup(&self, name: &[u8]) -> Option<&'static CommandSpec> {
        if let Some(spec) = self.by_new_name.get(&name.to_ascii_lowercase()) {
            return Some(spec);
        }
        table().lookup(name).filter(|s| !self.moved.contains(s.name))
    }

    /// Whether a command still answers to some name (COMMAND COUNT and LIST leave out the
    /// removed ones).
    pub fn reachable(&self, spec: &CommandSpec) -> bool {
        !self.moved.contains(spec.name) || self.by_new_name.values().any(|s| s.name == spec.name)
    }

    /// The arguments as the rest of the engine takes them: None when nothing changes, the
    /// original name in place of a new one, or the unknown-command error for a name that
    /// was renamed away.
    pub fn translate(&self, argv: &[Bytes]) -> Result<Option<Vec<Bytes>>, Error> {
        let Some(first) = argv.first() else { return Ok(None) };
        if let Some(spec) = self.by_new_name.get(&first.to_ascii_lowercase()) {
            let mut v = argv.to_vec();
            v[0] = Bytes::from_static(spec.name.as_bytes());
            return Ok(Some(v));
        }
        match table().lookup(first) {
            Some(spec) if self.moved.contains(spec.name) => Err(Error::unknown_command(argv)),
            _ => Ok(None),
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    #[cfg(target_arch = "wasm32")]
    use crate::testing::test;

    #[test]
    fn renames_follow_redis_rules_in_order() {
        let mut r = Renames::default();
        assert_eq!(r.add(b"nosuch", b"x"), Err("No such command in rename-command"));
        assert_eq!(r.add(b"FLUSHALL", b""), Ok(()));
        assert_eq!(r.add(b"flushall", b"x"), Err("No such command in rename-command"));
        assert_eq!(r.add(b"config", b"get"), Err("Target command name already exists"));
        assert_eq!(r.add(b"keys", b"secret-keys"), Ok(()));
        // The old name is free for another command now.
        assert_eq!(r.add(b"dbsize", b"keys"), Ok(()));
        assert_eq!(r.lookup(b"KEYS").map(|s| s.name), Some("dbsize"));
        assert_eq!(r.lookup(b"Secret-Keys").map(|s| s.name), Some("keys"));
        assert!(r.lookup(b"dbsize").is_none() && r.lookup(b"flushall").is_none());
        assert!(!r.reachable(table().lookup(b"flushall").unwrap()) && r.reachable(table().lookup(b"keys").unwrap()));
    }
}
