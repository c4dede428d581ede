/**
 * The host's deploy lock, as argv. The visible record is
 * `<directory>/.composure/lock/holder.json`; every operation on it is one
 * shell script run while holding `flock` on `.composure/lock.guard`, so a
 * check and the change it decides are one step on the host, however many
 * workers race. The scripts are constants: values are positional parameters,
 * never spliced into the script text.
 *
 * Every script prints the lock as it found it when it does not do what was
 * asked: a first line `free`, or `held <seconds since the lock directory last
 * changed, by the host's clock> present|missing`, then (present) the holder
 * file's content, exactly as the shell read it (trailing newlines dropped).
 * That content is what a compare-and-swap names as `expected`.
 */
import { absolutePath, wholeSeconds } from './validate';

/** Exit codes of the lock scripts; any other non-zero code is a failed command (retried). */
export const LOCK_EXIT = {
  /** The lock is held by someone else, or is not as `expected` any more: stdout shows it. */
  held: 3,
  /** There is no lock (or no state directory) to change. */
  gone: 4,
  /** The guard could not be taken within 30 s (or flock is missing): a transient failure. */
  busy: 75,
} as const;

export const LOCK_GUARD_TIMEOUT_SECONDS = 30;

// $1 is always the state directory (`<project>/.composure`).
const GUARD = [
  'lock="$1/lock"',
  'command -v flock >/dev/null 2>&1 || { echo "composure: the host needs flock (util-linux) for its deploy lock" >&2; exit 75; }',
  // The guard file is never removed: a holder of the old inode would not exclude a new one.
  'exec 9>>"$1/lock.guard" || exit 75',
  `flock -w ${LOCK_GUARD_TIMEOUT_SECONDS} 9 || { echo "composure: $1/lock.guard stayed locked for ${LOCK_GUARD_TIMEOUT_SECONDS}s" >&2; exit 75; }`,
  'age() { now=$(date +%s); changed=$(stat -c %Y -- "$lock" 2>/dev/null) || changed=$now; echo $((now - changed)); }',
  'holder() { cat -- "$lock/holder.json" 2>/dev/null; }',
  'view() { if [ ! -e "$lock" ]; then printf "free\\n"; elif c=$(holder); then printf "held %s present\\n%s" "$(age)" "$c"; else printf "held %s missing\\n" "$(age)"; fi; }',
  // The lock directory appears with its holder already inside (a rename), so no crash leaves it holderless.
  'create() { rm -rf -- "$1"/lock.new.*; tmp="$1/lock.new.$$"; mkdir -- "$tmp" && printf "%s\\n" "$2" > "$tmp/holder.json" && mv -T -- "$tmp" "$lock"; }',
].join('\n');

/** $2: the holder record. Takes a free lock, or accepts one holding exactly this record (a retry); else exit held. */
const ACQUIRE = [
  'set -u',
  'mkdir -p -- "$1" || exit 1',
  GUARD,
  'if [ ! -e "$lock" ]; then create "$1" "$2" || exit 1; exit 0; fi',
  '[ "$(holder)" = "$2" ] && exit 0',
  'view; exit 3',
].join('\n');

/**
 * $2: take | release | rewrite; $3: the holder content seen (empty: missing or
 * empty); $4: the age in seconds the lock must have reached; $5: the new
 * record (take, rewrite). Acts only if the lock is still exactly as seen.
 */
const SWAP = [
  'set -u',
  '[ -d "$1" ] || { printf "free\\n"; exit 4; }',
  GUARD,
  '[ -e "$lock" ] || { printf "free\\n"; exit 4; }',
  'if [ "$(holder)" != "$3" ] || [ "$(age)" -lt "$4" ]; then view; exit 3; fi',
  'case $2 in',
  '  take) { rm -rf -- "$lock" && create "$1" "$5"; } || exit 1 ;;',
  '  release) rm -rf -- "$lock" || exit 1 ;;',
  '  rewrite) { printf "%s\\n" "$5" > "$lock/holder.json.new" && mv -f -- "$lock/holder.json.new" "$lock/holder.json"; } || exit 1 ;;',
  '  *) exit 2 ;;',
  'esac',
].join('\n');

/** Prints the lock (always exit 0). */
const READ = ['set -u', '[ -d "$1" ] || { printf "free\\n"; exit 0; }', GUARD, 'view'].join('\n');

export const lockStateDirectory = (directory: string) => `${absolutePath(directory)}/.composure`;

function record(content: string): string {
  if (/[\0\r\n]/.test(content)) throw new Error('a lock record is one line without NUL');
  return content;
}

function seen(content: string): string {
  if (content.includes('\0')) throw new Error('lock content contains a NUL byte');
  return content;
}

/** Takes the lock for HOLDER (one JSON line) if free, or if it already names exactly that record. */
export function acquireLockCommand(directory: string, holder: string): string[] {
  return ['sh', '-c', ACQUIRE, 'composure-lock', lockStateDirectory(directory), record(holder)];
}

/** Prints the lock. */
export function readLockCommand(directory: string): string[] {
  return ['sh', '-c', READ, 'composure-lock', lockStateDirectory(directory)];
}

export type LockSwap =
  /** Replaces a stale lock with a new record. */
  | { mode: 'take'; record: string; minAgeSeconds?: number }
  /** Removes the lock. */
  | { mode: 'release' }
  /** Rewrites the holder record in place (the lock stays held). */
  | { mode: 'rewrite'; record: string };

/** Compare-and-swap: acts only if the holder content is still EXPECTED (and the lock at least minAgeSeconds old). */
export function swapLockCommand(directory: string, expected: string, swap: LockSwap): string[] {
  const minAge = swap.mode === 'take' ? wholeSeconds(swap.minAgeSeconds ?? 0, 'lock age') : 0;
  const replacement = swap.mode === 'release' ? '' : record(swap.record);
  return ['sh', '-c', SWAP, 'composure-lock', lockStateDirectory(directory), swap.mode, seen(expected), String(minAge), replacement];
}

export type LockView =
  | { state: 'free' }
  /** content: the holder file as read, or undefined when it is missing or unreadable. */
  | { state: 'held'; ageSeconds: number; content: string | undefined };

/** The first line and the holder content a lock script printed. */
export function parseLockView(stdout: string): LockView {
  const newline = stdout.indexOf('\n');
  const first = newline < 0 ? stdout : stdout.slice(0, newline);
  if (first === 'free') return { state: 'free' };
  const match = /^held (-?\d+) (present|missing)$/.exec(first);
  if (!match) throw new Error(`unexpected output from the lock script: ${JSON.stringify(stdout.slice(0, 200))}`);
  return { state: 'held', ageSeconds: Number(match[1]), content: match[2] === 'present' ? stdout.slice(newline + 1) : undefined };
}
