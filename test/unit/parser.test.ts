import assert from 'node:assert/strict';
import { test } from 'node:test';
import fc from 'fast-check';
import { RequestParser, splitInlineArgs, DEFAULT_PARSER_LIMITS, type ParserLimits } from '../../src/protocol/parser.js';

interface Parsed {
  commands: string[][];
  errors: string[];
}

/** Feeds chunks to a fresh parser and collects what it reports. */
function parse(chunks: Buffer[], limits: ParserLimits = DEFAULT_PARSER_LIMITS, authRequired = false): Parsed {
  const out: Parsed = { commands: [], errors: [] };
  const parser = new RequestParser(
    {
      onCommand: (argv) => out.commands.push(argv.toStrings()),
      onProtocolError: (m) => out.errors.push(m),
    },
    limits,
  );
  parser.authRequired = authRequired;
  for (const c of chunks) parser.feed(c);
  return out;
}

const encode = (args: string[]): string => `*${args.length}\r\n` + args.map((a) => `$${Buffer.byteLength(a)}\r\n${a}\r\n`).join('');

test('parses multibulk commands, including empty and binary arguments', () => {
  const r = parse([Buffer.from(encode(['SET', 'k', '']) + encode(['GET', 'k']) + encode(['ECHO', 'a\r\nb']))]);
  assert.deepEqual(r.commands, [['SET', 'k', ''], ['GET', 'k'], ['ECHO', 'a\r\nb']]);
  assert.deepEqual(r.errors, []);
});

test('skips *0 and *-1 requests as Redis does', () => {
  assert.deepEqual(parse([Buffer.from('*0\r\n*-1\r\n' + encode(['PING']))]).commands, [['PING']]);
});

test('parses inline commands with quotes and escapes', () => {
  const r = parse([Buffer.from('PING\r\nSET a "hello world"\r\nSET b \'it\\\'s\'\nECHO "\\x41\\n"\r\n\r\n')]);
  assert.deepEqual(r.commands, [['PING'], ['SET', 'a', 'hello world'], ['SET', 'b', "it's"], ['ECHO', 'A\n']]);
});

test('reports unbalanced quotes in an inline command', () => {
  assert.deepEqual(parse([Buffer.from('SET a "oops\r\n')]).errors, ['Protocol error: unbalanced quotes in request']);
  assert.equal(splitInlineArgs(Buffer.from('"a"b')), null);
});

test('splits inline lines as Redis\'s sdssplitargs: quotes inside a word, \\v and \\f inside arguments, escapes', () => {
  const split = (line: string) => splitInlineArgs(Buffer.from(line, 'latin1'))?.map((b) => b.toString('latin1')) ?? null;
  assert.deepEqual(split('ECHO a"b c"'), ['ECHO', 'ab c'], 'a quote inside a word opens a quoted part');
  assert.deepEqual(split("ECHO a'b c'"), ['ECHO', 'ab c']);
  assert.equal(split('ECHO a"b"c'), null, 'the closing quote ends the argument: it must be followed by a blank');
  assert.equal(split('ECHO "a""b"'), null);
  assert.deepEqual(split('ECHO a\vb a\fb'), ['ECHO', 'a\vb', 'a\fb'], '\\v and \\f do not end an argument');
  assert.deepEqual(split('\vECHO\v \fa\r'), ['ECHO\v', 'a'], 'but are skipped before one');
  assert.deepEqual(split('ECHO "a"\vb'), ['ECHO', 'a', 'b'], 'and count as blanks after a closing quote');
  assert.deepEqual(split('ECHO a\rb'), ['ECHO', 'a', 'b']);
  assert.deepEqual(split('ECHO "\\x4g" "\\x41" "a\\zb" "a\\"b" ""'), ['ECHO', 'x4g', 'A', 'azb', 'a"b', '']);
  assert.deepEqual(split("ECHO 'a\\zb' 'a\\''"), ['ECHO', 'a\\zb', "a'"]);
  assert.equal(split('ECHO "ab\\'), null, 'a backslash at the end does not close the quotes');
  assert.equal(split("ECHO 'ab"), null);
  assert.deepEqual(split('ECHO a\x00b c'), ['ECHO', 'a'], 'a NUL ends the line, as a C string');
  assert.deepEqual(split('ECHO \xff\xfe'), ['ECHO', '\xff\xfe']);
});

test('an inline line with a NUL byte never ends, as with Redis\'s strchr, until the 64 KB limit', () => {
  assert.deepEqual(parse([Buffer.from('ECHO a\x00b\r\nPING\r\n')]), { commands: [], errors: [] });
  assert.deepEqual(parse([Buffer.from('ECHO a\x00b\r\n'), Buffer.alloc(65 * 1024, 'x')]).errors, ['Protocol error: too big inline request']);
});

