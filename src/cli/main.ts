/**
 * The `ringcache` command line. Every bad flag or value ends in one line on
 * stderr and exit code 2, never a stack trace.
 */
import { Command, CommanderError, Option } from 'commander';
import { pino } from 'pino';
import { ConfigError, parseNodeConfig } from '../server/config.js';
import { CacheNode, VERSION } from '../server/node.js';
import { EVICTION_POLICIES } from '../store/keyspace.js';
import { parsePeers, StaticMembership } from '../membership/static.js';
import { CoordinatedMembership } from '../membership/agent.js';
import { EtcdKv, parseEtcdEndpoints } from '../membership/etcd-kv.js';
import { RemoteKv } from '../membership/remote-kv.js';
import { CLUSTER_NAME } from '../membership/layout.js';
import { DEFAULT_SETTINGS, type ClusterSettings } from '../cluster/cluster-map.js';
import type { KvStore } from '../membership/kv.js';
import { registerClusterCommand } from './cluster.js';
import { runDev } from './dev.js';
import { registerScenarioCommand } from './scenario.js';
import { startAdminServer, type AdminServer } from '../admin/admin-server.js';
import { nodeMetrics } from '../admin/metrics.js';

const EXIT_USAGE = 2;

function fail(message: string): never {
  process.stderr.write(`ringcache: ${message}\n`);
  process.exit(EXIT_USAGE);
}

interface ServerFlags {
  port: string;
  adminPort?: string;
  bind: string;
  maxmemory: string;
  maxmemoryPolicy: string;
  maxclients: string;
  requirepass: string;
  protoMaxBulkLen?: string;
  clientOutputLimit?: string;
  peers?: string;
  proxy?: boolean;
  etcd?: string;
  coordinator?: string;
  cluster: string;
  leaseTtl: string;
  weight: string;
  migrationRate: string;
  replicas?: string;
  consistency?: string;
  zone?: string;
  failoverAfter: string;
}

/** --replicas and --consistency: the settings a new cluster is created with (undefined when neither is given). */
export function settingsFlags(flags: { replicas?: string; consistency?: string }): ClusterSettings | undefined {
  if (flags.replicas === undefined && flags.consistency === undefined) return undefined;
  const replicas = flags.replicas === undefined ? DEFAULT_SETTINGS.replicas : Number(flags.replicas);
  if (!Number.isInteger(replicas) || replicas < 0 || replicas > 5) throw new ConfigError('invalid --replicas: an integer from 0 to 5');
  const consistency = flags.consistency ?? DEFAULT_SETTINGS.consistency;
  if (consistency !== 'async' && consistency !== 'sync') throw new ConfigError(`invalid --consistency '${consistency}': async or sync`);
  return { replicas, consistency };
}

/** Longest start-up waits for the coordinator before giving up (exit 2). */
const COORDINATOR_START_TIMEOUT_MS = 5000;

/** Cluster mode through a coordinator (--etcd, or --coordinator: the store `ringcache dev` serves). */
function coordinatedOptions(flags: ServerFlags, bind: string, port: number, password: () => string) {
  if (flags.etcd !== undefined && flags.coordinator !== undefined) throw new ConfigError('give --etcd or --coordinator, not both');
  if (flags.peers !== undefined) throw new ConfigError('--peers (static membership) cannot be combined with --etcd or --coordinator');
  if (!CLUSTER_NAME.test(flags.cluster)) throw new ConfigError(`invalid --cluster '${flags.cluster}': 1-64 letters, digits, '.', '_' or '-'`);
  const ttlMs = Number(flags.leaseTtl);
  if (!Number.isInteger(ttlMs) || ttlMs < 1000 || ttlMs > 60_000) throw new ConfigError('invalid --lease-ttl: milliseconds from 1000 to 60000');
  const weight = Number(flags.weight);
  if (!(weight > 0) || !Number.isFinite(weight) || weight > 1000) throw new ConfigError('invalid --weight: a number above 0, at most 1000');
  if (port === 0) throw new ConfigError('--etcd and --coordinator need an explicit --port (the node registers its address)');
  let kv: KvStore;
  let kind: string;
  if (flags.etcd !== undefined) {
    let endpoints;
    try {
      endpoints = parseEtcdEndpoints(flags.etcd);
    } catch (err) {
      throw new ConfigError(`invalid --etcd: ${(err as Error).message}`);
    }
    kv = new EtcdKv({ endpoints });
    kind = 'etcd';
  } else {
    const m = /^([^\s:]+):(\d{1,5})$/.exec(flags.coordinator!);
    if (!m || Number(m[2]) < 1 || Number(m[2]) > 65535) throw new ConfigError(`invalid --coordinator '${flags.coordinator}' (expected host:port)`);
    kv = new RemoteKv({ host: m[1]!, port: Number(m[2]) });
    kind = 'embedded';
  }
  // In etcd mode every node stands for controller; the embedded store's controller runs in the dev process.
  const failoverAfterMs = Number(flags.failoverAfter);
  if (!Number.isInteger(failoverAfterMs) || failoverAfterMs < 200 || failoverAfterMs > 60_000) throw new ConfigError('invalid --failover-after: milliseconds from 200 to 60000');
  if (flags.zone !== undefined && !/^[A-Za-z0-9_.-]{1,64}$/.test(flags.zone)) throw new ConfigError(`invalid --zone '${flags.zone}': 1-64 letters, digits, '.', '_' or '-'`);
  const settings = settingsFlags(flags);
  const membership = new CoordinatedMembership({
    kv,
    kind,
    cluster: flags.cluster,
    host: bind,
    port,
    weight,
    ttlMs,
    controller: kind === 'etcd',
    password,
    log: nodeLog,
    failoverAfterMs,
    ...(flags.zone !== undefined ? { zone: flags.zone } : {}),
    ...(settings !== undefined ? { settings } : {}),
  });
  return { membership, proxy: flags.proxy === true, coordinator: () => membership.status() };
}

