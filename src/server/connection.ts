/**
 * One client connection: feeds the socket's bytes to a parser, runs each command,
 * and writes all replies to one chunk of input in a single write. Guards the
 * node against the client: output that is not being read pauses input and,
 * past a limit, closes the connection.
 */
import type { Socket } from 'node:net';
import { adoptAccepted, READ_BUFFER_BYTES, type ChunkReader } from './shared-read-buffer.js';
import { HandleWriter } from './handle-writer.js';
import type { ClientInfo, CommandContext, Session } from '../commands/context.js';
import { endTransaction } from '../commands/transactions.js';
import { cancelBlocked } from '../commands/blocking.js';
import { AUTH_FAILURES_BEFORE_CLOSE } from '../commands/connection.js';
import { keySlotOf } from '../cluster/key-slot.js';
import { Argv } from '../protocol/argv.js';
import type { MapNode } from '../cluster/cluster-map.js';
import { encodeArgv, encodeRequest } from '../protocol/request-encoder.js';
import { forwardError } from '../cluster/peer-link.js';
import { combineReplies, SPLITTABLE, type SplitPart } from '../cluster/split.js';
import { RequestParser, type ParserLimits, type ParserSink } from '../protocol/parser.js';
import { ReplyWriter } from '../protocol/writer.js';
import type { NodeRuntime } from './runtime.js';
import { SYNC_TIMEOUT_MS } from '../replication/source.js';
import { hubOf } from '../pubsub/hub.js';

/**
 * Redis's pubsub client class limits: past the hard limit, or over the soft
 * one for longer than its time, a subscriber that does not read is closed
 * (its output never grows without bound, and no publisher waits for it).
 */
export const PUBSUB_HARD_LIMIT = 32 * 1024 * 1024;
export const PUBSUB_SOFT_LIMIT = 8 * 1024 * 1024;
export const PUBSUB_SOFT_SECONDS = 60;
import type { TrackingPeer } from '../tracking/tracker.js';

/** Unsent output above which we stop reading from the client until it drains. */
const PAUSE_OUTPUT_BYTES = 4 * 1024 * 1024;
/** Commands between two looks at the turn budget's clock (a few tens of µs of work). */
const TURN_CHECK_EVERY = 32;
/**
 * libuv reads 64 KiB at a time and reads the same socket again at once only
 * after a full read: a chunk that size means more input may wait, and only
 * then is pausing at a spent turn worth its cost. A smaller chunk was all the
 * kernel had (a client waiting for its replies). Pausing those, two epoll_ctl
 * calls and a trip through the stream machinery each time, cost 30% of
 * throughput at pipeline 1 with 1 KiB values once 50 clients filled each turn.
 * A long pipeline is still bounded: the parser yields inside any chunk once
 * the turn is spent (TURN_CHECK_EVERY).
 */
const STREAMING_CHUNK = READ_BUFFER_BYTES;
/** Connections closed for wrong passwords (AUTH_FAILURES_BEFORE_CLOSE) are logged at most this often. */
const AUTH_WARN_INTERVAL_MS = 1000;
const authWarnings = { last: 0, closed: 0 };
/** Longest a command waits for its slot's handover to this node before TRYAGAIN. */
const HANDOVER_DEADLINE_MS = 2000;
/**
 * Replies held in order (waiting for another node in proxy mode, or for the
 * replicas in sync mode) past which the connection stops reading its client:
 * a stuck owner must not make a pipelining client grow the node without
 * bound (100,000 GETs to a stopped owner took 200 MB). Reading resumes at half.
 */
const MAX_HELD_REPLIES = 1024;

/**
 * The connection is its socket's reader and its parser's sink itself, with no
 * closures made per connection: the calls from Node's read path and from the
 * parser reach the same functions whatever the connection.
 */
