/** What a rollout has done to one service so far: what its compensation must undo. */
import type { ServicePlan } from '../../src/plan/types';

export interface Applied {
  plan: ServicePlan;
  oldIds: string[];
  newIds: string[];
  /**
   * starting: new containers may exist; started: they exist and the proxy
   * was not touched; switching/switched: the proxy may send them traffic beside
   * the old; old-stopped: the old ones are (being) stopped, the new serve alone.
   */
  stage: 'starting' | 'started' | 'switching' | 'switched' | 'old-stopped';
  /** Batched rollouts only: the old containers stopped so far, which a rollback starts again. */
  oldStopped?: string[];
  /** Batched rollouts only: the new containers of the batches that passed their gate and took traffic. */
  servingIds?: string[];
}

export const gateOf = (plan: ServicePlan) => (plan.health.kind === 'running' ? 'running' : 'docker');
export const short = (ids: string[]) => ids.map((id) => id.slice(0, 12));
