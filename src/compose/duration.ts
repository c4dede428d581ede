/**
 * Durations in the two notations Composure reads: Compose's Go-style
 * durations ("1m30s", "500ms", "2h") and composure.yml's (the same, or a plain
 * number of seconds). Milliseconds out.
 */
const UNIT_MS: Record<string, number> = { ms: 1, s: 1000, m: 60_000, h: 3_600_000 };

export function parseDuration(value: string | number): number {
  if (typeof value === 'number') {
    if (!Number.isFinite(value) || value < 0) throw new RangeError(`not a duration: ${value}`);
    return Math.round(value * 1000);
  }
  const text = value.trim();
  if (/^[0-9]+(\.[0-9]+)?$/.test(text)) return Math.round(Number(text) * 1000);
  const re = /([0-9]+(?:\.[0-9]+)?)(ms|us|µs|ns|s|m|h)/gy;
  let total = 0;
  let consumed = 0;
  for (const match of text.matchAll(re)) {
    const [whole, amount, unit] = match as unknown as [string, string, string];
    total += unit in UNIT_MS ? Number(amount) * UNIT_MS[unit]! : 0; // sub-millisecond units round away
    consumed += whole.length;
  }
  if (consumed === 0 || consumed !== text.length) throw new RangeError(`not a duration: ${JSON.stringify(value)} (use e.g. 500ms, 30s, 1m30s)`);
  return Math.round(total);
}

/** "1m30s"-style text for messages. */
export function formatDuration(ms: number): string {
  if (ms < 1000) return `${ms}ms`;
  const s = Math.round(ms / 1000);
  if (s < 60) return `${s}s`;
  if (s < 3600) return s % 60 ? `${Math.floor(s / 60)}m${s % 60}s` : `${s / 60}m`;
  const h = Math.floor(s / 3600);
  const rest = s % 3600;
  return rest ? `${h}h${formatDuration(rest * 1000)}` : `${h}h`;
}