/** Cluster mode from --peers: static membership that must include this node. */
function clusterOptions(flags: ServerFlags, bind: string, port: number) {
  if (flags.peers === undefined) {
    if (flags.proxy) throw new ConfigError('--proxy needs --peers (proxy mode forwards to the other members)');
    return undefined;
  }
  let members;
  try {
    members = parsePeers(flags.peers);
  } catch (err) {
    throw new ConfigError(`invalid --peers: ${(err as Error).message}`);
  }
  if (port === 0) throw new ConfigError('--peers needs an explicit --port (the members list names this node by host:port)');
  if (!members.some((m) => m.host === bind && m.port === port)) throw new ConfigError(`invalid --peers: the list does not include this node (${bind}:${port})`);
  return { membership: new StaticMembership(members, { host: bind, port }), proxy: flags.proxy === true };
}

const nodeLog = pino({ level: process.env.RINGCACHE_LOG_LEVEL ?? 'warn' }, pino.destination(2));

async function runServer(flags: ServerFlags): Promise<void> {
  const config = parseNodeConfig({
    port: flags.port,
    bind: flags.bind,
    maxmemory: flags.maxmemory,
    maxmemoryPolicy: flags.maxmemoryPolicy as never,
    maxclients: flags.maxclients,
    requirepass: flags.requirepass,
    ...(flags.protoMaxBulkLen !== undefined && { protoMaxBulkLen: flags.protoMaxBulkLen }),
    ...(flags.clientOutputLimit !== undefined && { clientOutputLimit: flags.clientOutputLimit }),
    migrationRate: flags.migrationRate,
  });
  const cluster = flags.etcd !== undefined || flags.coordinator !== undefined
    ? coordinatedOptions(flags, config.bind, config.port, () => config.requirepass)
    : clusterOptions(flags, config.bind, config.port);
  const node: CacheNode = new CacheNode(config, { log: nodeLog, onShutdown: () => exit(), onLeave: (reason) => {
    process.stderr.write(`ringcache: ${reason}; exiting\n`);
    exit();
  }, ...(cluster && { cluster }) });
  let exiting = false;
  const exit = () => {
    if (exiting) return;
    exiting = true;
    void Promise.all([node.stop(), admin?.close()]).then(() => process.exit(0));
  };
  let startTimer: NodeJS.Timeout | undefined;
  const port = await Promise.race([
    node.start(),
    new Promise<never>((_, reject) => {
      startTimer = setTimeout(() => reject(new ConfigError(`cannot reach the coordinator within ${COORDINATOR_START_TIMEOUT_MS} ms (${flags.etcd !== undefined ? `etcd ${flags.etcd}` : `--coordinator ${flags.coordinator}`})`)), COORDINATOR_START_TIMEOUT_MS);
    }),
  ]).catch((err: Error) => {
    if (err instanceof ConfigError) throw err;
    throw new ConfigError(err.message);
  });
  clearTimeout(startTimer);
  const admin = flags.adminPort === undefined ? undefined : await startAdmin(node, config.bind, flags.adminPort, () => config.requirepass);
  process.on('SIGINT', exit);
  process.on('SIGTERM', exit);
  process.stdout.write(
    `ringcache ${VERSION} node ready on ${config.bind}:${port} (pid ${process.pid})${cluster ? `, ${flags.etcd !== undefined || flags.coordinator !== undefined ? `member ${node.cluster!.selfId.slice(0, 8)} of cluster ${flags.cluster}` : `cluster of ${node.cluster!.map?.nodes.length ?? 0}`}${cluster.proxy ? ', proxy mode' : ''}` : ''}\n` +
      `  connect: redis-cli${cluster && !cluster.proxy ? ' -c' : ''} -p ${port}${config.bind === '127.0.0.1' ? '' : ` -h ${config.bind}`}\n` +
      (admin === undefined ? '' : `  metrics: http://${config.bind}:${admin.port}/metrics\n`) +
      `  stop:    Ctrl-C (or SIGTERM)\n`,
  );
}