test('inline length as Redis: refused once more than 64 KB wait without a newline; a line whose newline is within 80 KB runs', () => {
  /** `ECHO AAA...\r\n` of `total` bytes. */
  const line = (total: number) => Buffer.from('ECHO ' + 'A'.repeat(total - 7) + '\r\n');
  const echoed = (r: Parsed) => [r.errors, r.commands.map((c) => c[1]!.length)];
  const slowly = (wire: Buffer) => Array.from({ length: Math.ceil(wire.length / 1000) }, (_, i) => wire.subarray(i * 1000, i * 1000 + 1000));
  // Redis runs `ECHO` + 65,532 x `A` (65,539 bytes), and lines up to about 80 KB that arrive at once.
  for (const total of [60000, 65539, 70000, 81920]) {
    const wire = line(total);
    assert.deepEqual(echoed(parse([wire])), [[], [total - 7]], `${total} bytes in one chunk`);
    assert.deepEqual(echoed(parse([wire.subarray(0, 65536), wire.subarray(65536)])), [[], [total - 7]], `${total} bytes in 64 KB reads`);
  }
  assert.deepEqual(echoed(parse(slowly(line(60000)))), [[], [59993]]);
  assert.deepEqual(parse(slowly(line(70000))).errors, ['Protocol error: too big inline request'], 'more than 64 KB waited without a newline');
  assert.deepEqual(parse([line(81921)]).errors, ['Protocol error: too big inline request'], 'newline past 80 KB');
  assert.deepEqual(parse([Buffer.alloc(65537, 'a')]).errors, ['Protocol error: too big inline request']);
  assert.deepEqual(parse([Buffer.alloc(65536, 'a')]).errors, [], 'exactly 64 KB still waits');
});

test('reports malformed multibulk headers with Redis texts', () => {
  assert.deepEqual(parse([Buffer.from('*abc\r\n')]).errors, ['Protocol error: invalid multibulk length']);
  assert.deepEqual(parse([Buffer.from('*1\r\n+foo\r\n')]).errors, ["Protocol error: expected '$', got '+'"]);
  assert.deepEqual(parse([Buffer.from('*1\r\n$-5\r\n')]).errors, ['Protocol error: invalid bulk length']);
  assert.deepEqual(parse([Buffer.from('*1\r\n$x\r\n')]).errors, ['Protocol error: invalid bulk length']);
});

test('reads * and $ numbers as Redis (string2ll): leading zeros, -0 and signs are protocol errors', () => {
  const mbulk = 'Protocol error: invalid multibulk length';
  const bulk = 'Protocol error: invalid bulk length';
  for (const bad of ['*01\r\n$4\r\nPING\r\n', '*00\r\n', '*-0\r\n', '*-01\r\n', '*+1\r\n', '*1 \r\n', '*\r\n', '*2147483648\r\n', '*99999999999999999999\r\n', '*-9223372036854775809\r\n']) {
    assert.deepEqual(parse([Buffer.from(bad)]).errors, [mbulk], JSON.stringify(bad));
  }
  for (const bad of ['*1\r\n$04\r\nPING\r\n', '*1\r\n$00\r\n\r\n', '*1\r\n$-0\r\n', '*1\r\n$\r\n', '*1\r\n$9223372036854775808\r\n']) {
    assert.deepEqual(parse([Buffer.from(bad)]).errors, [bulk], JSON.stringify(bad));
  }
  // A negative count of any int64 size is an empty request; 0 alone is a number.
  const r = parse([Buffer.from('*-5\r\n*-9223372036854775808\r\n*0\r\n*1\r\n$0\r\n\r\n' + encode(['PING']))]);
  assert.deepEqual(r, { commands: [[''], ['PING']], errors: [] });
});

test('accepts a multibulk count up to Redis 7.0\'s INT_MAX, allocating only as arguments arrive', () => {
  const parser = new RequestParser({ onCommand: () => assert.fail('incomplete'), onProtocolError: (m) => assert.fail(m) });
  const before = process.memoryUsage().arrayBuffers;
  parser.feed(Buffer.from('*2147483647\r\n$3\r\nSET\r\n$1\r\nk\r\n'));
  assert.equal(parser.isStopped, false);
  assert.ok(process.memoryUsage().arrayBuffers - before < 1024 * 1024, 'no memory for the declared count');
  assert.deepEqual(parse([Buffer.from('*2147483648\r\n')]).errors, ['Protocol error: invalid multibulk length']);
});

