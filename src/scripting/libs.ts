/**
 * The libraries Redis gives scripts beyond Lua's own, written in JavaScript
 * against fengari's C-API mirror: cjson, cmsgpack and bit (LuaBitOp), with the
 * behaviour of the C libraries Redis embeds where scripts can see it.
 */
import { lua, lauxlib, type LuaState } from './vm.js';

const { LUA_TNIL, LUA_TBOOLEAN, LUA_TNUMBER, LUA_TSTRING, LUA_TTABLE, LUA_TLIGHTUSERDATA } = lua;

/** cjson.null: a light userdata, equal only to itself. */
export const JSON_NULL = { cjsonNull: true };
const MAX_NESTING = 1000;
const CMSGPACK_MAX_NESTING = 16;

export type LibTable = Record<string, (L: LuaState) => number>;

export function pushBytes(L: LuaState, bytes: Uint8Array): void {
  lua.lua_pushstring(L, bytes);
}

/** A Lua string argument's bytes (numbers are converted as Lua does). */
function checkBytes(L: LuaState, i: number): Buffer {
  const s = lauxlib.luaL_checklstring(L, i);
  return Buffer.from(s.buffer, s.byteOffset, s.length);
}

function luaNumberText(n: number): string {
  return String(Number(n.toPrecision(14)));
}

// ---------------------------------------------------------------- cjson

function jsonString(bytes: Uint8Array): string {
  let out = '"';
  for (const c of bytes) {
    if (c === 0x22) out += '\\"';
    else if (c === 0x5c) out += '\\\\';
    else if (c === 0x2f) out += '\\/';
    else if (c === 0x0a) out += '\\n';
    else if (c === 0x0d) out += '\\r';
    else if (c === 0x09) out += '\\t';
    else if (c === 0x08) out += '\\b';
    else if (c === 0x0c) out += '\\f';
    else if (c < 0x20 || c === 0x7f) out += '\\u' + c.toString(16).padStart(4, '0');
    else out += String.fromCharCode(c);
  }
  return out + '"';
}

function encodeJson(L: LuaState, idx: number, depth: number): string {
  switch (lua.lua_type(L, idx)) {
    case LUA_TNIL:
      return 'null';
    case LUA_TBOOLEAN:
      return lua.lua_toboolean(L, idx) ? 'true' : 'false';
    case LUA_TNUMBER: {
      const n = lua.lua_tonumber(L, idx);
      if (!Number.isFinite(n)) lauxlib.luaL_error(L, 'Cannot serialise number: must not be NaN or Inf');
      return luaNumberText(n);
    }
    case LUA_TSTRING:
      return jsonString(lua.lua_tolstring(L, idx)!);
    case LUA_TLIGHTUSERDATA:
      if (lua.lua_touserdata(L, idx) === JSON_NULL) return 'null';
      break;
    case LUA_TTABLE: {
      if (depth > MAX_NESTING) lauxlib.luaL_error(L, `Cannot serialise, excessive nesting (${depth})`);
      lauxlib.luaL_checkstack(L, 4, 'cjson');
      const t = lua.lua_absindex(L, idx);
      // An array if every key is a positive integer and it is not excessively sparse (cjson's defaults).
      let max = 0;
      let count = 0;
      let isArray = true;
      lua.lua_pushnil(L);
      while (lua.lua_next(L, t)) {
        lua.lua_pop(L, 1);
        if (isArray && lua.lua_type(L, -1) === LUA_TNUMBER) {
          const k = lua.lua_tonumber(L, -1);
          if (Number.isInteger(k) && k >= 1) {
            max = Math.max(max, k);
            count++;
            continue;
          }
        }
        isArray = false;
      }
      if (isArray && max > 0) {
        if (max > 10 && max > count * 2) lauxlib.luaL_error(L, 'Cannot serialise table: excessively sparse array');
        const parts: string[] = [];
        for (let i = 1; i <= max; i++) {
          lua.lua_rawgeti(L, t, i);
          parts.push(encodeJson(L, -1, depth + 1));
          lua.lua_pop(L, 1);
        }
        return `[${parts.join(',')}]`;
      }
      const parts: string[] = [];
      lua.lua_pushnil(L);
      while (lua.lua_next(L, t)) {
        const kt = lua.lua_type(L, -2);
        let key: string;
        if (kt === LUA_TSTRING) key = jsonString(lua.lua_tolstring(L, -2)!);
        else if (kt === LUA_TNUMBER) key = `"${luaNumberText(lua.lua_tonumber(L, -2))}"`;
        else return lauxlib.luaL_error(L, 'Cannot serialise table: table key must be a number or string');
        parts.push(`${key}:${encodeJson(L, -1, depth + 1)}`);
        lua.lua_pop(L, 1);
      }
      return `{${parts.join(',')}}`;
    }
  }
  const typeName = ['nil', 'boolean', 'userdata', 'number', 'string', 'table', 'function', 'userdata', 'thread'][lua.lua_type(L, idx)] ?? 'value';
  return lauxlib.luaL_error(L, `Cannot serialise ${typeName}: type not supported`);
}

