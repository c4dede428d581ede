/**
 * Start-first or stop-first, and why. Start-first runs a second container
 * beside the first, so anything only one container can hold blocks it.
 */
import type { ServiceOverride } from '../config/types';
import type { ComposeService } from '../compose/model';

/** What makes a second container of this service impossible or unsafe, in words. */
export function startFirstBlockers(service: ComposeService, override: ServiceOverride | undefined): string[] {
  const blockers: string[] = [];
  for (const port of service.ports) {
    const where = port.hostIp ? `${port.hostIp}:${port.published}` : port.published;
    blockers.push(`it publishes host port ${where}, which a second container cannot bind`);
  }
  if (service.containerName) {
    blockers.push(`container_name "${service.containerName}" is fixed, so a second container cannot be created`);
  }
  if (!override?.sharedVolumes) {
    for (const volume of service.volumes) {
      // An anonymous volume (no source) is new for every container: nothing is shared.
      if (volume.type === 'volume' && volume.source && !volume.readOnly) {
        blockers.push(
          `it writes the named volume "${volume.source}", which two containers would write at once (set shared_volumes: true if the app allows that)`,
        );
      }
    }
  }
  return blockers;
}
