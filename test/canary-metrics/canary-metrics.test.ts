import { EventEmitter } from 'node:events';
import { CANARY_METRICS, canaryMetricsDocument, containerCanaryMetrics, withCanaryMetrics } from '../../lib/canary-metrics';

const parse = (line: string) =>
  JSON.parse(line) as Record<string, unknown> & { _aws: { CloudWatchMetrics: Array<Record<string, unknown>> } };

describe('the EMF document', () => {
  test('one request under [Service] and [Service, Version], 1-second resolution, the names the judge reads', () => {
    const doc = parse(canaryMetricsDocument('prod-orders', '7', [{ failed: true, latencyMs: 12.3456 }], 1_700_000_000_000));
    expect(doc).toEqual({
      _aws: {
        Timestamp: 1_700_000_000_000,
        CloudWatchMetrics: [
          {
            Namespace: 'SafeDeploy/Canary',
            Dimensions: [['Service'], ['Service', 'Version']],
            Metrics: [
              { Name: 'Requests', Unit: 'Count', StorageResolution: 1 },
              { Name: 'Errors', Unit: 'Count', StorageResolution: 1 },
              { Name: 'Latency', Unit: 'Milliseconds', StorageResolution: 1 },
            ],
          },
        ],
      },
      Service: 'prod-orders',
      Version: '7',
      Requests: 1,
      Errors: 1,
      Latency: 12.346,
    });
  });
  test('a batch: its count, its failures, each latency; more than 100 requests is refused', () => {
    const ok = { failed: false, latencyMs: 5 };
    expect(parse(canaryMetricsDocument('s', '1', [ok, { failed: true, latencyMs: 7 }, ok], 1))).toMatchObject({
      Requests: 3,
      Errors: 1,
      Latency: [5, 7, 5],
    });
    expect(() => canaryMetricsDocument('s', '1', Array(101).fill(ok))).toThrow('an EMF document holds 1 to 100 requests, not 101');
  });
  test('a successful request has Errors 0 (so every window with requests has an Errors datapoint); a bad latency becomes 0', () => {
    const doc = parse(canaryMetricsDocument('s', '1', [{ failed: false, latencyMs: NaN }]));
    expect(doc).toMatchObject({ Errors: 0, Latency: 0, Requests: 1 });
  });
});

describe('withCanaryMetrics (Lambda)', () => {
  const env = process.env;
  beforeEach(() => {
    process.env = { ...env, [CANARY_METRICS.serviceEnv]: 'prod-api', AWS_LAMBDA_FUNCTION_VERSION: '12' };
  });
  afterEach(() => {
    process.env = env;
  });
  let clock = 0;
  const lines: string[] = [];
  const options = { write: (l: string) => lines.push(l), now: () => (clock += 5) };
  beforeEach(() => {
    lines.length = 0;
    clock = 0;
  });

  test('records the version that ran, the latency, and a 5xx as failed; the result passes through', async () => {
    const handler = withCanaryMetrics(async (status: number) => ({ statusCode: status }), options);
    await expect(handler(200)).resolves.toEqual({ statusCode: 200 });
    await expect(handler(503)).resolves.toEqual({ statusCode: 503 });
    expect(lines.map(parse)).toEqual([
      expect.objectContaining({ Service: 'prod-api', Version: '12', Errors: 0, Latency: 5 }),
      expect.objectContaining({ Errors: 1 }),
    ]);
  });
  test('a thrown error is recorded as failed and rethrown unchanged', async () => {
    const boom = new Error('boom');
    const handler = withCanaryMetrics(async () => {
      throw boom;
    }, options);
    await expect(handler()).rejects.toBe(boom);
    expect(parse(lines[0])).toMatchObject({ Errors: 1 });
  });
  test('without SAFE_DEPLOY_METRICS_SERVICE: publishes nothing, warns once with the fix, still serves', async () => {
    delete process.env[CANARY_METRICS.serviceEnv];
    const warnings: string[] = [];
    const handler = withCanaryMetrics(async () => 'ok', { ...options, warn: (l) => warnings.push(l) });
    expect(await handler()).toBe('ok');
    expect(await handler()).toBe('ok');
    expect(lines).toEqual([]);
    expect(warnings).toEqual([
      'canary-metrics: SAFE_DEPLOY_METRICS_SERVICE is not set, so no request is published: set "highResolutionMetrics": true on this service in safe-deploy.config.json',
    ]);
  });
});

