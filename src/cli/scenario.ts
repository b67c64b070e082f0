/**
 * `ringcache scenario <name> [options]` (and `npm run scenario -- <name>`):
 * the system test program. Each scenario starts its own cluster on free
 * loopback ports, loads it, runs its workload and faults, checks what came
 * back, writes report.json and report.html and prints a summary with verdicts.
 * Exit codes: 0 all verdicts pass, 1 a verdict failed (or the run aborted),
 * 2 bad options or a scenario that cannot run yet (one `ringcache:` line).
 */
import { Argument, Option, type Command } from 'commander';
import { CLIENT_KINDS } from '../scenario/clients.js';
import { DISTRIBUTIONS } from '../scenario/keys.js';
import type { RawScenarioFlags } from '../scenario/options.js';
import { runScenarioByName } from '../scenario/runner.js';
import { SCENARIO_NAMES, type ScenarioName } from '../scenario/scenario.js';
import { SCENARIOS } from '../scenario/scenarios/index.js';

function scenarioList(): string {
  const rows = [...SCENARIOS.values()].map((s) => `  ${s.name.padEnd(16)} ${s.summary}`);
  return [
    '',
    'Scenarios:',
    ...rows,
    `  ${'all'.padEnd(16)} every available scenario in turn`,
    '',
    'Examples:',
    '  ringcache scenario node-failure --quick',
    '  ringcache scenario load --clients 1,10,50,200 --duration 10',
    '  ringcache scenario node-failure --against redis-cluster --rate 5000',
    '  ringcache scenario scale-out --quick --etcd          # through an etcd the runner starts',
    '  ringcache scenario failover --quick --against redis-cluster --node-timeout 1000',
    '',
    'Exit code: 0 every verdict passes, 1 a verdict failed, 2 bad options.',
    'Reports: <out>/report.json and <out>/report.html (opens offline).',
  ].join('\n');
}

/** Adds the `scenario` command to the ringcache program. */
export function registerScenarioCommand(program: Command): void {
  program
    .command('scenario')
    .description('Run a system test scenario (node failure, load, ...) on a local cluster it starts; writes a report with verdicts.')
    .addArgument(new Argument('<name>', 'the scenario (see below)').choices(SCENARIO_NAMES))
    .option('--quick', 'a run of seconds (what npm test runs); explicit options still apply')
    .option('--duration <time>', 'load per phase: seconds, or 500ms / 30s / 2m')
    .option('--clients <n,...>', 'concurrent clients; load sweeps a list (1,10,50,200)')
    .option('--pipeline <n>', 'commands each client sends at once', '1')
    .option('--read-ratio <r>', 'fraction of reads (GET), the rest are writes (SET)', '0.8')
    .option('--keys <n>', 'key count (every key is written before the load)')
    .addOption(new Option('--distribution <d>', 'key distribution (hotset: 90% of operations on 10% of the keys)').choices(DISTRIBUTIONS).default('uniform'))
    .option('--zipf-skew <s>', 'Zipf exponent for --distribution zipf', '0.99')
    .option('--value-size <bytes>', 'value size, or a range (32-1024); values carry a checked header', '64')
    .option('--rate <ops>', "total operations per second (open loop, latency corrected for coordinated omission), or 'max'")
    .addOption(new Option('--client <kind>', 'client library driving the load').choices(CLIENT_KINDS).default('ringcache'))
    .option('--nodes <n>', 'nodes in the cluster at the start (default 3; scale-in 5)')
    .option('--out <dir>', 'report directory (default scenario-results/<name>-<time>/)')
    .addOption(new Option('--against <system>', 'also run on a Redis Cluster of the same shape; both in one report').choices(['redis-cluster']))
    .option('--seed <n>', 'seed of the workload (printed in the summary, to repeat a run)')
    .option('--fault-at <time>', 'when the fault happens, from the start of the load')
    .option('--restart-after <time>', 'node-failure: how long the node stays dead before it is restarted; partition: how long it stays cut off')
    .option('--static', 'ringcache with static membership (--peers) instead of the node manager (load, node-failure, rolling-restart)')
    .option('--etcd [host:port]', 'nodes join through etcd: this one, or without a value an etcd the runner starts (Debian\'s etcd binary)')
    .option('--lease-ttl <time>', 'membership lease TTL of every node (default 2s): how long a dead node\'s slots wait')
    .addOption(new Option('--remove-with <how>', 'how scale-in and chaos take a node out').choices(['sigterm', 'cluster-remove']).default('sigterm'))
    .option('--replicas <n>', 'replicas per primary (failover: default 1; the other scenarios run without replicas so far)')
    .addOption(new Option('--consistency <mode>', 'ringcache write consistency with replicas (failover; default async)').choices(['async', 'sync']))
    .option('--trials <n>', 'failover: kill -9 trials (default 10, --quick 3)')
    .option('--trial-faults <list>', 'failover: what the trials do to a primary, in turn: kill9, pause (SIGSTOP for twice the lease), isolate (cut from the coordinator as long); default kill9')
    .option('--node-timeout <ms>', "Redis Cluster's cluster-node-timeout for --against redis-cluster (failover: Redis's default 15000; others 2000)")
    .addHelpText('after', scenarioList())
    .action(async (name: ScenarioName, flags: RawScenarioFlags) => {
      let code: number;
      try {
        code = await runScenarioByName(name, flags, { stdout: process.stdout, stderr: process.stderr, command: `ringcache ${process.argv.slice(2).join(' ')}` });
      } catch (err) {
        process.stderr.write(`ringcache scenario ${name}: ${(err as Error).stack ?? String(err)}\n`);
        code = 1;
      }
      process.exit(code);
    });
}
