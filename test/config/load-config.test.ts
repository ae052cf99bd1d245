import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import * as path from 'node:path';
import { ConfigError, loadConfig, parseConfig, pipelineName, waveAccount } from '../../lib/config/load-config';
import { stageServices } from '../../lib/config/stage-services';
import { FIXTURES_DIR, fixtureConfig, fixtureJson, FixtureName } from '../support/fixtures';

const EXAMPLE_FILE = path.join(FIXTURES_DIR, 'example.config.json');
/** The example fixture (the shipped example's layout with fixture services), as a fresh mutable object. */
const example = () => fixtureJson('example');

/** The problems a configuration has (empty when valid). */
function problems(mutate: (c: any) => void, name: FixtureName = 'example'): string[] {
  try {
    fixtureConfig(name, mutate);
    return [];
  } catch (e) {
    if (!(e instanceof ConfigError)) throw e;
    return e.problems;
  }
}

describe('the example configuration', () => {
  test('is valid and gets defaults applied', () => {
    const config = loadConfig({ file: EXAMPLE_FILE });
    expect(config.appName).toBe('safe-deploy');
    expect(config.stages.map((s) => [s.name, s.type])).toEqual([
      ['Beta', 'pre-production'],
      ['Prod', 'production'],
    ]);
    expect(config.stages[0].manualApproval).toBe(false);
    expect(config.artifacts).toEqual({ retentionDays: 180, imageCount: 20 });
    expect(pipelineName(config)).toBe('safe-deploy-pipeline');
  });

  test('a wave inherits the stage account, then the pipeline account', () => {
    const config = loadConfig({ file: EXAMPLE_FILE });
    const [beta, prod] = config.stages;
    expect(waveAccount(config, beta, beta.waves[0])).toBe(config.pipeline.account);
    expect(waveAccount(config, prod, prod.waves[0])).toBe('222222222222');
  });
});

describe('overrides for a laptop deploy', () => {
  test('context wins over the environment, which wins over the file', () => {
    const config = loadConfig({
      file: EXAMPLE_FILE,
      context: (k) => (({ githubBranch: 'feature-x', githubOwner: 'ctx-owner' }) as Record<string, string>)[k],
      env: { SAFE_DEPLOY_GITHUB_OWNER: 'env-owner', SAFE_DEPLOY_PIPELINE_REGION: 'eu-west-1' },
    });
    expect(config.github.branch).toBe('feature-x');
    expect(config.github.owner).toBe('ctx-owner');
    expect(config.pipeline.region).toBe('eu-west-1');
  });

  test('an overridden value is validated like the file', () => {
    expect(() => loadConfig({ file: EXAMPLE_FILE, env: { SAFE_DEPLOY_GITHUB_BRANCH: 'my branch' } })).toThrow(
      /github\.branch: "my branch" is not a valid git branch name: remove spaces/,
    );
  });

  describe('another file', () => {
    let dir: string;
    beforeAll(() => (dir = mkdtempSync(path.join(tmpdir(), 'safe-deploy-config-'))));
    afterAll(() => rmSync(dir, { recursive: true, force: true }));

    test('is read from context "config", with service paths relative to it', () => {
      const file = path.join(dir, 'other.json');
      const raw = example();
      raw.services[0].entry = path.join(FIXTURES_DIR, raw.services[0].entry);
      raw.services[1].directory = path.relative(dir, path.join(FIXTURES_DIR, raw.services[1].directory));
      writeFileSync(file, JSON.stringify({ ...raw, appName: 'other-app' }));
      const config = loadConfig({ context: (k) => (k === 'config' ? file : undefined) });
      expect(config.appName).toBe('other-app');
      expect(config.services.map((s) => (s.kind === 'lambda' ? s.entry : s.directory))).toEqual([
        path.join(FIXTURES_DIR, 'services/greeting-api/handler.ts'),
        path.join(FIXTURES_DIR, 'services/greeting-web'),
      ]);
    });

    test('fails when the file does not exist', () => {
      expect(() => loadConfig({ file: path.join(dir, 'missing.json') })).toThrow(
        /the file does not exist: create it \(copy safe-deploy.config.json\), or name yours with -c config=<path> \(cdk\), --config <path> \(deployctl\) or SAFE_DEPLOY_CONFIG/,
      );
    });

    test('fails when the file is not JSON', () => {
      const file = path.join(dir, 'broken.json');
      writeFileSync(file, '{ "appName": ');
      expect(() => loadConfig({ file })).toThrow(/not valid JSON .*: fix the syntax/);
    });
  });
});

