import assert from 'node:assert/strict';
import { test } from 'node:test';
import { globMatch } from '../../src/store/glob.js';
import fc from 'fast-check';
import { addInt64, formatFloat, parseFloatStrict, parseInt64, writeInt64 } from '../../src/commands/numbers.js';
import { humanBytes, parseMemory, ConfigError } from '../../src/server/config.js';

test('glob matching follows Redis rules', () => {
  const cases: Array<[string, string, boolean]> = [
    ['*', '', true],
    ['h?llo', 'hello', true],
    ['h?llo', 'hllo', false],
    ['h*llo', 'heeeello', true],
    ['h[ae]llo', 'hallo', true],
    ['h[ae]llo', 'hillo', false],
    ['h[^e]llo', 'hallo', true],
    ['h[^e]llo', 'hello', false],
    ['h[a-b]llo', 'hbllo', true],
    ['h[b-a]llo', 'hallo', true],
    ['h\\*llo', 'h*llo', true],
    ['h\\*llo', 'hello', false],
    ['*a*b*c*', 'xaxbxcx', true],
    ['*a*b*c*', 'xaxcxbx', false],
    ['a*', 'b', false],
  ];
  for (const [p, s, expected] of cases) assert.equal(globMatch(p, s), expected, `${p} ~ ${s}`);
  assert.equal(globMatch('MAX*', 'maxmemory', true), true);
});

test('a hostile glob pattern finishes quickly', () => {
  const started = Date.now();
  assert.equal(globMatch('*a*a*a*a*a*a*a*a*a*a*b', 'a'.repeat(5000)), false);
  assert.ok(Date.now() - started < 2000);
});

test('int64 parsing is strict, as Redis string2ll', () => {
  const p = (s: string) => parseInt64(Buffer.from(s), 0, Buffer.byteLength(s));
  assert.equal(p('0'), 0);
  assert.equal(p('-12'), -12);
  assert.equal(p('9223372036854775807'), 9223372036854775807n);
  assert.equal(p('-9223372036854775808'), -9223372036854775808n);
  for (const bad of ['', '-', '01', '-0', '+1', ' 1', '1 ', '1.5', '9223372036854775808', 'abc']) assert.equal(p(bad), null, bad);
});

test('property: writeInt64 writes what String() writes, and parseInt64 reads it back', () => {
  const buf = Buffer.alloc(32);
  const int64 = fc.bigInt({ min: -(2n ** 63n), max: 2n ** 63n - 1n });
  const asStored = (b: bigint): number | bigint => (Number.isSafeInteger(Number(b)) ? Number(b) : b);
  fc.assert(
    fc.property(fc.oneof(int64.map(asStored), fc.integer({ min: -1e6, max: 1e6 }), fc.constantFrom(0, -1, 9, 10, 99, 100, Number.MAX_SAFE_INTEGER, Number.MIN_SAFE_INTEGER)), fc.nat(8), (n, at) => {
      const len = writeInt64(n, buf, at);
      assert.equal(buf.latin1Slice(at, at + len), String(n));
      assert.equal(parseInt64(buf, at, at + len), n);
    }),
    { numRuns: 2000 },
  );
});

test('int64 addition reports overflow', () => {
  assert.equal(addInt64(9223372036854775806n, 1), 9223372036854775807n);
  assert.equal(addInt64(9223372036854775807n, 1), null);
  assert.equal(addInt64(-9223372036854775808n, -1), null);
  assert.equal(addInt64(2 ** 53 - 1, 2), 9007199254740993n);
});

test('floats parse strictly and format without exponents', () => {
  assert.equal(parseFloatStrict('1.5e3'), 1500);
  assert.equal(parseFloatStrict('-inf'), -Infinity);
  assert.equal(parseFloatStrict(' 1'), null);
  assert.equal(parseFloatStrict('1x'), null);
  assert.equal(formatFloat(10.5), '10.5');
  assert.equal(formatFloat(1e21), '1000000000000000000000');
  assert.equal(formatFloat(5e-7), '0.0000005');
  assert.equal(formatFloat(-0), '0');
});

test('memory sizes parse with Redis units', () => {
  assert.equal(parseMemory('100mb'), 100 * 1024 * 1024);
  assert.equal(parseMemory('2GB'), 2 * 1024 ** 3);
  assert.equal(parseMemory('1k'), 1000);
  assert.equal(parseMemory('1kb'), 1024);
  assert.equal(parseMemory('4096'), 4096);
  assert.throws(() => parseMemory('12xb'), ConfigError);
  assert.throws(() => parseMemory('-1'), ConfigError);
  assert.equal(humanBytes(1536), '1.50K');
  assert.equal(humanBytes(12), '12B');
});