test('a line that is not a bulk header is an error once its CR is there, as Redis reads it', () => {
  assert.deepEqual(parse([Buffer.from('*1\r\n+foo')]), { commands: [], errors: [] }, 'waits for the line');
  assert.deepEqual(parse([Buffer.from('*1\r\n+foo'), Buffer.from('\r\n')]).errors, ["Protocol error: expected '$', got '+'"]);
  assert.deepEqual(parse([Buffer.from('*1\r\n\r\n')]).errors, ["Protocol error: expected '$', got '\r'"]);
  // Redis finds the CR with strchr, which stops at a NUL: such a line never ends, until the 64 KB limit.
  assert.deepEqual(parse([Buffer.from('*1\x00\r\n$4\r\nPING\r\n')]), { commands: [], errors: [] });
  assert.deepEqual(parse([Buffer.from('*1\r\n$4\x00\r\nPING\r\n')]), { commands: [], errors: [] });
  assert.deepEqual(parse([Buffer.from('*1\x00\r\n'), Buffer.alloc(70 * 1024, 'x')]).errors, ['Protocol error: too big mbulk count string']);
});

test('before AUTH, at most 10 arguments of at most 16 KB each, as Redis 7; invalid numbers are still invalid', () => {
  const unauth = (wire: string) => parse([Buffer.from(wire)], DEFAULT_PARSER_LIMITS, true).errors;
  assert.deepEqual(unauth('*11\r\n'), ['Protocol error: unauthenticated multibulk length']);
  assert.deepEqual(unauth('*1000000\r\n'), ['Protocol error: unauthenticated multibulk length']);
  assert.deepEqual(unauth('*1\r\n$16385\r\n'), ['Protocol error: unauthenticated bulk length']);
  assert.deepEqual(unauth('*1\r\n$536870912\r\n'), ['Protocol error: unauthenticated bulk length']);
  assert.deepEqual(unauth('*2147483648\r\n'), ['Protocol error: invalid multibulk length']);
  assert.deepEqual(unauth('*1\r\n$536870913\r\n'), ['Protocol error: invalid bulk length']);
  assert.deepEqual(unauth('*10\r\n$16384\r\n'), [], 'the limits themselves are allowed');
  assert.deepEqual(parse([Buffer.from('*11\r\n$16385\r\n')]).errors, [], 'no limit once authenticated');
});

test('the limits before AUTH apply from the request after the one that changes authRequired', () => {
  const errors: string[] = [];
  const seen: string[] = [];
  const parser = new RequestParser({
    onCommand: (argv) => {
      seen.push(argv.utf8(0));
      parser.authRequired = argv.utf8(0) !== 'AUTH';
    },
    onProtocolError: (m) => errors.push(m),
  });
  parser.authRequired = true;
  parser.feed(Buffer.from(encode(['AUTH', 'pw']) + encode(['SET', 'k', 'v'.repeat(20000)]) + encode(['PING']) + encode(Array(11).fill('x'))));
  assert.deepEqual(seen, ['AUTH', 'SET', 'PING']);
  assert.deepEqual(errors, ['Protocol error: unauthenticated multibulk length']);
});

test('rejects a bulk length over the limit before its bytes arrive', () => {
  const limits = { ...DEFAULT_PARSER_LIMITS, maxBulkLength: 1000 };
  assert.deepEqual(parse([Buffer.from('*1\r\n$1001\r\n')], limits).errors, ['Protocol error: invalid bulk length']);
  assert.deepEqual(parse([Buffer.from('*1\r\n$1000\r\n')], limits).errors, []);
});

test('rejects a multibulk count over the limit', () => {
  const limits = { ...DEFAULT_PARSER_LIMITS, maxMultibulkLength: 10 };
  assert.deepEqual(parse([Buffer.from('*11\r\n')], limits).errors, ['Protocol error: invalid multibulk length']);
});

test('rejects an inline request or header line longer than the inline limit', () => {
  const limits = { ...DEFAULT_PARSER_LIMITS, maxInlineLength: 100 };
  assert.deepEqual(parse([Buffer.alloc(200, 'a')], limits).errors, ['Protocol error: too big inline request']);
  assert.deepEqual(parse([Buffer.from('*1' + '1'.repeat(200))], limits).errors, ['Protocol error: too big mbulk count string']);
  assert.deepEqual(parse([Buffer.from('*1\r\n$1' + '0'.repeat(200))], limits).errors, ['Protocol error: too big bulk count string']);
});

test('closes on a query buffer over its limit', () => {
  const limits = { ...DEFAULT_PARSER_LIMITS, maxQueryBuffer: 100 };
  const r = parse([Buffer.from('*1\r\n$500\r\n'), Buffer.alloc(200, 'x')], limits);
  assert.deepEqual(r.errors, ['Protocol error: query buffer limit exceeded']);
});

test('stops after an error: later input is ignored', () => {
  const r = parse([Buffer.from('*x\r\n'), Buffer.from(encode(['PING']))]);
  assert.equal(r.errors.length, 1);
  assert.deepEqual(r.commands, []);
});

