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
  wrongArity: (name: string) => `ERR wrong number of arguments for '${name}' command`,
  unknownCommand: (name: string, args: string[]) =>
    `ERR unknown command '${name}', with args beginning with: ${args.map((a) => `'${a}' `).join('')}`,
  unknownSubcommand: (sub: string, cmd: string) =>
    `ERR unknown subcommand '${sub}'. Try ${cmd.toUpperCase()} HELP.`,
  invalidExpire: (cmd: string) => `ERR invalid expire time in '${cmd}' command`,
} as const;
