/**
 * Git commands as data, run in the project's checkout on the host: pure
 * functions returning argv arrays. Every value is validated (validate.ts)
 * before it is placed in argv; nothing here quotes.
 */
import { commitSha, gitRef, gitRemote, relativePath } from './validate';

/** A branch, tag or full SHA. */
function refOrSha(value: unknown): string {
  try {
    return commitSha(value);
  } catch {
    return gitRef(value);
  }
}

/**
 * Fetches REMOTE's branches and tags (and BRANCH into FETCH_HEAD when given).
 * `--force` lets moved tags follow the remote; `--prune` drops deleted branches.
 */
export function gitFetch(remote: string, branch?: string): string[] {
  const argv = ['git', 'fetch', '--quiet', '--tags', '--force', '--prune', gitRemote(remote)];
  if (branch !== undefined) argv.push(gitRef(branch));
  return argv;
}

/**
 * Prints the full SHA of the commit REF names; exits 1 with no output when it
 * names none. `--end-of-options` keeps the ref from ever being read as an option.
 */
export function gitResolveCommit(ref: string): string[] {
  return ['git', 'rev-parse', '--verify', '--quiet', '--end-of-options', `${refOrSha(ref)}^{commit}`];
}

/** Prints the full SHA of the checked-out commit. */
export function gitHead(): string[] {
  return ['git', 'rev-parse', 'HEAD'];
}

/**
 * Checks out exactly SHA, detached. A deploy resolves its ref to a SHA first
 * (gitResolveCommit), so only a full SHA is accepted here. `--force` discards
 * local edits to tracked files (gitStatusPorcelain reports them beforehand).
 */
export function gitCheckout(sha: string): string[] {
  return ['git', '-c', 'advice.detachedHead=false', 'checkout', '--quiet', '--force', '--detach', commitSha(sha)];
}

/** Modified tracked files, one per line; empty output means a clean checkout. */
export function gitStatusPorcelain(): string[] {
  return ['git', 'status', '--porcelain', '--untracked-files=no'];
}

/** "SHA<TAB>refs/heads/BRANCH" for BRANCH on REMOTE; exits 2 when the branch does not exist there. */
export function gitRemoteBranchHead(remote: string, branch: string): string[] {
  return ['git', 'ls-remote', '--exit-code', gitRemote(remote), `refs/heads/${gitRef(branch)}`];
}

/** Paths (relative to the checkout) that differ between two commits, one per line. */
export function gitChangedFiles(from: string, to: string): string[] {
  return ['git', 'diff', '--name-only', '--no-renames', commitSha(from), commitSha(to), '--'];
}

/** The content of PATH at commit SHA; exits non-zero when the file does not exist there. */
export function gitShowFile(sha: string, path: string): string[] {
  return ['git', 'show', `${commitSha(sha)}:${relativePath(path)}`];
}
