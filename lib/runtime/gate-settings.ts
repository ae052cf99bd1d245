import { z } from 'zod';

/**
 * What a bake gate checks, as the app writes it into the release manifest of the cloud assembly
 * (lib/constructs/deployment-safety) and the gate reads it at run time (lambda/bake-gate). One
 * schema for the writer and the reader. Keeping it out of the action configuration keeps the
 * pipeline's structure (and so its rollback targets) unchanged when a bake or window changes, and
 * the action configuration far under CodePipeline's 1000 characters whatever the number of targets.
 */

/** The file the app writes into its cloud assembly, and the gate reads from its input artifact. */
export const RELEASE_MANIFEST_FILE = 'safe-deploy.release.json';

/**
 * A service's feature flags in a target: where its AppConfig deployments are, and which content this
 * release deploys. Names, not IDs: AppConfig generates the IDs, the gate finds them by name.
 */
export const gateFlagsSchema = z
  .object({
    service: z.string().min(1),
    /** The AppConfig application's name (`<service stack name>-flags`). */
    application: z.string().min(1),
    /** The environment's and the feature-flag profile's name: the service's. */
    environment: z.string().min(1),
    /** First 16 hex digits of the SHA-256 of the flags this release deploys, as the AppConfig deployment's description names them. */
    digest: z.string().regex(/^[0-9a-f]{16}$/),
  })
  .strict();
export type GateFlags = z.infer<typeof gateFlagsSchema>;

/** One deployment target the gate looks at, read through the GateReaderRole in its account. */
export const gateTargetSchema = z
  .object({
    account: z.string().regex(/^\d{12}$/),
    region: z.string().min(1),
    /** The GateReaderRole the gate assumes in that account. */
    roleArn: z.string().startsWith('arn:'),
    /** Aggregate (composite) health alarms of the target's services. */
    healthAlarmNames: z.array(z.string().min(1)),
    /**
     * The pipeline's deploy action of the target's platform stack (which holds the reader role)
     * and of each service stack (which holds its health alarm, same order): a target whose actions
     * have never succeeded has never been deployed, so it has nothing to guard yet.
     */
    platformAction: z.string().min(1),
    serviceActions: z.array(z.string().min(1)),
    /**
     * Services of the target with feature flags. In the previous stage, this release's flags must
     * have finished their rollout and bake there; in the guarded stage, no flag deployment may still
     * be running (AppConfig runs one per environment at a time). @default - none
     */
    flags: z.array(gateFlagsSchema).optional(),
  })
  .strict()
  .refine((t) => t.serviceActions.length === t.healthAlarmNames.length, { error: 'serviceActions must pair with healthAlarmNames' });
export type GateTarget = z.infer<typeof gateTargetSchema>;

const windowSchema = z
  .object({
    timeZone: z.string().min(1),
    windows: z
      .array(
        z
          .object({ days: z.array(z.enum(['MON', 'TUE', 'WED', 'THU', 'FRI', 'SAT', 'SUN'])).min(1), start: z.string(), end: z.string() })
          .strict(),
      )
      .min(1),
    blockedDates: z.array(z.string()).optional(),
  })
  .strict();

export const gateSettingsSchema = z
  .object({
    /** The pipeline stage this gate guards, e.g. "Prod-Wave1". */
    stageName: z.string().min(1),
    /** Bake required of the previous stage. @default - no bake, only alarms and window */
    bake: z
      .object({ minutes: z.number().min(0), minRequests: z.number().int().min(0) })
      .strict()
      .optional(),
    /**
     * Whether `bake.minRequests` is counted: only when the previous stage is a production wave
     * (pre-production serves only smoke-test requests).
     */
    countRequests: z.boolean(),
    /** Window the guarded stage may start in. @default - any time */
    window: windowSchema.optional(),
    /** Targets of the previous stage: they must have baked, served enough and stayed quiet. */
    observe: z.array(gateTargetSchema),
    /** Targets of the guarded stage: their health alarms must not be firing. */
    guard: z.array(gateTargetSchema),
    /** Give up waiting for enough requests after this many minutes. */
    maxWaitMinutes: z.number().positive(),
  })
  .strict();
export type GateSettings = z.infer<typeof gateSettingsSchema>;

/** The gates of one release, by gate stage name (the manifest's `gates`). */
export const gatesSchema = z.record(z.string(), gateSettingsSchema);

/** The action's UserParameters: which gate, and two pipeline variables. Small and fixed per gate. */
export const gateParametersSchema = z
  .object({
    /** The gate stage, e.g. "Gate-Prod-Wave1": its settings are `gates[gate]` in the release manifest. */
    gate: z.string().min(1),
    /** Operator's override reason (pipeline variable); empty or "none" means no override. */
    override: z.string().optional(),
    /** Pipeline execution id (CodePipeline variable), for the override log. */
    executionId: z.string().optional(),
  })
  .strict();
export type GateParameters = z.infer<typeof gateParametersSchema>;

/** The gate function's environment: DeploymentSafety sets it, the handler reads it. */
export const gateEnvironmentSchema = z.object({
  /** Seconds between the gate's checks while it waits (a continuation). */
  POLL_INTERVAL_SECONDS: z.string().regex(/^\d+$/, { error: 'must be a whole number of seconds >= 0' }),
  /** The pipeline's physical name, for the override log and the deployed-before check. @default - unknown */
  PIPELINE_NAME: z.string().min(1).optional(),
});
export type GateEnvironment = z.infer<typeof gateEnvironmentSchema>;

/** `UserParameters.gate: is missing ...` from a zod error. */
export function describeSettingsError(prefix: string, error: z.ZodError): string {
  return error.issues.map((i) => `${prefix}${i.path.length > 0 ? `.${i.path.join('.')}` : ''}: ${i.message}`).join('; ');
}

/** Parses `text` as JSON and checks it with `schema`; the message names `label` and the bad field. */
export function parseJsonWith<T>(schema: z.ZodType<T>, text: string, label: string): T {
  let value: unknown;
  try {
    value = JSON.parse(text);
  } catch (err) {
    throw new Error(`${label} is not JSON: ${(err as Error).message}`, { cause: err });
  }
  const parsed = schema.safeParse(value);
  if (!parsed.success) throw new Error(describeSettingsError(label, parsed.error));
  return parsed.data;
}
