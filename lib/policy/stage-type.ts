import { Aspects, IAspect, Stack } from 'aws-cdk-lib';
import type { Construct, IConstruct } from 'constructs';
import type { DeploymentWindowSpec } from '../runtime/deployment-window';

/** Whether a Stage's stacks are production (guarded by the safety policy) or pre-production. */
export type StageType = 'pre-production' | 'production';

/** Settings the rollback-readiness report prints next to a stage; same shapes as the config's. */
export interface StageSafetySettings {
  /** Bake before the stage (config `bake`). @default - no bake */
  readonly bake?: { readonly minutes: number; readonly minRequests: number };
  /** Deployment window of the stage (config `deploymentWindow`). @default - any time */
  readonly deploymentWindow?: DeploymentWindowSpec;
}

/** The marker as stored in construct metadata (and, for stacks, in the cloud assembly manifest). */
export interface StageMarker extends StageSafetySettings {
  readonly type: StageType;
}

/** Metadata type of the marker; the report reads it from manifest.json. */
export const STAGE_TYPE_METADATA = 'safe-deploy:stage-type';

/**
 * Marks a cdk.Stage (or any scope) as production or pre-production. The safety policy checks
 * production scopes; the marker is also written on every stack of the scope, so it reaches the
 * cloud assembly manifest for `npm run report`. Call once per service Stage.
 */
export function markStageType(stage: Construct, type: StageType, settings: StageSafetySettings = {}): void {
  if (type !== 'production' && type !== 'pre-production') {
    throw new Error(`markStageType(${stage.node.path}): ${JSON.stringify(type)} is not a stage type: use "pre-production" or "production"`);
  }
  if (stageMarkerOf(stage, false)) throw new Error(`markStageType(${stage.node.path}): the scope is already marked; mark each Stage once`);
  const marker: StageMarker = JSON.parse(JSON.stringify({ type, ...settings }));
  stage.node.addMetadata(STAGE_TYPE_METADATA, marker);
  Aspects.of(stage).add(new StackMarker(marker));
}

class StackMarker implements IAspect {
  constructor(private readonly marker: StageMarker) {}
  visit(node: IConstruct): void {
    if (Stack.isStack(node) && !node.node.metadata.some((m) => m.type === STAGE_TYPE_METADATA)) {
      node.node.addMetadata(STAGE_TYPE_METADATA, this.marker);
    }
  }
}

/** The nearest marker on the construct or its ancestors. */
export function stageMarkerOf(construct: IConstruct, inherit = true): StageMarker | undefined {
  for (let c: IConstruct | undefined = construct; c; c = inherit ? c.node.scope : undefined) {
    const entry = c.node.metadata.find((m) => m.type === STAGE_TYPE_METADATA);
    if (entry) return entry.data as StageMarker;
  }
  return undefined;
}
