/**
 * The Lua side of a script VM's setup, run once with the full standard
 * library at hand. It returns the sandbox scripts run in (Redis 7's): a global
 * table that cannot be written (globals are declared local, or error) and that
 * errors on reading a global that does not exist; library tables read-only;
 * no io, os, require, dofile, loadfile, print or debug; load and loadstring
 * for source text only, in the sandbox. Also the message handler that turns
 * an error into Redis's {err=, source=, line=} table (as Redis's
 * __redis__err__handler).
 */
export const BOOTSTRAP = `
local libs = ...
local error, type, tostring, setmetatable, rawset, next, load, select = error, type, tostring, setmetatable, rawset, next, load, select
local getinfo = debug.getinfo
local protected = setmetatable({}, {__mode = 'k'})
local function ro() error('Attempt to modify a readonly table', 2) end
local function readonly(t)
  local p = setmetatable({}, {__index = t, __newindex = ro, __metatable = false,
    __pairs = function() return next, t, nil end, __len = function() return #t end})
  protected[p] = true
  return p
end
local G = {}
for _, n in ipairs({'assert', 'error', 'ipairs', 'next', 'pairs', 'pcall', 'rawequal', 'rawget', 'rawlen',
    'select', 'setmetatable', 'getmetatable', 'tonumber', 'tostring', 'type', 'xpcall', 'collectgarbage', '_VERSION'}) do
  G[n] = _G[n]
end
G.unpack = table.unpack
G.gcinfo = function() return collectgarbage('count') end
G.rawset = function(t, k, v)
  if protected[t] then error('Attempt to modify a readonly table', 0) end
  return rawset(t, k, v)
end
local env
local function loadtext(s, name, mode, e)
  if type(s) == 'string' and s:byte(1) == 27 then return nil, 'attempt to load a binary chunk' end
  return load(s, name, 't', e or env)
end
G.load = loadtext
G.loadstring = function(s, name) return loadtext(s, name) end
-- Lua 5.1 names scripts written for Redis use.
table.getn = function(t) return #t end
table.maxn = table.maxn or function(t) local m = 0 for k in pairs(t) do if type(k) == 'number' and k > m then m = k end end return m end
math.pow = math.pow or function(a, b) return a ^ b end
math.mod = math.fmod
math.log10 = math.log10 or function(x) return math.log(x, 10) end
math.ldexp = math.ldexp or function(m, e) return m * 2.0 ^ e end
math.frexp = math.frexp or function(x)
  if x == 0 or x ~= x or x == math.huge or x == -math.huge then return x, 0 end
  local e = math.floor(math.log(math.abs(x), 2)) + 1
  local m = x / 2.0 ^ e
  if math.abs(m) >= 1 then m, e = m / 2, e + 1 elseif math.abs(m) < 0.5 then m, e = m * 2, e - 1 end
  return m, e
end
string.gfind = string.gmatch
math.random = libs.random
math.randomseed = libs.randomseed
for _, n in ipairs({'string', 'table', 'math', 'coroutine'}) do G[n] = readonly(_G[n]) end
for n, t in pairs(libs.tables) do G[n] = readonly(t) end
getmetatable('').__metatable = false
env = setmetatable({}, {__index = G, __newindex = ro, __metatable = false, __pairs = function() return next, G, nil end})
setmetatable(G, {__index = function(_, k)
  error("Script attempted to access nonexistent global variable '" .. tostring(k) .. "'", 2)
end})
protected[env] = true
G._G = env
local function handler(err)
  -- The script's frame: past JavaScript functions (redis.call, error) and this sandbox's own.
  local level = 2
  local i = getinfo(level, 'nSl')
  while i and ((i.what ~= 'Lua' and i.what ~= 'main') or i.source == '=sandbox') do
    level = level + 1
    i = getinfo(level, 'nSl')
  end
  if type(err) ~= 'table' then err = {err = 'ERR ' .. tostring(err)} end
  if i then
    err.source = i.source
    err.line = i.currentline
  end
  return err
end
return env, G, handler, readonly
`;
