// The "Node floor" of bench/node-vs-redis.ts: ringcache's own socket and
// protocol layers with no commands and no store behind them. It reads through
// the shared read buffer, parses with the real RequestParser, writes with the
// real ReplyWriter and HandleWriter, and answers every command with a constant.
//
// Why: at pipeline 1 most of a request's cost is the socket path (the read
// callback into JavaScript, the write system call), which ringcache cannot
// make cheaper than Node makes it. Measured beside ringcache and Redis in the
// same run, this server shows how fast a Node server on this machine can be
// at all, and so how much of the gap to Redis is ringcache's own work
// (ringcache / floor) and how much is the platform's (floor / Redis).
//
// Not a cache: GET answers a value of the size the last SET or MSET wrote,
// INCR always 1. redis-benchmark only counts replies, so that is enough; the
// benchmark runs no preflight checks against it.
//
// It runs from the TypeScript sources through tsx, while the node runs the
// compiled dist/ (both made from the same sources by `npm run bench`).
//
// Run: node --import tsx bench/lib/node-floor-server.ts --port N
import net from 'node:net';
import { parseArgs } from 'node:util';
import type { Argv } from '../../src/protocol/argv.js';
import { RequestParser, type ParserSink } from '../../src/protocol/parser.js';
import { EMPTY_ARRAY, ONE, OK, PONG, ReplyWriter } from '../../src/protocol/writer.js';
import { HandleWriter } from '../../src/server/handle-writer.js';
import { adoptAccepted } from '../../src/server/shared-read-buffer.js';

const INFO = Buffer.from('# Server\r\nredis_version:node-floor\r\n');

/** The value GET answers with: as long as the last value written (default 3 bytes). */
let value = Buffer.from('bar');
function valueOfLength(n: number): void {
  if (n !== value.length) value = Buffer.alloc(n, 'x');
}

/** One writer for all connections, as in the node: replies are taken after each chunk. */
const writer = new ReplyWriter();

class FloorConnection implements ParserSink {
  private readonly parser: RequestParser;
  private readonly output: HandleWriter;
  private readonly socket: net.Socket;

  constructor(accepted: net.Socket) {
    const { socket, reused } = adoptAccepted(accepted, false, this);
    this.socket = socket;
    this.parser = new RequestParser(this, undefined, reused);
    this.output = new HandleWriter(socket, () => {});
    socket.setNoDelay(true);
    socket.on('error', () => {});
  }

  onChunk(chunk: Buffer): void {
    this.parser.feed(chunk);
    const pieces = writer.takeLent();
    if (pieces === null) return;
    this.output.send(pieces); // as the node's Connection does
    writer.returned(this.output.queuedBytes > 0);
    if (this.parser.isStopped) this.socket.end(); // after a protocol error, as the node does
  }

  onCommand(argv: Argv): void {
    if (argv.is(0, 'get')) writer.bulk(value);
    else if (argv.is(0, 'set') || argv.is(0, 'mset')) {
      if (argv.length > 2) valueOfLength(argv.len(2));
      writer.raw(OK);
    } else if (argv.is(0, 'incr')) writer.raw(ONE);
    else if (argv.is(0, 'ping')) writer.raw(PONG);
    else if (argv.is(0, 'config') && argv.length === 3) {
      // redis-benchmark asks CONFIG GET save and appendonly at start, and warns
      // unless each answer is a name and a value.
      writer.array(2);
      writer.bulkArg(argv, 2);
      writer.bulkText('');
    } else if (argv.is(0, 'config')) writer.raw(EMPTY_ARRAY);
    else if (argv.is(0, 'info')) writer.bulk(INFO);
    else writer.raw(OK);
  }

  onProtocolError(message: string): void {
    writer.error(`ERR ${message}`);
  }
}

function main(): void {
  const { values } = parseArgs({ options: { port: { type: 'string' }, bind: { type: 'string', default: '127.0.0.1' } } });
  const port = Number(values.port);
  if (!Number.isInteger(port) || port <= 0 || port > 65535) {
    process.stderr.write('node-floor-server: --port N is required (1-65535)\n');
    process.exit(2);
  }
  const server = net.createServer({ pauseOnConnect: true }, (s) => new FloorConnection(s));
  server.on('error', (err) => {
    process.stderr.write(`node-floor-server: ${err.message}\n`);
    process.exit(1);
  });
  server.listen(port, values.bind);
  const stop = (): void => {
    server.close(() => process.exit(0));
    setTimeout(() => process.exit(0), 500).unref(); // connections still open: exit anyway
  };
  process.on('SIGINT', stop);
  process.on('SIGTERM', stop);
}

main();
