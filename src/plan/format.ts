/** The plan as a person reads it in a terminal. */
import { formatDuration } from '../compose/duration';
import type { Plan, ServicePlan } from './types';

function healthText(s: ServicePlan): string {
  const timeout = formatDuration(s.health.timeoutMs);
  switch (s.health.kind) {
    case 'http':
      return `HTTP GET :${s.health.httpPort}${s.health.httpPath} (timeout ${timeout})`;
    case 'docker':
      return `Docker healthcheck (timeout ${timeout})`;
    case 'running':
      return `running only (timeout ${timeout})`;
  }
}

export function formatPlan(plan: Plan): string {
  const lines: string[] = [];
  const ref = plan.ref ? ` to ${plan.ref.requested}${plan.ref.commit && plan.ref.commit !== plan.ref.requested ? ` (${plan.ref.commit.slice(0, 12)})` : ''}` : '';
  lines.push(`Plan for ${plan.environment}${ref}: project ${plan.project} in ${plan.directory} on ${plan.host}`);
  const width = Math.max(...plan.services.map((s) => s.service.length), 7);
  for (const s of plan.services) {
    const what = s.action === 'deploy' ? `deploy ${s.strategy}` : s.action;
    lines.push('');
    lines.push(`  ${s.service.padEnd(width)}  ${what.toUpperCase()}${s.isProxy ? '  (proxy)' : ''}`);
    lines.push(`  ${''.padEnd(width)}  change: ${s.change} — ${s.changeReason}`);
    for (const reason of s.reasons) lines.push(`  ${''.padEnd(width)}  why: ${reason}`);
    if (s.action === 'deploy') {
      lines.push(`  ${''.padEnd(width)}  health: ${healthText(s)}; replicas ${s.replicas}`);
    }
    for (const warning of s.warnings) lines.push(`  ${''.padEnd(width)}  warning: ${warning}`);
  }
  lines.push('');
  if (plan.refused) {
    const refused = plan.services.filter((s) => s.action === 'refuse').map((s) => s.service);
    lines.push(`Refused: ${refused.join(', ')} cannot be deployed as configured. Nothing will be changed.`);
  } else if (plan.noop) {
    lines.push('Nothing to deploy: every service is unchanged.');
  } else {
    const deploying = plan.services.filter((s) => s.action === 'deploy').map((s) => s.service);
    lines.push(`Will deploy: ${deploying.join(', ')}.`);
  }
  return lines.join('\n');
}
