import { Stack, Stage } from 'aws-cdk-lib';
import type { IConstruct } from 'constructs';
import { STAGE_TYPE_METADATA, stageMarkerOf } from '../stage-type';
import type { AppRule, ConstructFinding } from './rule';

/** Every production stage has a pre-production stage before it (construct-tree order = pipeline order). */
export const preProductionRule = {
  id: 'SafeDeploy-PreProduction',
  description:
    'Every stage marked production has a stage marked pre-production before it in the app (the pipeline runs stages in that order).',
  check(app: IConstruct): ConstructFinding[] {
    const marked = app.node
      .findAll()
      .filter((c) => !Stack.isStack(c) && c.node.metadata.some((m) => m.type === STAGE_TYPE_METADATA))
      .map((c) => ({ construct: c, type: stageMarkerOf(c, false)!.type }));
    const out: ConstructFinding[] = [];
    let seenPreProduction = false;
    for (const m of marked) {
      if (m.type === 'pre-production') seenPreProduction = true;
      else if (!seenPreProduction) {
        out.push({
          construct: m.construct,
          description: `Production stage ${m.construct.node.path} has no pre-production stage before it: the first environment to run a release would be production.`,
          fix: 'Add a stage marked markStageType(stage, "pre-production") (e.g. "Beta") before it in the pipeline, or acknowledge SafeDeploy-PreProduction on the stage with a reason.',
          location: Stage.isStage(m.construct) ? 'Stage' : 'Construct',
        });
      }
    }
    return out;
  },
} satisfies AppRule;
