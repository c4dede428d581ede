/** Whether a service changes, and the evidence for saying so. */
import type { ComposeService } from '../compose/model';
import type { Change, ChangeEvidence, RunningService } from './types';

// No node:path: the planner stays pure and importable from workflow code.
function relativeTo(directory: string, target: string): string {
  const dir = directory.replace(/\/+$/, '');
  if (target === dir) return '.';
  return target.startsWith(`${dir}/`) ? target.slice(dir.length + 1) : target;
}

const short = (id: string) => id.replace(/^sha256:/, '').slice(0, 12);

export function detectChange(
  service: ComposeService,
  running: RunningService | undefined,
  evidence: ChangeEvidence | undefined,
  directory: string,
): { change: Change; reason: string } {
  if (!running || running.containers === 0) return { change: 'changed', reason: 'not running now: it will be started' };
  if (!evidence) return { change: 'maybe', reason: 'not compared yet: decided by image after the build' };
  switch (evidence.kind) {
    case 'image':
      return evidence.currentImageId === evidence.nextImageId
        ? { change: 'unchanged', reason: `image unchanged (${short(evidence.nextImageId)})` }
        : { change: 'changed', reason: `new image ${short(evidence.nextImageId)} (running ${evidence.currentImageId ? short(evidence.currentImageId) : 'unknown'})` };
    case 'tag':
      // A tag can be pushed again (latest, a moving major): the same name is pulled and compared by id.
      return evidence.currentImage === evidence.nextImage
        ? { change: 'maybe', reason: `same image reference ${evidence.nextImage}: pulled, and deployed only if the registry has a new image for it` }
        : { change: 'changed', reason: `image ${evidence.currentImage ?? '(unknown)'} -> ${evidence.nextImage}` };
    case 'files': {
      if (evidence.changedDefinitions.includes(service.name)) {
        return { change: 'changed', reason: `its definition in ${evidence.composeFilesChanged.join(', ')} changed` };
      }
      if (evidence.otherComposeChanges) {
        return { change: 'maybe', reason: `${evidence.composeFilesChanged.join(', ')} changed outside the service definitions: compared by image after the build` };
      }
      if (!service.buildContext) {
        return { change: 'unchanged', reason: `image ${service.image ?? '(none)'} is pinned in an unchanged definition` };
      }
      const context = relativeTo(directory, service.buildContext);
      const dockerfile = service.dockerfile ? relativeTo(directory, service.dockerfile) : undefined;
      const inside = evidence.changedFiles.filter((f) => context === '.' || f === context || f.startsWith(`${context}/`) || f === dockerfile);
      if (inside.length === 0) return { change: 'unchanged', reason: `nothing under ${context}/ changed` };
      const listed = inside.slice(0, 3).join(', ') + (inside.length > 3 ? `, … (${inside.length} files)` : '');
      return { change: 'changed', reason: `files under ${context}/ changed: ${listed}` };
    }
  }
}
