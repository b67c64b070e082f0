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
  if (tests.includes('hset') || tests.includes('hget')) {
    checks.push({ cmd: ['HSET', k('h'), 'f', 'v'], expect: 1 }, { cmd: ['HGET', k('h'), 'f'], expect: 'v' });
  }
  if (tests.includes('lpush') || tests.includes('lpop')) {
    checks.push({ cmd: ['LPUSH', k('l'), 'a', 'b'], expect: 2 }, { cmd: ['LPOP', k('l')], expect: 'b' });
  }
  if (tests.includes('sadd')) {
    checks.push({ cmd: ['SADD', k('t'), 'a', 'b', 'a'], expect: 2 }, { cmd: ['SCARD', k('t')], expect: 2 });
  }
  if (tests.includes('zadd') || tests.includes('zrange')) {
    checks.push({ cmd: ['ZADD', k('z'), '2', 'b', '1', 'a'], expect: 2 });
    checks.push({ cmd: ['ZRANGE', k('z'), '0', '9'], expect: ['a', 'b'] });
  }
  try {
    const replies = await sendCommands(port, checks.map((c) => c.cmd), 3000);
    const problems = new Map<string, string>(); // first problem per command is enough
    checks.forEach((c, i) => {
      const got = replies[i] ?? null;
      const name = c.cmd[0] ?? '?';
      if (got === c.expect || JSON.stringify(got) === JSON.stringify(c.expect) || problems.has(name)) return;
      const shown = got instanceof RespError ? got.toString().trim() : JSON.stringify(got);
      problems.set(name, `${name} replied ${shown}, expected ${JSON.stringify(c.expect)}`);
    });
    return [...problems.values()];
  } catch (err) {
    return [(err as Error).message];
  }
}