describe('validation', () => {
  test('fails when the connection ARN is not a CodeConnections ARN', () => {
    expect(problems((c) => (c.github.connectionArn = 'arn:aws:s3:::bucket'))).toEqual([
      expect.stringMatching(
        /^github\.connectionArn: "arn:aws:s3:::bucket" is not a CodeConnections connection ARN: create a GitHub connection/,
      ),
    ]);
  });

  test('accepts the older codestar-connections ARN form', () => {
    expect(
      problems(
        (c) =>
          (c.github.connectionArn = 'arn:aws:codestar-connections:eu-west-1:123456789012:connection/12345678-1234-1234-1234-123456789012'),
      ),
    ).toEqual([]);
  });

  test('fails when a region does not exist', () => {
    expect(problems((c) => (c.stages[1].waves[1].regions[0] = 'us-east-9'))).toEqual([
      'stages[1].waves[1].regions[0]: "us-east-9" is not an AWS region: use a region code, e.g. "us-east-1"',
    ]);
  });

  test('fails when the pipeline region does not exist', () => {
    expect(problems((c) => (c.pipeline.region = 'mars-1'))).toEqual([
      'pipeline.region: "mars-1" is not an AWS region: use a region code, e.g. "us-east-1"',
    ]);
  });

  test.each([
    ['too short', '12345'],
    ['letters', '12345678901a'],
    ['a number', 123456789012],
  ])('fails when an account id is %s', (_, bad) => {
    expect(problems((c) => (c.stages[1].account = bad))).toEqual([
      `stages[1].account: ${JSON.stringify(bad)} is not an AWS account id: use the 12-digit id as a string, e.g. "123456789012"`,
    ]);
  });

  test('fails when no stage is production', () => {
    expect(problems((c) => (c.stages = [c.stages[0]]))).toEqual([
      'stages: no stage has type "production" (stages: ["Beta"]): mark the last stage "type": "production"',
    ]);
  });

  test('fails when production comes before any pre-production stage', () => {
    expect(problems((c) => c.stages.reverse())).toEqual([
      'stages[0].type: production stage "Prod" comes before any pre-production stage: put a "pre-production" stage (e.g. "Beta") before it',
    ]);
  });

  test('fails when two stages share a name (case-insensitively)', () => {
    expect(problems((c) => (c.stages[1].name = 'BETA'))).toEqual([
      'stages[1].name: "BETA" is already the name of stages[0]: give each stage a unique name',
    ]);
  });

  test('fails when two waves of a stage share a name', () => {
    expect(problems((c) => (c.stages[1].waves[1].name = 'Wave1'))).toEqual([
      'stages[1].waves[1].name: "Wave1" is already the name of waves[0]: give each wave of a stage a unique name',
    ]);
  });

  test('fails when a stage lists a region twice', () => {
    expect(problems((c) => c.stages[1].waves[1].regions.push('us-east-1'))).toEqual([
      expect.stringMatching(
        /^stages\[1\]\.waves\[1\]\.regions\[2\]: "us-east-1" is already deployed by waves\[0\]\.regions\[0\] of this stage: list each region once per stage/,
      ),
    ]);
  });

  test.each(['my branch', 'feature..x', 'bad~name', '-leading'])('fails when the branch name is %j', (bad) => {
    expect(problems((c) => (c.github.branch = bad))).toEqual([
      `github.branch: ${JSON.stringify(bad)} is not a valid git branch name: remove spaces and any of ~ ^ : ? * [ \\ .. (e.g. "main" or "release/v2")`,
    ]);
  });

  test('accepts a branch with a slash', () => {
    expect(problems((c) => (c.github.branch = 'release/v2'))).toEqual([]);
  });

  test('fails when a stage name has characters a stack name cannot', () => {
    expect(problems((c) => (c.stages[0].name = 'Beta stage'))).toEqual([
      `stages[0].name: "Beta stage" is not a valid stage name: start with a letter, then letters, digits or '-' (at most 40), e.g. "Beta"`,
    ]);
  });

  test('fails when the stage type is unknown', () => {
    expect(problems((c) => (c.stages[0].type = 'staging'))).toEqual([
      'stages[0].type: "staging" is not a stage type: use "pre-production" or "production"',
    ]);
  });

  test('fails when a traffic shift is out of range or unknown', () => {
    expect(
      problems((c) => {
        c.stages[1].lambda.deployment = { type: 'canary', percent: 100, intervalMinutes: 0 };
        c.stages[1].ecs.deployment = { type: 'blue-green' };
      }),
    ).toEqual([
      'stages[1].lambda.deployment.percent: 100 is not a traffic percentage: use a whole number from 1 to 99',
      'stages[1].lambda.deployment.intervalMinutes: 0 minutes: use a whole number from 1 to 2880',
      'stages[1].ecs.deployment.type: "blue-green" is not a traffic shift type: use "all-at-once", "canary" or "linear"',
    ]);
  });

  test.each([45, 30, 90])('fails when an alarm period is %j seconds', (period) => {
    expect(problems((c) => (c.stages[1].lambda.alarms = { periodSeconds: period }))).toEqual([
      `stages[1].lambda.alarms.periodSeconds: ${period} is not a whole number of minutes, the resolution Lambda and ALB metrics are published at: use a multiple of 60, e.g. 60`,
    ]);
  });

  test('fails when datapointsToAlarm exceeds evaluationPeriods', () => {
    expect(problems((c) => (c.stages[1].lambda.alarms = { evaluationPeriods: 2, datapointsToAlarm: 3 }))).toEqual([
      'stages[1].lambda.alarms.datapointsToAlarm: 3 must be a whole number from 1 to evaluationPeriods (2)',
    ]);
  });

  test('fails on an ECS service with the messages of CanaryEcsService itself (one definition of each limit)', () => {
    expect(
      problems((c) => {
        Object.assign(c.services[1], { port: 70000, desiredCount: 101, testTraffic: [] });
        c.stages[1].ecs.blueTerminationWaitMinutes = 3000;
      }),
    ).toEqual([
      'services[1].port: 70000 is not a port: use a whole number from 1 to 65535, e.g. 8080',
      "services[1].testTraffic: 0 probes: give 1 to 10 (each may take up to 19 s within the hook's time)",
      'services[1].desiredCount: 101 is not a task count: use a whole number from 1 to 100 (2 or more spreads tasks over both AZs)',
      "stages[1].ecs.blueTerminationWaitMinutes: 3000 minutes is out of CodeDeploy's range: use 0 to 2880 minutes (2 days)",
    ]);
  });

  test("fails when a stage's reserved concurrency is out of CanaryLambdaService's range", () => {
    expect(problems((c) => (c.stages[1].services = { 'greeting-api': { reservedConcurrency: 0 } }))).toEqual([
      'stages[1].services.greeting-api.reservedConcurrency: 0 is not a reserved concurrency: use a whole number from 1 to 10000',
    ]);
  });

  test("fails when the alarm's periods span more than CloudWatch's one day (the constructs' own rule)", () => {
    expect(problems((c) => (c.stages[1].ecs.alarms = { periodSeconds: 21600, evaluationPeriods: 5 }))).toEqual([
      "stages[1].ecs.alarms.evaluationPeriods: 5 periods of 360 minutes exceed CloudWatch's one-day evaluation limit: use at most 4",
    ]);
  });

  test('fails when a production-only setting is on a pre-production stage', () => {
    expect(problems((c) => (c.stages[0].bake = { minutes: 10, minRequests: 1 }))).toEqual([
      'stages[0].bake: is set on pre-production stage "Beta": bake guards production stages only; move it to a production stage or remove it',
    ]);
  });

  test('fails when the deployment window has a bad time zone, day or time', () => {
    expect(
      problems((c) => {
        c.stages[1].deploymentWindow = { timeZone: 'Mars/Olympus', windows: [{ days: ['MON', 'FUNDAY'], start: '9:00', end: '17:00' }] };
      }),
    ).toEqual([
      'stages[1].deploymentWindow.timeZone: "Mars/Olympus" is not an IANA time zone: use e.g. "America/New_York" or "UTC"',
      'stages[1].deploymentWindow.windows[0].days[1]: "FUNDAY" is not a day: use one of MON, TUE, WED, THU, FRI, SAT, SUN',
      'stages[1].deploymentWindow.windows[0].start: "9:00" is not a time of day: use 24-hour "HH:MM", e.g. "09:30"',
    ]);
  });

  test('fails when artifacts would not be kept long enough to roll back to', () => {
    expect(problems((c) => (c.artifacts = { retentionDays: 7, imageCount: 2 }))).toEqual([
      'artifacts.retentionDays: 7 days is too short to roll back to: keep artifacts at least 30 days',
      'artifacts.imageCount: 2 images is too few to roll back to: keep at least 5',
    ]);
  });

  test('fails when a bake is longer than a pipeline action can wait', () => {
    expect(problems((c) => (c.stages[1].bake = { minutes: 1440, minRequests: 10 }))).toEqual([
      'stages[1].bake.minutes: 1440 minutes is not a bake the gate can wait for: CodePipeline ends a Lambda action after 24 hours and the gate allows 2 more hours ' +
        'for traffic, so use a whole number from 0 to 1200',
    ]);
  });

  test('fails when a notification address is not an e-mail address', () => {
    expect(problems((c) => (c.notifications = { emails: ['ops@example.com', 'not-an-address'] }))).toEqual([
      'notifications.emails[1]: "not-an-address" is not an e-mail address: use e.g. "team@example.com"',
    ]);
  });

  test('fails when a field is missing, mistyped or unknown', () => {
    expect(
      problems((c) => {
        delete c.github.repo;
        c.stages[0].manualApproval = 'yes';
        c.stages[0].regions = ['us-east-1'];
      }),
    ).toEqual([
      'github.repo: is missing: add it (expected string)',
      'stages[0].manualApproval: "yes" is not a boolean: use a boolean',
      `stages[0]: unknown field "regions": remove it or check the spelling (README, "Configuration reference")`,
    ]);
  });

  test('the error names the source file and lists each problem on its own line', () => {
    const error = (() => {
      try {
        parseConfig({}, { source: 'my.json' });
      } catch (e) {
        return e as ConfigError;
      }
      throw new Error('expected a ConfigError');
    })();
    expect(error.message.split('\n')[0]).toBe('Invalid configuration in my.json:');
    expect(error.problems).toContain('appName: is missing: add it (expected string)');
    expect(error.problems.length).toBeGreaterThanOrEqual(4);
  });
});

