import { mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import * as path from 'node:path';
import { Stage } from 'aws-cdk-lib';
import type { StageEcsService } from '../../lib/config/stage-services';
import { checkShapes, readShapeLock, shapesOf, writeShapeLock } from '../../lib/pipeline/deployed-shape';
import { EcsServiceStack, PublishedImage } from '../../lib/stacks/ecs-service-stack';
import { PlatformStack } from '../../lib/stacks/platform-stack';
import { TestApps } from '../support/app';
import { fixtureService } from '../support/fixtures';

const apps = new TestApps();
const dir = mkdtempSync(path.join(tmpdir(), 'shape-lock-'));
afterAll(() => {
  apps.cleanup();
  rmSync(dir, { recursive: true, force: true });
});

const IMAGE: PublishedImage = { repositoryArn: 'arn:aws:ecr:us-east-1:222222222222:repository/safe-deploy/storefront', tag: 'abc1234' };
const CERTIFICATE = 'arn:aws:acm:us-east-1:111111111111:certificate/0b1c2d3e-4f50-6172-8394-a5b6c7d8e9f0';

/** The shapes of one Beta target holding the storefront fixture, built with `service` changes. */
function shapes(
  service: Partial<StageEcsService> = {},
  image = IMAGE,
  env: { account: string; region: string } | null = { account: '111111111111', region: 'us-east-1' },
) {
  const app = apps.create({ context: { 'aws:cdk:bundling-stacks': [] } });
  const stage = new Stage(app, 'Beta', { env: env ?? undefined });
  const platform = new PlatformStack(stage, 'Platform', { ecs: true });
  new EcsServiceStack(stage, 'storefront', {
    service: fixtureService('ecs', 'storefront', {
      deployment: { type: 'canary', percent: 10, intervalMinutes: 5 },
      blueTerminationWaitMinutes: 0,
      ...service,
    }),
    platform,
    image,
  });
  return shapesOf(app.synth());
}

const KEY = '111111111111/us-east-1/Beta-storefront';

describe('the shape lock of blue/green ECS services', () => {
  const first = shapes();
  const { lock } = checkShapes(first, undefined);

  test('records each environment-specific ECS service stack: its service and both listeners', () => {
    expect(Object.keys(first)).toEqual([KEY]);
    expect(first[KEY].service.summary).toBe('FARGATE LATEST, load balancer targets app:8080');
    expect(Object.values(first[KEY].listeners).map((l) => l.summary)).toEqual(['HTTP:80', 'HTTP:8080']);
    expect(checkShapes(first, undefined).added).toEqual([KEY]);
  });

  test('a new release with a new image, task size and desired count passes: those go through CodeDeploy or UpdateService', () => {
    const next = shapes({ cpu: 512, memoryMiB: 1024, desiredCount: 4, environment: { GREETING: 'Hi' } }, { ...IMAGE, tag: 'def5678' });
    expect(checkShapes(next, lock)).toEqual({ problems: [], added: [], lock });
  });

  test('fails when the container port changes, naming the stack, before and after, and the fix', () => {
    const { problems } = checkShapes(shapes({ port: 3000 }), lock);
    expect(problems).toHaveLength(1);
    expect(problems[0]).toContain(
      `${KEY}: the ECS service's FARGATE LATEST, load balancer targets app:8080 → FARGATE LATEST, load balancer targets app:3000`,
    );
    expect(problems[0]).toContain('Deploy it as a new service instead (rename the service in the config');
    expect(problems[0]).toContain('delete its entry from safe-deploy.lock.json');
  });

  test('fails when a certificate turns the production listener to HTTPS (a listener update could point production at the idle target group)', () => {
    const { problems, lock: kept } = checkShapes(shapes({ certificateArn: CERTIFICATE }), lock);
    expect(problems).toHaveLength(1);
    expect(problems[0]).toMatch(/listener|HTTPS/);
    expect(problems[0]).toContain('can point production at the idle target group');
    // The recorded shape is kept: the refused change is not learned.
    expect(kept).toEqual(lock);
  });

  test('a new target (another region) is recorded beside the existing ones', () => {
    const other = shapes({}, IMAGE, { account: '111111111111', region: 'eu-west-1' });
    const result = checkShapes({ ...first, ...other }, lock);
    expect(result.problems).toEqual([]);
    expect(result.added).toEqual(['111111111111/eu-west-1/Beta-storefront']);
    expect(Object.keys(result.lock.stacks)).toEqual(['111111111111/eu-west-1/Beta-storefront', KEY]);
  });

  test('a service removed from the config stays recorded (CDK Pipelines leaves its stack deployed)', () => {
    expect(checkShapes({}, lock).lock.stacks[KEY]).toEqual(lock.stacks[KEY]);
  });

  test('environment-agnostic (personal) stacks are not locked', () => {
    expect(shapes({}, IMAGE, null)).toEqual({});
  });

  test('the lock file round-trips, is rewritten only when it changes, and a malformed one is refused by name', () => {
    const file = path.join(dir, 'safe-deploy.lock.json');
    expect(readShapeLock(file)).toBeUndefined();
    expect(writeShapeLock(file, lock)).toBe(true);
    expect(writeShapeLock(file, lock)).toBe(false);
    expect(readShapeLock(file)).toEqual(lock);
    writeFileSync(file, '{"version": 2}');
    expect(() => readShapeLock(file)).toThrow(`${file}: not a safe-deploy shape lock (version: `);
    writeFileSync(file, '{');
    expect(() => readShapeLock(file)).toThrow(/not valid JSON .*restore it from git, or delete it/);
    expect(readFileSync(file, 'utf8')).toBe('{');
  });
});