export class Connection implements ClientInfo, ChunkReader, ParserSink, TrackingPeer {
  readonly session: Session;
  readonly addr: string;
  readonly laddr: string;
  private readonly parser: RequestParser;
  private readonly ctx: CommandContext;
  private readonly createdAt = Date.now();
  private lastActive = Date.now();
  private lastCommand = 'NULL';
  private closed = false;
  private paused = false;
  private outputBudget = 0;
  private drainScheduled = false;
  /**
   * Replies in request order while some come from other nodes (proxy mode): a
   * forwarded command holds its place with pieces === null until its reply arrives.
   */
  private readonly order: Array<{ pieces: Buffer[] | null }> = [];
  /** Paused until the event loop's turn ends (see TurnBudget); independent of `paused` (output). */
  private waitingTurn = false;
  /** A blocking command waits (BLPOP...): the client's later commands wait in the parser until it is answered. */
  private blocked = false;
  /** Inside onCommand's run of a command: only there may a command block. */
  private running = false;
  /** Commands run since the turn budget was last checked (checking the clock per command costs). */
  private sinceCheck = 0;
  /** Size of the last chunk read (see STREAMING_CHUNK). */
  private lastChunkBytes = 0;
  /** MAX_HELD_REPLIES are held: input waits (in the socket, then the kernel) until half are sent. */
  private holdingTooMany = false;
  /** The client has sent its FIN: end our side once its input has run and its replies are out. */
  private inputEnded = false;
  /** Pushes (pub/sub messages, tracking's invalidations) waiting for the end of the turn, or for this client's next input. */
  private pushes: Buffer[] = [];
  private pushBytes = 0;
  private pushScheduled = false;
  /** Since when the output has been over PUBSUB_SOFT_LIMIT (0: it is not). */
  private overSoftSince = 0;
  /** Between beforeInput and the flush of its replies: the shared writer holds this connection's output. */
  private inInput = false;

  private readonly socket: Socket;
  /** Writes replies: straight to the socket's handle when nothing is queued (see HandleWriter). */
  private readonly output: HandleWriter;

  /** Takes over a socket the server accepted paused (pauseOnConnect) and starts reading it. */
  constructor(
    readonly id: number,
    accepted: Socket,
    private readonly runtime: NodeRuntime,
    limits: ParserLimits,
  ) {
    const { socket, reused } = adoptAccepted(accepted, true, this);
    this.socket = socket;
    this.output = new HandleWriter(socket, () => this.onDrain());
    this.addr = `${socket.remoteAddress}:${socket.remotePort}`;
    this.laddr = `${socket.localAddress}:${socket.localPort}`;
    this.session = {
      id,
      name: '',
      libName: '',
      libVersion: '',
      protocol: 2,
      authenticated: runtime.config.requirepass === '',
      closeAfterReply: false,
      tx: undefined,
    };
    this.ctx = {
      out: runtime.writer,
      store: runtime.store,
      session: this.session,
      node: runtime.services,
      clock: runtime.clock,
      forward: (node, argv) => this.forward(node, argv),
      forwardSplit: (name, parts) => this.forwardSplit(name, parts),
      defer: (argv, until) => this.defer(argv, until, Date.now() + HANDOVER_DEADLINE_MS),
      block: (reply) => this.block(reply),
      push: (frame) => this.push(frame),
    };
    this.parser = new RequestParser(this, limits, reused);
    this.parser.authRequired = !this.session.authenticated;
    socket.setNoDelay(true);
    socket.on('drain', () => this.onDrain());
    socket.on('end', () => {
      // A blocked client that went away would take an element it can never read: closed now, as Redis frees it.
      if (this.blocked) return this.kill();
      this.inputEnded = true;
      this.endIfInputDone();
    });
    socket.on('error', () => this.close());
    socket.on('close', () => this.close());
  }

  private get out(): ReplyWriter {
    return this.runtime.writer;
  }

  onChunk(chunk: Buffer): void {
    this.lastActive = Date.now();
    this.runtime.stats.netInputBytes += chunk.length;
    this.lastChunkBytes = chunk.length;
    this.beforeInput();
    this.parser.feed(chunk);
    this.afterInput();
  }

