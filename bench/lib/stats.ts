// Summary statistics. We report medians of repeated runs: a single noisy run
// (GC pause, a neighbour process) should not decide a comparison, and the
// median is robust to one outlier even with only 3 repetitions.

/** Median of the finite values; NaN when there are none. */
export function median(values: readonly number[]): number {
  const sorted = values.filter(Number.isFinite).sort((a, b) => a - b);
  const n = sorted.length;
  if (n === 0) return NaN;
  const mid = Math.floor(n / 2);
  return n % 2 === 1 ? (sorted[mid] as number) : ((sorted[mid - 1] as number) + (sorted[mid] as number)) / 2;
}

/** Relative spread (max-min)/median, to flag noisy cases; NaN when undefined. */
export function relativeSpread(values: readonly number[]): number {
  const finite = values.filter(Number.isFinite);
  const m = median(finite);
  if (finite.length < 2 || !(m > 0)) return NaN;
  return (Math.max(...finite) - Math.min(...finite)) / m;
}
