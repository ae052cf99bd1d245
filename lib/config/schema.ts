import { RegionInfo } from 'aws-cdk-lib/region-info';
import { z } from 'zod';
import { MAX_DEPLOYMENT_WAIT_MINUTES } from '../constructs/canary-ecs-service/ecs-deployment';
import { blueTerminationWaitMinutesField, desiredCountField } from '../constructs/canary-ecs-service/limits';
import { judgeSettingsInputSchema } from '../constructs/canary-judge/settings';
import { bakeMinutesField } from '../constructs/deployment-safety/limits';
import { flagRolloutSchema } from '../constructs/feature-flags/rollout';
import { alarmOverridesSchema } from '../constructs/shared/alarm-settings';
import { showValue as show } from '../constructs/shared/limits';
import { ecsShiftProblem, MAX_SHIFT_INTERVAL_MINUTES } from '../constructs/shared/traffic-shift';
import { checkReservedConcurrency } from './concurrency';
import { FARGATE_CPU, isFargateSize, reservedConcurrencySchema, serviceNameSchema, serviceSchema, ServiceKind } from './service-schema';

/**
 * The shape of `safe-deploy.config.json`, as a zod schema so that one declaration gives both the
 * TypeScript types and the validation at synth. Every message names what is wrong with the value
 * and how to fix it; the loader prefixes the field path (e.g. `stages[1].waves[0].regions[0]`).
 */

const known = new Set(RegionInfo.regions.map((r) => r.name));

const accountId = z
  .string({ error: (i) => `${show(i.input)} is not an AWS account id: use the 12-digit id as a string, e.g. "123456789012"` })
  .regex(/^\d{12}$/, { error: (i) => `${show(i.input)} is not an AWS account id: use the 12-digit id as a string, e.g. "123456789012"` });

const region = z
  .string({ error: (i) => `${show(i.input)} is not an AWS region: use a region code, e.g. "us-east-1"` })
  .refine((r) => known.has(r), { error: (i) => `${show(i.input)} is not an AWS region: use a region code, e.g. "us-east-1"` });