  get protocol(): 2 | 3 {
    return this.session.protocol;
  }

  /**
   * Out-of-band bytes for this client (pub/sub messages, tracking's
   * invalidations): after the replies it has been sent or is being written.
   * While its own input runs they join its replies (the order Redis gives);
   * otherwise they are batched to the end of the turn (one write for many) or
   * sent before its next replies, so a publisher never waits on a subscriber.
   * A client past the pubsub class limits is closed.
   */
  push(bytes: Buffer): void {
    if (this.closed) return;
    if (this.inInput) return this.out.raw(bytes);
    if (this.overPushLimits(bytes.length)) return;
    if (this.order.length > 0) {
      this.order.push({ pieces: [bytes] });
      return this.scheduleDrain();
    }
    this.pushes.push(bytes);
    this.pushBytes += bytes.length;
    if (!this.pushScheduled) {
      this.pushScheduled = true;
      setImmediate(this.sendPushes);
    }
  }

  /** Redis's pubsub class limits on what waits to be sent: past them the client is closed (and true returned). */
  private overPushLimits(adding: number): boolean {
    const bytes = this.output.queuedBytes + this.pushBytes + adding;
    const hard = Math.min(PUBSUB_HARD_LIMIT, this.runtime.config.clientOutputLimit);
    let over = bytes > hard;
    if (!over && bytes > PUBSUB_SOFT_LIMIT) {
      const now = Date.now();
      if (this.overSoftSince === 0) this.overSoftSince = now;
      else if (now - this.overSoftSince > PUBSUB_SOFT_SECONDS * 1000) over = true;
    } else if (bytes <= PUBSUB_SOFT_LIMIT) this.overSoftSince = 0;
    if (!over) return false;
    this.runtime.log.warn({ client: this.addr, bytes, limit: hard }, 'pubsub client output buffer limit reached, closing the connection');
    this.kill();
    return true;
  }

  private readonly sendPushes = (): void => {
    this.pushScheduled = false;
    if (this.pushes.length === 0 || this.closed) return;
    const p = this.pushes;
    this.pushes = [];
    this.pushBytes = 0;
    if (this.order.length > 0) {
      this.order.push({ pieces: p });
      this.drainOrder();
    } else {
      this.send(p);
      this.afterSend();
    }
  };

  /** RESP2 pub/sub mode (subscribed to anything): tracking then delivers as `message`s on __redis__:invalidate. */
  get pubsub(): boolean {
    return (this.session.pubsub?.total ?? 0) > 0;
  }

  private beforeInput(): void {
    if (this.pushes.length > 0) this.sendPushes();
    this.inInput = true;
    // The writer is shared by all connections: everything written from here is
    // taken and sent by afterInput(), so no other client's replies mix in.
    this.out.protocol = this.session.protocol;
    // What these replies may add before the client passes its output limit
    // (read once per input: queuedBytes is not free on the per-command path).
    this.outputBudget = this.runtime.config.clientOutputLimit - this.output.queuedBytes;
  }

  /** Sends the replies, then gives the loop its turn if this turn's budget is spent. */
  private afterInput(): void {
    this.inInput = false;
    this.flush();
    if (this.closed || this.waitingTurn) return;
    if (this.parser.isYielded || (this.lastChunkBytes >= STREAMING_CHUNK && this.runtime.turn.spent())) {
      this.waitingTurn = true;
      this.socket.pause();
      this.runtime.turn.wait(this.resumeAfterTurn);
    }
  }

  private readonly resumeAfterTurn = (): void => {
    this.waitingTurn = false;
    if (this.closed) return;
    if (this.parser.isYielded && !this.blocked && !this.holdingTooMany) {
      // The rest of a chunk left at the budget: run it now, in a fresh turn.
      this.beforeInput();
      this.parser.resume();
      this.afterInput();
      if (this.waitingTurn) return;
    }
    this.endIfInputDone();
    if (!this.paused && !this.holdingTooMany) this.socket.resume();
  };

