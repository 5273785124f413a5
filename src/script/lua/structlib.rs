//! Being written (scripting issue).

use rilua::vm::state::LuaState;

pub fn open(_state: &mut LuaState) -> rilua::LuaResult<()> {
    Ok(())
}
