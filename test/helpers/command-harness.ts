/**
 * Runs commands in-process, without a socket: the real dispatcher, command table
 * and keyspace, with a manual clock so TTL behaviour is tested deterministically.
 */
import type { CommandContext, NodeServices, Session } from '../../src/commands/context.js';
import { Dispatcher } from '../../src/commands/dispatch.js';
import { Argv } from '../../src/protocol/argv.js';
import { ReplyWriter } from '../../src/protocol/writer.js';
import { ManualClock } from '../../src/store/clock.js';
import type { EvictionPolicy } from '../../src/store/keyspace.js';
import { SlabKeyspace } from '../../src/store/slab-keyspace.js';
import { parseReply, type Reply } from './raw-client.js';

export class CommandHarness {
  readonly clock = new ManualClock();
  readonly store = new SlabKeyspace(this.clock);
  readonly limits = { maxmemory: 0, maxmemoryPolicy: 'noeviction' as EvictionPolicy };
  readonly dispatcher = new Dispatcher(this.limits, (err) => {
    throw err;
  });
  readonly session: Session = { id: 1, name: '', libName: '', libVersion: '', protocol: 2, authenticated: true, closeAfterReply: false };
  private readonly out = new ReplyWriter();
  private readonly ctx: CommandContext;

  constructor(requirepass = '') {
    const services: NodeServices = {
      config: new Map(),
      requirepass: () => requirepass,
      info: () => '',
      clients: () => [],
      resetStats: () => {},
      shutdown: () => {},
      version: 'test',
      runId: 'test',
      cluster: () => undefined,
    };
    this.session.authenticated = requirepass === '';
    this.ctx = { out: this.out, store: this.store, session: this.session, node: services, clock: this.clock };
  }

  /** Runs one command and returns the bytes of its reply. */
  raw(...args: Array<string | Buffer>): Buffer {
    this.out.protocol = this.session.protocol;
    this.dispatcher.execute(this.ctx, Argv.of(args));
    return Buffer.concat(this.out.take() ?? []);
  }

  /** Runs one command and returns its decoded reply. */
  run(...args: Array<string | Buffer>): Reply {
    const bytes = this.raw(...args);
    const r = parseReply(bytes, 0);
    if (!r || r[1] !== bytes.length) throw new Error(`expected exactly one reply, got ${JSON.stringify(bytes.toString('latin1'))}`);
    return r[0];
  }

  /** Runs a command whose reply is a bulk string and returns it as text (null for nil). */
  text(...args: string[]): string | null {
    const r = this.run(...args);
    if (r === null) return null;
    if (!Buffer.isBuffer(r)) throw new Error(`expected a bulk string, got ${String(r)}`);
    return r.toString();
  }
}
