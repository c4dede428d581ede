/** Reading `docker compose ps --format json` into the facts Composure uses. */

export interface ContainerState {
  id: string;
  name: string;
  service: string;
  image: string;
  /** running, exited, created, restarting, … */
  state: string;
  /** healthy, unhealthy, starting, or '' when the image has no healthcheck. */
  health: string;
}

interface PsRow {
  ID?: string;
  Name?: string;
  Service?: string;
  Image?: string;
  State?: string;
  Health?: string;
}

/**
 * Compose v2 before 2.21 printed one JSON array; later versions print one JSON
 * object per line. Both are accepted.
 */
export function parseComposePs(stdout: string): ContainerState[] {
  const text = stdout.trim();
  if (!text) return [];
  const rows: PsRow[] = text.startsWith('[')
    ? (JSON.parse(text) as PsRow[])
    : text.split('\n').filter((line) => line.trim()).map((line) => JSON.parse(line) as PsRow);
  return rows.map((row) => ({
    id: row.ID ?? '',
    name: row.Name ?? '',
    service: row.Service ?? '',
    image: row.Image ?? '',
    state: row.State ?? '',
    health: row.Health ?? '',
  }));
}
