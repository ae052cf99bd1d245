import { z } from 'zod';
import {
  certificateArnField,
  containerUserField,
  desiredCountField,
  MAX_TEST_TRAFFIC_PROBES,
  portField,
  testTrafficProbesMessage,
} from '../constructs/canary-ecs-service/limits';
import { reservedConcurrencyField } from '../constructs/canary-lambda-service/limits';
import { agentImageField } from '../constructs/feature-flags/agent';
import { serviceFlagsSchema } from '../constructs/feature-flags/schema';
import { showValue as show } from '../constructs/shared/limits';

/**
 * The `services` list of `safe-deploy.config.json`: the team's own Lambda functions and ECS
 * containers. Paths are relative to the config file; the loader resolves and checks them.
 */

/** Service names appear in stack, alarm, role and repository names, so they are short and DNS-like. */
export const SERVICE_NAME = /^[a-z][a-z0-9-]{0,30}[a-z0-9]$/;
export const serviceNameSchema = z.string().regex(SERVICE_NAME, {
  error: (i) =>
    `${show(i.input)} is not a valid service name: 2 to 32 lower-case letters, digits and '-', starting with a letter, e.g. "orders-api"`,
});

/** Reserved concurrency of a Lambda service (the service's own, or one stage's): CanaryLambdaService's own bound. */
export const reservedConcurrencySchema = reservedConcurrencyField;

const ENV_NAME = /^[A-Za-z_][A-Za-z0-9_]*$/;
/** Names that usually hold a secret; their values belong in Secrets Manager or SSM, read at run time. */
const SECRET_NAME = /(SECRET|PASSWORD|PASSWD|TOKEN|API_?KEY|PRIVATE_?KEY|CREDENTIAL)/i;
/** Values that are AWS access keys or PEM keys, whatever their name. */
const SECRET_VALUE = /^(AKIA|ASIA)[A-Z0-9]{16}$|-----BEGIN [A-Z ]*PRIVATE KEY-----/;
// Lambda caps a function's environment at 4 KB in all; keep each entry well under it.
const environmentSchema = z
  .record(
    z.string().regex(ENV_NAME, {
      error: (i) => `${show(i.input)} is not an environment variable name: use letters, digits and '_', e.g. "TABLE_NAME"`,
    }),
    z.string({ error: (i) => `${show(i.input)} is not a string: environment values are strings, e.g. "true" or "42"` }).max(1024),
  )
  .superRefine((env, ctx) => {
    for (const [key, value] of Object.entries(env)) {
      if (SECRET_NAME.test(key) || SECRET_VALUE.test(value)) {
        ctx.addIssue({
          code: 'custom',
          path: [key],
          message: `${show(key)} looks like a secret: environment variables are visible to anyone who can read the function or task definition; store it in Secrets Manager or SSM Parameter Store and read it at run time`,
        });
      }
    }
  })
  .default({});

