/**
 * Scenarios whose subject does not exist yet. They are registered so
 * `ringcache scenario --help` lists them and users see why they cannot run:
 * each prints one line and exits 2. Each becomes a real scenario with the
 * issue that brings what it tests (the dynamic cluster, issue 14).
 */
import type { ScenarioDefinition, ScenarioName } from '../scenario.js';

const NEEDS_DYNAMIC = 'not available yet: needs dynamic membership (issue 14)';

const unavailable = (name: ScenarioName, summary: string, why = NEEDS_DYNAMIC): ScenarioDefinition => ({
  name,
  summary: `${summary} [${why}]`,
  unavailable: why,
  defaults: () => ({ durationMs: 30_000, clients: [10], rate: 2000, keys: 10_000 }),
  run: () => Promise.reject(new Error(why)),
});

export const chaos = unavailable('chaos', 'random faults (kill, pause, partition, add/remove) for a duration');
