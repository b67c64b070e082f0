/**
 * Glob matching with Redis's rules (KEYS, SCAN MATCH, CONFIG GET): `*`, `?`,
 * `[abc]`, `[^abc]`, `[a-z]` and `\x` to escape. Works on binary strings (one
 * char per byte). Iterative with backtracking to the last `*`, so a hostile
 * pattern costs O(pattern x subject), never exponential time.
 */
export function globMatch(pattern: string, subject: string, nocase = false): boolean {
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
      if (pc === 63 /* ? */) {
        p++;
        s++;
        continue;
      }
      if (pc === 91 /* [ */) {
        const r = matchClass(pattern, p + 1, fold(subject.charCodeAt(s)), fold);
        if (r.matched) {
          p = r.next;
          s++;
          continue;
        }
      } else {
        let lit = pc;
        let next = p + 1;
        if (pc === 92 /* \ */ && p + 1 < pattern.length) {
          lit = pattern.charCodeAt(p + 1);
          next = p + 2;
        }
        if (fold(lit) === fold(subject.charCodeAt(s))) {
          p = next;
          s++;
          continue;
        }
      }
    }
    if (starP < 0) return false;
    p = starP;
    s = ++starS;
  }
  while (p < pattern.length && pattern.charCodeAt(p) === 42) p++;
  return p === pattern.length;
}

function matchClass(pattern: string, p: number, c: number, fold: (c: number) => number): { matched: boolean; next: number } {
  let negate = false;
  if (pattern.charCodeAt(p) === 94 /* ^ */) {
    negate = true;
    p++;
  }
  let matched = false;
  while (p < pattern.length && pattern.charCodeAt(p) !== 93 /* ] */) {
    let lo = pattern.charCodeAt(p);
    if (lo === 92 && p + 1 < pattern.length) lo = pattern.charCodeAt(++p);
    if (pattern.charCodeAt(p + 1) === 45 /* - */ && p + 2 < pattern.length && pattern.charCodeAt(p + 2) !== 93) {
      let a = fold(lo);
      let b = fold(pattern.charCodeAt(p + 2));
      if (a > b) [a, b] = [b, a];
      if (c >= a && c <= b) matched = true;
      p += 3;
    } else {
      if (fold(lo) === c) matched = true;
      p++;
    }
  }
  // An unterminated class ends at the end of the pattern, as in Redis.
  return { matched: negate ? !matched : matched, next: p < pattern.length ? p + 1 : p };
}
