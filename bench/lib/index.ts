// Reusable benchmark building blocks, for node-vs-redis and later benchmarks
// (memory, cluster): one import gives servers, load generation and charts.
export { freePort, LOOPBACK } from './ports.js';
export { sendCommand, sendCommands, waitForPing, RespError, type RespValue } from './resp.js';
export {
  startRedisServer, startRingcache, startServerProcess, ringcacheArgv, splitCommandLine, REPO_ROOT,
  type ServerHandle, type StartServerOptions, type StartRedisOptions, type StartRingcacheOptions,
} from './servers.js';
export { spawnTracked, stopProcess, installCleanupHandlers, isShuttingDown, describeExit, type ExitInfo } from './processes.js';
export {
  runRedisBenchmark, parseBenchmarkCsv, redisBenchmarkArgv,
  type BenchmarkRow, type RedisBenchmarkArgs, type RedisBenchmarkResult,
} from './redis-benchmark.js';
export { preflight } from './preflight.js';
export { writeBarChartSvg, renderBarChartSvg, type BarChartSpec, type BarGroup, type BarPanel, type BarSeries } from './svg-chart.js';
export { machineInfo, commandVersion, serverInfo, type MachineInfo } from './machine.js';
export { median, relativeSpread } from './stats.js';
export { formatTable, formatInt, formatFixed, formatBytes } from './table.js';
