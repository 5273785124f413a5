//! The conversion rules' view (`convert::ScriptValues`) of rilua values. Reads and writes
//! are raw, as Redis's conversions use lua_rawget / lua_rawset.

use rilua::vm::state::LuaState;
use rilua::vm::table::Table;
use rilua::Val;

use crate::script::convert::{Kind, ScriptValues};

pub struct Values<'a>(pub &'a mut LuaState);

impl Values<'_> {
    fn get(&self, t: Val, key: Val) -> Val {
        match t {
            Val::Table(r) => self.0.gc.tables.get(r).map_or(Val::Nil, |t| t.get(key, &self.0.gc.string_arena)),
            _ => Val::Nil,
        }
    }
}

impl ScriptValues for Values<'_> {
    type V = Val;

    fn kind(&self, v: Val) -> Kind<'_> {
        match v {
            Val::Nil => Kind::Nil,
            Val::Bool(b) => Kind::Bool(b),
            Val::Num(n) => Kind::Number(n),
            Val::Str(r) => match self.0.gc.string_arena.get(r) {
                Some(s) => Kind::Str(s.data()),
                None => Kind::Nil,
            },
            Val::Table(_) => Kind::Table,
            _ => Kind::Other,
        }
    }

    fn field(&mut self, t: Val, name: &str) -> Val {
        let k = Val::Str(self.0.gc.intern_string(name.as_bytes()));
        self.get(t, k)
    }

    fn index(&self, t: Val, i: usize) -> Val {
        self.get(t, Val::Num(i as f64))
    }

    fn pairs(&self, t: Val) -> Vec<(Val, Val)> {
        let Val::Table(r) = t else { return Vec::new() };
        let Some(tab) = self.0.gc.tables.get(r) else { return Vec::new() };
        let mut out = Vec::new();
        let mut k = Val::Nil;
        while let Ok(Some((nk, v))) = tab.next(k, &self.0.gc.string_arena) {
            out.push((nk, v));
            k = nk;
        }
        out
    }

    fn nil(&mut self) -> Val {
        Val::Nil
    }
    fn boolean(&mut self, b: bool) -> Val {
        Val::Bool(b)
    }
    fn number(&mut self, n: f64) -> Val {
        Val::Num(n)
    }
    fn string(&mut self, s: &[u8]) -> Val {
        Val::Str(self.0.gc.intern_string(s))
    }
    fn table(&mut self, _narr: usize, _nrec: usize) -> Val {
        Val::Table(self.0.gc.alloc_table(Table::new()))
    }
    fn set_field(&mut self, t: Val, name: &str, v: Val) {
        let k = Val::Str(self.0.gc.intern_string(name.as_bytes()));
        self.set(t, k, v);
    }
    fn set_index(&mut self, t: Val, i: usize, v: Val) {
        self.set(t, Val::Num(i as f64), v);
    }
    fn set(&mut self, t: Val, k: Val, v: Val) {
        if let Val::Table(r) = t {
            let st = &mut *self.0;
            if let Some(tab) = st.gc.tables.get_mut(r) {
                // Only a nil or NaN key fails, and replies never produce one.
                let _ = tab.raw_set(k, v, &st.gc.string_arena);
            }
        }
    }
}
