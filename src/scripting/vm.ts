/**
 * Loads fengari (Lua 5.3 in JavaScript) configured for Redis's Lua 5.1 number
 * semantics, where scripts written for Redis depend on them:
 *
 * - Numbers print as Lua 5.1's "%.14g" does: tostring(10/2) is "5" (not
 *   "5.0": LUA_COMPAT_FLOATSTRING), 1.73332e15 is "1.73332e+15", 1/0 is "inf".
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

/** C's "%.14g", Lua 5.1's LUA_NUMBER_FMT: 1.73332e+15, 0.3, inf, nan. */
export function formatG14(n: number): string {
  if (Number.isNaN(n)) return 'nan';
  if (!Number.isFinite(n)) return n > 0 ? 'inf' : '-inf';
  if (n === 0) return Object.is(n, -0) ? '-0' : '0';
  const [mantissa, e] = n.toExponential(13).split('e') as [string, string];
  const exp = Number(e);
  const trim = (s: string) => (s.includes('.') ? s.replace(/\.?0+$/, '') : s);
  if (exp < -4 || exp >= 14) return `${trim(mantissa)}e${exp < 0 ? '-' : '+'}${String(Math.abs(exp)).padStart(2, '0')}`;
  return trim(n.toFixed(13 - exp));
}
const previous = process.env.FENGARICONF;
process.env.FENGARICONF = JSON.stringify({ ...(previous ? (JSON.parse(previous) as object) : {}), LUA_COMPAT_FLOATSTRING: true });
// luaconf.js reads FENGARICONF when it loads, and lobject.js takes lua_number2str from it when it
// loads: replaced in between.
// defs.js first: it and luaconf.js require each other, and fengari loads defs.js first.
require('fengari/src/defs.js');
(require('fengari/src/luaconf.js') as { lua_number2str: (n: number) => string }).lua_number2str = formatG14;
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
