import { Annotations, Stack } from 'aws-cdk-lib';
import type * as cloudwatch from 'aws-cdk-lib/aws-cloudwatch';
import type { StageService } from '../config/stage-services';
import { FeatureFlagsApplication, ServiceFeatureFlags, toAppConfigStrategy } from '../constructs/feature-flags';

/**
 * A service's feature flags, in the service's own stack, when the config declares any: an AppConfig
 * application named `<stack name>-flags`, the service's environment (monitored by its health alarm),
 * feature-flag profile, hosted version and deployment with the stage's rollout. A service without
 * flags gets nothing.
 *
 * Why the service's stack, not the target's platform stack: the flags then live and die with the
 * service, like its alarm, and no stack exports anything. A shared application in the platform stack
 * would be an export that service stacks import, and CloudFormation refuses to delete an export
 * while it is imported: the release that removes the last flag would fail in the platform stack,
 * which deploys first. It would also make every Lambda service stack wait for the platform stack.
 * The cost is one AppConfig application per service and target (AppConfig allows 100 per account
 * and region; checkFlagQuotas counts them at synth).
 */
export function addServiceFlags(
  stack: Stack,
  service: Pick<StageService, 'name' | 'flags' | 'flagRollout'>,
  healthAlarm: cloudwatch.IAlarm,
  detectionSeconds: number,
): ServiceFeatureFlags | undefined {
  if (!service.flags || service.flags.length === 0) return undefined;
  const application = new FeatureFlagsApplication(stack, 'FlagsApplication', {
    description: `Feature flags of ${service.name} (stack ${stack.stackName})`,
  });
  const flags = new ServiceFeatureFlags(stack, 'Flags', {
    serviceName: service.name,
    flags: service.flags,
    rollout: service.flagRollout,
    healthAlarm,
    application,
  });
  // AppConfig watches its monitors while the deployment rolls out and bakes, and not after.
  const s = toAppConfigStrategy(service.flagRollout);
  const watchedMinutes = s.deploymentDurationInMinutes + s.finalBakeTimeInMinutes;
  const detectionMinutes = Math.ceil(detectionSeconds / 60);
  if (watchedMinutes > 0 && watchedMinutes < detectionMinutes) {
    Annotations.of(flags).addWarningV2(
      '@safe-deploy/feature-flags:watchShorterThanDetection',
      `rollout of ${service.name}'s flags: AppConfig watches the health alarm for ${watchedMinutes} min (rollout ${s.deploymentDurationInMinutes} + bake ${s.finalBakeTimeInMinutes}), ` +
        `less than the alarm's worst-case detection time of ${detectionMinutes} min, so a bad flag change can complete before the alarm fires; raise bakeMinutes to at least ${detectionMinutes - s.deploymentDurationInMinutes}`,
    );
  }
  return flags;
}
