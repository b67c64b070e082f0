/**
 * What a scenario is: a name, its defaults (normal and --quick), and a run
 * function that drives one system (ringcache, or Redis Cluster for
 * `--against redis-cluster`) through its runs and returns what it measured
 * with its verdicts. The runner (runner.ts) calls it once per system, so the
 * same workload and faults reach both and they share one report.
 */
import type { Cleanup } from './cleanup.js';
import type { ClusterUnderTest } from './cluster-under-test.js';
import type { ScenarioOptions } from './options.js';
import type { Progress } from './progress.js';
import type { Run, RunResult } from './run.js';
import type { Verdict } from './verdicts.js';
import type { SweepConfig, WorkloadConfig } from './workload.js';

export const SCENARIO_NAMES = ['load', 'node-failure', 'rolling-restart', 'scale-out', 'scale-in', 'partition', 'chaos', 'failover', 'all'] as const;
export type ScenarioName = (typeof SCENARIO_NAMES)[number];
export type SystemName = ClusterUnderTest['system'];

/** Defaults a scenario sets (explicit options override them). */
export interface ScenarioDefaults {
  durationMs: number;
  clients: number[];
  rate: number | null;
  keys: number;
  faultAtMs?: number;
  restartAfterMs?: number;
  /** Starting node count (--nodes overrides it; default 3). */
  nodes?: number;
  /** The ringcache backend unless --static: the node manager (default) or static membership. */
  membership?: 'dynamic' | 'static';
  /** It runs with replicas: --replicas and --consistency are accepted (elsewhere they are refused). */
  replication?: boolean;
  /** Replicas per primary unless --replicas is given. */
  replicas?: number;
  /** Trials unless --trials is given. */
  trials?: number;
  /** Redis Cluster's cluster-node-timeout unless --node-timeout is given (otherwise the harness's 2000 ms). */
  redisNodeTimeoutMs?: number;
}

export interface ClusterShape {
  /** Nodes; with replicas, primaries (each gets `replicas` more nodes). */
  nodes: number;
  /** Replicas per primary (default 0). */
  replicas?: number;
  /** One node without membership (the load scenario's comparison). */
  standalone?: boolean;
  /** Node manager: each node reaches the coordinator through its own fault proxy (to cut one node off). */
  coordinatorProxies?: boolean;
}

export interface ScenarioContext {
  system: SystemName;
  options: ScenarioOptions;
  progress: Progress;
  cleanup: Cleanup;
  /** A cluster of this system (not started). */
  cluster(shape: ClusterShape): ClusterUnderTest;
  /** A run on a cluster (registered for cleanup; call start()). */
  run(name: string, cluster: ClusterUnderTest): Run;
  /** The workload of the options, with this many clients. */
  workload(clients: number): WorkloadConfig;
  /** Preload / final read settings. */
  sweep(): SweepConfig;
}

export interface TargetResult {
  system: SystemName;
  /** The cluster(s) this system ran, one line each. */
  description: string;
  /** The stated promise of the mode in use, which the verdicts hold it to. */
  promise: string;
  runs: RunResult[];
  verdicts: Verdict[];
  /** Tables of a scenario's own figures (failover's trials), shown in the summary and the report page. */
  tables?: FigureTable[];
  /** A scenario's own figures, as data (report.json). */
  figures?: Record<string, unknown>;
}

export interface FigureTable {
  title: string;
  columns: string[];
  rows: string[][];
}

export interface ScenarioDefinition {
  name: ScenarioName;
  /** One line for --help. */
  summary: string;
  /** undefined when it runs today; otherwise why not (printed, exit 2). */
  unavailable?: string;
  defaults(quick: boolean): ScenarioDefaults;
  /** It changes membership: it runs on the node manager only (`all --static` skips it). */
  nodeManagerOnly?: boolean;
  /** It has no Redis Cluster counterpart (`all --against redis-cluster` runs it on ringcache only). */
  noComparison?: boolean;
  /** A problem with the options for this scenario (one line), if any. */
  validate?(o: ScenarioOptions): string | undefined;
  run(ctx: ScenarioContext): Promise<TargetResult>;
}
