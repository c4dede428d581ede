/**
 * Host commands that take effect once, however often the activity that wants
 * them is retried.
 *
 * Temporal runs an activity at least once: an attempt can be abandoned (the
 * worker died, the SSH connection dropped, a heartbeat was lost) while its
 * command goes on running on the host. If the next attempt simply ran the
 * command again, a build would run twice at once and a migration twice in a
 * row. So an effect is started detached on the host, under a run directory
 * named by the step that wants it: `mkdir` claims the step exactly once, the
 * command runs in a session of its own (`setsid`, so a dropped connection does
 * not take it down) with its output and exit status in files, and every
 * attempt, the first and any retry, waits on those files instead of starting
 * anything.
 *
 * Layout of a run directory:
 *   cmd    the argv, one argument per line (what ran, for people and for the attach check)
 *   pid    the runner's pid, which is also its process group and session id
 *   out    stdout and stderr, interleaved as written
 *   exit   the exit status, written (by rename) once the command has ended
 *
 * Every script here is a constant; values reach it as positional parameters,
 * never spliced into its text.
 */
import { absolutePath } from './validate';

/** The runner: records its pid, runs the command, then publishes the exit status atomically. */
const RUNNER = [
  'd=$1; shift',
  'echo $$ > "$d/pid"',
  '"$@" > "$d/out" 2>&1 < /dev/null',
  'echo $? > "$d/exit.tmp"',
  'mv -f -- "$d/exit.tmp" "$d/exit"',
].join('; ');

const START = [
  'd=$1; runner=$2; shift 2',
  'mkdir -p -- "${d%/*}" || exit 70',
  // mkdir is atomic: exactly one attempt ever claims the step.
  'if mkdir -- "$d" 2>/dev/null; then',
  '  for a in "$@"; do printf "%s\\n" "$a"; done > "$d/cmd"',
  '  setsid sh -c "$runner" composure-run "$d" "$@" < /dev/null > /dev/null 2>&1 &',
  '  echo started',
  'else',
  '  echo attached',
  'fi',
].join('\n');

/** Starts argv under RUN_DIR unless a run there was started already. Prints `started` or `attached`. */
export function superviseStart(runDir: string, argv: readonly string[]): string[] {
  if (argv.length === 0) throw new TypeError('empty command');
  return ['sh', '-c', START, 'composure-start', absolutePath(runDir), RUNNER, ...argv];
}

/**
 * Waits up to LIMIT tenths of a second for the run to end, printing its
 * output from byte OFFSET on as it grows, then one trailer line:
 *   `<tag> exit <code> <offset>`   the command ended with <code>
 *   `<tag> running <offset>`       still running: wait again from <offset>
 *   `<tag> vanished <offset>`      its process is gone without an exit status (killed, host rebooted)
 *   `<tag> unstarted <offset>`     claimed, but no runner appeared within the limit
 * TAG is a nonce of the caller's, so output cannot forge the trailer.
 */
const WAIT = [
  'd=$1; off=$2; limit=$3; tag=$4; n=0',
  'while :; do',
  '  fin=; [ -e "$d/exit" ] && fin=1',
  '  size=$(wc -c 2>/dev/null < "$d/out" || echo 0)',
  '  if [ "$size" -gt "$off" ]; then tail -c +$((off + 1)) "$d/out" | head -c $((size - off)); off=$size; fi',
  '  if [ -n "$fin" ]; then printf "\\n%s exit %s %s\\n" "$tag" "$(cat "$d/exit")" "$off"; exit 0; fi',
  '  n=$((n + 1))',
  '  if [ -e "$d/pid" ]; then',
  '    if ! kill -0 "$(cat "$d/pid")" 2>/dev/null && [ ! -e "$d/exit" ]; then printf "\\n%s vanished %s\\n" "$tag" "$off"; exit 0; fi',
  '  elif [ "$n" -ge "$limit" ]; then printf "\\n%s unstarted %s\\n" "$tag" "$off"; exit 0; fi',
  '  if [ "$n" -ge "$limit" ]; then printf "\\n%s running %s\\n" "$tag" "$off"; exit 0; fi',
  // Short commands end within a few polls; long ones are polled ten times a second, which costs nothing.
  '  sleep 0.1',
  'done',
].join('\n');

export function superviseWait(runDir: string, offset: number, limitTenths: number, tag: string): string[] {
  if (!/^[A-Za-z0-9-]{8,64}$/.test(tag)) throw new TypeError(`not a trailer tag: ${tag}`);
  if (!Number.isInteger(offset) || offset < 0) throw new TypeError(`not a byte offset: ${offset}`);
  if (!Number.isInteger(limitTenths) || limitTenths < 1) throw new TypeError(`not a wait limit: ${limitTenths}`);
  return ['sh', '-c', WAIT, 'composure-wait', absolutePath(runDir), String(offset), String(limitTenths), tag];
}

const KILL = [
  'd=$1; sig=$2',
  '[ -e "$d/exit" ] && exit 0',
  'pid=$(cat "$d/pid" 2>/dev/null) || exit 0',
  // The runner leads its own process group: the signal reaches the command and its children.
  'kill -s "$sig" -- "-$pid" 2>/dev/null || true',
].join('\n');

/** Signals the run's whole process group (no-op once it has ended). */
export function superviseKill(runDir: string, signal: 'TERM' | 'KILL'): string[] {
  return ['sh', '-c', KILL, 'composure-kill', absolutePath(runDir), signal];
}

/** Moves a run that never started aside, so the step can be claimed again. */
export function superviseDiscard(runDir: string, suffix: string): string[] {
  const dir = absolutePath(runDir);
  if (!dir.includes('/.composure/runs/')) throw new Error(`refusing to move ${dir}: not a run directory`);
  if (!/^[A-Za-z0-9.-]+$/.test(suffix)) throw new TypeError(`not a suffix: ${suffix}`);
  return ['mv', '-T', '--', dir, `${dir}.${suffix}`];
}

/** Run directories older than DAYS, removed: kept a while so a person can read what a step printed. */
export function pruneRuns(runsDir: string, days: number): string[] {
  const dir = absolutePath(runsDir);
  if (!dir.endsWith('/.composure/runs')) throw new Error(`refusing to prune ${dir}: not a runs directory`);
  if (!Number.isInteger(days) || days < 0) throw new TypeError(`not a day count: ${days}`);
  return ['find', dir, '-mindepth', '1', '-maxdepth', '1', '-mtime', `+${days}`, '-exec', 'rm', '-rf', '--', '{}', '+'];
}
