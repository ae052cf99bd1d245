import { createHash } from 'node:crypto';
import { existsSync, readFileSync, writeFileSync } from 'node:fs';
import type { CloudAssembly } from 'aws-cdk-lib/cx-api';
import { z } from 'zod';
import type { CfnValue } from '../policy/template-index';

/**
 * The parts of a blue/green ECS service that CloudFormation must never change once the service exists.
 *
 * With the CODE_DEPLOY controller, ECS's UpdateService accepts only the desired count, deployment
 * configuration, health-check grace period, placement and tag options; the load balancers, network
 * configuration, platform version and launch type change only through a CodeDeploy deployment
 * (ECS API reference, UpdateService). CodeDeploy also owns the listeners' default actions: after a
 * release it points production at whichever target group is green, so a CloudFormation update of a
 * listener (port, protocol, certificate) re-sends the template's action and can point production at
 * the idle target group. safe-deploy rolls out only task definitions through CodeDeploy, so a change
 * to these parts is refused at synth, before any stack is touched, by comparing with the shapes
 * recorded in `safe-deploy.lock.json` (committed next to the configuration).
 */
export const SHAPE_LOCK_FILE = 'safe-deploy.lock.json';

/** ECS service properties that UpdateService may change under the CODE_DEPLOY controller. */
const UPDATABLE_SERVICE_PROPERTIES = new Set([
  'DesiredCount',
  'DeploymentConfiguration',
  'HealthCheckGracePeriodSeconds',
  'PlacementConstraints',
  'PlacementStrategies',
  'EnableECSManagedTags',
  'PropagateTags',
  'Tags',
  // The family name: CDK pins CODE_DEPLOY services to it, and new revisions go through CodeDeploy.
  'TaskDefinition',
]);

const resourceShape = z.object({ summary: z.string(), hash: z.string() });
const stackShape = z.object({ service: resourceShape, listeners: z.record(z.string(), resourceShape) });
const lockSchema = z.object({
  comment: z.string().optional(),
  version: z.literal(1),
  stacks: z.record(z.string(), stackShape),
});

/** One resource as recorded: a readable summary and a hash of every property that matters. */
export type ResourceShape = z.infer<typeof resourceShape>;
/** The locked shape of one ECS service stack. */
export type StackShape = z.infer<typeof stackShape>;
/** The lock file's content. */
export type ShapeLock = z.infer<typeof lockSchema>;

const LOCK_COMMENT =
  'Written by `cdk synth`: the load balancer and network shape of each blue/green ECS service stack, as first ' +
  'synthesized; CloudFormation cannot change it safely once deployed. Commit it. See "Changing an ECS service\'s load balancer" in README.md.';

/**
 * The shape of every environment-specific blue/green ECS service stack in the assembly (personal,
 * environment-agnostic stacks are disposable and not locked), keyed `account/region/stack name`.
 */
export function shapesOf(assembly: CloudAssembly): Record<string, StackShape> {
  const shapes: Record<string, StackShape> = {};
  const visit = (asm: CloudAssembly) => {
    for (const stack of asm.stacks) {
      if (stack.environment.account === 'unknown-account' || stack.environment.region === 'unknown-region') continue;
      const shape = shapeOfTemplate(stack.template);
      if (shape) shapes[`${stack.environment.account}/${stack.environment.region}/${stack.stackName}`] = shape;
    }
    asm.nestedAssemblies.forEach((n) => visit(n.nestedAssembly));
  };
  visit(assembly);
  return shapes;
}

/** The locked shape of a template's blue/green ECS service and its listeners, if it has one. */
export function shapeOfTemplate(template: {
  Resources?: Record<string, { Type: string; Properties?: Record<string, CfnValue> }>;
}): StackShape | undefined {
  const resources = Object.entries(template.Resources ?? {});
  const service = resources.find(([, r]) => r.Type === 'AWS::ECS::Service' && r.Properties?.DeploymentController?.Type === 'CODE_DEPLOY');
  if (!service) return undefined;
  const serviceProps = Object.fromEntries(
    Object.entries(service[1].Properties ?? {}).filter(([k]) => !UPDATABLE_SERVICE_PROPERTIES.has(k)),
  );
  const listeners = resources
    .filter(([, r]) => r.Type === 'AWS::ElasticLoadBalancingV2::Listener')
    .map(([id, r]) => [id, { summary: listenerSummary(r.Properties ?? {}), hash: hashOf(r.Properties) }] as const);
  return {
    service: { summary: serviceSummary(serviceProps), hash: hashOf({ id: service[0], ...serviceProps }) },
    listeners: Object.fromEntries(listeners.sort(([a], [b]) => a.localeCompare(b))),
  };
}

function serviceSummary(props: Record<string, CfnValue>): string {
  const targets = (props.LoadBalancers ?? []).map((lb: CfnValue) => `${lb.ContainerName}:${lb.ContainerPort}`).join(', ');
  return `${props.LaunchType ?? 'capacity providers'} ${props.PlatformVersion ?? 'LATEST'}, load balancer targets ${targets || 'none'}`;
}

