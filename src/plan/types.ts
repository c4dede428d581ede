/** What a deploy will do to each service, and why: the planner's output. */
import type { Strategy } from '../config/types';

/** What is known about whether a service's image changes. */
export type ChangeEvidence =
  /** Definitive: the image that would run, after build or pull. */
  | { kind: 'image'; currentImageId?: string; nextImageId: string }
  /** Predicted before building: the files a git checkout of the target ref would change. */
  | {
      kind: 'files';
      /** Paths relative to the project directory. */
      changedFiles: string[];
      /** Compose files among them. */
      composeFilesChanged: string[];
      /** Services whose own definition in a compose file differs. */
      changedDefinitions: string[];
      /** The compose files changed outside `services:` (networks, volumes, anchors…). */
      otherComposeChanges: boolean;
    }
  /** Image source: the tag a deploy would switch the images to. */
  | { kind: 'tag'; currentImage?: string; nextImage: string };

export interface RunningService {
  /** Containers of this service now (running or not). */
  containers: number;
  /** Their full ids, when read from a host (the planner needs only the count). */
  containerIds?: string[];
  imageId?: string;
  /** Whether the running image declares a Docker HEALTHCHECK. */
  imageHealthcheck?: boolean;
}

export type ServiceAction =
  /** New containers replace the old ones. */
  | 'deploy'
  /** Nothing changed: left alone. */
  | 'skip'
  /** The proxy publishing the host port: stays up. */
  | 'keep'
  /** Cannot be deployed without downtime, and downtime is not allowed. */
  | 'refuse';

export type Change = 'changed' | 'unchanged' | 'maybe';

export interface ServicePlan {
  service: string;
  action: ServiceAction;
  strategy?: Strategy;
  change: Change;
  /** Why the change verdict: "files under server/ changed: server/VERSION". */
  changeReason: string;
  /** Why the action and strategy, one sentence each. */
  reasons: string[];
  /** Downtime and other costs the user accepts by deploying. */
  warnings: string[];
  isProxy: boolean;
  replicas: number;
  /** Containers started per batch (deploy.update_config.parallelism). */
  parallelism: number;
  batchDelayMs: number;
  /** New containers must stay healthy this long after the switch (update_config.monitor). */
  monitorMs: number;
  health: { kind: 'docker' | 'http' | 'running'; timeoutMs: number; httpPath?: string; httpPort?: number };
  drainMs: number;
  stopGraceMs: number;
}

export interface Plan {
  environment: string;
  project: string;
  directory: string;
  host: string;
  ref?: { requested: string; commit?: string };
  /** Services in deploy order. */
  services: ServicePlan[];
  /** True when any service is refused: the deploy must not start. */
  refused: boolean;
  /** True when nothing will be deployed. */
  noop: boolean;
}
