/**
 * The catalogue of error replies, by wire prefix, with Redis's exact texts so
 * that clients which match on them (ioredis on NOPROTO, tools on WRONGTYPE...)
 * behave as they do against Redis.
 */

/** An error a handler throws to reply `-<message>` and stop; the connection stays usable. */
export class CommandError extends Error {
  constructor(readonly reply: string) {
    super(reply);
  }
}

/** CR and LF in a reply's text become spaces, one for one, as Redis does so that user input cannot break the protocol. */
const mapNewlines = (text: string): string => text.replace(/[\r\n]/g, ' ');

/** An error text that quotes user input, as Redis's addReplyErrorFormat makes it: outer CR/LF trimmed, inner ones spaces. */
export function userError(text: string): string {
  return mapNewlines(text.replace(/^[\r\n]+|[\r\n]+$/g, ''));
}

/** Redis quotes arguments of an unknown command until 128 bytes are quoted, each cut to what is left. */
const QUOTED_ARGS_MAX = 128;

function quoteArgs(args: readonly string[]): string {
  let quoted = '';
  for (const a of args) {
    if (quoted.length >= QUOTED_ARGS_MAX) break;
    quoted += `'${a.slice(0, QUOTED_ARGS_MAX - quoted.length)}' `;
  }
  return quoted;
}

export const Errors = {
  syntax: 'ERR syntax error',
  notInteger: 'ERR value is not an integer or out of range',
  notFloat: 'ERR value is not a valid float',
  overflow: 'ERR increment or decrement would overflow',
  nanOrInfinity: 'ERR increment would produce NaN or Infinity',
  noSuchKey: 'ERR no such key',
  noAuth: 'NOAUTH Authentication required.',
  wrongPass: 'WRONGPASS invalid username-password pair or user is disabled.',
  authNotConfigured: 'ERR AUTH <password> called without any password configured for the default user. Are you sure your configuration is correct?',
  oom: "OOM command not allowed when used memory > 'maxmemory'.",
  dbIndex: 'ERR DB index is out of range',
  noProto: 'NOPROTO unsupported protocol version',
  maxClients: 'ERR max number of clients reached',
  stringTooLong: 'ERR string exceeds maximum allowed size (proto-max-bulk-len)',
  offsetRange: 'ERR offset is out of range',
  cursor: 'ERR invalid cursor',
  noSuchClient: 'ERR No such client',
  timeout: 'ERR timeout is not an integer or out of range',
  crossSlot: "CROSSSLOT Keys in request don't hash to the same slot",
  wrongArity: (name: string) => `ERR wrong number of arguments for '${name}' command`,
  /** Of binary strings (one char per byte), so that lengths count bytes as Redis's do; written with errorBinary(). */
  unknownCommand: (name: string, args: string[]) =>
    mapNewlines(`ERR unknown command '${name.slice(0, 128)}', with args beginning with: ${quoteArgs(args)}`),
  unknownSubcommand: (sub: string, cmd: string) =>
    mapNewlines(`ERR unknown subcommand '${sub.slice(0, 128)}'. Try ${cmd.toUpperCase()} HELP.`),
  invalidExpire: (cmd: string) => `ERR invalid expire time in '${cmd}' command`,
} as const;
