/**
 * Every scenario by name, in the order --help lists them. `all` runs every
 * available one in turn (runner.ts).
 */
import type { ScenarioDefinition, ScenarioName } from '../scenario.js';
import { chaos } from './chaos.js';
import { failover } from './failover.js';
import { load } from './load.js';
import { nodeFailure } from './node-failure.js';
import { rollingRestart } from './rolling-restart.js';
import { scaleIn, scaleOut } from './scale.js';
import { partition } from './partition.js';

export const SCENARIOS: ReadonlyMap<Exclude<ScenarioName, 'all'>, ScenarioDefinition> = new Map(
  [load, nodeFailure, rollingRestart, scaleOut, scaleIn, partition, chaos, failover].map((s) => [s.name as Exclude<ScenarioName, 'all'>, s]),
);

/** The scenarios `all` runs: those available today. */
export const AVAILABLE = [...SCENARIOS.values()].filter((s) => s.unavailable === undefined);