  /**
   * After the client's FIN (the server is half-open): ends our side once no
   * input waits to run and no forwarded reply is outstanding. Replies already
   * written are still delivered, as with socket.end() anywhere.
   */
  private endIfInputDone(): void {
    if (this.inputEnded && !this.closed && !this.parser.isYielded && this.order.length === 0) this.socket.end();
  }

  onCommand(argv: Argv): void {
    const spec = this.runtime.dispatcher.resolve(argv);
    // Recorded before running, so CLIENT INFO/LIST show the command in progress, as Redis does.
    this.lastCommand = spec === undefined ? 'NULL' : spec.subcommands && argv.length > 1 ? `${spec.name}|${argv.utf8(1).toLowerCase()}` : spec.name;
    this.running = true;
    const barrier = this.runtime.syncBarrier;
    const touches = barrier?.touches;
    if (barrier !== null) {
      // The replies before this command are not held with it: they keep their own place.
      const before = this.out.take();
      if (before !== null) this.order.push({ pieces: before });
    }
    const repliesBefore = this.out.length;
    const tracker = this.runtime.services.tracker;
    if (tracker !== undefined) tracker.begin(this.id);
    this.runtime.dispatcher.execute(this.ctx, argv, spec);
    if (tracker !== undefined) {
      // Invalidations of this client's own writes go after the command's reply, as Redis 7.0.
      const pending = tracker.end();
      if (pending !== null) tracker.sendPending(this.id, pending);
      const t = this.session.tracking;
      // CLIENT CACHING YES|NO holds for the next command only (a whole MULTI ... EXEC; any CLIENT subcommand keeps it, as Redis).
      if (t !== undefined && t.caching && spec?.name !== 'client' && (this.session.tx?.queue ?? null) === null) t.caching = false;
    }
    this.running = false;
    // Sync mode: a command that wrote is answered (with everything before it) once the in-sync replicas have it.
    if (barrier !== null && barrier.touches !== touches) this.holdOutput(barrier.confirmTurn());
    // Redis's limits on requests before AUTH hold from the next request on (AUTH, HELLO AUTH, RESET change it).
    this.parser.authRequired = !this.session.authenticated;
    if (this.session.closeAfterReply) {
      if ((this.session.authFailures ?? 0) >= AUTH_FAILURES_BEFORE_CLOSE) this.warnAuthFailures();
      this.parser.stop();
      return;
    }
    // A long pipeline in one chunk: stop at the turn's budget, the rest runs next turn.
    if (++this.sinceCheck >= TURN_CHECK_EVERY) {
      this.sinceCheck = 0;
      if (this.runtime.turn.spent()) this.parser.yield();
    }
    // A pipeline of large replies to a client that does not read: stop before
    // the node's memory does. One reply alone (nothing before it waits, here or
    // on the socket) goes out whatever its size, as Redis serves a 512 MB value
    // to a normal client: reading then pauses until it has drained.
    const alone = repliesBefore === 0 && this.output.queuedBytes === 0;
    if (this.out.length > this.outputBudget && !alone) {
      this.runtime.log.warn({ client: this.addr, limit: this.runtime.config.clientOutputLimit }, 'client output buffer limit reached, closing the connection');
      this.parser.stop();
      this.out.discard();
      this.kill();
    }
  }

  /**
   * Logs a connection closed for its wrong passwords, at most once a second
   * for the whole process (a client that reconnects to go on guessing must not
   * flood the log): each line counts the closings since the previous one.
   */
  private warnAuthFailures(): void {
    authWarnings.closed++;
    const now = Date.now();
    if (now - authWarnings.last < AUTH_WARN_INTERVAL_MS) return;
    authWarnings.last = now;
    this.runtime.log.warn({ client: this.addr, failures: this.session.authFailures, connectionsClosed: authWarnings.closed }, `closing the connection after ${AUTH_FAILURES_BEFORE_CLOSE} wrong passwords in a row`);
    authWarnings.closed = 0;
  }

