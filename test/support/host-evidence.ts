/**
 * What really happened on the rig's "VPS", independent of what Composure
 * reports: every Compose invocation (the rig's Compose plugin logs each one
 * before running it), Docker's own event stream (each container created, each
 * signal sent), and commits pushed to a fixture stack's origin the way a team
 * would push them.
 */
import { spawn } from 'node:child_process';
import { readFileSync } from 'node:fs';
import { deployUser, loadRig, type StackName } from './rig';

export interface ComposeInvocation {
  at: number;
  user: string;
  args: string[];
}

/** Compose invocations for PROJECT logged since SINCE (seconds, as Date.now() / 1000), optionally only one subcommand. */
export function composeInvocations(project: string, sinceSeconds: number, subcommand?: string): ComposeInvocation[] {
  const file = loadRig().docker.composeAudit;
  if (!file) throw new Error('rig.json has no docker.composeAudit: run bash scripts/rig.sh up');
  return readFileSync(file, 'utf8')
    .split('\n')
    .filter(Boolean)
    .map((line) => {
      const [at, user, ...args] = line.split(' ');
      return { at: Number(at), user: user ?? '', args };
    })
    .filter((inv) => inv.at >= sinceSeconds && inv.args[0] === 'compose')
    .filter((inv) => inv.args[inv.args.indexOf('-p') + 1] === project)
    .filter((inv) => !subcommand || subcommandOf(inv.args) === subcommand);
}

/** The word after the global options: `compose -p x -f a.yml build server` → build. */
function subcommandOf(args: string[]): string | undefined {
  for (let i = 1; i < args.length; i++) {
    if (args[i] === '-p' || args[i] === '-f' || args[i] === '--project-name' || args[i] === '--file') i++;
    else if (!args[i]!.startsWith('-')) return args[i];
  }
  return undefined;
}

export interface DockerEvent {
  Type: string;
  Action: string;
  id?: string;
  Actor: { ID: string; Attributes: Record<string, string> };
  time: number;
  timeNano: number;
}

/** Container lifecycle events, one a line, in ms from T0 (epoch ms): what a failed assertion shows to explain a timeline. */
export function formatTimeline(events: DockerEvent[], t0: number, extra: Array<{ at: number; what: string }> = []): string {
  const lifecycle = events
    .filter((e) => e.Type === 'container' && /^(create|start|die|kill|stop|destroy|health_status)/.test(e.Action))
    .map((e) => ({ at: e.timeNano / 1e6, what: `${e.Action}${e.Actor.Attributes.exitCode ? ` (exit ${e.Actor.Attributes.exitCode})` : ''} ${e.Actor.Attributes['com.docker.compose.service'] ?? '?'} ${e.Actor.ID.slice(0, 12)}` }));
  return [...lifecycle, ...extra]
    .sort((a, b) => a.at - b.at)
    .map((e) => `${((e.at - t0) / 1000).toFixed(3).padStart(8)} s  ${e.what}`)
    .join('\n');
}

/** Docker's event stream for one compose project, from now until stop(). */
export function watchDockerEvents(project: string) {
  const events: DockerEvent[] = [];
  const child = spawn('docker', ['events', '--format', '{{json .}}', '--filter', `label=com.docker.compose.project=${project}`], { stdio: ['ignore', 'pipe', 'inherit'] });
  let buffer = '';
  child.stdout.on('data', (chunk: Buffer) => {
    buffer += chunk.toString('utf8');
    const lines = buffer.split('\n');
    buffer = lines.pop() ?? '';
    for (const line of lines) if (line.trim()) events.push(JSON.parse(line) as DockerEvent);
  });
  const ready = new Promise((resolve) => setTimeout(resolve, 300));
  return {
    ready,
    events,
    async stop(): Promise<DockerEvent[]> {
      // Events arrive a moment after the fact.
      await new Promise((resolve) => setTimeout(resolve, 500));
      child.kill();
      return events;
    },
    /** How many times SIGNAL (a number, "15" for TERM) was sent to each container. */
    signalsSent(signal: string): Map<string, number> {
      const counts = new Map<string, number>();
      for (const e of events) {
        if (e.Type === 'container' && e.Action === 'kill' && e.Actor.Attributes.signal === signal) counts.set(e.Actor.ID, (counts.get(e.Actor.ID) ?? 0) + 1);
      }
      return counts;
    },
    /** Containers created for SERVICE: service containers, or one-off `run` containers (hooks). */
    created(service: string, kind: 'service' | 'oneoff' = 'service'): string[] {
      return events
        .filter((e) => e.Type === 'container' && e.Action === 'create' && e.Actor.Attributes['com.docker.compose.service'] === service)
        .filter((e) => (e.Actor.Attributes['com.docker.compose.oneoff'] === 'True') === (kind === 'oneoff'))
        .map((e) => e.Actor.ID);
    },
  };
}

/**
 * Pushes a commit to the stack's origin on top of BASE, writing FILES
 * (path → content, relative to the repository), and tags it TAG: as a
 * developer pushing a change. Returns the commit.
 */
export function pushCommit(stack: StackName, base: string, tag: string, files: Record<string, string>, message = tag): string {
  const origin = loadRig().stacks[stack].origin;
  const script = [
    'set -e',
    'w=$(mktemp -d)',
    'git clone -q "$1" "$w"',
    'cd "$w"',
    'git checkout -q "$2"',
    'shift 4',
    'while [ $# -gt 0 ]; do mkdir -p "$(dirname "$1")"; printf "%s" "$2" > "$1"; git add "$1"; shift 2; done',
    'git -c user.name=test -c user.email=test@composure.invalid commit -qm "$MSG"',
    'git tag -f "$TAG" >/dev/null',
    'git push -q -f origin "refs/tags/$TAG"',
    'git rev-parse HEAD',
    'rm -rf "$w"',
  ].join('\n');
  const args = [origin, base, tag, message, ...Object.entries(files).flat()];
  const quoted = args.map((a) => `'${a.replace(/'/g, `'\\''`)}'`).join(' ');
  return deployUser(`MSG=${quote(message)} TAG=${quote(tag)} sh -c ${quote(script)} push ${quoted}`).split('\n').at(-1)!.trim();
}

const quote = (s: string) => `'${s.replace(/'/g, `'\\''`)}'`;

/** The file as it is at BASE in the stack's origin. */
export function originFile(stack: StackName, base: string, file: string): string {
  const origin = loadRig().stacks[stack].origin;
  return deployUser(`git --git-dir=${quote(origin)} show ${quote(`${base}:${file}`)}`);
}

/** A tag no earlier run used, so Docker's layer cache cannot make a "slow" step fast. */
export function uniqueTag(prefix: string): string {
  return `${prefix}-${Date.now().toString(36)}-${Math.random().toString(36).slice(2, 6)}`;
}
