import { TestApps } from './support/app';
import { fixtureConfig, FixtureName } from './support/fixtures';
import { buildApp, synthesize } from './support/whole-app';

// Its own file so that jest runs these synths beside test/app.test.ts's.
const apps = new TestApps();
afterAll(() => apps.cleanup());

describe.each<FixtureName>(['three-services', 'lambda-only', 'ecs-only', 'two-ecs'])('the whole app on the %s fixture', (name) => {
  test('synthesizes with zero unsuppressed cdk-nag or safety-policy errors', () => {
    // Bundling skipped: these check the infrastructure of each mix, not the services' code.
    const app = apps.create({ context: { 'aws:cdk:bundling-stacks': [] } });
    buildApp(fixtureConfig(name), app);
    const { failures, error } = synthesize(app);
    expect({ error, failures }).toEqual({ error: undefined, failures: [] });
  });
});
