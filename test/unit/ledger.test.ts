/** The release ledger and what `composure rollback` returns to, without a host. */
import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { chooseRollbackTarget, parseLedger, type Release } from '../../src/release/ledger';

const release = (deployId: string, commit: string, result = 'succeeded', ref = deployId): Release => ({ deployId, ref, commit, result, at: `2026-12-01T00:00:0${deployId.length}Z` });
const line = (r: Release) => JSON.stringify(r);

describe('release ledger', () => {
  it('reads one release a line, skipping blank lines and a torn last line', () => {
    const text = `${line(release('d1', 'a'.repeat(40)))}\n\n${line(release('d2', 'b'.repeat(40)))}\n{"deployId":"d3","re`;
    assert.deepEqual(
      parseLedger(text).map((r) => r.deployId),
      ['d1', 'd2'],
    );
    assert.deepEqual(parseLedger(''), []);
  });

  it('without --to: the newest successful release whose commit differs from the current one', () => {
    const ledger = [
      release('d1', 'a'.repeat(40)),
      release('d2', 'b'.repeat(40)),
      release('d3', 'c'.repeat(40), 'rolled_back'),
      release('d4', 'b'.repeat(40)), // redeployed the same commit: not a version to go back to
    ];
    const target = chooseRollbackTarget(ledger);
    assert.equal(target.kind, 'release');
    assert.equal(target.kind === 'release' && target.release.deployId, 'd1');
  });

  it('without --to and no earlier version: says to name one', () => {
    assert.throws(() => chooseRollbackTarget([release('d1', 'a'.repeat(40)), release('d2', 'a'.repeat(40))]), /no earlier successful release.*--to/);
    assert.throws(() => chooseRollbackTarget([]), /no earlier successful release/);
  });

  it('--to names a release by deploy id, ref or commit prefix (7+), newest first; anything else is a ref', () => {
    const ledger = [release('d1', `abcdef1${'0'.repeat(33)}`, 'succeeded', 'v1'), release('d2', `abcdef1${'1'.repeat(33)}`, 'succeeded', 'v1'), release('d3', 'f'.repeat(40), 'failed_compensation', 'v9')];
    const byId = chooseRollbackTarget(ledger, 'd1');
    assert.equal(byId.kind === 'release' && byId.release.deployId, 'd1');
    const byRef = chooseRollbackTarget(ledger, 'v1');
    assert.equal(byRef.kind === 'release' && byRef.release.deployId, 'd2', 'the newest release of that ref');
    const byCommit = chooseRollbackTarget(ledger, 'abcdef1');
    assert.equal(byCommit.kind === 'release' && byCommit.release.deployId, 'd2');
    // A short prefix could name anything: it is taken as a ref. A failed release is never a target.
    assert.deepEqual(chooseRollbackTarget(ledger, 'abc'), { kind: 'ref', ref: 'abc' });
    assert.deepEqual(chooseRollbackTarget(ledger, 'v9'), { kind: 'ref', ref: 'v9' });
  });
});
