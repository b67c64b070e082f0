/** Encodes a command as a RESP multibulk request. Pure. */
import type { Argv } from './argv.js';

export function encodeRequest(args: ReadonlyArray<string | Buffer>): Buffer {
  const parts: Buffer[] = [Buffer.from(`*${args.length}\r\n`)];
  for (const a of args) {
    const b = typeof a === 'string' ? Buffer.from(a) : a;
    parts.push(Buffer.from(`$${b.length}\r\n`), b, Buffer.from('\r\n'));
  }
  return Buffer.concat(parts);
}

/** Re-encodes a parsed command (or the arguments at the given positions) as a request. */
export function encodeArgv(argv: Argv, positions?: readonly number[]): Buffer {
  const idx = positions ?? Array.from({ length: argv.length }, (_, i) => i);
  return encodeRequest(idx.map((i) => argv.view(i)));
}
