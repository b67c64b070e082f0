// Describes where a benchmark ran. Throughput numbers are meaningless
// without the machine and versions next to them, so every result file
// carries this block.
import { execFile } from 'node:child_process';
import os from 'node:os';
import { sendCommand } from './resp.js';

export interface MachineInfo {
  hostname: string;
  platform: string;
  release: string;
  arch: string;
  cpuModel: string;
  cpuCount: number;
  totalMemBytes: number;
  loadAverage: number[];
  node: string;
}

export function machineInfo(): MachineInfo {
  const cpus = os.cpus();
  return {
    hostname: os.hostname(),
    platform: os.platform(),
    release: os.release(),
    arch: os.arch(),
    cpuModel: cpus[0]?.model.trim() ?? 'unknown',
    cpuCount: cpus.length,
    totalMemBytes: os.totalmem(),
    loadAverage: os.loadavg(),
    node: process.version,
  };
}

/** First line of `<bin> --version`, or undefined (bounded to 5 s). */
export function commandVersion(bin: string): Promise<string | undefined> {
  return new Promise((resolve) => {
    execFile(bin, ['--version'], { timeout: 5000 }, (err, stdout) => {
      resolve(err ? undefined : stdout.trim().split('\n')[0]);
    });
  });
}

/**
 * `INFO server` fields of a running server (e.g. redis_version). Returns {}
 * if the server does not implement INFO: versions are nice to have, not a
 * reason to abort a benchmark.
 */
export async function serverInfo(port: number): Promise<Record<string, string>> {
  try {
    const reply = await sendCommand(port, ['INFO', 'server'], 2000);
    if (typeof reply !== 'string') return {};
    const fields: Record<string, string> = {};
    for (const line of reply.split(/\r?\n/)) {
      const idx = line.indexOf(':');
      if (idx > 0 && !line.startsWith('#')) fields[line.slice(0, idx)] = line.slice(idx + 1).trim();
    }
    return fields;
  } catch {
    return {};
  }
}