/** --admin-port: the metrics endpoint, beside the node (src/admin/). */
async function startAdmin(node: CacheNode, host: string, portFlag: string, password: () => string): Promise<AdminServer> {
  const port = Number(portFlag);
  if (!/^\d+$/.test(portFlag) || port > 65535) throw new ConfigError('invalid --admin-port: must be 0 to 65535');
  try {
    return await startAdminServer({ host, port, registry: nodeMetrics(node.metricsSource()), password });
  } catch (err) {
    await node.stop();
    throw new ConfigError(`cannot listen on ${host}:${port} for --admin-port: ${(err as NodeJS.ErrnoException).code ?? (err as Error).message}`);
  }
}

const program = new Command()
  .name('ringcache')
  .description('A distributed cache for Node.js that speaks the Redis protocol.')
  .version(VERSION)
  .exitOverride()
  .configureOutput({ writeErr: () => {} });

const server = program
  .command('server')
  .description('Run one cache node.')
  .option('--port <port>', 'TCP port to listen on (0 picks a free one)', '7000')
  .option('--bind <address>', 'address to listen on', '127.0.0.1')
  .option('--maxmemory <size>', 'memory limit for data, e.g. 100mb or 2gb (0: no limit)', '0')
  .addOption(new Option('--maxmemory-policy <policy>', 'what to do when maxmemory is reached').choices(EVICTION_POLICIES).default('allkeys-s3fifo'))
  .option('--maxclients <n>', 'most client connections at once', '10000')
  .option('--requirepass <password>', 'password clients must send with AUTH or HELLO (empty: none)', '')
  .option('--proto-max-bulk-len <size>', 'largest bulk string a client may send', undefined)
  .option('--client-output-limit <size>', 'unsent replies after which a client that does not read is disconnected', undefined)
  .option('--peers <list>', 'cluster members as host:port[@weight],... including this node (static membership)')
  .option('--proxy', 'forward commands for other nodes\' slots to their owner instead of answering MOVED')
  .option('--etcd <endpoints>', 'join a cluster managed through etcd: host:port[,host:port...]')
  .option('--coordinator <host:port>', 'join a cluster managed by a `ringcache dev` process (its embedded store)')
  .option('--cluster <name>', 'cluster name (several clusters can share one etcd)', 'ringcache')
  .option('--lease-ttl <ms>', 'membership lease TTL: a node silent this long loses its slots (etcd grants whole seconds)', '2000')
  .option('--weight <w>', 'relative capacity: slots in proportion to weight', '1')
  .option('--replicas <n>', 'replicas per primary, when this node creates the cluster (the first to start; later: ringcache cluster set replicas)')
  .option('--consistency <mode>', 'async (a write is acknowledged once on its primary) or sync (once every in-sync replica has it too), when this node creates the cluster')
  .option('--zone <name>', 'placement label: replicas go to other zones than their primary')
  .option('--failover-after <ms>', 'a primary silent this long is replaced by its replica (etcd mode: the controller among the nodes)', '900')
  .option('--migration-rate <keys/s>', 'most keys per second one outgoing slot move sends (0: no limit; CONFIG SET migration-rate changes it)', '0')
  .option('--admin-port <port>', 'HTTP port for /metrics (Prometheus), on the same address (0 picks a free one; default: none)')
  .action(async (flags: ServerFlags) => runServer(flags));

registerClusterCommand(program);
registerScenarioCommand(program);

interface DevFlags {
  nodes: string;
  basePort: string;
  coordinatorPort?: string;
  cluster: string;
  /** true: `--etcd` given without an endpoint (dev starts a local etcd). */
  etcd?: string | true;
  bind: string;
  proxy?: boolean;
  maxmemory?: string;
  maxmemoryPolicy?: string;
  replicas?: string;
  consistency?: string;
  failoverAfter?: string;
}

