// Reading INFO fields for measurements. Unlike machine.ts's serverInfo (a
// best-effort version lookup), a benchmark that reports memory or pauses
// must not quietly report nothing: these helpers throw on errors and on
// missing fields.
import { RespError, sendCommand } from './resp.js';

/** `field:value` lines of an INFO reply; section headers and blank lines skipped. */
export function parseInfo(text: string): Record<string, string> {
  const fields: Record<string, string> = {};
  for (const line of text.split(/\r?\n/)) {
    const idx = line.indexOf(':');
    if (idx > 0 && !line.startsWith('#')) fields[line.slice(0, idx)] = line.slice(idx + 1).trim();
  }
  return fields;
}

/** `INFO <section>` as a field map; throws on an error reply or a non-text reply. */
export async function readInfo(port: number, section: string, timeoutMs = 10_000): Promise<Record<string, string>> {
  const reply = await sendCommand(port, ['INFO', section], timeoutMs);
  if (reply instanceof RespError) throw new Error(`INFO ${section}: ${reply.message}`);
  if (typeof reply !== 'string') throw new Error(`INFO ${section}: unexpected reply ${JSON.stringify(reply)}`);
  return parseInfo(reply);
}

/** A numeric INFO field; throws when it is missing or not a number. */
export function infoNumber(fields: Record<string, string>, name: string): number {
  const raw = fields[name];
  const n = raw === undefined ? NaN : Number(raw);
  if (!Number.isFinite(n)) throw new Error(`INFO field ${name} is ${raw === undefined ? 'missing' : `not a number ("${raw}")`}`);
  return n;
}
