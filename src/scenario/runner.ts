/**
 * Runs a scenario by name: validates the options (exit 2 with one
 * `ringcache:` line when they are wrong, or when the scenario cannot run
 * here), runs it on ringcache and, with --against redis-cluster, on a Redis
 * Cluster of the same shape, writes report.json and report.html, prints the
 * summary and returns the exit code: 1 when a gating verdict failed (or the
 * run aborted), 0 otherwise. `all` runs every available scenario in turn,
 * each into its own directory under --out.
 *
 * Everything a scenario starts is registered with one Cleanup, which stops it
 * on a normal end, an abort, Ctrl-C, SIGTERM or an uncaught error.
 */
import { existsSync } from 'node:fs';
import { createRequire } from 'node:module';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import { Cleanup } from './cleanup.js';
import { clientUnavailable } from './clients.js';
import { OptionError, resolveOptions, type RawScenarioFlags, type ScenarioOptions } from './options.js';
import { hasCommand } from './processes.js';
import { Progress } from './progress.js';
import { RedisClusterUnderTest } from './redis-cluster.js';
import { formatSummary, writeReport, type ScenarioReport } from './report.js';
import { Run } from './run.js';
import type { ScenarioContext, ScenarioDefinition, ScenarioName, SystemName, TargetResult } from './scenario.js';
import { AVAILABLE, SCENARIOS } from './scenarios/index.js';
import { DynamicCluster } from './dynamic-cluster.js';
import { StaticCluster } from './static-cluster.js';
import { asComparison, exitCodeFor } from './verdicts.js';

export interface RunnerEnv {
  stdout: NodeJS.WritableStream & { isTTY?: boolean; columns?: number };
  stderr: NodeJS.WritableStream;
  /** The command line, for the report. */
  command: string;
}

const require = createRequire(import.meta.url);
const VERSION = (require('../../package.json') as { version: string }).version;
const COMPILED_CLI = fileURLToPath(new URL('../../dist/cli/main.js', import.meta.url));

const usage = (env: RunnerEnv, message: string): 2 => {
  env.stderr.write(`ringcache: ${message}\n`);
  return 2;
};

/** `ringcache scenario <name> [options]`: the exit code. */
export async function runScenarioByName(name: ScenarioName, raw: RawScenarioFlags, env: RunnerEnv): Promise<number> {
  if (name === 'all') return runAll(raw, env);
  const def = SCENARIOS.get(name);
  if (def === undefined) return usage(env, `unknown scenario '${name}'`);
  if (def.unavailable !== undefined) return usage(env, `scenario ${name}: ${def.unavailable}`);
  let options: ScenarioOptions;
  try {
    options = await prepare(def, raw);
  } catch (err) {
    if (err instanceof OptionError) return usage(env, err.message);
    throw err;
  }
  return execute(def, options, env);
}

async function prepare(def: ScenarioDefinition, raw: RawScenarioFlags, out?: string): Promise<ScenarioOptions> {
  const options = resolveOptions(def.name, out === undefined ? raw : { ...raw, out }, { defaults: def.defaults(raw.quick === true) });
  const problem = def.validate?.(options) ?? (await environmentProblem(options));
  if (problem !== undefined) throw new OptionError(problem);
  return options;
}

/** What this machine lacks for these options, if anything. */
async function environmentProblem(o: ScenarioOptions): Promise<string | undefined> {
  if (!existsSync(COMPILED_CLI)) return `scenarios start the compiled ringcache CLI, and ${COMPILED_CLI} is missing: run 'npm run build' first`;
  const client = await clientUnavailable(o.client);
  if (client !== undefined) return client;
  if (o.etcd === '' && o.membership === 'dynamic' && !(await hasCommand('etcd'))) return "--etcd without an endpoint starts Debian's etcd, and there is no etcd on the PATH (apt-get install etcd-server), or give --etcd host:port";
  if (o.against === 'redis-cluster') {
    for (const cmd of ['redis-server', 'redis-cli']) if (!(await hasCommand(cmd))) return `--against redis-cluster needs ${cmd} on the PATH (Debian: apt-get install redis-server redis-tools)`;
  }
  return undefined;
}

