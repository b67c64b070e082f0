// Port selection for benchmark servers. We ask the kernel for an unused port
// (bind to port 0) instead of hard-coding one, so benchmarks never collide
// with a developer's own redis on 6379 or with a parallel test run.
import net from 'node:net';

export const LOOPBACK = '127.0.0.1';

/**
 * Returns a TCP port on 127.0.0.1 that was free a moment ago.
 * `exclude` lets callers that need several ports avoid getting the same one
 * twice (the kernel may hand out a just-released port again).
 */
export async function freePort(exclude: Iterable<number> = []): Promise<number> {
  const taken = new Set(exclude);
  for (let attempt = 0; attempt < 50; attempt++) {
    const port = await bindEphemeral();
    if (!taken.has(port)) return port;
  }
  throw new Error('freePort: could not find an unused port after 50 attempts');
}

function bindEphemeral(): Promise<number> {
  return new Promise((resolve, reject) => {
    const srv = net.createServer();
    srv.unref();
    srv.once('error', reject);
    srv.listen({ port: 0, host: LOOPBACK, exclusive: true }, () => {
      const addr = srv.address();
      const port = typeof addr === 'object' && addr !== null ? addr.port : 0;
      srv.close((err) => (err ? reject(err) : port > 0 ? resolve(port) : reject(new Error('no port assigned'))));
    });
  });
}