test('a large value arriving in many chunks is assembled once', () => {
  const value = 'v'.repeat(300_000);
  const wire = Buffer.from(encode(['SET', 'k', value]));
  const chunks = [];
  for (let i = 0; i < wire.length; i += 1000) chunks.push(wire.subarray(i, i + 1000));
  const r = parse(chunks);
  assert.equal(r.commands.length, 1);
  assert.equal(r.commands[0]![2], value);
});

const arg = fc.oneof(fc.string({ maxLength: 20 }), fc.constantFrom('', '\r\n', '*1\r\n', '$3'), fc.string({ unit: 'binary', maxLength: 40 }));
const commandArb = fc.array(arg, { minLength: 1, maxLength: 6 });

test('property: any split of a valid stream yields the same commands', () => {
  fc.assert(
    fc.property(fc.array(commandArb, { minLength: 1, maxLength: 8 }), fc.array(fc.nat(), { maxLength: 10 }), (commands, cuts) => {
      const wire = Buffer.from(commands.map(encode).join(''));
      const points = [...new Set(cuts.map((c) => c % (wire.length + 1)))].sort((a, b) => a - b);
      const chunks: Buffer[] = [];
      let prev = 0;
      for (const p of points) {
        chunks.push(wire.subarray(prev, p));
        prev = p;
      }
      chunks.push(wire.subarray(prev));
      const r = parse(chunks);
      assert.deepEqual(r.errors, []);
      assert.deepEqual(r.commands, commands);
    }),
    { numRuns: 300 },
  );
});

test('yield stops after the current command, keeps the rest and what arrives meanwhile, and resume goes on in order', () => {
  const seen: string[][] = [];
  const parser = new RequestParser({
    onCommand: (argv) => {
      seen.push(argv.toStrings());
      if (seen.length === 2) parser.yield();
    },
    onProtocolError: (m) => assert.fail(m),
  });
  parser.feed(Buffer.from(encode(['SET', 'a', '1']) + encode(['SET', 'b', '2']) + encode(['GET', 'a']) + '*2\r\n$3\r\nGET'));
  assert.deepEqual(seen, [['SET', 'a', '1'], ['SET', 'b', '2']], 'nothing after the yield runs');
  assert.equal(parser.isYielded, true);
  parser.feed(Buffer.from('\r\n$1\r\nb\r\n'));
  assert.equal(seen.length, 2, 'input fed while yielded waits too');
  parser.resume();
  assert.equal(parser.isYielded, false);
  assert.deepEqual(seen.slice(2), [['GET', 'a'], ['GET', 'b']]);
});

for (const inputReused of [false, true]) {
  const how = inputReused ? ', with input reused after each feed (the shared read buffer)' : '';
  test(`property: yields at any commands and any split of the stream yield the same commands${how}`, () => {
    fc.assert(
      fc.property(
        fc.array(commandArb, { minLength: 1, maxLength: 8 }),
        fc.array(fc.nat(), { maxLength: 10 }),
        fc.array(fc.boolean(), { minLength: 8, maxLength: 8 }),
        (commands, cuts, yieldAt) => {
          const wire = Buffer.from(commands.map(encode).join(''));
          const points = [...new Set(cuts.map((c) => c % (wire.length + 1)))].sort((a, b) => a - b);
          const seen: string[][] = [];
          const parser = new RequestParser(
            {
              onCommand: (argv) => {
                seen.push(argv.toStrings());
                if (yieldAt[seen.length - 1]) parser.yield();
              },
              onProtocolError: (m) => assert.fail(m),
            },
            DEFAULT_PARSER_LIMITS,
            inputReused,
          );
          // Reused input: every piece is fed from the same buffer, scribbled
          // over as soon as feed returns, so anything the parser kept without
          // copying breaks.
          const shared = Buffer.alloc(wire.length);
          let prev = 0;
          for (const p of [...points, wire.length]) {
            if (inputReused) {
              wire.copy(shared, 0, prev, p);
              parser.feed(shared.subarray(0, p - prev));
              shared.fill('*');
            } else parser.feed(wire.subarray(prev, p));
            prev = p;
            if (parser.isYielded) parser.resume();
          }
          // Each resume may yield again: bounded by the number of commands.
          for (let i = 0; i < commands.length && parser.isYielded; i++) parser.resume();
          assert.equal(parser.isYielded, false);
          assert.deepEqual(seen, commands);
        },
      ),
      { numRuns: 300 },
    );
  });
}

test('property: garbage never throws and reports at most one error', () => {
  fc.assert(
    fc.property(fc.array(fc.uint8Array({ maxLength: 64 }), { maxLength: 8 }), (chunks) => {
      const r = parse(chunks.map((c) => Buffer.from(c)));
      assert.ok(r.errors.length <= 1);
      for (const e of r.errors) assert.match(e, /^Protocol error: /);
    }),
    { numRuns: 500 },
  );
});
