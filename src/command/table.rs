//! The one command table, assembled from every family's `SPECS`. Lookup runs once per
//! command, so it is its own small open-addressing table: the name is hashed and compared
//! case-insensitively as it is (no lower-cased copy), with a hash of 64-bit multiplies only
//! (cheap in wasm32 too, unlike the 128-bit products general hashers use).

use std::sync::OnceLock;

use super::spec::CommandSpec;
use crate::commands;

/// Slots in the name table: a power of two, several times the number of commands, so that a
/// lookup probes one or two slots.
const SLOTS: usize = 2048;

/// FNV-1a over the bytes with ASCII case folded (`| 0x20` folds letters; other bytes may
/// fold onto each other, which only costs a probe: names are compared exactly after).
fn name_hash(name: &[u8]) -> usize {
    let mut h: u64 = 0xcbf2_9ce4_8422_2325;
    for &b in name {
        h = (h ^ (b | 0x20) as u64).wrapping_mul(0x0100_0000_01b3);
    }
    (h ^ (h >> 29)) as usize
}

pub struct Table {
    by_name: Vec<Option<(&'static CommandSpec, u32)>>,
    pub all: Vec<&'static CommandSpec>,
    /// (command, subcommand) of every stat id: top-level commands and subcommands alike get
    /// a dense id, so per-command statistics are a vector index, not a hash lookup.
    pub names: Vec<(&'static str, Option<&'static str>)>,
}

/// Every family contributes its slice; new families add one line here.
fn families() -> [&'static [CommandSpec]; 17] {
    [
        commands::pubsub::SPECS,
        commands::transaction::SPECS,
        commands::string::SPECS,
        commands::bitmap::SPECS,
        commands::hash::SPECS,
        commands::list::SPECS,
        commands::set::SPECS,
        commands::zset::SPECS,
        commands::geo::SPECS,
        commands::hyperloglog::SPECS,
        commands::stream::SPECS,
        commands::generic::SPECS,
        commands::connection::SPECS,
        commands::server::SPECS,
        commands::scripting::SPECS,
        commands::cluster::SPECS,
        commands::replication::SPECS,
    ]
}

pub fn table() -> &'static Table {
    static T: OnceLock<Table> = OnceLock::new();
    T.get_or_init(|| {
        let mut by_name: Vec<Option<(&'static CommandSpec, u32)>> = vec![None; SLOTS];
        let mut all = Vec::new();
        let mut names = Vec::new();
        for fam in families() {
            for spec in fam {
                // A container's subcommands take the ids right after its own.
                let id = names.len() as u32;
                names.push((spec.name, None));
                names.extend(spec.subcommands.iter().map(|sub| (spec.name, Some(sub.name))));
                let mut i = name_hash(spec.name.as_bytes());
                while let Some((other, _)) = by_name[i & (SLOTS - 1)] {
                    assert!(other.name != spec.name, "command {} registered twice", spec.name);
                    i += 1;
                }
                by_name[i & (SLOTS - 1)] = Some((spec, id));
                all.push(spec);
            }
        }
        Table { by_name, all, names }
    })
}

impl Table {
    pub fn lookup(&self, name: &[u8]) -> Option<&'static CommandSpec> {
        self.lookup_with_id(name).map(|(s, _)| s)
    }

    /// The command and its stat id (subcommand ids follow: `id + 1 + position`).
    pub fn lookup_with_id(&self, name: &[u8]) -> Option<(&'static CommandSpec, u32)> {
        if name.len() > 32 {
            return None;
        }
        let mut i = name_hash(name);
        loop {
            let (spec, id) = self.by_name[i & (SLOTS - 1)]?;
            if spec.name.len() == name.len() && spec.name.as_bytes().eq_ignore_ascii_case(name) {
                return Some((spec, id));
            }
            i += 1;
        }
    }

    pub fn len(&self) -> usize {
        self.all.len()
    }

    pub fn is_empty(&self) -> bool {
        self.all.is_empty()
    }
}

/// A subcommand of a container (case-insensitive).
pub fn lookup_sub(parent: &'static CommandSpec, name: &[u8]) -> Option<&'static CommandSpec> {
    parent.subcommands.iter().find(|s| s.name.as_bytes().eq_ignore_ascii_case(name))
}

#[cfg(test)]
mod tests {
    use super::*;
    #[cfg(target_arch = "wasm32")]
    use crate::testing::test;

    /// COMMAND DOCS skips a declaration it cannot parse; this keeps one from ever shipping.
    #[test]
    fn every_argument_declaration_parses() {
        for spec in &table().all {
            for s in std::iter::once(*spec).chain(spec.subcommands.iter()) {
                if let Err(e) = crate::command::syntax::parse(s.syntax) {
                    panic!("{}: {} in {:?}", s.name, e, s.syntax);
                }
            }
        }
    }
}
