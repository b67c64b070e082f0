/**
 * Glob matching with Redis's rules (KEYS, SCAN MATCH, CONFIG GET): `*`, `?`,
 * `[abc]`, `[^abc]`, `[a-z]` and `\x` to escape. Works on binary strings (one
 * char per byte). Iterative with backtracking to the last `*`, so a hostile
 * pattern costs O(pattern x subject), never exponential time.
 */
export function globMatch(pattern: string, subject: string, nocase = false): boolean {
  // Redis's matcher matches an empty subject with an empty pattern only; KEYS
  // and SCAN read a lone "*" as "every key" before matching, so it matches too.
  if (subject.length === 0) return pattern === '' || pattern === '*';
  const fold = (c: number): number => (nocase && c >= 65 && c <= 90 ? c | 0x20 : c);
  let p = 0;
  let s = 0;
  let starP = -1;
  let starS = 0;
  while (s < subject.length) {
    if (p < pattern.length) {
      const pc = pattern.charCodeAt(p);
      if (pc === 42 /* * */) {
        while (p < pattern.length && pattern.charCodeAt(p) === 42) p++;
        if (p === pattern.length) return true;
        starP = p;
        starS = s;
        continue;
      }
      const c = subject.charCodeAt(s);
      let next = -1;
      if (pc === 63 /* ? */) next = p + 1;
      else if (pc === 91 /* [ */) next = matchClass(pattern, p + 1, c, fold);
      else if (pc === 92 /* \ */ && p + 1 < pattern.length) next = fold(pattern.charCodeAt(p + 1)) === fold(c) ? p + 2 : -1;
      else next = fold(pc) === fold(c) ? p + 1 : -1;
      if (next >= 0) {
        p = next;
        s++;
        continue;
      }
    }
    if (starP < 0) return false;
    p = starP;
    s = ++starS;
  }
  while (p < pattern.length && pattern.charCodeAt(p) === 42) p++;
  return p === pattern.length;
}

/** A byte as C's signed char: Redis compares range bounds that way. */
const signed = (c: number): number => (c >= 128 ? c - 256 : c);

/**
 * Matches c against the class whose body starts at p (just after "["), reading
 * it exactly as Redis's stringmatchlen does: "\x" is a literal compared as is,
 * "a-" before the last character makes a range even with "]" ("[a-]"), and an
 * unterminated class ends at the end of the pattern. Returns the position after
 * the class, or -1 if c does not match.
 */
function matchClass(pattern: string, p: number, c: number, fold: (c: number) => number): number {
  const at = (i: number): number => pattern.charCodeAt(i); // NaN past the end, like C's terminating NUL
  const negate = at(p) === 94; /* ^ */
  if (negate) p++;
  let matched = false;
  for (; ; p++) {
    const left = pattern.length - p;
    if (at(p) === 92 /* \ */ && left >= 2) {
      if (at(++p) === c) matched = true;
    } else if (at(p) === 93 /* ] */) {
      break;
    } else if (left === 0) {
      p--;
      break;
    } else if (left >= 3 && at(p + 1) === 45 /* - */) {
      let lo = signed(at(p));
      let hi = signed(at(p + 2));
      if (lo > hi) [lo, hi] = [hi, lo];
      const x = fold(signed(c));
      if (x >= fold(lo) && x <= fold(hi)) matched = true;
      p += 2;
    } else if (fold(at(p)) === fold(c)) {
      matched = true;
    }
  }
  return matched !== negate ? p + 1 : -1;
}