function listenerSummary(props: Record<string, CfnValue>): string {
  const certificates = (props.Certificates ?? []).length;
  return `${props.Protocol ?? 'HTTP'}:${props.Port}${certificates ? ` with ${certificates} certificate(s)` : ''}${props.SslPolicy ? ` (${props.SslPolicy})` : ''}`;
}

function hashOf(value: unknown): string {
  return createHash('sha256').update(canonicalJson(value)).digest('hex').slice(0, 16);
}

/** JSON with object keys sorted, so that the hash does not depend on property order. */
function canonicalJson(value: unknown): string {
  if (Array.isArray(value)) return `[${value.map(canonicalJson).join(',')}]`;
  if (value && typeof value === 'object') {
    return `{${Object.keys(value)
      .sort()
      .map((k) => `${JSON.stringify(k)}:${canonicalJson((value as Record<string, unknown>)[k])}`)
      .join(',')}}`;
  }
  return JSON.stringify(value) ?? 'null';
}

/** What comparing an app's shapes with the lock found. */
export interface ShapeCheck {
  /** One line per refused change, naming the stack, the resource, before and after, and the fix. */
  readonly problems: string[];
  /** Stacks seen for the first time (recorded in `lock`). */
  readonly added: string[];
  /** The lock to write: the recorded shapes plus the new ones. */
  readonly lock: ShapeLock;
}

/**
 * Compares the app's shapes with the lock. A stack missing from the lock is recorded (its first
 * deploy creates it); a changed shape is a problem, and the lock keeps the recorded one.
 */
export function checkShapes(current: Record<string, StackShape>, lock: ShapeLock | undefined): ShapeCheck {
  const recorded = lock?.stacks ?? {};
  const problems: string[] = [];
  const added: string[] = [];
  // A stack no longer in the app stays recorded: CDK Pipelines leaves removed stacks deployed.
  const stacks: Record<string, StackShape> = { ...recorded };
  for (const [key, shape] of Object.entries(current).sort(([a], [b]) => a.localeCompare(b))) {
    const before = recorded[key];
    if (!before) {
      added.push(key);
      stacks[key] = shape;
      continue;
    }
    const changes: string[] = [];
    if (before.service.hash !== shape.service.hash) changes.push(`the ECS service's ${describeChange(before.service, shape.service)}`);
    for (const id of new Set([...Object.keys(before.listeners), ...Object.keys(shape.listeners)])) {
      const [b, a] = [before.listeners[id], shape.listeners[id]];
      if (!b) changes.push(`a new listener ${id} (${a.summary})`);
      else if (!a) changes.push(`listener ${id} (${b.summary}) removed`);
      else if (a.hash !== b.hash) changes.push(`listener ${id}: ${describeChange(b, a)}`);
    }
    if (changes.length > 0) {
      problems.push(
        `${key}: ${changes.join('; ')}. CloudFormation cannot apply this to a deployed blue/green ECS service ` +
          '(ECS refuses load balancer and network changes outside a CodeDeploy deployment, and a listener update can point production at the idle target group). ' +
          `Deploy it as a new service instead (rename the service in the config, move clients over, then delete the old stack), or, if this stack was never deployed, delete its entry from ${SHAPE_LOCK_FILE} and synthesize again.`,
      );
    }
  }
  const sorted = Object.fromEntries(Object.entries(stacks).sort(([a], [b]) => a.localeCompare(b)));
  return { problems, added, lock: { comment: LOCK_COMMENT, version: 1, stacks: sorted } };
}

function describeChange(before: ResourceShape, after: ResourceShape): string {
  return before.summary === after.summary ? `settings changed (${before.summary})` : `${before.summary} → ${after.summary}`;
}

/** Reads the lock file; undefined when it does not exist. A malformed lock is an error naming the file. */
export function readShapeLock(file: string): ShapeLock | undefined {
  if (!existsSync(file)) return undefined;
  let raw: unknown;
  try {
    raw = JSON.parse(readFileSync(file, 'utf8'));
  } catch (e) {
    throw new Error(
      `${file}: not valid JSON (${(e as Error).message}): restore it from git, or delete it to record every service's shape again`,
      { cause: e },
    );
  }
  const parsed = lockSchema.safeParse(raw);
  if (!parsed.success) {
    throw new Error(
      `${file}: not a safe-deploy shape lock (${parsed.error.issues[0].path.join('.')}: ${parsed.error.issues[0].message}): restore it from git, or delete it to record every service's shape again`,
    );
  }
  return parsed.data;
}

/** Writes the lock when its content changed; returns whether it did. */
export function writeShapeLock(file: string, lock: ShapeLock): boolean {
  const text = `${JSON.stringify(lock, null, 2)}\n`;
  if (existsSync(file) && readFileSync(file, 'utf8') === text) return false;
  writeFileSync(file, text);
  return true;
}
