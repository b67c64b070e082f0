/** Small helpers every benchmark uses when it writes its results. */
import { isAbsolute, relative } from 'node:path';

/** Relative to the working directory when inside it, absolute otherwise. */
export function displayPath(file: string): string {
  const rel = relative(process.cwd(), file);
  return rel && !rel.startsWith('..') && !isAbsolute(rel) ? rel : file;
}

/** A JSON.stringify replacer: JSON has no NaN/Infinity; write null instead of letting them vanish silently. */
export function jsonNumbers(_key: string, value: unknown): unknown {
  return typeof value === 'number' && !Number.isFinite(value) ? null : value;
}