  onProtocolError(message: string): void {
    this.out.error(`ERR ${message}`);
    this.session.closeAfterReply = true;
  }

  private flush(): void {
    if (this.order.length > 0) {
      // Replies wait for forwarded ones: they must be copies the writer no longer uses.
      const pieces = this.out.take();
      if (this.closed) return;
      if (pieces !== null) this.order.push({ pieces });
      this.drainOrder();
      return;
    }
    const pieces = this.out.takeLent();
    if (this.closed) return this.out.returned(false);
    if (pieces !== null) {
      this.send(pieces);
      // A write that completed at once has copied the bytes into the kernel; one
      // that did not (or queued behind another) still holds the writer's buffer.
      this.out.returned(this.output.queuedBytes > 0);
    }
    this.afterSend();
  }

  private send(pieces: Buffer[]): void {
    for (const p of pieces) this.runtime.stats.netOutputBytes += p.length;
    this.output.send(pieces);
  }

  private afterSend(): void {
    if (this.session.closeAfterReply) {
      this.socket.end();
      return;
    }
    if (!this.paused && this.output.queuedBytes > PAUSE_OUTPUT_BYTES) {
      this.paused = true;
      this.socket.pause();
    }
  }

  /** Proxy mode: sends the command to its owner; the reply keeps this command's place in the order. */
  private forward(node: MapNode, argv: Argv): void {
    // WATCH serves this connection's transactions, which run here: MOVED, as without a proxy.
    // So do shard subscriptions: the client must hold them on the owner itself.
    if (argv.is(0, 'watch') || argv.is(0, 'ssubscribe') || argv.is(0, 'sunsubscribe')) return this.out.error(`MOVED ${keySlotOf(argv.buf, argv.start[1]!, argv.end[1]!)} ${node.host}:${node.port}`);
    this.holdPlace(this.forwardReply(node, argv));
  }

  private forwardReply(node: MapNode, argv: Argv): Promise<Buffer> {
    const write = this.runtime.dispatcher.resolve(argv)?.flags.includes('write') ?? false;
    return this.runtime.peers.link(node, this.session.protocol).send(encodeArgv(argv)).catch((err: Error) => Promise.reject(forwardError(err, write)));
  }

  /** Proxy mode: one sub-command per owner (this node's part runs here), replies combined. */
  private forwardSplit(name: string, parts: SplitPart[]): void {
    this.holdPlace(this.splitReply(name, parts));
  }

  private splitReply(name: string, parts: SplitPart[]): Promise<Buffer> {
    const write = SPLITTABLE.get(name)!.write;
    // A part that failed becomes its error reply: combineReplies knows whether the others ran.
    const asReply = (err: Error) => Buffer.from(`-${forwardError(err, write).message.replace(/[\r\n]+/g, ' ')}\r\n`);
    const replies = parts.map((part) => {
      if (part.node === undefined) return Promise.resolve(this.runLocally(part.args));
      return this.runtime.peers.link(part.node, this.session.protocol).send(encodeRequest(part.args)).catch(asReply);
    });
    return Promise.all(replies).then((r) => combineReplies(name, parts.map((p, i) => ({ keys: p.keys, reply: r[i]! }))));
  }

  /** Runs a sub-command here and returns its encoded reply. */
  private runLocally(args: Buffer[], ctx: CommandContext = this.ctx): Buffer {
    const out = new ReplyWriter();
    out.protocol = this.session.protocol;
    this.runtime.dispatcher.execute({ ...ctx, out }, Argv.of(args));
    return Buffer.concat(out.take() ?? []);
  }