function pushJson(L: LuaState, v: unknown, depth: number): void {
  if (depth > MAX_NESTING) lauxlib.luaL_error(L, `Found too many nested data structures (${depth})`);
  lauxlib.luaL_checkstack(L, 3, 'cjson');
  if (v === null) lua.lua_pushlightuserdata(L, JSON_NULL);
  else if (typeof v === 'boolean') lua.lua_pushboolean(L, v);
  else if (typeof v === 'number') lua.lua_pushnumber(L, v);
  else if (typeof v === 'string') lua.lua_pushstring(L, Buffer.from(v, 'utf8'));
  else if (Array.isArray(v)) {
    lua.lua_createtable(L, v.length, 0);
    v.forEach((item, i) => {
      pushJson(L, item, depth + 1);
      lua.lua_rawseti(L, -2, i + 1);
    });
  } else {
    const entries = Object.entries(v as Record<string, unknown>);
    lua.lua_createtable(L, 0, entries.length);
    for (const [k, item] of entries) {
      lua.lua_pushstring(L, Buffer.from(k, 'utf8'));
      pushJson(L, item, depth + 1);
      lua.lua_rawset(L, -3);
    }
  }
}

export const cjson: LibTable = {
  encode: (L) => {
    if (lua.lua_gettop(L) !== 1) lauxlib.luaL_error(L, 'bad argument #1 to \'encode\' (expected 1 argument)');
    pushBytes(L, Buffer.from(encodeJson(L, 1, 1), 'latin1'));
    return 1;
  },
  decode: (L) => {
    const text = checkBytes(L, 1).toString('utf8');
    let v: unknown;
    try {
      v = JSON.parse(text);
    } catch (err) {
      return lauxlib.luaL_error(L, `Expected value but found invalid token: ${(err as Error).message}`);
    }
    pushJson(L, v, 1);
    return 1;
  },
};

// ---------------------------------------------------------------- cmsgpack

class Bytes {
  private buf = Buffer.allocUnsafe(256);
  len = 0;
  ensure(n: number): void {
    if (this.len + n <= this.buf.length) return;
    const next = Buffer.allocUnsafe(Math.max(this.buf.length * 2, this.len + n));
    this.buf.copy(next, 0, 0, this.len);
    this.buf = next;
  }
  u8(b: number): void {
    this.ensure(1);
    this.buf[this.len++] = b;
  }
  u16(n: number): void {
    this.ensure(2);
    this.buf.writeUInt16BE(n, this.len);
    this.len += 2;
  }
  u32(n: number): void {
    this.ensure(4);
    this.buf.writeUInt32BE(n, this.len);
    this.len += 4;
  }
  h8(tag: number, n: number): void {
    this.u8(tag);
    this.u8(n);
  }
  h16(tag: number, n: number): void {
    this.u8(tag);
    this.u16(n);
  }
  h32(tag: number, n: number): void {
    this.u8(tag);
    this.u32(n);
  }
  bytes(b: Uint8Array): void {
    this.ensure(b.length);
    this.buf.set(b, this.len);
    this.len += b.length;
  }
  result(): Buffer {
    return this.buf.subarray(0, this.len);
  }
}

function packNumber(out: Bytes, n: number): void {
  if (Number.isInteger(n) && Math.abs(n) < 2 ** 63) {
    if (n >= 0) {
      if (n <= 127) out.u8(n);
      else if (n <= 0xff) out.h8(0xcc, n);
      else if (n <= 0xffff) out.h16(0xcd, n);
      else if (n <= 0xffffffff) out.h32(0xce, n);
      else {
        out.u8(0xcf);
        const b = Buffer.allocUnsafe(8);
        b.writeBigUInt64BE(BigInt(n));
        out.bytes(b);
      }
    } else if (n >= -32) out.u8(n & 0xff);
    else if (n >= -128) out.h8(0xd0, n & 0xff);
    else if (n >= -32768) out.h16(0xd1, n & 0xffff);
    else if (n >= -2147483648) out.h32(0xd2, n >>> 0);
    else {
      out.u8(0xd3);
      const b = Buffer.allocUnsafe(8);
      b.writeBigInt64BE(BigInt(n));
      out.bytes(b);
    }
    return;
  }
  if (Math.fround(n) === n || Number.isNaN(n)) {
    out.u8(0xca);
    const b = Buffer.allocUnsafe(4);
    b.writeFloatBE(n);
    out.bytes(b);
  } else {
    out.u8(0xcb);
    const b = Buffer.allocUnsafe(8);
    b.writeDoubleBE(n);
    out.bytes(b);
  }
}

