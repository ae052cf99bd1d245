import type { StageMarker } from '../policy/stage-type';
import type { SimulatedReadiness } from './simulated';

/** What the rollback-readiness report says about each canary-deployed service (README, "Rollback-readiness report"). */

export interface AlarmReport {
  readonly name: string;
  readonly kind: 'metric' | 'composite';
  readonly periodSeconds?: number;
  readonly evaluationPeriods?: number;
  readonly datapointsToAlarm?: number;
  /** Worst case from first errors to CodeDeploy seeing the alarm. */
  readonly detectionSeconds: number;
  readonly children?: AlarmReport[];
}

export interface TrafficShift {
  readonly type: 'canary' | 'linear' | 'all-at-once' | 'unknown';
  readonly percent?: number;
  readonly intervalMinutes?: number;
}

/**
 * A feature-flag deployment (AppConfig) of a service's stack: how a flag change rolls out, which
 * alarms watch it, and whether they can fire before AppConfig stops watching (after rollout + bake).
 */
export interface FlagRolloutReport {
  /** The AppConfig environment (the service's name). */
  readonly environment: string;
  /** The strategy: a predefined name, or `custom`. */
  readonly strategy: string;
  /** `linear 20 % over 30 min, step every 6 min, bake 30 min` */
  readonly description: string;
  /** Minutes AppConfig watches the monitors: rollout plus bake; undefined when unknown. */
  readonly watchedMinutes?: number;
  /** The environment's monitors. */
  readonly monitors: AlarmReport[];
  /** Worst case from a bad flag change's first errors to the slowest monitor firing. */
  readonly detectionSeconds?: number;
  /** Whether the monitors fire while AppConfig still watches, so a bad flag change is rolled back automatically. */
  readonly rolledBackAutomatically: boolean;
}

export interface ServiceReport {
  /** How the detection figures in the text were obtained: simulated, or the worst-case hand model. */
  readonly model: 'simulated' | 'hand';
  /** Why the hand model is used, when it is. */
  readonly handModelReason?: string;
  /** The simulated readiness (production services the simulator applies to). */
  readonly simulation?: SimulatedReadiness;
  readonly stage: string;
  readonly stageType: StageMarker['type'] | 'unmarked';
  readonly stack: string;
  readonly service: string;
  readonly kind: 'lambda-alias' | 'ecs-service';
  readonly deploymentConfig: string;
  readonly shift: TrafficShift;
  readonly alarms: AlarmReport[];
  /** Hand model: worst case from a bad release's first errors to rollback start; undefined without alarms. */
  readonly worstCaseToRollbackSeconds?: number;
  /** Minutes from the start of the shift until CodeDeploy considers the deployment done. */
  readonly deploymentMinutes?: number;
  /**
   * Whether a bad release is rolled back before the deployment completes: simulated, a crash loop
   * rolled back in at least 95% of the runs; by the hand model, worst-case detection before completion.
   */
  readonly caughtByCanary: boolean;
  /** Hand model: share of traffic on the new version just before rollback starts, percent. */
  readonly shareAtRollbackPercent?: number;
  /** Hand model: integral of the new version's share until rollback, in minutes of full traffic. */
  readonly exposureTrafficMinutes?: number;
  readonly bake?: StageMarker['bake'];
  readonly deploymentWindow?: StageMarker['deploymentWindow'];
  /** The feature-flag deployments of the service's stack (empty when it declares no flags). */
  readonly flags: FlagRolloutReport[];
}

/** Options of the report. */
export interface ReportOptions {
  /** Request rate of services whose expected traffic the assembly does not record. @default DEFAULT_REPORT_RPS */
  readonly rps?: number;
  /** Seeded runs per service and bad release. @default REPORT_RUNS */
  readonly runs?: number;
  /** @default REPORT_SEED */
  readonly seed?: number;
}