const PATH = /^\/[^\s#]*$/;
/** An HTTP request the checks send, and what a good answer is. */
export const httpCheckSchema = z
  .object({
    /** Path (and query) to GET, e.g. "/health". */
    path: z.string().regex(PATH, { error: (i) => `${show(i.input)} is not a request path: start with "/", no spaces, e.g. "/health"` }),
    /** Status a healthy version answers with. */
    expectedStatus: z
      .number()
      .int()
      .min(100)
      .max(599, { error: (i) => `${show(i.input)} is not an HTTP status: use 100 to 599, e.g. 200` })
      .default(200),
    /** Text the body must contain, e.g. "\"status\":\"ok\"". @default - any body */
    bodyContains: z.string().min(1).max(256).optional(),
  })
  .strict();
export type HttpCheck = z.infer<typeof httpCheckSchema>;

/** An invocation of the new version with a payload, for functions that answer no HTTP. */
export const invokeCheckSchema = z
  .object({
    /** The event to invoke the function with (JSON), e.g. a test SQS message. */
    payload: z
      .unknown()
      .refine((p) => p !== undefined, { error: 'is missing: give the event to invoke the function with, e.g. { "Records": [] }' }),
    /** Text the function's response must contain. @default - any response without a function error */
    bodyContains: z.string().min(1).max(256).optional(),
  })
  .strict();
export type InvokeCheck = z.infer<typeof invokeCheckSchema>;

const expectedRps = z
  .number()
  .positive({ error: (i) => `${show(i.input)} is not a request rate: use requests per second, e.g. 5` })
  .optional();

/** Whether the service publishes its own per-request metrics with lib/canary-metrics. */
const highResolutionMetrics = z
  .boolean({
    error: (i) =>
      `${show(i.input)} is not true or false: use true when the service publishes its requests with lib/canary-metrics (README, "Faster judgement"), else leave it out`,
  })
  .optional();

const sourceFile = z.string().regex(/\.(ts|mts|cts|js|mjs|cjs)$/, {
  error: (i) =>
    `${show(i.input)} is not a TypeScript or JavaScript file: point entry at the handler's source, e.g. "services/orders-api/handler.ts"`,
});
const exportName = z
  .string()
  .regex(/^[A-Za-z_$][A-Za-z0-9_$]*$/, { error: (i) => `${show(i.input)} is not an exported function name, e.g. "handler"` });

/** A Lambda function released through its `live` alias by CodeDeploy. */
export const lambdaServiceSchema = z
  .object({
    name: serviceNameSchema,
    kind: z.literal('lambda'),
    /** The handler's source file (.ts or .js), bundled with esbuild at synth. */
    entry: sourceFile,
    /** The exported handler function. */
    handler: exportName.default('handler'),
    /** Function URL on the alias: none, IAM-signed, or public. */
    url: z
      .enum(['none', 'iam', 'public'], { error: (i) => `${show(i.input)} is not a URL mode: use "none", "iam" or "public"` })
      .default('none'),
    /** GET request the hooks send to the new version (HTTP services). */
    healthCheck: httpCheckSchema.optional(),
    /** Invocation the hooks make of the new version (event-driven services). */
    invokeCheck: invokeCheckSchema.optional(),
    /** Memory, MiB. */
    memoryMiB: z
      .number()
      .int()
      .min(128)
      .max(10240, { error: (i) => `${show(i.input)} MiB is out of Lambda's range: use 128 to 10240` })
      .default(256),
    /** Timeout, seconds. */
    timeoutSeconds: z
      .number()
      .int()
      .min(1)
      .max(900, { error: (i) => `${show(i.input)} seconds is out of Lambda's range: use 1 to 900` })
      .default(10),
    /** Environment variables (no secrets). */
    environment: environmentSchema,
    /** Concurrency reserved for (and capping) the function. @default - unreserved; 100 with a public URL (PUBLIC_URL_DEFAULT_CONCURRENCY) */
    reservedConcurrency: reservedConcurrencySchema.optional(),
    /** Requests per second the service usually serves: synth warns when a canary step is too short to judge it. @default - no check */
    expectedRequestsPerSecond: expectedRps,
    /**
     * The service publishes its own per-request, per-version metrics at a 1-second resolution
     * (lib/canary-metrics): its canaries also get the judge's 30-second error alarm,
     * evaluated every 10 seconds. @default false
     */
    highResolutionMetrics,
    /** CPU architecture. */
    architecture: z
      .enum(['arm64', 'x86_64'], { error: (i) => `${show(i.input)} is not an architecture: use "arm64" or "x86_64"` })
      .default('arm64'),
    /**
     * Feature flags the service reads through the AppConfig agent (README, "Feature flags and limited
     * rollout"). Declared here rather than in a file inside the service: a flag change then never
     * touches an ECS build context, whose content hash is the image tag. @default - none: no AppConfig resources
     */
    flags: serviceFlagsSchema.optional(),
  })
  .strict();

/** Fargate's task CPU sizes (vCPU units). */
export const FARGATE_CPU: readonly number[] = [256, 512, 1024, 2048, 4096, 8192, 16384];

/** A container on ECS Fargate behind its own ALB, released blue/green by CodeDeploy. */
export const ecsServiceSchema = z
  .object({
    name: serviceNameSchema,
    kind: z.literal('ecs'),
    /** The Docker build context. */
    directory: z.string().min(1),
    /** Dockerfile, relative to `directory`. */
    dockerfile: z.string().min(1).default('Dockerfile'),
    /** Port the container listens on. */
    port: portField,
    /** The target group's health check, also the default test-traffic probe. */
    healthCheck: httpCheckSchema,
    /** Requests the AfterAllowTestTraffic hook sends to the new task set. @default - the health check */
    testTraffic: z
      .array(httpCheckSchema)
      .min(1, { error: () => testTrafficProbesMessage(0) })
      .max(MAX_TEST_TRAFFIC_PROBES, { error: (i) => testTrafficProbesMessage((i.input as unknown[]).length) })
      .optional(),
    /** vCPU units per task. */
    cpu: z
      .number()
      .refine((c) => FARGATE_CPU.includes(c), {
        error: (i) => `${show(i.input)} is not a Fargate CPU size: use one of ${FARGATE_CPU.join(', ')}`,
      })
      .default(256),
    /** Memory per task, MiB (a combination Fargate offers for the CPU). */
    memoryMiB: z.number().int().min(512).max(122880).default(512),
    /** Tasks per task set. */
    desiredCount: desiredCountField.default(2),
    /** Environment variables (no secrets). */
    environment: environmentSchema,
    /** The user the container runs as (uid[:gid] or a name the image knows), never root. @default - "1000", an unprivileged uid */
    user: containerUserField.optional(),
    /** Requests per second the service usually serves: synth warns when a canary step is too short to judge it. @default - no check */
    expectedRequestsPerSecond: expectedRps,
    /**
     * The service publishes its own per-request, per-version metrics at a 1-second resolution
     * (lib/canary-metrics): its canaries also get the judge's 30-second error alarm,
     * evaluated every 10 seconds. @default false
     */
    highResolutionMetrics,
    /** ACM certificate (same region as each target) for HTTPS on 443. @default - HTTP on port 80 */
    certificateArn: certificateArnField.optional(),
    /** CPU architecture of the image. */
    architecture: z
      .enum(['x86_64', 'arm64'], { error: (i) => `${show(i.input)} is not an architecture: use "x86_64" or "arm64"` })
      .default('x86_64'),
    /**
     * Feature flags the service reads through the AppConfig agent (README, "Feature flags and limited
     * rollout"). Declared here rather than in a file inside the service: a flag change then never
     * touches an ECS build context, whose content hash is the image tag. @default - none: no AppConfig resources
     */
    flags: serviceFlagsSchema.optional(),
    /**
     * The AppConfig agent sidecar's image, pinned by digest so that every task of a task definition
     * runs the same agent build. @default - ECS_AGENT_IMAGE, the moving `2.x` tag, pulled at each task start
     */
    flagsAgentImage: agentImageField.optional(),
  })
  .strict();

export const serviceSchema = z.discriminatedUnion('kind', [lambdaServiceSchema, ecsServiceSchema], {
  error: (i) => `${show((i.input as { kind?: unknown })?.kind ?? i.input)} is not a service kind: use "lambda" or "ecs"`,
});
export type ServiceConfig = z.infer<typeof serviceSchema>;
export type LambdaServiceConfig = z.infer<typeof lambdaServiceSchema>;
export type EcsServiceConfig = z.infer<typeof ecsServiceSchema>;
export type ServiceKind = ServiceConfig['kind'];

/** Fields only one kind has: a message can then say "is a field of ecs services". */
export const KIND_FIELDS: Record<ServiceKind, readonly string[]> = {
  lambda: Object.keys(lambdaServiceSchema.shape),
  ecs: Object.keys(ecsServiceSchema.shape),
};

/** Fargate's task sizes: for each cpu (vCPU units), the memory it takes, in MiB (AWS Fargate task size table). */
const FARGATE_MEMORY: Readonly<Record<number, { readonly min: number; readonly max: number; readonly step: number } | readonly number[]>> =
  {
    256: [512, 1024, 2048],
    512: { min: 1024, max: 4096, step: 1024 },
    1024: { min: 2048, max: 8192, step: 1024 },
    2048: { min: 4096, max: 16384, step: 1024 },
    4096: { min: 8192, max: 30720, step: 1024 },
    8192: { min: 16384, max: 61440, step: 4096 },
    16384: { min: 32768, max: 122880, step: 8192 },
  };

/** Whether Fargate offers `memoryMiB` with `cpu` vCPU units. */
export function isFargateSize(cpu: number, memoryMiB: number): boolean {
  const sizes = FARGATE_MEMORY[cpu];
  if (!sizes) return false;
  if (Array.isArray(sizes)) return sizes.includes(memoryMiB);
  const { min, max, step } = sizes as { min: number; max: number; step: number };
  return memoryMiB >= min && memoryMiB <= max && (memoryMiB - min) % step === 0;
}