function packValue(L: LuaState, idx: number, out: Bytes, depth: number): void {
  switch (lua.lua_type(L, idx)) {
    case LUA_TBOOLEAN:
      return out.u8(lua.lua_toboolean(L, idx) ? 0xc3 : 0xc2);
    case LUA_TNUMBER:
      return packNumber(out, lua.lua_tonumber(L, idx));
    case LUA_TSTRING: {
      const s = lua.lua_tolstring(L, idx)!;
      if (s.length < 32) out.u8(0xa0 | s.length);
      else if (s.length <= 0xff) out.h8(0xd9, s.length);
      else if (s.length <= 0xffff) out.h16(0xda, s.length);
      else out.h32(0xdb, s.length);
      return out.bytes(s);
    }
    case LUA_TTABLE: {
      if (depth > CMSGPACK_MAX_NESTING) return out.u8(0xc0);
      lauxlib.luaL_checkstack(L, 4, 'cmsgpack');
      const t = lua.lua_absindex(L, idx);
      let count = 0;
      let max = 0;
      let isArray = true;
      lua.lua_pushnil(L);
      while (lua.lua_next(L, t)) {
        lua.lua_pop(L, 1);
        count++;
        if (isArray && lua.lua_type(L, -1) === LUA_TNUMBER) {
          const k = lua.lua_tonumber(L, -1);
          if (Number.isInteger(k) && k >= 1) {
            max = Math.max(max, k);
            continue;
          }
        }
        isArray = false;
      }
      if (isArray && max === count) {
        if (count < 16) out.u8(0x90 | count);
        else if (count <= 0xffff) out.h16(0xdc, count);
        else out.h32(0xdd, count);
        for (let i = 1; i <= count; i++) {
          lua.lua_rawgeti(L, t, i);
          packValue(L, -1, out, depth + 1);
          lua.lua_pop(L, 1);
        }
        return;
      }
      if (count < 16) out.u8(0x80 | count);
      else if (count <= 0xffff) out.h16(0xde, count);
      else out.h32(0xdf, count);
      lua.lua_pushnil(L);
      while (lua.lua_next(L, t)) {
        packValue(L, -2, out, depth + 1);
        packValue(L, -1, out, depth + 1);
        lua.lua_pop(L, 1);
      }
      return;
    }
    default:
      return out.u8(0xc0);
  }
}

function unpackValue(L: LuaState, b: Buffer, pos: number, depth: number): number {
  const need = (n: number) => {
    if (pos + n > b.length) lauxlib.luaL_error(L, 'Missing bytes in input.');
  };
  lauxlib.luaL_checkstack(L, 3, 'cmsgpack');
  need(1);
  const t = b[pos++]!;
  const str = (n: number) => {
    need(n);
    lua.lua_pushstring(L, b.subarray(pos, pos + n));
    return pos + n;
  };
  const array = (n: number) => {
    if (depth > 1000) lauxlib.luaL_error(L, 'Too many nested data structures.');
    lua.lua_createtable(L, n, 0);
    for (let i = 1; i <= n; i++) {
      pos = unpackValue(L, b, pos, depth + 1);
      lua.lua_rawseti(L, -2, i);
    }
    return pos;
  };
  const map = (n: number) => {
    if (depth > 1000) lauxlib.luaL_error(L, 'Too many nested data structures.');
    lua.lua_createtable(L, 0, n);
    for (let i = 0; i < n; i++) {
      pos = unpackValue(L, b, pos, depth + 1);
      pos = unpackValue(L, b, pos, depth + 1);
      if (lua.lua_type(L, -2) === LUA_TNIL) lua.lua_pop(L, 2);
      else lua.lua_rawset(L, -3);
    }
    return pos;
  };
  if (t <= 0x7f) return (lua.lua_pushnumber(L, t), pos);
  if (t >= 0xe0) return (lua.lua_pushnumber(L, t - 256), pos);
  if ((t & 0xe0) === 0xa0) return str(t & 0x1f);
  if ((t & 0xf0) === 0x90) return array(t & 0x0f);
  if ((t & 0xf0) === 0x80) return map(t & 0x0f);
  const num = (n: number, read: (at: number) => number) => {
    need(n);
    lua.lua_pushnumber(L, read(pos));
    return pos + n;
  };
  switch (t) {
    case 0xc0:
      return (lua.lua_pushnil(L), pos);
    case 0xc2:
      return (lua.lua_pushboolean(L, false), pos);
    case 0xc3:
      return (lua.lua_pushboolean(L, true), pos);
    case 0xcc: return num(1, (p) => b.readUInt8(p));
    case 0xcd: return num(2, (p) => b.readUInt16BE(p));
    case 0xce: return num(4, (p) => b.readUInt32BE(p));
    case 0xcf: return num(8, (p) => Number(b.readBigUInt64BE(p)));
    case 0xd0: return num(1, (p) => b.readInt8(p));
    case 0xd1: return num(2, (p) => b.readInt16BE(p));
    case 0xd2: return num(4, (p) => b.readInt32BE(p));
    case 0xd3: return num(8, (p) => Number(b.readBigInt64BE(p)));
    case 0xca: return num(4, (p) => b.readFloatBE(p));
    case 0xcb: return num(8, (p) => b.readDoubleBE(p));
    case 0xd9:
    case 0xc4:
      need(1);
      return (pos++, str(b[pos - 1]!));
    case 0xda:
    case 0xc5:
      need(2);
      return (pos += 2, str(b.readUInt16BE(pos - 2)));
    case 0xdb:
    case 0xc6:
      need(4);
      return (pos += 4, str(b.readUInt32BE(pos - 4)));
    case 0xdc:
      need(2);
      return (pos += 2, array(b.readUInt16BE(pos - 2)));
    case 0xdd:
      need(4);
      return (pos += 4, array(b.readUInt32BE(pos - 4)));
    case 0xde:
      need(2);
      return (pos += 2, map(b.readUInt16BE(pos - 2)));
    case 0xdf:
      need(4);
      return (pos += 4, map(b.readUInt32BE(pos - 4)));
  }
  return lauxlib.luaL_error(L, 'Bad data format in input.');
}