describe('containerCanaryMetrics (ECS)', () => {
  const env = process.env;
  afterEach(() => {
    process.env = env;
  });
  const response = (statusCode: number) => Object.assign(new EventEmitter(), { statusCode });

  test('reads the task definition revision once from the task metadata endpoint; 5xx and aborted requests fail', async () => {
    process.env = { ...env, [CANARY_METRICS.serviceEnv]: 'prod-web', ECS_CONTAINER_METADATA_URI_V4: 'http://169.254.170.2/v4/abc' };
    const urls: string[] = [];
    const fetch = (async (url: string) => {
      urls.push(url);
      return new Response(JSON.stringify({ Family: 'prod-web', Revision: '42' }), { status: 200 });
    }) as unknown as typeof globalThis.fetch;
    const lines: string[] = [];
    let clock = 1_000;
    const metrics = containerCanaryMetrics({ fetch, write: (l) => lines.push(l), now: () => (clock += 10) });
    const ok = response(200);
    const failed = response(502);
    const aborted = response(200);
    for (const r of [ok, failed, aborted]) metrics.observe(r);
    ok.emit('finish');
    ok.emit('close'); // after finish: not counted again
    failed.emit('finish');
    aborted.emit('close');
    expect(lines).toEqual([]); // batched until the next flush
    await metrics.flush();
    expect(urls).toEqual(['http://169.254.170.2/v4/abc/task']);
    // One line for the three: the first one's start as its time, each latency, the 502 and the abort failed.
    expect(lines.map(parse)).toEqual([
      expect.objectContaining({
        Version: '42',
        Requests: 3,
        Errors: 2,
        Latency: [30, 30, 30],
        _aws: expect.objectContaining({ Timestamp: 1010 }),
      }),
    ]);
    await metrics.flush();
    expect(lines).toHaveLength(1);
  });
  test('writes at most 100 requests per line (the EMF limit), and flushes on its own every second', async () => {
    process.env = { ...env, [CANARY_METRICS.serviceEnv]: 'prod-web' };
    jest.useFakeTimers();
    try {
      const lines: string[] = [];
      const metrics = containerCanaryMetrics({ version: '3', write: (l) => lines.push(l) });
      for (let i = 0; i < 250; i++) {
        const r = response(i < 5 ? 500 : 200);
        metrics.observe(r);
        r.emit('finish');
      }
      await jest.advanceTimersByTimeAsync(1000);
      expect(lines.map(parse).map((d) => [d.Requests, d.Errors, (d.Latency as number[]).length])).toEqual([
        [100, 5, 100],
        [100, 0, 100],
        [50, 0, 50],
      ]);
    } finally {
      jest.useRealTimers();
    }
  });
  test('an endpoint without a revision: warns and publishes as "unknown"; outside ECS: "local"', async () => {
    process.env = { ...env, [CANARY_METRICS.serviceEnv]: 'prod-web', ECS_CONTAINER_METADATA_URI_V4: 'http://meta' };
    const fetch = (async () => new Response('{}', { status: 500 })) as unknown as typeof globalThis.fetch;
    const lines: string[] = [];
    const warnings: string[] = [];
    const r = response(200);
    const metrics = containerCanaryMetrics({ fetch, write: (l) => lines.push(l), warn: (l) => warnings.push(l) });
    metrics.observe(r);
    r.emit('finish');
    await metrics.flush();
    expect(parse(lines[0]).Version).toBe('unknown');
    expect(warnings).toEqual([
      'canary-metrics: the task metadata endpoint answered 500 without a Revision: requests are published as version "unknown"',
    ]);

    delete process.env.ECS_CONTAINER_METADATA_URI_V4;
    const local: string[] = [];
    const r2 = response(200);
    const localMetrics = containerCanaryMetrics({ write: (l) => local.push(l) });
    localMetrics.observe(r2);
    r2.emit('finish');
    await localMetrics.flush();
    expect(parse(local[0]).Version).toBe('local');
  });
});
