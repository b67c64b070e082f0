/**
 * The client's typed errors. Every error the client raises is a RingCacheError,
 * so callers can catch the family and then branch on the subclass or `code`.
 */

/** Base class of every error raised by the ringcache client. */
export class RingCacheError extends Error {
  /** A stable machine-readable name, e.g. `TIMEOUT`. */
  readonly code: string;
  constructor(code: string, message: string, options?: { cause?: unknown }) {
    super(message, options);
    this.code = code;
    this.name = new.target.name;
  }
}

/** An error reply from a node (`-ERR ...`, `-WRONGTYPE ...`), passed through as is. */
export class ReplyError extends RingCacheError {
  /** The first word of the reply (`ERR`, `MOVED`, `WRONGTYPE`...). */
  readonly prefix: string;
  constructor(message: string) {
    super('REPLY', message);
    const space = message.indexOf(' ');
    this.prefix = space < 0 ? message : message.slice(0, space);
  }
}

/** A command got no reply within its timeout. It may still have run on the node. */
export class TimeoutError extends RingCacheError {
  constructor(message: string) {
    super('TIMEOUT', message);
  }
}

/** The connection to a node closed (or could not be opened) before the reply came. */
export class ConnectionClosedError extends RingCacheError {
  /** The node, as `host:port`. */
  readonly node: string;
  /** Whether the command had been written to the node: if so it may have run there. */
  readonly written: boolean;
  constructor(node: string, message: string, options?: { cause?: unknown; written?: boolean }) {
    super('CONNECTION_CLOSED', message, options);
    this.node = node;
    this.written = options?.written ?? false;
  }
}

/** The cluster cannot serve the slot: no owner is known, or nodes answered CLUSTERDOWN/TRYAGAIN after every retry. */
export class ClusterDownError extends RingCacheError {
  constructor(message: string, options?: { cause?: unknown }) {
    super('CLUSTER_DOWN', message, options);
  }
}

/** A command was redirected (MOVED/ASK) more times than `maxRedirections`. */
export class RedirectLoopError extends RingCacheError {
  constructor(message: string) {
    super('REDIRECT_LOOP', message);
  }
}

/** A node's queue of unanswered commands is full (`maxQueue`): the caller should slow down. */
export class QueueFullError extends RingCacheError {
  constructor(message: string) {
    super('QUEUE_FULL', message);
  }
}

/** The client was closed, before or while the command ran. */
export class ClientClosedError extends RingCacheError {
  constructor() {
    super('CLIENT_CLOSED', 'the RingCache client is closed');
  }
}

/** A caller passed an invalid argument (bad key, bad TTL, bad option). Raised before anything is sent. */
export class InvalidArgumentError extends RingCacheError {
  constructor(message: string) {
    super('INVALID_ARGUMENT', message);
  }
}

/** getOrSet: another process's loader failed for this key; carries its message. */
export class LoaderError extends RingCacheError {
  constructor(message: string) {
    super('LOADER_FAILED', message);
  }
}
