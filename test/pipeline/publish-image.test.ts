import { spawnSync } from 'node:child_process';
import { chmodSync, mkdirSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import * as path from 'node:path';

/**
 * lib/pipeline/scripts/publish-image.sh, run for real by bash against stub `aws` and `docker`
 * commands that record what they are asked and answer from a small state file: which regions hold
 * the tag, and what ECR replication reports for each region.
 */
const SCRIPT = path.join(__dirname, '..', '..', 'lib', 'pipeline', 'scripts', 'publish-image.sh');
const TAG = 'a'.repeat(64);
const COMMIT = '3f9c2e1b7a4d6c8e0f1a2b3c4d5e6f7a8b9c0d1e';

const AWS_STUB = `#!/usr/bin/env bash
echo "aws $*" >> "$STUB_LOG"
region=""; args=("$@")
for ((i = 0; i < \${#args[@]}; i++)); do [ "\${args[$i]}" = "--region" ] && region="\${args[$((i + 1))]}"; done
case "$2" in
  get-login-password) echo password ;;
  describe-images) grep -qx "\${region:-$AWS_REGION}" "$STUB_STATE/has-tag" ;;
  describe-image-replication-status)
    for q in "$@"; do case "$q" in *"region=='"*) wanted="\${q#*region==\\'}"; wanted="\${wanted%%\\'*}" ;; esac; done
    status="$(grep "^$wanted=" "$STUB_STATE/replication" | tail -1 | cut -d= -f2)"
    # A region whose replication completes after the first look.
    if [ "$status" = "IN_PROGRESS_ONCE" ]; then echo "$wanted=COMPLETE" >> "$STUB_STATE/replication"; echo "$wanted" >> "$STUB_STATE/has-tag"; status=IN_PROGRESS; fi
    echo "\${status:-None}" ;;
esac
`;
const DOCKER_STUB = `#!/usr/bin/env bash
echo "docker $*" >> "$STUB_LOG"
[ "$1" = "login" ] && cat > /dev/null
if [ "$1" = "push" ]; then r="\${2#*.dkr.ecr.}"; echo "\${r%%.amazonaws.com*}" >> "$STUB_STATE/has-tag"; fi
exit 0
`;

interface Run {
  readonly status: number | null;
  readonly stderr: string;
  readonly calls: string[];
  readonly env: Record<string, string>;
}

let root: string;
beforeEach(() => {
  root = mkdtempSync(path.join(tmpdir(), 'publish-image-'));
  mkdirSync(path.join(root, 'bin'));
  mkdirSync(path.join(root, 'state'));
  mkdirSync(path.join(root, 'cdk.out'));
  mkdirSync(path.join(root, 'services', 'storefront'), { recursive: true });
  writeFileSync(path.join(root, 'bin', 'aws'), AWS_STUB);
  writeFileSync(path.join(root, 'bin', 'docker'), DOCKER_STUB);
  for (const f of ['aws', 'docker']) chmodSync(path.join(root, 'bin', f), 0o755);
  writeFileSync(
    path.join(root, 'cdk.out', 'safe-deploy.release.json'),
    JSON.stringify({
      version: 1,
      images: [
        {
          service: 'storefront',
          repositoryName: 'safe-deploy/storefront',
          tag: TAG,
          directory: 'services/storefront',
          dockerfile: 'Dockerfile',
          platform: 'linux/amd64',
          replicaRegions: ['eu-west-1', 'us-west-2'],
        },
      ],
    }),
  );
});
afterEach(() => rmSync(root, { recursive: true, force: true }));

/** Runs the script for `service`, with the tag already in `hasTag` regions and `replication` statuses. */
function publish(service: string, hasTag: string[], replication: Record<string, string> = {}, extraEnv: Record<string, string> = {}): Run {
  writeFileSync(path.join(root, 'state', 'has-tag'), hasTag.map((r) => `${r}\n`).join(''));
  writeFileSync(
    path.join(root, 'state', 'replication'),
    Object.entries(replication)
      .map(([r, s]) => `${r}=${s}\n`)
      .join(''),
  );
  const log = path.join(root, 'calls.log');
  writeFileSync(log, '');
  const result = spawnSync('bash', [SCRIPT, service], {
    cwd: root,
    encoding: 'utf8',
    env: {
      PATH: `${path.join(root, 'bin')}:${process.env.PATH}`,
      STUB_LOG: log,
      STUB_STATE: path.join(root, 'state'),
      ACCOUNT: '111111111111',
      AWS_REGION: 'us-east-1',
      CODEBUILD_RESOLVED_SOURCE_VERSION: COMMIT,
      POLL_SECONDS: '0',
      ...extraEnv,
    },
  });
  const envFile = path.join(root, 'image.env');
  let env: Record<string, string> = {};
  try {
    env = Object.fromEntries(
      readFileSync(envFile, 'utf8')
        .trim()
        .split('\n')
        .map((l) => l.split('=') as [string, string]),
    );
  } catch {
    // not written: the script failed before the end
  }
  return { status: result.status, stderr: result.stderr, calls: readFileSync(log, 'utf8').trim().split('\n').filter(Boolean), env };
}

const REGISTRY = (region: string) => `111111111111.dkr.ecr.${region}.amazonaws.com/safe-deploy/storefront:${TAG}`;

test('an unchanged build context: the tag exists everywhere, nothing is built or pushed', () => {
  const run = publish('storefront', ['us-east-1', 'eu-west-1', 'us-west-2']);
  expect(run.status).toBe(0);
  expect(run.calls.filter((c) => c.startsWith('docker'))).toEqual([]);
  expect(run.env).toEqual({ IMAGE_TAG: TAG, IMAGE_BUILT: 'false', IMAGE_REPOSITORY: 'safe-deploy/storefront' });
});

test('a changed build context: built once from the service directory with the commit as a label, pushed once; replication fills the other regions', () => {
  const run = publish('storefront', [], { 'eu-west-1': 'IN_PROGRESS_ONCE', 'us-west-2': 'IN_PROGRESS_ONCE' });
  expect(run.status).toBe(0);
  const docker = run.calls.filter((c) => c.startsWith('docker') && !c.startsWith('docker login'));
  expect(docker).toEqual([
    `docker build --platform linux/amd64 --label org.opencontainers.image.revision=${COMMIT} --label org.opencontainers.image.title=storefront -t ${REGISTRY('us-east-1')} -f services/storefront/Dockerfile services/storefront`,
    `docker push ${REGISTRY('us-east-1')}`,
  ]);
  expect(run.env.IMAGE_BUILT).toBe('true');
});

test('a region added after the image was pushed (never replicated): the image is copied there', () => {
  const run = publish('storefront', ['us-east-1', 'us-west-2'], { 'us-west-2': 'COMPLETE' });
  expect(run.status).toBe(0);
  expect(run.calls.filter((c) => /^docker (pull|tag|push)/.test(c))).toEqual([
    `docker pull ${REGISTRY('us-east-1')}`,
    `docker tag ${REGISTRY('us-east-1')} ${REGISTRY('eu-west-1')}`,
    `docker push ${REGISTRY('eu-west-1')}`,
  ]);
  expect(run.env.IMAGE_BUILT).toBe('false');
});

test('replication still in progress after the wait fails the step, naming the region', () => {
  const run = publish('storefront', ['us-east-1', 'us-west-2'], { 'eu-west-1': 'IN_PROGRESS' }, { REPLICATION_WAIT_SECONDS: '0' });
  expect(run.status).toBe(1);
  expect(run.stderr).toContain(`publish-image: replication of safe-deploy/storefront:${TAG} to eu-west-1 still in progress after 0s`);
});

test('a service that is not in the release manifest fails the step with its name', () => {
  const run = publish('catalog', []);
  expect(run.status).toBe(2);
  expect(run.stderr).toContain('publish-image: catalog is not an image of cdk.out/safe-deploy.release.json');
});