program
  .command('dev')
  .description('Run a local cluster of N nodes on 127.0.0.1, managed by an embedded coordinator (nodes can join and leave while it runs).')
  .option('--nodes <n>', 'number of nodes', '3')
  .option('--base-port <port>', 'port of the first node; the others follow', '7000')
  .option('--coordinator-port <port>', 'port of the embedded coordinator (default: base port - 1)')
  .option('--cluster <name>', 'cluster name', 'ringcache')
  .option('--etcd [endpoints]', 'use etcd instead of the embedded coordinator (the production path): this one (host:port[,...]), or without a value a local etcd that dev starts and deletes on exit')
  .option('--bind <address>', 'address of every node', '127.0.0.1')
  .option('--proxy', 'every node forwards commands for other nodes\' slots (for cluster-unaware clients)')
  .option('--maxmemory <size>', 'memory limit of each node')
  .addOption(new Option('--maxmemory-policy <policy>', 'eviction policy of each node').choices(EVICTION_POLICIES))
  .option('--replicas <n>', 'replicas per primary (e.g. --nodes 6 --replicas 1: 3 primaries, each with a replica)')
  .option('--consistency <mode>', 'async or sync (see the README\'s replication section)')
  .option('--failover-after <ms>', 'a primary silent this long is replaced by its replica', '900')
  .action(async (flags: DevFlags) => {
    const nodes = Number(flags.nodes);
    const basePort = Number(flags.basePort);
    if (!Number.isInteger(nodes) || nodes < 1 || nodes > 64) throw new ConfigError('invalid --nodes: must be a whole number from 1 to 64');
    if (!Number.isInteger(basePort) || basePort < 1 || basePort > 65535) throw new ConfigError('invalid --base-port: must be 1 to 65535');
    const nodeArgs = [
      ...(flags.maxmemory !== undefined ? ['--maxmemory', flags.maxmemory] : []),
      ...(flags.maxmemoryPolicy !== undefined ? ['--maxmemory-policy', flags.maxmemoryPolicy] : []),
      ...(flags.replicas !== undefined ? ['--replicas', flags.replicas] : []),
      ...(flags.consistency !== undefined ? ['--consistency', flags.consistency] : []),
      ...(flags.failoverAfter !== undefined ? ['--failover-after', flags.failoverAfter] : []),
    ];
    settingsFlags(flags); // checked here, before any node starts
    const failoverAfterMs = Number(flags.failoverAfter ?? '900');
    if (!Number.isInteger(failoverAfterMs) || failoverAfterMs < 200 || failoverAfterMs > 60_000) throw new ConfigError('invalid --failover-after: milliseconds from 200 to 60000');
    const coordinatorPort = flags.coordinatorPort === undefined ? basePort - 1 : Number(flags.coordinatorPort);
    if (!Number.isInteger(coordinatorPort) || coordinatorPort < 1 || coordinatorPort > 65535) throw new ConfigError('invalid --coordinator-port: must be 1 to 65535');
    if (!CLUSTER_NAME.test(flags.cluster)) throw new ConfigError(`invalid --cluster '${flags.cluster}': 1-64 letters, digits, '.', '_' or '-'`);
    await runDev({ nodes, basePort, coordinatorPort, bind: flags.bind, proxy: flags.proxy === true, cluster: flags.cluster, ...(typeof flags.etcd === 'string' && { etcd: flags.etcd }), ...(flags.etcd === true && { localEtcd: true }), nodeArgs, failoverAfterMs });
  });

// The top-level help documents the server's flags too: `ringcache --help` is where users look first.
program.addHelpText('after', () => {
  const text = server.helpInformation();
  const at = text.indexOf('Options:\n');
  return at < 0 ? '' : `\nServer options (ringcache server [options]):\n${text.slice(at + 'Options:\n'.length).trimEnd()}\n`;
});

async function main(): Promise<void> {
  try {
    await program.parseAsync(process.argv);
  } catch (err) {
    if (err instanceof CommanderError) {
      if (err.exitCode === 0) process.exit(0); // --help, --version
      // `ringcache` alone: commander would print the help as an error; say what is missing instead.
      if (err.code === 'commander.help') fail("missing command: use 'ringcache server' to run a node (see ringcache --help)");
      fail(`${err.message.replace(/^error: /, '')} (see ringcache --help)`);
    }
    if (err instanceof ConfigError) fail(err.message);
    fail(err instanceof Error ? err.message : String(err));
  }
}

void main();