describe('services', () => {
  test("the issue's three services: defaults applied, paths resolved against the config file", () => {
    const config = fixtureConfig('three-services');
    expect(config.services).toEqual([
      expect.objectContaining({
        name: 'orders-api',
        kind: 'lambda',
        handler: 'handler',
        url: 'public',
        healthCheck: { path: '/health', expectedStatus: 200 },
        memoryMiB: 256,
        timeoutSeconds: 10,
        environment: {},
        architecture: 'arm64',
      }),
      expect.objectContaining({
        name: 'billing-worker',
        kind: 'lambda',
        url: 'none',
        entry: path.join(FIXTURES_DIR, 'services/billing-worker/handler.ts'),
      }),
      expect.objectContaining({
        name: 'storefront',
        kind: 'ecs',
        port: 8080,
        healthCheck: { path: '/healthz', expectedStatus: 200 },
        dockerfile: 'Dockerfile',
        cpu: 256,
        memoryMiB: 512,
        desiredCount: 2,
        directory: path.join(FIXTURES_DIR, 'services/storefront'),
      }),
    ]);
  });

  test('a Lambda-only config needs no ecs block, an ECS-only one no lambda block', () => {
    expect(problems(() => undefined, 'lambda-only')).toEqual([]);
    expect(problems(() => undefined, 'ecs-only')).toEqual([]);
  });

  test('stage settings: per-kind defaults, then a per-service override', () => {
    const config = fixtureConfig('three-services', (c) => {
      c.stages[1].services = {
        'billing-worker': {
          deployment: { type: 'linear', percent: 20, intervalMinutes: 5 },
          alarms: { errorRatePercent: 5 },
          reservedConcurrency: 7,
        },
      };
    });
    const prod = stageServices(config, config.stages[1]);
    expect(prod.map((s) => [s.name, s.deployment])).toEqual([
      ['orders-api', { type: 'canary', percent: 10, intervalMinutes: 10 }],
      ['billing-worker', { type: 'linear', percent: 20, intervalMinutes: 5 }],
      ['storefront', { type: 'canary', percent: 10, intervalMinutes: 10 }],
    ]);
    expect(prod[1]).toMatchObject({ alarms: { errorRatePercent: 5, p99LatencyMs: 1000 }, reservedConcurrency: 7 });
    expect(prod[2]).toMatchObject({ blueTerminationWaitMinutes: 30 });
    expect(stageServices(config, config.stages[0])[2]).toMatchObject({
      deployment: { type: 'all-at-once' },
      blueTerminationWaitMinutes: 0,
    });
  });

  test('a per-service deployment in every stage makes the per-kind block optional', () => {
    expect(
      problems((c) => {
        delete c.stages[0].lambda;
        c.stages[0].services = { 'greeting-api': { deployment: { type: 'all-at-once' } } };
      }),
    ).toEqual([]);
  });

  test('fails when a stage has services of a kind but no defaults for it', () => {
    expect(problems((c) => delete c.stages[1].ecs, 'three-services')).toEqual([
      'stages[1].ecs: is missing: stage "Prod" deploys the ecs services ["storefront"]; add "ecs": { "deployment": { "type": "all-at-once" }, "blueTerminationWaitMinutes": 0 }, or give each of them stages[1].services.<name>.deployment',
    ]);
  });

  test('fails when an override names an unknown service', () => {
    expect(problems((c) => (c.stages[1].services = { 'order-api': { deployment: { type: 'all-at-once' } } }))).toEqual([
      'stages[1].services.order-api: is not a service: the services are ["greeting-api","greeting-web"]; fix the name or remove the override',
    ]);
  });

  test('fails when an override sets a field of the other kind', () => {
    expect(
      problems(
        (c) => (c.stages[1].services = { 'greeting-api': { blueTerminationWaitMinutes: 5 }, 'greeting-web': { reservedConcurrency: 3 } }),
      ),
    ).toEqual([
      'stages[1].services.greeting-api.blueTerminationWaitMinutes: is a setting of ecs services, and "greeting-api" is a lambda service: remove it',
      'stages[1].services.greeting-web.reservedConcurrency: is a setting of lambda services, and "greeting-web" is a ecs service: remove it',
    ]);
  });

  test('fails when a service has a field of the other kind', () => {
    expect(problems((c) => (c.services[0].port = 8080))).toEqual([
      'services[0]: "port" is a field of ecs services, and this service has kind "lambda": remove it or change "kind"',
    ]);
  });

  test('fails when two services share a name', () => {
    expect(problems((c) => (c.services[1].name = 'greeting-api'))).toEqual([
      'services[1].name: "greeting-api" is already the name of services[0]: give each service a unique name',
    ]);
  });

  test.each([
    ['Orders', '"Orders" is not a valid service name'],
    ['platform', '"platform" is the name of the stack every target shares'],
  ])('fails when a service is named %j', (name, message) => {
    expect(problems((c) => (c.services[0].name = name))).toEqual([expect.stringContaining(message)]);
  });

  test('fails when the kind is unknown', () => {
    expect(problems((c) => (c.services[0].kind = 'ec2'))).toEqual(['services[0].kind: "ec2" is not a service kind: use "lambda" or "ecs"']);
  });

  test('fails when there are no services', () => {
    expect(problems((c) => (c.services = []))).toEqual([
      'services: []: list at least one service, e.g. [{ "name": "orders-api", "kind": "lambda", "entry": "services/orders-api/handler.ts" }]',
    ]);
  });

  test('fails when an entry, a directory or a Dockerfile does not exist, naming the path tried', () => {
    expect(
      problems((c) => {
        c.services[0].entry = 'services/orders-api/main.ts';
        c.services[1].directory = 'services/store';
      }),
    ).toEqual([
      `services[0].entry: "services/orders-api/main.ts" does not exist (looked for ${path.join(FIXTURES_DIR, 'services/orders-api/main.ts')}): create the handler file or fix the path (relative to the config file)`,
      `services[1].directory: "services/store" is not a directory (looked for ${path.join(FIXTURES_DIR, 'services/store')}): point it at the service's Docker build context (relative to the config file)`,
    ]);
    expect(problems((c) => (c.services[1].dockerfile = 'Dockerfile.prod'))).toEqual([
      'services[1].dockerfile: "Dockerfile.prod" is not in "services/greeting-web": add a Dockerfile to the build context or set "dockerfile"',
    ]);
  });

  test('fails when an entry is not a source file, or a check is malformed', () => {
    expect(
      problems((c) => {
        c.services[0].entry = 'services/orders-api/handler.py';
        c.services[0].healthCheck = { path: 'health', expectedStatus: 700 };
        c.services[0].url = 'open';
      }),
    ).toEqual([
      'services[0].entry: "services/orders-api/handler.py" is not a TypeScript or JavaScript file: point entry at the handler\'s source, e.g. "services/orders-api/handler.ts"',
      'services[0].url: "open" is not a URL mode: use "none", "iam" or "public"',
      'services[0].healthCheck.path: "health" is not a request path: start with "/", no spaces, e.g. "/health"',
      'services[0].healthCheck.expectedStatus: 700 is not an HTTP status: use 100 to 599, e.g. 200',
    ]);
  });

  test('fails when highResolutionMetrics is not a boolean, naming the helper', () => {
    expect(problems((c) => (c.services[1].highResolutionMetrics = 'yes'))).toEqual([
      'services[1].highResolutionMetrics: "yes" is not true or false: use true when the service publishes its requests with lib/canary-metrics (README, "Faster judgement"), else leave it out',
    ]);
  });

  test('fails when a Lambda service has both a health check and an invoke check', () => {
    expect(problems((c) => (c.services[0].invokeCheck = { payload: {} }))).toEqual([
      'services[0].invokeCheck: is set together with healthCheck: give an HTTP service a healthCheck, an event-driven one an invokeCheck, not both',
    ]);
  });

  test('fails when an environment variable looks like a secret', () => {
    expect(
      problems((c) => (c.services[0].environment = { TABLE_NAME: 'orders', DB_PASSWORD: 'hunter2', KEY_ID: 'AKIAABCDEFGHIJKLMNOP' })),
    ).toEqual([
      'services[0].environment.DB_PASSWORD: "DB_PASSWORD" looks like a secret: environment variables are visible to anyone who can read the function or task definition; store it in Secrets Manager or SSM Parameter Store and read it at run time',
      'services[0].environment.KEY_ID: "KEY_ID" looks like a secret: environment variables are visible to anyone who can read the function or task definition; store it in Secrets Manager or SSM Parameter Store and read it at run time',
    ]);
  });

  test('fails when an ECS task size is not one Fargate offers', () => {
    expect(problems((c) => Object.assign(c.services[1], { cpu: 256, memoryMiB: 4096 }))).toEqual([
      'services[1].memoryMiB: 4096 MiB is not a Fargate size for cpu 256: see the Fargate task size table (e.g. cpu 256 takes 512, 1024 or 2048)',
    ]);
    expect(problems((c) => (c.services[1].cpu = 300))).toEqual([
      'services[1].cpu: 300 is not a Fargate CPU size: use one of 256, 512, 1024, 2048, 4096, 8192, 16384',
    ]);
  });
});

