import assert from 'node:assert/strict';
import { test } from 'node:test';
import { TurnBudget } from '../../src/server/turn-budget.js';

test('a turn lets work through until its budget is spent, then holds readers until the event loop has had its turn', async () => {
  let now = 0;
  const budget = new TurnBudget(5, () => now);
  const resumed: string[] = [];
  assert.equal(budget.spent(), false, 'no turn is open before any work');
  budget.begin();
  now = 4;
  budget.begin(); // a second connection in the same turn does not restart the clock
  assert.equal(budget.spent(), false, 'within the budget');
  now = 6;
  assert.equal(budget.spent(), true, 'over the budget');
  budget.wait(() => resumed.push('c'));
  budget.wait(() => resumed.push('d'));
  assert.equal(resumed.length, 0, 'nobody resumes before the loop turns');
  await new Promise((r) => setImmediate(r));
  assert.deepEqual(resumed, ['c', 'd'], 'exactly the waiting readers resume, once');
  now = 100;
  assert.equal(budget.spent(), false, 'the turn has ended');
  budget.begin();
  assert.equal(budget.spent(), false, 'a new turn starts with a fresh budget');
  now = 105;
  assert.equal(budget.spent(), true);
});