// eslint-disable-next-line no-control-regex -- git refuses control characters in ref names
const GIT_REF = /^(?!-|\/)(?!.*(?:\.\.|\/\/|@\{|\.lock$|\/$|\.$))[^\s~^:?*[\\\x00-\x1f\x7f]+$/;
const branch = z.string().regex(GIT_REF, {
  error: (i) => `${show(i.input)} is not a valid git branch name: remove spaces and any of ~ ^ : ? * [ \\ .. (e.g. "main" or "release/v2")`,
});

const CONNECTION_ARN = /^arn:aws(-cn|-us-gov)?:(codeconnections|codestar-connections):[a-z0-9-]+:\d{12}:connection\/[0-9a-f-]{36}$/;
const connectionArn = z.string().regex(CONNECTION_ARN, {
  error: (i) =>
    `${show(i.input)} is not a CodeConnections connection ARN: create a GitHub connection (README, "GitHub connection") and paste its ARN, ` +
    'e.g. "arn:aws:codeconnections:us-east-1:123456789012:connection/12345678-1234-1234-1234-123456789012"',
});

const NAME = /^[A-Za-z][A-Za-z0-9-]{0,39}$/;
const name = (what: string) =>
  z.string().regex(NAME, {
    error: (i) =>
      `${show(i.input)} is not a valid ${what} name: start with a letter, then letters, digits or '-' (at most 40), e.g. "Beta"`,
  });

const percent = z
  .number()
  .int()
  .min(1)
  .max(99, { error: (i) => `${show(i.input)} is not a traffic percentage: use a whole number from 1 to 99` });
const minutes = (max: number) =>
  z
    .number()
    .int()
    .min(1, { error: (i) => `${show(i.input)} minutes: use a whole number from 1 to ${max}` })
    .max(max, {
      error: (i) => `${show(i.input)} minutes: use a whole number from 1 to ${max}`,
    });

/** How CodeDeploy shifts traffic from the old version to the new one. */
export const trafficShiftSchema = z.discriminatedUnion(
  'type',
  [
    z.object({ type: z.literal('all-at-once') }).strict(),
    /** `percent` of traffic for `intervalMinutes`, then the rest. */
    z.object({ type: z.literal('canary'), percent, intervalMinutes: minutes(MAX_SHIFT_INTERVAL_MINUTES) }).strict(),
    /** `percent` more of the traffic every `intervalMinutes`. */
    z.object({ type: z.literal('linear'), percent, intervalMinutes: minutes(MAX_SHIFT_INTERVAL_MINUTES) }).strict(),
  ],
  {
    error: (i) =>
      `${show((i.input as { type?: unknown })?.type ?? i.input)} is not a traffic shift type: use "all-at-once", "canary" or "linear"`,
  },
);
export type TrafficShift = z.infer<typeof trafficShiftSchema>;

/** Per-stage overrides of a service's alarm thresholds: the constructs' own schema (lib/constructs/shared/alarm-settings.ts). */
export { alarmOverridesSchema, type AlarmOverrides } from '../constructs/shared/alarm-settings';

/** Per-kind defaults of a stage for its Lambda services. */
const lambdaDefaultsSchema = z
  .object({
    /** Traffic shift for the Lambda alias. */
    deployment: trafficShiftSchema,
    /** Alarm threshold overrides. */
    alarms: alarmOverridesSchema.optional(),
    /** Canary judge settings (canary deployments), over DEFAULT_JUDGE_SETTINGS. */
    judge: judgeSettingsInputSchema.optional(),
  })
  .strict();

/** Per-kind defaults of a stage for its ECS services. */
const ecsDefaultsSchema = z
  .object({
    /** Traffic shift from the blue to the green task set. */
    deployment: trafficShiftSchema,
    /** Alarm threshold overrides. */
    alarms: alarmOverridesSchema.optional(),
    /** Canary judge settings (canary deployments), over DEFAULT_JUDGE_SETTINGS. */
    judge: judgeSettingsInputSchema.optional(),
    /** Minutes the blue task set keeps running after a successful shift (instant rollback window). */
    blueTerminationWaitMinutes: blueTerminationWaitMinutesField.optional(),
  })
  .strict();

/** What one stage changes for one service, over the stage's per-kind defaults. */
export const serviceOverrideSchema = z
  .object({
    deployment: trafficShiftSchema.optional(),
    alarms: alarmOverridesSchema.optional(),
    judge: judgeSettingsInputSchema.optional(),
    /** ECS only. */
    blueTerminationWaitMinutes: blueTerminationWaitMinutesField.optional(),
    /** ECS only: tasks per task set in this stage. */
    desiredCount: desiredCountField.optional(),
    /** Lambda only: reserved concurrency in this stage. */
    reservedConcurrency: reservedConcurrencySchema.optional(),
  })
  .strict();
export type ServiceOverride = z.infer<typeof serviceOverrideSchema>;
/** Override fields that only one kind of service has. */
export const OVERRIDE_KIND: Partial<Record<keyof ServiceOverride, ServiceKind>> = {
  blueTerminationWaitMinutes: 'ecs',
  desiredCount: 'ecs',
  reservedConcurrency: 'lambda',
};

/** A production gate: the release must have baked this long, served this much, with alarms quiet. */
export const bakeSchema = z
  .object({
    /** Minutes since the previous wave finished deploying. */
    minutes: bakeMinutesField,
    /** Requests the new version must have served in the previous wave. */
    minRequests: z.number().int().min(0),
  })
  .strict();

const DAYS = ['MON', 'TUE', 'WED', 'THU', 'FRI', 'SAT', 'SUN'] as const;
const HHMM = /^([01]\d|2[0-3]):[0-5]\d$/;
const hhmm = z.string().regex(HHMM, { error: (i) => `${show(i.input)} is not a time of day: use 24-hour "HH:MM", e.g. "09:30"` });
const isTimeZone = (tz: string) => {
  try {
    new Intl.DateTimeFormat('en-US', { timeZone: tz });
    return true;
  } catch {
    return false;
  }
};

/** When a production stage may start deploying. */
export const deploymentWindowSchema = z
  .object({
    /** IANA time zone the windows are in, e.g. "Europe/Berlin". */
    timeZone: z
      .string()
      .refine(isTimeZone, { error: (i) => `${show(i.input)} is not an IANA time zone: use e.g. "America/New_York" or "UTC"` }),
    /** Open windows: on these days, from `start` to `end` (local time). */
    windows: z
      .array(
        z
          .object({
            days: z.array(z.enum(DAYS, { error: (i) => `${show(i.input)} is not a day: use one of ${DAYS.join(', ')}` })).min(1),
            start: hhmm,
            end: hhmm,
          })
          .strict()
          .refine((w) => w.start < w.end, { error: (i) => `window ${show(i.input)}: start must be before end (same day, local time)` }),
      )
      .min(1),
    /** Dates (YYYY-MM-DD, local) on which no window opens, such as holidays. */
    blockedDates: z
      .array(
        z
          .string()
          .regex(/^\d{4}-(0[1-9]|1[0-2])-(0[1-9]|[12]\d|3[01])$/, { error: (i) => `${show(i.input)} is not a date: use "YYYY-MM-DD"` }),
      )
      .default([]),
  })
  .strict();
export type DeploymentWindow = z.infer<typeof deploymentWindowSchema>;

/** One wave: the regions (of one account) deployed in parallel. */
const waveSchema = z
  .object({
    /** Wave name, unique in its stage, e.g. "Wave1". */
    name: name('wave'),
    /** Regions deployed in parallel in this wave. */
    regions: z.array(region).min(1, { error: 'list at least one region, e.g. ["us-east-1"]' }),
    /** Account of this wave, when it differs from the stage's. */
    account: accountId.optional(),
  })
  .strict();

export const stageSchema = z
  .object({
    /** Stage name, unique in the pipeline, e.g. "Beta" or "Prod". */
    name: name('stage'),
    /** Pre-production stages run the post-deployment tests; production ones are guarded. */
    type: z.enum(['pre-production', 'production'], {
      error: (i) => `${show(i.input)} is not a stage type: use "pre-production" or "production"`,
    }),
    /** Account the stage deploys to. Default: the pipeline's account. */
    account: accountId.optional(),
    /** Whether a person must approve before the stage starts. */
    manualApproval: z.boolean().default(false),
    /** Waves, deployed one after the other; regions in a wave deploy in parallel. */
    waves: z.array(waveSchema).min(1, { error: 'list at least one wave, e.g. [{ "name": "Wave1", "regions": ["us-east-1"] }]' }),
    /** Defaults for the stage's Lambda services (required when there are any). */
    lambda: lambdaDefaultsSchema.optional(),
    /** Defaults for the stage's ECS services (required when there are any). */
    ecs: ecsDefaultsSchema.optional(),
    /** Per-service overrides in this stage, by service name. */
    services: z.record(serviceNameSchema, serviceOverrideSchema).default({}),
    /** Bake gate before each wave after the first and before this stage (production only). */
    bake: bakeSchema.optional(),
    /** Deployment windows (production only). */
    deploymentWindow: deploymentWindowSchema.optional(),
    /**
     * How a change of the services' feature flags rolls out in this stage (AppConfig deployment
     * strategy). @default - DEFAULT_FLAG_ROLLOUTS of the stage type: all at once with a 10-minute
     * bake before production, linear 20 % every 6 minutes with a 30-minute bake in production
     */
    flags: z.object({ rollout: flagRolloutSchema }).strict().optional(),
  })
  .strict();
export type StageConfig = z.infer<typeof stageSchema>;
export type WaveConfig = StageConfig['waves'][number];

const configObjectSchema = z
  .object({
    /** Prefix of resource names; lower case, e.g. "safe-deploy". */
    appName: z.string().regex(/^[a-z][a-z0-9-]{1,24}$/, {
      error: (i) => `${show(i.input)} is not a valid app name: lower-case letters, digits and '-', 2 to 25 characters, e.g. "safe-deploy"`,
    }),
    /** The repository the pipeline builds. */
    github: z
      .object({
        owner: z.string().regex(/^[A-Za-z0-9](?:[A-Za-z0-9-]{0,38})$/, {
          error: (i) => `${show(i.input)} is not a GitHub owner: use the user or organisation name, e.g. "my-org"`,
        }),
        repo: z.string().regex(/^[A-Za-z0-9._-]{1,100}$/, {
          error: (i) => `${show(i.input)} is not a GitHub repository name: use the name only, e.g. "safe-deploy"`,
        }),
        branch,
        connectionArn,
      })
      .strict(),
    /** Where the pipeline itself lives. */
    pipeline: z
      .object({
        account: accountId,
        region,
        /** Pipeline name. Default: "<appName>-pipeline". */
        name: z
          .string()
          .regex(/^[A-Za-z0-9.@_-]{1,100}$/)
          .optional(),
      })
      .strict(),
    /** How long published artifacts are kept (so that there is something to roll back to). */
    artifacts: z
      .object({
        /** Days a pipeline artifact is kept in the artifact bucket. */
        retentionDays: z
          .number()
          .int()
          .min(30, { error: (i) => `${show(i.input)} days is too short to roll back to: keep artifacts at least 30 days` })
          .default(180),
        /** Container images kept in the ECR repository. */
        imageCount: z
          .number()
          .int()
          .min(5, { error: (i) => `${show(i.input)} images is too few to roll back to: keep at least 5` })
          .default(20),
      })
      .strict()
      .default({ retentionDays: 180, imageCount: 20 }),
    /** Who hears of failed executions, CodeDeploy rollbacks and blocked gates. */
    notifications: z
      .object({
        /** E-mail addresses subscribed to the notification topic (each confirms by mail). */
        emails: z.array(z.email({ error: (i) => `${show(i.input)} is not an e-mail address: use e.g. "team@example.com"` })).default([]),
      })
      .strict()
      .default({ emails: [] }),
    /** The team's services; every stage target deploys all of them. */
    services: z.array(serviceSchema).min(1, {
      error: 'list at least one service, e.g. [{ "name": "orders-api", "kind": "lambda", "entry": "services/orders-api/handler.ts" }]',
    }),
    /** Stages, in deployment order. */
    stages: z.array(stageSchema).min(1),
  })
  .strict();

export const configSchema = configObjectSchema.superRefine((cfg, ctx) => {
  checkServices(cfg, ctx);
  checkReservedConcurrency(cfg, ctx);
  const stages = cfg.stages;
  const firstProd = stages.findIndex((s) => s.type === 'production');
  if (firstProd < 0) {
    ctx.addIssue({
      code: 'custom',
      path: ['stages'],
      message: `no stage has type "production" (stages: ${show(stages.map((s) => s.name))}): mark the last stage "type": "production"`,
    });
  } else if (!stages.slice(0, firstProd).some((s) => s.type === 'pre-production')) {
    ctx.addIssue({
      code: 'custom',
      path: ['stages', firstProd, 'type'],
      message: `production stage ${show(stages[firstProd].name)} comes before any pre-production stage: put a "pre-production" stage (e.g. "Beta") before it`,
    });
  }
  const seen = new Map<string, number>();
  stages.forEach((s, i) => {
    const key = s.name.toLowerCase();
    if (seen.has(key)) {
      ctx.addIssue({
        code: 'custom',
        path: ['stages', i, 'name'],
        message: `${show(s.name)} is already the name of stages[${seen.get(key)}]: give each stage a unique name`,
      });
    } else {
      seen.set(key, i);
    }
    const waves = new Map<string, number>();
    const regions = new Map<string, string>();
    s.waves.forEach((w, j) => {
      if (waves.has(w.name.toLowerCase())) {
        ctx.addIssue({
          code: 'custom',
          path: ['stages', i, 'waves', j, 'name'],
          message: `${show(w.name)} is already the name of waves[${waves.get(w.name.toLowerCase())}]: give each wave of a stage a unique name`,
        });
      }
      waves.set(w.name.toLowerCase(), j);
      w.regions.forEach((r, k) => {
        // Each region is one CDK Stage named "<stage>-<region>", so a region appears once per stage.
        const where = `waves[${j}].regions[${k}]`;
        if (regions.has(r)) {
          ctx.addIssue({
            code: 'custom',
            path: ['stages', i, 'waves', j, 'regions', k],
            message: `${show(r)} is already deployed by ${regions.get(r)} of this stage: list each region once per stage (use another stage for another account in the same region)`,
          });
        }
        regions.set(r, where);
      });
    });
    const previous = stages[i - 1];
    if (s.type === 'production' && s.bake && s.bake.minRequests > 0 && s.waves.length === 1 && previous?.type !== 'production') {
      ctx.addIssue({
        code: 'custom',
        path: ['stages', i, 'bake', 'minRequests'],
        message:
          `${s.bake.minRequests} requests can never be counted: requests are counted on the previous production wave, and the only wave of ${show(s.name)} follows ` +
          `pre-production, which serves only smoke-test requests; set it to 0, or split the stage into waves so later waves count the first wave's traffic`,
      });
    }
    for (const guard of ['bake', 'deploymentWindow'] as const) {
      if (s[guard] && s.type !== 'production') {
        ctx.addIssue({
          code: 'custom',
          path: ['stages', i, guard],
          message: `is set on pre-production stage ${show(s.name)}: ${guard} guards production stages only; move it to a production stage or remove it`,
        });
      }
    }
  });
});

/** The validated configuration, with defaults applied. */
export type SafeDeployConfig = z.infer<typeof configSchema>;
/** The configuration as written in the file, before defaults. */
export type SafeDeployConfigInput = z.input<typeof configSchema>;

type ConfigShape = z.output<typeof configObjectSchema>;
type Ctx = z.core.$RefinementCtx<ConfigShape>;

/** Names, kinds and per-stage settings of the services must agree with each other. */
function checkServices(cfg: ConfigShape, ctx: Ctx): void {
  const byName = new Map<string, { index: number; kind: ServiceKind }>();
  cfg.services.forEach((svc, i) => {
    const earlier = byName.get(svc.name);
    if (earlier) {
      ctx.addIssue({
        code: 'custom',
        path: ['services', i, 'name'],
        message: `${show(svc.name)} is already the name of services[${earlier.index}]: give each service a unique name`,
      });
    } else {
      byName.set(svc.name, { index: i, kind: svc.kind });
    }
    if (svc.name === 'platform') {
      ctx.addIssue({
        code: 'custom',
        path: ['services', i, 'name'],
        message: '"platform" is the name of the stack every target shares: give the service another name',
      });
    }
    if (svc.kind === 'lambda' && svc.healthCheck && svc.invokeCheck) {
      ctx.addIssue({
        code: 'custom',
        path: ['services', i, 'invokeCheck'],
        message: 'is set together with healthCheck: give an HTTP service a healthCheck, an event-driven one an invokeCheck, not both',
      });
    }
    if (svc.kind === 'ecs' && svc.flagsAgentImage && !svc.flags?.length) {
      ctx.addIssue({
        code: 'custom',
        path: ['services', i, 'flagsAgentImage'],
        message: `is set, but ${show(svc.name)} declares no flags, so its tasks run no agent: remove it, or declare flags`,
      });
    }
    if (svc.kind === 'ecs' && FARGATE_CPU.includes(svc.cpu) && !isFargateSize(svc.cpu, svc.memoryMiB)) {
      ctx.addIssue({
        code: 'custom',
        path: ['services', i, 'memoryMiB'],
        message: `${svc.memoryMiB} MiB is not a Fargate size for cpu ${svc.cpu}: see the Fargate task size table (e.g. cpu 256 takes 512, 1024 or 2048)`,
      });
    }
  });
  const serviceNames = [...byName.keys()];
  cfg.stages.forEach((stage, i) => {
    for (const [serviceName, override] of Object.entries(stage.services)) {
      const svc = byName.get(serviceName);
      if (!svc) {
        ctx.addIssue({
          code: 'custom',
          path: ['stages', i, 'services', serviceName],
          message: `is not a service: the services are ${show(serviceNames)}; fix the name or remove the override`,
        });
        continue;
      }
      for (const field of Object.keys(override) as Array<keyof ServiceOverride>) {
        const only = OVERRIDE_KIND[field];
        if (only && only !== svc.kind) {
          ctx.addIssue({
            code: 'custom',
            path: ['stages', i, 'services', serviceName, field],
            message: `is a setting of ${only} services, and ${show(serviceName)} is a ${svc.kind} service: remove it`,
          });
        }
      }
    }
    // An ECS deployment must shift all traffic within the deployment resource's one-hour limit.
    const ecsNames = cfg.services.filter((s) => s.kind === 'ecs').map((s) => s.name);
    if (ecsNames.length > 0 && stage.ecs) {
      const problem = ecsShiftProblem(stage.ecs.deployment, MAX_DEPLOYMENT_WAIT_MINUTES);
      if (problem && ecsNames.some((n) => !stage.services[n]?.deployment))
        ctx.addIssue({ code: 'custom', path: ['stages', i, 'ecs', 'deployment'], message: problem });
    }
    for (const ecsName of ecsNames) {
      const own = stage.services[ecsName]?.deployment;
      const problem = own && ecsShiftProblem(own, MAX_DEPLOYMENT_WAIT_MINUTES);
      if (problem) ctx.addIssue({ code: 'custom', path: ['stages', i, 'services', ecsName, 'deployment'], message: problem });
    }
    for (const kind of ['lambda', 'ecs'] as const) {
      if (stage[kind]) continue;
      const uncovered = cfg.services.filter((s) => s.kind === kind && !stage.services[s.name]?.deployment).map((s) => s.name);
      if (uncovered.length > 0) {
        const example =
          kind === 'lambda'
            ? '{ "deployment": { "type": "all-at-once" } }'
            : '{ "deployment": { "type": "all-at-once" }, "blueTerminationWaitMinutes": 0 }';
        ctx.addIssue({
          code: 'custom',
          path: ['stages', i, kind],
          message: `is missing: stage ${show(stage.name)} deploys the ${kind} services ${show(uncovered)}; add "${kind}": ${example}, or give each of them stages[${i}].services.<name>.deployment`,
        });
      }
    }
  });
}
