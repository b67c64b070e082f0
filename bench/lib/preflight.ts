// Reply sanity checks before measuring. redis-benchmark only counts replies
// (and stops at the first error reply), so a server that answers GET with nil
// or INCR with a wrong number would look fast; a few real round trips with
// checked answers catch that before any number is reported.
import { randomBytes } from 'node:crypto';
import { RespError, sendCommands, type RespValue } from './resp.js';

/**
 * Runs SET/GET, INCR and MSET checks (for those of `tests` that need them) on
 * fresh random keys; returns one message per command that answered wrongly.
 */
export async function preflight(port: number, tests: readonly string[]): Promise<string[]> {
  const id = randomBytes(6).toString('hex');
  const k = (s: string): string => `ringcache-bench:${id}:${s}`;
  const checks: { cmd: string[]; expect: RespValue }[] = [];
  if (tests.includes('set') || tests.includes('get')) {
    checks.push({ cmd: ['SET', k('s'), 'hello'], expect: 'OK' }, { cmd: ['GET', k('s')], expect: 'hello' });
  }
  if (tests.includes('incr')) {
    checks.push({ cmd: ['INCR', k('n')], expect: 1 }, { cmd: ['INCR', k('n')], expect: 2 });
  }
  if (tests.includes('mset')) {
    checks.push({ cmd: ['MSET', k('a'), '1', k('b'), '2'], expect: 'OK' }, { cmd: ['GET', k('b')], expect: '2' });
  }
  try {
    const replies = await sendCommands(port, checks.map((c) => c.cmd), 3000);
    const problems = new Map<string, string>(); // first problem per command is enough
    checks.forEach((c, i) => {
      const got = replies[i] ?? null;
      const name = c.cmd[0] ?? '?';
      if (got === c.expect || problems.has(name)) return;
      const shown = got instanceof RespError ? got.toString().trim() : JSON.stringify(got);
      problems.set(name, `${name} replied ${shown}, expected ${JSON.stringify(c.expect)}`);
    });
    return [...problems.values()];
  } catch (err) {
    return [(err as Error).message];
  }
}
