import type { Duration } from 'aws-cdk-lib';
import type { ExpectedTraffic, JudgeSettingsInput } from '../canary-judge';

/** What a service needs to judge its canaries: the canary step's share, and the judge's settings. */
export interface ServiceJudgeProps {
  /** Percentage of traffic the canary step sends to the new version. */
  readonly canaryPercent: number;
  /**
   * Length of the canary step (the deployment config's interval): the AfterAllowTraffic hook counts
   * the canary's requests over it and refuses the deployment below the judge's `minRequests`.
   */
  readonly canaryStep: Duration;
  /** @default - DEFAULT_JUDGE_SETTINGS */
  readonly settings?: JudgeSettingsInput;
  /** Expected traffic, to warn at synth when the canary step is too short to catch a regression. @default - no check */
  readonly expectedTraffic?: ExpectedTraffic;
}

/** What is wrong with a service's judge props (shared by both service constructs). */
export function judgeProblems(judge: ServiceJudgeProps): string[] {
  const minutes = judge.canaryStep.toMinutes({ integral: false });
  return Number.isInteger(minutes) && minutes >= 1
    ? []
    : [
        `judge.canaryStep: ${judge.canaryStep.toHumanString()} is not a canary step CodeDeploy can take: use whole minutes, at least 1 (the deployment config's interval), e.g. Duration.minutes(10)`,
      ];
}
