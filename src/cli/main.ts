/**
 * The `ringcache` command line. Every bad flag or value ends in one line on
 * stderr and exit code 2, never a stack trace.
 */
import { Command, CommanderError, Option } from 'commander';
import { ConfigError, parseNodeConfig } from '../server/config.js';
import { CacheNode, VERSION } from '../server/node.js';
import { EVICTION_POLICIES } from '../store/keyspace.js';

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
  const node: CacheNode = new CacheNode(config, { onShutdown: () => exit() });
  const exit = () => void node.stop().then(() => process.exit(0));
  const port = await node.start();
  process.on('SIGINT', exit);
  process.on('SIGTERM', exit);
  process.stdout.write(
    `ringcache ${VERSION} node ready on ${config.bind}:${port} (pid ${process.pid})\n` +
      `  connect: redis-cli -p ${port}${config.bind === '127.0.0.1' ? '' : ` -h ${config.bind}`}\n` +
      `  stop:    Ctrl-C (or SIGTERM)\n`,
  );
}

const program = new Command()
  .name('ringcache')
  .description('A distributed cache for Node.js that speaks the Redis protocol.')
  .version(VERSION)
  .exitOverride()
  .configureOutput({ writeErr: () => {} });

program
  .command('server')
  .description('Run one cache node.')
  .option('--port <port>', 'TCP port to listen on (0 picks a free one)', '7000')
  .option('--bind <address>', 'address to listen on', '127.0.0.1')
  .option('--maxmemory <size>', 'memory limit for data, e.g. 100mb or 2gb (0: no limit)', '0')
  .addOption(new Option('--maxmemory-policy <policy>', 'what to do when maxmemory is reached').choices(EVICTION_POLICIES).default('noeviction'))
  .option('--maxclients <n>', 'most client connections at once', '10000')
  .option('--requirepass <password>', 'password clients must send with AUTH or HELLO (empty: none)', '')
  .option('--proto-max-bulk-len <size>', 'largest bulk string a client may send', undefined)
  .option('--client-output-limit <size>', 'unsent replies after which a client that does not read is disconnected', undefined)
  .action(async (flags: ServerFlags) => runServer(flags));

async function main(): Promise<void> {
  try {
    await program.parseAsync(process.argv);
  } catch (err) {
    if (err instanceof CommanderError) {
      if (err.exitCode === 0) process.exit(0); // --help, --version
      fail(`${err.message.replace(/^error: /, '')} (see ringcache --help)`);
    }
    if (err instanceof ConfigError) fail(err.message);
    fail(err instanceof Error ? err.message : String(err));
  }
}

void main();