  /**
   * A command for a slot being handed to this node: holds its place and runs it
   * again once the cluster state changes, until it runs (or is redirected) or the
   * deadline passes. Nothing has run when TRYAGAIN is answered, so a retry is safe.
   */
  private defer(argv: Argv, until: Promise<void>, deadline: number): void {
    const copy = (a: Argv) => Array.from({ length: a.length }, (_, i) => a.copy(i));
    const attempt = (args: Buffer[], wait: Promise<void>): Promise<Buffer> =>
      wait.then(() => {
        let deferred: Promise<Buffer> | undefined;
        // A retry that must go elsewhere now (the slot moved while it waited) is
        // forwarded in proxy mode, its reply taking this command's place in the order.
        const again: CommandContext = {
          ...this.ctx,
          forward: this.ctx.forward && ((node, a) => void (deferred = this.forwardReply(node, a))),
          forwardSplit: this.ctx.forwardSplit && ((name, parts) => void (deferred = this.splitReply(name, parts))),
          defer: (a, next) => {
            deferred = Date.now() >= deadline
              ? Promise.resolve(Buffer.from(`-TRYAGAIN slot handover did not finish within ${HANDOVER_DEADLINE_MS} ms\r\n`))
              : attempt(copy(a), next);
          },
        };
        const reply = this.runLocally(args, again);
        return deferred ?? reply;
      });
    this.holdPlace(attempt(copy(argv), until));
  }

  /**
   * Sync mode: this write's reply (the only one in the writer: onCommand set
   * the earlier ones apart) leaves once `confirmed` settles; later ones queue
   * behind it. Unconfirmed in time, the
   * write's reply says so: it was applied here and may or may not survive a
   * failover (never that it failed: it may have landed on a replica too).
   */
  private holdOutput(confirmed: Promise<boolean>): void {
    const pieces = this.out.take();
    if (pieces === null) return;
    const place: { pieces: Buffer[] | null } = { pieces: null };
    this.order.push(place);
    this.limitHeld();
    void confirmed
      .then((ok) => (place.pieces = ok ? pieces : [Buffer.from(`-NOTCONFIRMED the write was applied on this primary but its in-sync replicas did not confirm it within ${SYNC_TIMEOUT_MS} ms; it may be lost if this primary fails\r\n`)]))
      .finally(() => this.scheduleDrain());
  }

  /** Reserves this command's place in the reply order until its reply (or error) arrives. */
  private holdPlace(reply: Promise<Buffer>): void {
    const before = this.out.take();
    if (before !== null) this.order.push({ pieces: before });
    const place: { pieces: Buffer[] | null } = { pieces: null };
    this.order.push(place);
    this.limitHeld();
    reply
      .then(
        (r) => (place.pieces = [r]),
        (err: Error) => (place.pieces = [Buffer.from(`-${err.message.replace(/[\r\n]+/g, ' ')}\r\n`)]),
      )
      .finally(() => this.scheduleDrain());
  }

  /** Replies that arrive together (one peer read) leave together, in one write. */
  /** Called as a command holds its reply's place (inside onCommand): stops reading past MAX_HELD_REPLIES. */
  private limitHeld(): void {
    if (this.holdingTooMany || this.order.length < MAX_HELD_REPLIES) return;
    this.holdingTooMany = true;
    this.parser.yield();
    this.socket.pause();
  }

  private scheduleDrain(): void {
    if (this.drainScheduled) return;
    this.drainScheduled = true;
    setImmediate(() => {
      this.drainScheduled = false;
      this.drainOrder();
    });
  }

  /** Writes the replies at the head of the order that are ready. */
  private drainOrder(): void {
    if (this.closed) return;
    const ready: Buffer[] = [];
    while (this.order.length > 0 && this.order[0]!.pieces !== null) ready.push(...this.order.shift()!.pieces!);
    if (ready.length > 0) this.send(ready);
    if (this.holdingTooMany && this.order.length <= MAX_HELD_REPLIES / 2) {
      this.holdingTooMany = false;
      if (!this.paused && !this.waitingTurn) this.socket.resume();
      setImmediate(this.resumeAfterBlock);
    }
    if (this.order.length === 0) {
      this.afterSend();
      this.endIfInputDone();
    }
  }

