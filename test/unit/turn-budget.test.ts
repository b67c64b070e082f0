import assert from 'node:assert/strict';
import { test } from 'node:test';
import { TurnBudget } from '../../src/server/turn-budget.js';

const loopTurn = (): Promise<void> => new Promise((r) => setImmediate(r));

test('a turn lets work through until its budget is spent, then holds readers until the event loop has had its turn', async () => {
  let now = 0;
  const budget = new TurnBudget(5, () => now);
  const resumed: string[] = [];
  now = 50;
  assert.equal(budget.spent(), false, 'the first check opens the turn and starts its clock (not the budget\'s creation)');
  now = 54;
  assert.equal(budget.spent(), false, 'within the budget: a later check does not restart the clock');
  now = 56;
  assert.equal(budget.overBudget, 0);
  assert.equal(budget.spent(), true, 'over the budget');
  assert.equal(budget.spent(), true, 'still over the budget');
  assert.equal(budget.overBudget, 1, 'a turn over its budget is counted once, however often it is checked');
  budget.wait(() => resumed.push('c'));
  budget.wait(() => resumed.push('d'));
  assert.equal(resumed.length, 0, 'nobody resumes before the loop turns');
  await loopTurn();
  assert.deepEqual(resumed, ['c', 'd'], 'exactly the waiting readers resume, once');
  now = 100;
  assert.equal(budget.spent(), false, 'the turn has ended: a new one starts with a fresh budget');
  now = 105;
  assert.equal(budget.spent(), true);
  assert.equal(budget.overBudget, 2, 'the next turn over the budget counts again');
});

test('a reader that waits when no turn is open is still resumed when the loop turns', async () => {
  const budget = new TurnBudget(5, () => 0);
  let resumed = 0;
  budget.wait(() => resumed++);
  await loopTurn();
  assert.equal(resumed, 1);
});
