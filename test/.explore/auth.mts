import { Redis } from 'ioredis';
import { createClient } from 'redis';
import { startRingcache } from '../helpers/processes.ts';
const node = await startRingcache(['--requirepass', 'sekret']);
try {
  for (const protocol of [2, 3] as const) {
    const r = new Redis({ port: node.port, host: '127.0.0.1', protocol, lazyConnect: true, maxRetriesPerRequest: 0, retryStrategy: () => null, enableOfflineQueue: true });
    r.on('error', (e) => console.log('ioredis error event', protocol, e.message));
    try { await r.connect(); console.log('connected', protocol); console.log(await r.get('x')); } catch (e) { console.log('ioredis', protocol, (e as Error).message); }
    r.disconnect();
    const c = createClient({ socket: { port: node.port, host: '127.0.0.1', reconnectStrategy: false }, RESP: protocol });
    c.on('error', (e) => console.log('node-redis error event', protocol, e.message));
    try { await c.connect(); console.log('nr connected', protocol); console.log(await c.get('x')); } catch (e) { console.log('node-redis', protocol, (e as Error).message); }
    try { c.destroy(); } catch {}
  }
} finally { console.log(await node.stop()); }
