/**
 * The `ringcache` command line. Every bad flag or value ends in one line on
 * stderr and exit code 2, never a stack trace.
 */
import { Command, CommanderError, Option } from 'commander';
import { ConfigError, parseNodeConfig } from '../server/config.js';
import { CacheNode, VERSION } from '../server/node.js';
import { EVICTION_POLICIES } from '../store/keyspace.js';
import { parsePeers, StaticMembership } from '../membership/static.js';
import { runDev } from './dev.js';

const EXIT_USAGE = 2;

function fail(message: string): never {
  process.stderr.write(`ringcache: ${message}\n`);
  process.exit(EXIT_USAGE);
}

interface ServerFlags {
  port: string;
  bind: string;
  maxmemory: string;
  maxmemoryPolicy: string;
  maxclients: string;
  requirepass: string;
  protoMaxBulkLen?: string;
  clientOutputLimit?: string;
  peers?: string;
  proxy?: boolean;
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
  });
  const cluster = clusterOptions(flags, config.bind, config.port);
  const node: CacheNode = new CacheNode(config, { onShutdown: () => exit(), ...(cluster && { cluster }) });
  const exit = () => void node.stop().then(() => process.exit(0));
  const port = await node.start();
  process.on('SIGINT', exit);
  process.on('SIGTERM', exit);
  process.stdout.write(
    `ringcache ${VERSION} node ready on ${config.bind}:${port} (pid ${process.pid})${cluster ? `, cluster of ${node.cluster!.map?.nodes.length ?? 0}${cluster.proxy ? ', proxy mode' : ''}` : ''}\n` +
      `  connect: redis-cli${cluster && !cluster.proxy ? ' -c' : ''} -p ${port}${config.bind === '127.0.0.1' ? '' : ` -h ${config.bind}`}\n` +
      `  stop:    Ctrl-C (or SIGTERM)\n`,
  );
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
  .action(async (flags: ServerFlags) => runServer(flags));

interface DevFlags {
  nodes: string;
  basePort: string;
  bind: string;
  proxy?: boolean;
  maxmemory?: string;
  maxmemoryPolicy?: string;
}

program
  .command('dev')
  .description('Run a local cluster of N nodes on 127.0.0.1 (static membership).')
  .option('--nodes <n>', 'number of nodes', '3')
  .option('--base-port <port>', 'port of the first node; the others follow', '7000')
  .option('--bind <address>', 'address of every node', '127.0.0.1')
  .option('--proxy', 'every node forwards commands for other nodes\' slots (for cluster-unaware clients)')
  .option('--maxmemory <size>', 'memory limit of each node')
  .addOption(new Option('--maxmemory-policy <policy>', 'eviction policy of each node').choices(EVICTION_POLICIES))
  .action(async (flags: DevFlags) => {
    const nodes = Number(flags.nodes);
    const basePort = Number(flags.basePort);
    if (!Number.isInteger(nodes) || nodes < 1 || nodes > 64) throw new ConfigError('invalid --nodes: must be a whole number from 1 to 64');
    if (!Number.isInteger(basePort) || basePort < 1 || basePort > 65535) throw new ConfigError('invalid --base-port: must be 1 to 65535');
    const nodeArgs = [
      ...(flags.maxmemory !== undefined ? ['--maxmemory', flags.maxmemory] : []),
      ...(flags.maxmemoryPolicy !== undefined ? ['--maxmemory-policy', flags.maxmemoryPolicy] : []),
    ];
    await runDev({ nodes, basePort, bind: flags.bind, proxy: flags.proxy === true, nodeArgs });
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
