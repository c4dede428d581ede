/** Live progress of a deploy, from its status query: a line per change, or JSON events. */
import type { DeployStatus } from '../deploy/types';

/** The lines worth printing for a status: the phase, and each service's state and containers. */
export function statusLines(status: DeployStatus): string[] {
  const lines = [`phase: ${status.phase}${status.commit ? ` (commit ${status.commit.slice(0, 12)})` : ''}`];
  for (const [service, s] of Object.entries(status.services)) {
    const containers = [
      s.batch ? `batch ${s.batch}` : '',
      s.newContainers.length ? `new ${s.newContainers.join(',')}` : '',
      s.oldContainers.length ? `old ${s.oldContainers.join(',')}` : '',
      s.health ? `health ${s.health}` : '',
    ].filter(Boolean);
    lines.push(`  ${service}: ${s.state}${s.strategy && s.state !== 'skipped' && s.state !== 'kept' ? ` (${s.strategy})` : ''}${containers.length ? ` — ${containers.join('; ')}` : ''}`);
    for (const warning of s.warnings) lines.push(`    warning: ${warning}`);
  }
  if (status.lastError) lines.push(`  last error: ${status.lastError}`);
  for (const f of status.undoFailures ?? []) lines.push(`  undo failed: ${f.service} (${f.step}): ${f.error}`);
  return lines;
}

/** Prints only what changed since the last status, so a log stays readable. */
export function progressPrinter(write: (line: string) => void, started = Date.now()) {
  const seen = new Set<string>();
  return (status: DeployStatus) => {
    for (const line of statusLines(status)) {
      if (seen.has(line)) continue;
      seen.add(line);
      write(`[${((Date.now() - started) / 1000).toFixed(1).padStart(5)}s] ${line}`);
    }
  };
}
