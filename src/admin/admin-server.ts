/**
 * The admin port: an HTTP server beside the node's client port. It serves
 * `/metrics` (Prometheus text format) now; the dashboard will live here too.
 * With a password set (`--requirepass`), every request needs it as HTTP basic
 * auth (any user name, as AUTH's default user): Prometheus's `basic_auth`.
 */
import http from 'node:http';
import { timingSafeEqual } from 'node:crypto';
import type { Registry } from 'prom-client';

export interface AdminServerOptions {
  host: string;
  port: number;
  registry: Registry;
  /** Read per request, so CONFIG SET requirepass applies at once ('' : no password). */
  password: () => string;
}

export interface AdminServer {
  readonly port: number;
  close(): Promise<void>;
}

export async function startAdminServer(opts: AdminServerOptions): Promise<AdminServer> {
  const server = http.createServer((req, res) => void handle(opts, req, res));
  // A scrape is short: no connection holds the port for long.
  server.keepAliveTimeout = 5000;
  server.headersTimeout = 10_000;
  server.requestTimeout = 10_000;
  await new Promise<void>((resolve, reject) => {
    server.once('error', reject);
    server.listen(opts.port, opts.host, () => {
      server.off('error', reject);
      resolve();
    });
  });
  const address = server.address();
  const port = typeof address === 'object' && address !== null ? address.port : opts.port;
  return {
    port,
    close: () =>
      new Promise<void>((resolve) => {
        server.closeAllConnections();
        server.close(() => resolve());
      }),
  };
}

async function handle(opts: AdminServerOptions, req: http.IncomingMessage, res: http.ServerResponse): Promise<void> {
  const password = opts.password();
  if (password !== '' && !authorized(req.headers.authorization, password)) {
    res.writeHead(401, { 'WWW-Authenticate': 'Basic realm="ringcache"', 'Content-Type': 'text/plain' }).end('401: the admin port needs the node\'s password (HTTP basic auth)\n');
    return;
  }
  const path = (req.url ?? '/').split('?')[0];
  if (req.method !== 'GET' && req.method !== 'HEAD') {
    res.writeHead(405, { Allow: 'GET, HEAD', 'Content-Type': 'text/plain' }).end('405: GET only\n');
    return;
  }
  if (path === '/metrics') {
    try {
      const body = await opts.registry.metrics();
      res.writeHead(200, { 'Content-Type': opts.registry.contentType }).end(req.method === 'HEAD' ? undefined : body);
    } catch (err) {
      res.writeHead(500, { 'Content-Type': 'text/plain' }).end(`500: ${(err as Error).message}\n`);
    }
    return;
  }
  res.writeHead(404, { 'Content-Type': 'text/plain' }).end('404: the admin port serves /metrics\n');
}

/** HTTP basic auth with the password (the user name is not checked, as AUTH <password>), compared in constant time. */
function authorized(header: string | undefined, password: string): boolean {
  if (header === undefined || !header.startsWith('Basic ')) return false;
  const decoded = Buffer.from(header.slice(6).trim(), 'base64').toString('utf8');
  const given = Buffer.from(decoded.slice(decoded.indexOf(':') + 1));
  const wanted = Buffer.from(password);
  return given.length === wanted.length && timingSafeEqual(given, wanted);
}
