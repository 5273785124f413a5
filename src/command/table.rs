//! The one command table, assembled from every family's `SPECS`. Lookup is case-insensitive
//! without allocating: names are lower-cased into a stack buffer first.

use std::sync::OnceLock;

use hashbrown::HashMap;

use super::spec::CommandSpec;
use crate::commands;

pub struct Table {
    by_name: HashMap<&'static str, (&'static CommandSpec, u32)>,
    pub all: Vec<&'static CommandSpec>,
    /// (command, subcommand) of every stat id: top-level commands and subcommands alike get
    /// a dense id, so per-command statistics are a vector index, not a hash lookup.
    pub names: Vec<(&'static str, Option<&'static str>)>,
}

/// Every family contributes its slice; new families add one line here.
fn families() -> [&'static [CommandSpec]; 13] {
    [commands::pubsub::SPECS, commands::transaction::SPECS, commands::string::SPECS, commands::hash::SPECS, commands::list::SPECS, commands::set::SPECS, commands::zset::SPECS, commands::stream::SPECS, commands::generic::SPECS, commands::connection::SPECS, commands::server::SPECS, commands::scripting::SPECS, commands::cluster::SPECS]
}

pub fn table() -> &'static Table {
    static T: OnceLock<Table> = OnceLock::new();
    T.get_or_init(|| {
        let mut by_name = HashMap::new();
        let mut all = Vec::new();
        let mut names = Vec::new();
        for fam in families() {
            for spec in fam {
                // A container's subcommands take the ids right after its own.
                let id = names.len() as u32;
                names.push((spec.name, None));
                names.extend(spec.subcommands.iter().map(|sub| (spec.name, Some(sub.name))));
                let prev = by_name.insert(spec.name, (spec, id));
                assert!(prev.is_none(), "command {} registered twice", spec.name);
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
        let mut buf = [0u8; 32];
        if name.len() > buf.len() {
            return None;
        }
        for (d, s) in buf.iter_mut().zip(name) {
            *d = s.to_ascii_lowercase();
        }
        let lower = std::str::from_utf8(&buf[..name.len()]).ok()?;
        self.by_name.get(lower).copied()
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
