import { spawnSync } from 'node:child_process';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import * as path from 'node:path';

/** The real entry point, as `npx deployctl` runs it: shim, tsx, SDK credential chain. */
const ROOT = path.join(__dirname, '..', '..');
const BIN = path.join(ROOT, 'bin', 'deployctl.js');

let home: string;
beforeAll(() => {
  home = mkdtempSync(path.join(tmpdir(), 'deployctl-home-'));
});
afterAll(() => rmSync(home, { recursive: true, force: true }));

test('node bin/deployctl.js --help lists the verbs and exits 0', () => {
  const r = spawnSync(process.execPath, [BIN, '--help'], { cwd: ROOT, encoding: 'utf8', timeout: 30_000 });
  expect(r.status).toBe(0);
  expect(r.stdout).toMatch(/Usage: deployctl[\s\S]*status[\s\S]*retry[\s\S]*rollback[\s\S]*diagnose/);
  expect(r.stderr).toBe('');
});

test('without credentials it prints one line on stderr and exits non-zero', () => {
  // A clean environment: no keys, no profile files, no instance metadata; the region comes from a fixture config.
  const env = {
    PATH: process.env.PATH ?? '',
    HOME: home,
    AWS_EC2_METADATA_DISABLED: 'true',
    AWS_SDK_JS_NODE_VERSION_SUPPORT_WARNING_DISABLED: 'true',
    AWS_CONFIG_FILE: path.join(home, 'none'),
    AWS_SHARED_CREDENTIALS_FILE: path.join(home, 'none'),
    SAFE_DEPLOY_CONFIG: path.join(ROOT, 'test', 'fixtures', 'example.config.json'),
  };
  const r = spawnSync(process.execPath, [BIN, 'status'], { cwd: ROOT, encoding: 'utf8', env, timeout: 30_000 });
  expect(r.stderr.split('\n').filter(Boolean)).toEqual([
    'deployctl: no AWS credentials found: run `aws sso login` / `aws configure`, or set AWS_PROFILE (or AWS_ACCESS_KEY_ID and AWS_SECRET_ACCESS_KEY)',
  ]);
  expect(r.stdout).toBe('');
  expect(r.status).toBe(2);
});

test('with credentials but an unreachable endpoint it fails fast, on one line, and as JSON with --json', () => {
  const env = {
    PATH: process.env.PATH ?? '',
    HOME: home,
    AWS_ACCESS_KEY_ID: 'AKIAEXAMPLEEXAMPLE00',
    AWS_SECRET_ACCESS_KEY: 'example-secret',
    AWS_REGION: 'us-east-1',
    // Port 9 (discard) is closed on a test machine: the connection is refused at once.
    AWS_ENDPOINT_URL: 'http://127.0.0.1:9',
    AWS_CONFIG_FILE: path.join(home, 'none'),
    AWS_SHARED_CREDENTIALS_FILE: path.join(home, 'none'),
    SAFE_DEPLOY_CONFIG: path.join(ROOT, 'test', 'fixtures', 'example.config.json'),
  };
  const started = Date.now();
  const r = spawnSync(process.execPath, [BIN, 'status', '--json'], { cwd: ROOT, encoding: 'utf8', env, timeout: 30_000 });
  const line = 'cannot reach AWS (Error: connect ECONNREFUSED 127.0.0.1:9): check your network, proxy and region';
  expect(r.stderr.split('\n').filter(Boolean)).toEqual([`deployctl: ${line}`]);
  expect(JSON.parse(r.stdout)).toEqual({ error: { message: line, exitCode: 2 } });
  expect(r.status).toBe(2);
  expect(Date.now() - started).toBeLessThan(15_000);
});
