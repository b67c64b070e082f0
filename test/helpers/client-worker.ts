/**
 * A child process for cross-process getOrSet tests:
 *   node --import tsx test/helpers/client-worker.ts <seed host:port> <config JSON>
 * Connects, prints "ready", waits for "go" on stdin (so that every worker
 * starts at the same moment), runs `callers` concurrent getOrSet calls per key,
 * prints one JSON line with every outcome, and exits. Each loader run is
 * counted on the cluster with INCR on `runs:<key>`.
 */
import { RingCache } from '../../src/index.js';

interface Config {
  keys: string[];
  callers: number;
  ttl: number;
  loaderMs: number;
  fail?: boolean;
}

const [seed, configText] = process.argv.slice(2);
const config = JSON.parse(configText!) as Config;
const cache = new RingCache({ seeds: [seed!] });
await cache.connect();
process.stdout.write('ready\n');
await new Promise<void>((resolve) => {
  process.stdin.on('data', (d: Buffer) => {
    if (d.toString().includes('go')) resolve();
  });
});

const outcomes = await Promise.all(
  config.keys.flatMap((key) =>
    Array.from({ length: config.callers }, () =>
      cache
        .getOrSet(
          key,
          async () => {
            await cache.incr(`runs:${key}`);
            await new Promise((r) => setTimeout(r, config.loaderMs));
            if (config.fail) throw new Error(`boom from ${process.pid}`);
            return { key, loadedBy: process.pid };
          },
          { ttl: config.ttl, waitMs: 10_000 },
        )
        .then(
          (value) => ({ key, value }),
          (err: Error) => ({ key, error: `${err.name}: ${err.message}` }),
        ),
    ),
  ),
);
process.stdout.write(JSON.stringify({ pid: process.pid, outcomes }) + '\n');
await cache.close();
process.exit(0);
