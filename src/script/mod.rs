//! Scripting: the engine-neutral half (Redis: script.c). The Lua backend lives in `lua/`.

pub mod lua;
