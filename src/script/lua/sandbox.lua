-- Runs once when a Lua VM is built, with the real globals as its environment. Makes the
-- error handler Redis installs, then locks every table reachable from the globals behind
-- an empty read-only proxy (Redis patches its Lua with read-only tables; rilua has none,
-- so a proxy's __index reads the real table and its __newindex refuses).
local ro_map, readonly, is_eval = ...
local dbg = debug
debug = nil

local handler = function(err)
  -- C Lua calls no handler for an allocation failure: the run fails with the bare
  -- message (the heap limit's error, see guard.rs).
  if err == 'not enough memory' then
    return err
  end
  local i = dbg.getinfo(2, 'nSl')
  if i and i.what == 'C' then
    i = dbg.getinfo(3, 'nSl')
  end
  -- An error the debugger raises from its line hook (abort, a protocol error): rilua shows
  -- the hook's frame as one of this chunk's, with the script's line below it.
  if i and i.source == '=sandbox' then
    i = dbg.getinfo(3, 'nSl')
  end
  if type(err) ~= 'table' then
    err = {err = 'ERR ' .. tostring(err)}
  end
  if i then
    err['source'] = i.source
    err['line'] = i.currentline
  end
  return err
end
if is_eval then
  __redis__err__handler = handler
end

local rawset, setmetatable, getmetatable, type, next = rawset, setmetatable, getmetatable, type, next
local seen = {}
local function protect(t, meta)
  local p = seen[t]
  if p then return p end
  p = {}
  seen[t] = p
  for k, v in next, t do
    if type(v) == 'table' then rawset(t, k, protect(v)) end
  end
  setmetatable(p, {__index = t, __newindex = readonly, __metatable = meta or false})
  ro_map[p] = t
  return p
end

local G = _G
-- The library API FUNCTION LOAD's code sees, if this VM has one: not a global.
local lib = rawget(G, '__library_api__')
rawset(G, '__library_api__', nil)
local env = protect(G, protect(getmetatable(G)))
-- Methods on strings ('x'):upper() read the string table through the same guard, and
-- the strings' metatable, shared by every script, is itself read-only: getmetatable('')
-- answers with its proxy (Redis: "Attempt to modify a readonly table").
-- (protect swaps the real string table in __index for its proxy).
local smt = getmetatable('')
rawset(smt, '__metatable', protect(smt))
if lib then
  lib = protect(lib, protect(getmetatable(lib)))
end
return env, handler, lib