describe('bake', () => {
  test('fails when minRequests can never be counted: one production wave right after pre-production', () => {
    expect(problems((c) => (c.stages[1].waves = [c.stages[1].waves[0]]))).toEqual([
      'stages[1].bake.minRequests: 500 requests can never be counted: requests are counted on the previous production wave, and the only wave of "Prod" follows pre-production, which serves only smoke-test requests; set it to 0, or split the stage into waves so later waves count the first wave\'s traffic',
    ]);
    expect(problems((c) => ((c.stages[1].waves = [c.stages[1].waves[0]]), (c.stages[1].bake.minRequests = 0)))).toEqual([]);
  });
});

describe("ECS deployments fit CloudFormation's one-hour wait", () => {
  test("fails when a canary step cannot finish within the deployment resource's wait, with the numbers", () => {
    expect(problems((c) => (c.stages[1].ecs.deployment = { type: 'canary', percent: 10, intervalMinutes: 45 }))).toEqual([
      'stages[1].ecs.deployment: canary 10% every 45 min shifts traffic for 45 min; with 15 min to start tasks and run the test hook that is 60 min, and CloudFormation waits at most 60 min for the deployment resource (55 used): use intervalMinutes of at most 40',
    ]);
  });

  test('fails when a linear shift takes too long; a Lambda service may take longer (no custom resource)', () => {
    expect(
      problems((c) => {
        c.stages[1].ecs.deployment = { type: 'linear', percent: 10, intervalMinutes: 5 };
        c.stages[1].lambda.deployment = { type: 'linear', percent: 10, intervalMinutes: 30 };
      }),
    ).toEqual([
      'stages[1].ecs.deployment: linear 10% every 5 min shifts traffic for 45 min; with 15 min to start tasks and run the test hook that is 60 min, and CloudFormation waits at most 60 min for the deployment resource (55 used): use at most 40 minutes of shifting, e.g. intervalMinutes 4 at 10%',
    ]);
  });

  test('a per-service override is checked where it is written', () => {
    expect(
      problems((c) => (c.stages[1].services = { 'greeting-web': { deployment: { type: 'canary', percent: 5, intervalMinutes: 50 } } })),
    ).toEqual([
      expect.stringMatching(/^stages\[1\]\.services\.greeting-web\.deployment: canary 5% every 50 min shifts traffic for 50 min/),
    ]);
  });
});