  /** The socket's 'drain', or a direct write that had to wait completing (HandleWriter). */
  private onDrain(): void {
    // Both can hold output: resume only once neither holds more than the limit.
    if (this.paused && !this.closed && this.output.queuedBytes <= PAUSE_OUTPUT_BYTES) {
      this.paused = false;
      if (!this.waitingTurn && !this.holdingTooMany) this.socket.resume();
    }
  }

  /** Closes at once, dropping unsent replies. */
  kill(): void {
    this.socket.destroy();
    this.close();
  }

  /** Stops reading and closes once the pending replies are written (shutdown). */
  end(): void {
    this.parser.stop();
    this.socket.end();
  }

  /**
   * A blocking command must wait (blocking.ts): its reply holds its place in
   * the order, and the parser keeps the client's later input until the reply
   * is there, as Redis runs nothing else of a blocked client. Not inside EXEC
   * (Redis's transactions never block) nor outside a command's own run.
   */
  private block(reply: Promise<Buffer>): boolean {
    if (this.closed || !this.running || this.lastCommand === 'exec') return false;
    this.blocked = true;
    this.parser.yield();
    this.holdPlace(reply.finally(() => {
      this.blocked = false;
      setImmediate(this.resumeAfterBlock);
    }));
    return true;
  }

  private readonly resumeAfterBlock = (): void => {
    if (this.closed || this.blocked || this.waitingTurn || this.holdingTooMany || !this.parser.isYielded) return;
    this.beforeInput();
    this.parser.resume();
    this.afterInput();
  };

  private close(): void {
    if (this.closed) return;
    this.closed = true;
    this.parser.stop();
    cancelBlocked(this.session);
    endTransaction(this.session);
    hubOf(this.runtime.services).leave(this.session);
    this.runtime.services.tracker?.disable(this.session.tracking);
    this.pushes = [];
    this.runtime.forget(this);
  }

  /** CLIENT LIST's flags: P (pub/sub), t (tracking), R (its redirect is gone), B (BCAST), as Redis; N for none. */
  private flagsText(): string {
    const t = this.session.tracking;
    const flags = `${this.pubsub ? 'P' : ''}${t?.on === true ? `t${t.brokenRedirect ? 'R' : ''}${t.bcast ? 'B' : ''}` : ''}`;
    return flags === '' ? 'N' : flags;
  }

  /** The CLIENT LIST line, with Redis's field names. */
  describe(): string {
    const now = Date.now();
    const fields: Array<[string, string | number]> = [
      ['id', this.id],
      ['addr', this.addr],
      ['laddr', this.laddr],
      ['fd', -1],
      ['name', this.session.name],
      ['age', Math.floor((now - this.createdAt) / 1000)],
      ['idle', Math.floor((now - this.lastActive) / 1000)],
      ['flags', this.flagsText()],
      ['db', 0],
      ['sub', this.session.pubsub?.channels.size ?? 0],
      ['psub', this.session.pubsub?.patterns.size ?? 0],
      ['ssub', this.session.pubsub?.shardChannels.size ?? 0],
      ['multi', this.session.tx?.queue?.length ?? -1],
      ['qbuf', this.parser.bufferedBytes],
      ['qbuf-free', 0],
      ['argv-mem', 0],
      ['multi-mem', 0],
      ['rbs', 0],
      ['rbp', 0],
      ['obl', 0],
      ['oll', 0],
      ['omem', this.output.queuedBytes],
      ['tot-mem', this.output.queuedBytes + this.parser.bufferedBytes],
      ['events', 'r'],
      ['cmd', this.lastCommand],
      ['user', 'default'],
      ['redir', this.session.tracking?.on ? this.session.tracking.redirect : -1],
      ['resp', this.session.protocol],
      ['lib-name', this.session.libName],
      ['lib-ver', this.session.libVersion],
    ];
    return fields.map(([k, v]) => `${k}=${v}`).join(' ');
  }
}
