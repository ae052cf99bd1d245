import { Duration } from 'aws-cdk-lib';
import type { StageService } from '../../config/stage-services';
import type { ServiceJudgeProps } from './service-judge';

/**
 * How a service's canary is judged in a stage: against its baseline (CanaryJudge) when the stage
 * shifts traffic as a canary, where both versions serve side by side at a known share; by fixed
 * thresholds otherwise (all at once has no baseline, and a linear shift changes the share).
 */
export function judgeFor(svc: StageService): ServiceJudgeProps | undefined {
  if (svc.deployment.type !== 'canary') return undefined;
  return {
    canaryPercent: svc.deployment.percent,
    canaryStep: Duration.minutes(svc.deployment.intervalMinutes),
    settings: svc.judge,
    expectedTraffic:
      svc.expectedRequestsPerSecond === undefined
        ? undefined
        : { requestsPerSecond: svc.expectedRequestsPerSecond, canaryStep: Duration.minutes(svc.deployment.intervalMinutes) },
  };
}
