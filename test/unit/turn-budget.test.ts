import assert from 'node:assert/strict';
import { test } from 'node:test';
import { TurnBudget } from '../../src/server/turn-budget.js';

test('a turn lets work through until its budget is spent, then holds readers until the event loop has had its turn', async () => {
  let now = 0;
  const budget = new TurnBudget(5, () => now);
  const resumed: string[] = [];
  assert.equal(budget.afterWork(() => resumed.push('a')), true, 'the first work opens the turn');
  now = 4;
  assert.equal(budget.afterWork(() => resumed.push('b')), true, 'within the budget');
  now = 6;
  assert.equal(budget.afterWork(() => resumed.push('c')), false, 'over the budget: pause');
  assert.equal(budget.afterWork(() => resumed.push('d')), false);
  assert.equal(resumed.length, 0, 'nobody resumes before the loop turns');
  await new Promise((r) => setImmediate(r));
  assert.deepEqual(resumed, ['c', 'd'], 'exactly the paused readers resume, once');
  now = 100;
  assert.equal(budget.afterWork(() => resumed.push('e')), true, 'a new turn starts with a fresh budget');
});
