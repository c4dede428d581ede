/**
 * The release ledger (`.composure/releases.jsonl` on the host): one JSON line
 * per deploy. Choosing what a rollback returns to is pure, so it is tested
 * without a host.
 */
export interface Release {
  deployId: string;
  ref: string;
  commit?: string;
  result: string;
  at: string;
  requestedBy?: string;
}

export function parseLedger(text: string): Release[] {
  return text
    .split('\n')
    .filter((line) => line.trim())
    .flatMap((line) => {
      try {
        return [JSON.parse(line) as Release];
      } catch {
        return []; // a torn last line (host crash mid-write) is skipped, not fatal
      }
    });
}

export type RollbackTarget = { kind: 'release'; release: Release } | { kind: 'ref'; ref: string };

/**
 * `--to` names a recorded release (deploy id, ref or commit prefix) or, failing
 * that, any ref. Without `--to`: the newest successful release whose commit
 * differs from the current (newest successful) one.
 */
export function chooseRollbackTarget(releases: Release[], to?: string): RollbackTarget {
  const succeeded = releases.filter((r) => r.result === 'succeeded' && r.commit).reverse();
  if (to) {
    const match = succeeded.find((r) => r.deployId === to || r.ref === to || (to.length >= 7 && r.commit!.startsWith(to)));
    return match ? { kind: 'release', release: match } : { kind: 'ref', ref: to };
  }
  const [current, ...earlier] = succeeded;
  const previous = current && earlier.find((r) => r.commit !== current.commit);
  if (!previous) throw new Error('no earlier successful release is recorded in the ledger; name one with --to <release|ref>');
  return { kind: 'release', release: previous };
}
