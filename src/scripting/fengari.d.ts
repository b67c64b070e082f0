/**
 * The parts of fengari (a Lua 5.3 VM in JavaScript) that scripting uses.
 * fengari ships no types: these follow its C-API mirror (lapi.js, lauxlib.js).
 */
declare module 'fengari' {
  /** A lua_State. */
  export type LuaState = { readonly __luaState: unique symbol };
  export type JsFunction = (L: LuaState) => number;
  export interface LuaApi {
    readonly LUA_OK: number;
    readonly LUA_YIELD: number;
    readonly LUA_ERRRUN: number;
    readonly LUA_ERRSYNTAX: number;
    readonly LUA_ERRMEM: number;
    readonly LUA_ERRERR: number;
    readonly LUA_TNIL: number;
    readonly LUA_TBOOLEAN: number;
    readonly LUA_TLIGHTUSERDATA: number;
    readonly LUA_TNUMBER: number;
    readonly LUA_TSTRING: number;
    readonly LUA_TTABLE: number;
    readonly LUA_TFUNCTION: number;
    readonly LUA_REGISTRYINDEX: number;
    readonly LUA_RIDX_GLOBALS: number;
    readonly LUA_MASKCOUNT: number;
    readonly LUA_MULTRET: number;
    lua_gettop(L: LuaState): number;
    lua_settop(L: LuaState, idx: number): void;
    lua_pop(L: LuaState, n: number): void;
    lua_pushvalue(L: LuaState, idx: number): void;
    lua_type(L: LuaState, idx: number): number;
    lua_isinteger(L: LuaState, idx: number): boolean;
    lua_tonumber(L: LuaState, idx: number): number;
    lua_tointeger(L: LuaState, idx: number): number;
    lua_toboolean(L: LuaState, idx: number): boolean;
    lua_tolstring(L: LuaState, idx: number): Uint8Array | null;
    lua_tojsstring(L: LuaState, idx: number): string;
    lua_touserdata(L: LuaState, idx: number): unknown;
    lua_pushnil(L: LuaState): void;
    lua_pushboolean(L: LuaState, b: boolean): void;
    lua_pushinteger(L: LuaState, n: number): void;
    lua_pushnumber(L: LuaState, n: number): void;
    lua_pushstring(L: LuaState, s: Uint8Array | string): void;
    lua_pushliteral(L: LuaState, s: string): void;
    lua_pushlightuserdata(L: LuaState, p: unknown): void;
    lua_pushjsfunction(L: LuaState, f: JsFunction): void;
    lua_createtable(L: LuaState, narr: number, nrec: number): void;
    lua_newtable(L: LuaState): void;
    lua_rawseti(L: LuaState, idx: number, n: number): void;
    lua_rawgeti(L: LuaState, idx: number, n: number): number;
    lua_rawset(L: LuaState, idx: number): void;
    lua_rawget(L: LuaState, idx: number): number;
    lua_rawlen(L: LuaState, idx: number): number;
    lua_setfield(L: LuaState, idx: number, k: Uint8Array | string): void;
    lua_getfield(L: LuaState, idx: number, k: Uint8Array | string): number;
    lua_getglobal(L: LuaState, name: Uint8Array | string): number;
    lua_setglobal(L: LuaState, name: Uint8Array | string): void;
    lua_next(L: LuaState, idx: number): boolean;
    lua_pcall(L: LuaState, nargs: number, nresults: number, errfunc: number): number;
    lua_call(L: LuaState, nargs: number, nresults: number): void;
    lua_error(L: LuaState): never;
    lua_checkstack(L: LuaState, n: number): boolean;
    lua_sethook(L: LuaState, f: ((L: LuaState, ar: unknown) => void) | null, mask: number, count: number): void;
    lua_insert(L: LuaState, idx: number): void;
    lua_remove(L: LuaState, idx: number): void;
    lua_absindex(L: LuaState, idx: number): number;
    lua_upvalueindex(i: number): number;
    lua_pushjsclosure(L: LuaState, f: JsFunction, n: number): void;
    lua_setupvalue(L: LuaState, funcindex: number, n: number): Uint8Array | null;
    lua_atnativeerror(L: LuaState, f: JsFunction): JsFunction | null;
    lua_isstring(L: LuaState, idx: number): boolean;
  }
  export interface LauxApi {
    luaL_newstate(): LuaState;
    luaL_loadbufferx(L: LuaState, buf: Uint8Array, size: number, name: Uint8Array | string, mode: Uint8Array | string | null): number;
    luaL_loadstring(L: LuaState, s: Uint8Array | string): number;
    luaL_ref(L: LuaState, t: number): number;
    luaL_unref(L: LuaState, t: number, ref: number): void;
    luaL_requiref(L: LuaState, name: Uint8Array | string, f: JsFunction, glb: number): void;
    luaL_error(L: LuaState, fmt: string, ...args: unknown[]): never;
    luaL_checkinteger(L: LuaState, arg: number): number;
    luaL_checknumber(L: LuaState, arg: number): number;
    luaL_checklstring(L: LuaState, arg: number): Uint8Array;
    luaL_optinteger(L: LuaState, arg: number, def: number): number;
    luaL_checkstack(L: LuaState, n: number, msg: string | null): void;
    luaL_len(L: LuaState, idx: number): number;
  }
  export interface LualibApi {
    luaL_openlibs(L: LuaState): void;
    luaopen_base: JsFunction;
    luaopen_table: JsFunction;
    luaopen_string: JsFunction;
    luaopen_math: JsFunction;
    luaopen_coroutine: JsFunction;
    luaopen_debug: JsFunction;
  }
  export const lua: LuaApi;
  export const lauxlib: LauxApi;
  export const lualib: LualibApi;
  export function to_luastring(s: string, cache?: boolean): Uint8Array;
  export function to_jsstring(s: Uint8Array): string;
  const fengari: { lua: LuaApi; lauxlib: LauxApi; lualib: LualibApi; to_luastring: typeof to_luastring; to_jsstring: typeof to_jsstring };
  export default fengari;
}
