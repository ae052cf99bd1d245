import type * as codepipeline from 'aws-cdk-lib/aws-codepipeline';
import type { Construct } from 'constructs';
import type { SafetyStage } from './stages';

/**
 * A failed production stage rolls back to the last successful execution's revision. CDK Pipelines
 * builds the stages, so the condition goes on the CloudFormation stage by position; `scope` fails
 * synth if a stage added later moves it.
 */
export function rollBackFailedProductionStages(scope: Construct, pipeline: codepipeline.Pipeline, stages: SafetyStage[]): void {
  const cfn = pipeline.node.defaultChild as codepipeline.CfnPipeline;
  for (const stage of stages.filter((s) => s.type === 'production')) {
    const index = pipeline.stages.findIndex((s) => s.stageName === stage.stageName);
    cfn.addPropertyOverride(`Stages.${index}.OnFailure`, { Result: 'ROLLBACK' });
    scope.node.addValidation({
      validate: () =>
        pipeline.stages[index]?.stageName === stage.stageName
          ? []
          : [
              `DeploymentSafety: pipeline stage ${index} is no longer "${stage.stageName}": a stage was added after DeploymentSafety; create DeploymentSafety last`,
            ],
    });
  }
}
