/**
 * Loads fengari (Lua 5.3 in JavaScript) configured for Redis's Lua 5.1 number
 * semantics, where scripts written for Redis depend on them:
 *
 * - Integral floats print without ".0" (LUA_COMPAT_FLOATSTRING): tostring(10/2)
 *   is "5", as in Lua 5.1.
 * - Numerals in source and strings converted to numbers (tonumber, arithmetic
 *   on strings) are floats, as every number is in Lua 5.1. fengari's integers
 *   are 32 bits wide and wrap on overflow: tonumber("1733320000000") * 1000, a
 *   millisecond timestamp, would otherwise wrap or lose its integer type. Only
 *   a few library functions (#, string.len, math.floor...) still make integers.
 *
 * fengari reads its configuration from the environment once, when first
 * loaded: this module sets it just before and removes it right after.
 */
import { createRequire } from 'node:module';

const require = createRequire(import.meta.url);
const previous = process.env.FENGARICONF;
process.env.FENGARICONF = JSON.stringify({ ...(previous ? (JSON.parse(previous) as object) : {}), LUA_COMPAT_FLOATSTRING: true });
const fengari = require('fengari') as typeof import('fengari').default;
if (previous === undefined) delete process.env.FENGARICONF;
else process.env.FENGARICONF = previous;

interface TValueLike {
  ttisinteger(): boolean;
  value: number;
  setfltvalue(n: number): void;
}
const lobject = require('fengari/src/lobject.js') as { luaO_str2num: (s: Uint8Array, o: TValueLike) => number };
const str2num = lobject.luaO_str2num;
// Every caller (lexer, VM coercions, lua_stringtonumber) goes through the module's export.
lobject.luaO_str2num = (s, o) => {
  const n = str2num(s, o);
  if (n !== 0 && o.ttisinteger()) o.setfltvalue(o.value);
  return n;
};

export const { lua, lauxlib, lualib, to_luastring } = fengari;
export type { LuaState } from 'fengari';
