import { readFileSync } from 'node:fs';
import * as path from 'node:path';
import { parseConfig } from '../../lib/config/load-config';
import type { SafeDeployConfig } from '../../lib/config/schema';
import { StageService, stageServices } from '../../lib/config/stage-services';

/** Fixture configs and the services they name live here; tests never read safe-deploy.config.json. */
export const FIXTURES_DIR = path.join(__dirname, '..', 'fixtures');

/**
 * The environment deployctl's CLI tests run with: it names the example fixture as the configuration,
 * so a verb run without --pipeline reads the fixture, never the user's file.
 */
export const CLI_FIXTURE_ENV: Readonly<Record<string, string>> = { SAFE_DEPLOY_CONFIG: path.join(FIXTURES_DIR, 'example.config.json') };

/** The fixture configurations, by file name without `.config.json`. */
export type FixtureName = 'example' | 'three-services' | 'lambda-only' | 'ecs-only' | 'two-ecs';

/** A fixture configuration as written in its file (a fresh mutable object). */
export function fixtureJson(name: FixtureName): any {
  return JSON.parse(readFileSync(path.join(FIXTURES_DIR, `${name}.config.json`), 'utf8'));
}

/** A fixture configuration, validated like the real one, service paths resolved against test/fixtures. */
export function fixtureConfig(name: FixtureName, mutate?: (raw: any) => void): SafeDeployConfig {
  const raw = fixtureJson(name);
  mutate?.(raw);
  return parseConfig(raw, { source: `${name}.config.json`, baseDir: FIXTURES_DIR });
}

/** One service of a fixture as a stage deploys it, with `extra` settings over the stage's. */
export function fixtureService<K extends 'lambda' | 'ecs'>(
  kind: K,
  name: string,
  extra: Partial<StageService> = {},
  fixture: FixtureName = 'three-services',
  stageIndex = 1,
): Extract<StageService, { kind: K }> {
  const config = fixtureConfig(fixture);
  const svc = stageServices(config, config.stages[stageIndex]).find((s) => s.name === name);
  if (!svc || svc.kind !== kind) throw new Error(`fixture ${fixture} has no ${kind} service ${name}`);
  return { ...svc, ...extra } as Extract<StageService, { kind: K }>;
}