export const cmsgpack: LibTable = {
  pack: (L) => {
    const n = lua.lua_gettop(L);
    if (n === 0) lauxlib.luaL_error(L, 'MessagePack pack needs input.');
    const out = new Bytes();
    for (let i = 1; i <= n; i++) packValue(L, i, out, 0);
    pushBytes(L, out.result());
    return 1;
  },
  unpack: (L) => {
    const b = Buffer.from(checkBytes(L, 1));
    let pos = 0;
    let count = 0;
    while (pos < b.length) {
      pos = unpackValue(L, b, pos, 0);
      count++;
    }
    return count;
  },
};

// ---------------------------------------------------------------- bit (LuaBitOp)

/** LuaBitOp's normalisation: the number modulo 2^32, as a signed 32-bit integer. */
const tobit = (L: LuaState, i: number): number => lauxlib.luaL_checknumber(L, i) | 0;
const ret = (L: LuaState, n: number): number => (lua.lua_pushnumber(L, n | 0), 1);
const fold = (op: (a: number, b: number) => number) => (L: LuaState) => {
  let r = tobit(L, 1);
  for (let i = 2, n = lua.lua_gettop(L); i <= n; i++) r = op(r, tobit(L, i));
  return ret(L, r);
};

export const bit: LibTable = {
  tobit: (L) => ret(L, tobit(L, 1)),
  bnot: (L) => ret(L, ~tobit(L, 1)),
  band: fold((a, b) => a & b),
  bor: fold((a, b) => a | b),
  bxor: fold((a, b) => a ^ b),
  lshift: (L) => ret(L, tobit(L, 1) << (tobit(L, 2) & 31)),
  rshift: (L) => ret(L, tobit(L, 1) >>> (tobit(L, 2) & 31)),
  arshift: (L) => ret(L, tobit(L, 1) >> (tobit(L, 2) & 31)),
  rol: (L) => {
    const x = tobit(L, 1);
    const n = tobit(L, 2) & 31;
    return ret(L, (x << n) | (x >>> (32 - n)));
  },
  ror: (L) => {
    const x = tobit(L, 1);
    const n = tobit(L, 2) & 31;
    return ret(L, (x >>> n) | (x << (32 - n)));
  },
  bswap: (L) => {
    const x = tobit(L, 1);
    return ret(L, ((x >>> 24) & 0xff) | ((x >>> 8) & 0xff00) | ((x & 0xff00) << 8) | ((x & 0xff) << 24));
  },
  tohex: (L) => {
    let x = tobit(L, 1);
    let n = lua.lua_type(L, 2) <= LUA_TNIL ? 8 : tobit(L, 2);
    const upper = n < 0;
    if (upper) n = -n;
    n = Math.min(n, 8);
    let s = '';
    for (let i = 0; i < n; i++, x >>>= 4) s = '0123456789abcdef'[x & 15] + s;
    lua.lua_pushstring(L, Buffer.from(upper ? s.toUpperCase() : s, 'latin1'));
    return 1;
  },
};
