/** CLIENT TRACKING, CLIENT CACHING, CLIENT GETREDIR and CLIENT TRACKINGINFO, as Redis 7.0 (src/tracking/tracker.ts). */
import type { Argv } from '../protocol/argv.js';
import { OK } from '../protocol/writer.js';
import type { CommandContext } from '../commands/context.js';
import { CommandError, Errors, userError } from '../commands/errors.js';
import { parseInt64 } from '../commands/numbers.js';
import { command, type CommandSpec } from '../commands/table.js';
import { checkTrackingOn, type TrackingOptions } from './tracker.js';

function tracker(ctx: CommandContext) {
  const t = ctx.node.tracker;
  if (t === undefined) throw new CommandError('ERR client tracking is not available on this node');
  return t;
}

function clientTracking(ctx: CommandContext, argv: Argv): void {
  const o: TrackingOptions = { redirect: 0, bcast: false, optin: false, optout: false, noloop: false, prefixes: [] };
  for (let j = 3; j < argv.length; j++) {
    const more = argv.length - 1 - j > 0;
    if (argv.is(j, 'redirect') && more) {
      j++;
      if (o.redirect !== 0) throw new CommandError('ERR A client can only redirect to a single other client');
      const id = parseInt64(argv.buf, argv.start[j]!, argv.end[j]!);
      if (id === null) throw new CommandError(Errors.notInteger);
      const n = typeof id === 'bigint' ? -1 : id;
      let found = false;
      for (const c of ctx.node.clients()) if (c.id === n) found = true;
      if (!found) throw new CommandError('ERR The client ID you want redirect to does not exist');
      o.redirect = n;
    } else if (argv.is(j, 'bcast')) o.bcast = true;
    else if (argv.is(j, 'optin')) o.optin = true;
    else if (argv.is(j, 'optout')) o.optout = true;
    else if (argv.is(j, 'noloop')) o.noloop = true;
    else if (argv.is(j, 'prefix') && more) o.prefixes.push(argv.str(++j));
    else throw new CommandError(Errors.syntax);
  }
  const t = tracker(ctx);
  if (argv.is(2, 'on')) {
    const err = checkTrackingOn(ctx.session.tracking, o);
    if (err !== null) throw new CommandError(userError(err));
    ctx.session.tracking = t.enable(ctx.session.tracking, ctx.session.id, o);
  } else if (argv.is(2, 'off')) t.disable(ctx.session.tracking);
  else throw new CommandError(Errors.syntax);
  ctx.out.raw(OK);
}

function clientCaching(ctx: CommandContext, argv: Argv): void {
  const s = ctx.session.tracking;
  if (s === undefined || !s.on) throw new CommandError('ERR CLIENT CACHING can be called only when the client is in tracking mode with OPTIN or OPTOUT mode enabled');
  if (argv.is(2, 'yes')) {
    if (!s.optin) throw new CommandError('ERR CLIENT CACHING YES is only valid when tracking is enabled in OPTIN mode.');
  } else if (argv.is(2, 'no')) {
    if (!s.optout) throw new CommandError('ERR CLIENT CACHING NO is only valid when tracking is enabled in OPTOUT mode.');
  } else throw new CommandError(Errors.syntax);
  s.caching = true;
  ctx.out.raw(OK);
}

function clientTrackingInfo(ctx: CommandContext): void {
  const s = ctx.session.tracking;
  const on = s !== undefined && s.on;
  const flags: string[] = [on ? 'on' : 'off'];
  if (on) {
    if (s.bcast) flags.push('bcast');
    if (s.optin) flags.push('optin');
    if (s.optin && s.caching) flags.push('caching-yes');
    if (s.optout) flags.push('optout');
    if (s.optout && s.caching) flags.push('caching-no');
    if (s.noloop) flags.push('noloop');
    if (s.brokenRedirect) flags.push('broken_redirect');
  }
  const out = ctx.out;
  out.map(3);
  out.bulkText('flags');
  out.set(flags.length);
  for (const f of flags) out.bulkText(f);
  out.bulkText('redirect');
  out.integer(on ? s.redirect : -1);
  out.bulkText('prefixes');
  // In byte order, as Redis lists its radix tree.
  const prefixes = on ? [...s.prefixes].sort() : [];
  out.array(prefixes.length);
  for (const p of prefixes) out.bulkLatin1(p);
}

const group = 'connection';

export const trackingSubcommands: CommandSpec[] = [
  command({ name: 'client|tracking', arity: -3, flags: [], group, summary: 'Controls server-assisted client-side caching for the connection.', since: '6.0.0', handler: clientTracking }),
  command({ name: 'client|caching', arity: 3, flags: [], group, summary: 'Instructs the server whether to track the keys in the next request.', since: '6.0.0', handler: clientCaching }),
  command({ name: 'client|getredir', arity: 2, flags: [], group, summary: 'Returns the client ID to which the connection\'s tracking notifications are redirected.', since: '6.0.0', handler: (ctx) => {
    const s = ctx.session.tracking;
    ctx.out.integer(s !== undefined && s.on ? s.redirect : -1);
  } }),
  command({ name: 'client|trackinginfo', arity: 2, flags: [], group, summary: 'Returns information about server-assisted client-side caching for the connection.', since: '6.2.0', handler: clientTrackingInfo }),
];