/** What a scenario's run function is given (exported for tests that run one scenario on one system). */
export function context(system: SystemName, options: ScenarioOptions, progress: Progress, cleanup: Cleanup): ScenarioContext {
  return {
    system,
    options,
    progress,
    cleanup,
    cluster: (shape) => {
      if (system === 'redis-cluster') return new RedisClusterUnderTest({ nodes: shape.nodes, standalone: shape.standalone === true, replicas: shape.replicas ?? 0, nodeTimeoutMs: options.redisNodeTimeoutMs });
      if (shape.standalone === true || options.membership === 'static') return new StaticCluster({ nodes: shape.nodes, standalone: shape.standalone === true });
      const replicas = shape.replicas ?? 0;
      return new DynamicCluster({
        nodes: shape.nodes * (1 + replicas),
        replicas,
        consistency: options.consistency,
        ...(options.etcd !== null && { etcd: options.etcd }),
        leaseTtlMs: options.leaseTtlMs,
        removeWith: options.removeWith,
        coordinatorProxies: shape.coordinatorProxies === true,
      });
    },
    run: (name, cluster) => new Run(name, cluster, { progress, cleanup, seed: options.seed, keys: options.keys }),
    workload: (clients) => ({
      clients,
      pipeline: options.pipeline,
      readRatio: options.readRatio,
      keySpace: { keys: options.keys, distribution: options.distribution, zipfSkew: options.zipfSkew, hotFraction: options.hotFraction, hotShare: options.hotShare },
      valueSize: options.valueSize,
      rate: options.rate,
      durationMs: options.durationMs,
      seed: options.seed,
      client: options.client,
      commandTimeoutMs: options.commandTimeoutMs,
      checkSample: options.checkSample,
    }),
    sweep: () => ({ keys: options.keys, valueSize: options.valueSize, client: options.client, commandTimeoutMs: options.commandTimeoutMs, inFlight: 64 }),
  };
}

async function execute(def: ScenarioDefinition, options: ScenarioOptions, env: RunnerEnv): Promise<number> {
  const cleanup = new Cleanup();
  const progress = new Progress(env.stdout);
  cleanup.install((line) => {
    progress.clear();
    env.stderr.write(`${line}\n`);
  });
  const startedAt = new Date();
  const systems: SystemName[] = ['ringcache', ...(options.against === 'redis-cluster' ? ['redis-cluster' as const] : [])];
  const targets: TargetResult[] = [];
  try {
    for (const system of systems) {
      progress.log(`ringcache scenario ${def.name}: ${system} (seed ${options.seed})`);
      const result = await def.run(context(system, options, progress, cleanup));
      targets.push(system === 'ringcache' ? result : { ...result, verdicts: asComparison(result.verdicts) });
    }
  } catch (err) {
    progress.clear();
    env.stderr.write(`ringcache scenario ${def.name}: aborted: ${(err as Error).message}\n`);
    await cleanup.runAll((line) => env.stderr.write(`${line}\n`));
    cleanup.uninstall();
    return 1;
  }
  await cleanup.runAll((line) => env.stderr.write(`${line}\n`));
  cleanup.uninstall();
  progress.clear();
  const exitCode = exitCodeFor(targets.flatMap((t) => t.verdicts));
  const report: ScenarioReport = { scenario: def.name, version: VERSION, command: env.command, startedAt: startedAt.toISOString(), finishedAt: new Date().toISOString(), options, targets, exitCode };
  const paths = await writeReport(options.out, report);
  env.stdout.write(`${formatSummary(report, shortPath(paths.html))}\n`);
  return exitCode;
}

/** A path relative to the working directory when it is inside it, else absolute. */
const shortPath = (p: string) => {
  const rel = path.relative(process.cwd(), p);
  return rel !== '' && !rel.startsWith('..') && !path.isAbsolute(rel) ? rel : p;
};

/**
 * Every available scenario in turn; the worst exit code. With --static the
 * scenarios that change membership are skipped (they need the node manager);
 * with --against redis-cluster those without a Redis Cluster counterpart run
 * on ringcache only. Either is said in the last line.
 */
async function runAll(raw: RawScenarioFlags, env: RunnerEnv): Promise<number> {
  const stamp = new Date().toISOString().replace(/:/g, '-').replace(/\.\d+Z$/, 'Z');
  const base = path.resolve(raw.out ?? path.join('scenario-results', `all-${stamp}`));
  const prepared: Array<[ScenarioDefinition, ScenarioOptions]> = [];
  const skipped: string[] = [];
  const alone: string[] = [];
  try {
    for (const def of AVAILABLE) {
      if (raw.static === true && def.nodeManagerOnly === true) {
        skipped.push(def.name);
        continue;
      }
      const flags = raw.against !== undefined && def.noComparison === true ? { ...raw, against: undefined } : raw;
      if (flags !== raw) alone.push(def.name);
      prepared.push([def, await prepare(def, flags, path.join(base, def.name))]);
    }
  } catch (err) {
    if (err instanceof OptionError) return usage(env, err.message);
    throw err;
  }
  const results: string[] = [];
  let worst = 0;
  for (const [def, options] of prepared) {
    const code = await execute(def, options, env);
    worst = Math.max(worst, code);
    results.push(`${def.name} ${code === 0 ? 'PASS' : 'FAIL'}`);
    env.stdout.write('\n');
  }
  const unavailable = [...SCENARIOS.values()].filter((s) => s.unavailable !== undefined).map((s) => s.name);
  const said = [
    ...(skipped.length > 0 ? [`skipped with --static (they need the node manager): ${skipped.join(', ')}`] : []),
    ...(alone.length > 0 ? [`ringcache only (no Redis Cluster counterpart yet): ${alone.join(', ')}`] : []),
    ...(unavailable.length > 0 ? [`not available yet: ${unavailable.join(', ')}`] : []),
  ];
  env.stdout.write(`all: ${results.join(', ')}${said.map((x) => `; ${x}`).join('')}; reports under ${shortPath(base)}\n`);
  return worst;
}
