import { existsSync, readFileSync } from 'node:fs';
import * as path from 'node:path';
import { App, Validations } from 'aws-cdk-lib';
import type { CloudAssembly } from 'aws-cdk-lib/cx-api';
import { NagPack, NIST80053R5Checks } from 'cdk-nag';
import type { SafeDeployConfig } from '../../lib/config/schema';
import { EQUIVALENT_RULES, RULE_PACKS } from '../../lib/policy/acknowledgements';
import { NOT_RESOURCE_SCOPABLE, REVIEWED_WILDCARDS } from '../../lib/policy/wildcard-resources';
import { TestApps } from '../support/app';
import { ApplicableCfnGuardValidator } from '../support/applicable-cfn-guard';
import { fixtureConfig } from '../support/fixtures';
import { buildApp, trySynth } from '../support/whole-app';

/**
 * The rule packs other teams' reviews run, as part of `npm test`: AwsSolutions and Serverless (which
 * the app runs at every synth), NIST 800-53 R5 and the AWS Control Tower proactive controls
 * (cfn-guard, whose binary ships in @cdklabs/cdk-validator-cfnguard and runs offline).
 */

interface PackReport {
  pluginName: string;
  conclusion: string;
  violations: Array<{ ruleName: string; severity: string; violatingConstructs: Array<{ constructPath: string }> }>;
  suppressedViolations?: Array<{ ruleName: string; violatingConstructs: unknown[] }>;
}

const apps = new TestApps();
afterAll(() => apps.cleanup());
/** The example's assembly, synthesized once with every pack and read again by the template tests. */
let exampleAssembly: CloudAssembly | undefined;

/**
 * Synthesizes `config` with every pack; returns the assembly (or the error), each pack's report and
 * the findings each pack met and found acknowledged (cdk-nag drops those from its report itself).
 */
function synthesizeWithAllPacks(config: SafeDeployConfig): {
  assembly?: CloudAssembly;
  error?: string;
  reports: PackReport[];
  acknowledged: Record<string, number>;
} {
  // isAcknowledged is protected: every finding of a cdk-nag pack passes through it.
  const spy = jest.spyOn(
    NagPack.prototype as unknown as { isAcknowledged: (resource: unknown, ruleId: string) => boolean },
    'isAcknowledged',
  );
  // Bundling skipped: the packs read the templates, not the handlers' code.
  const app: App = apps.create({ context: { 'aws:cdk:bundling-stacks': [] }, policyValidationBeta1: [new ApplicableCfnGuardValidator()] });
  buildApp(config, app);
  Validations.of(app).addPlugins(new NIST80053R5Checks(app));
  const { assembly, error } = trySynth(app);
  const acknowledged: Record<string, number> = {};
  spy.mock.results.forEach((r, i) => {
    const pack = (spy.mock.contexts[i] as NagPack).readPackName;
    if (r.type === 'return' && r.value === true) acknowledged[pack] = (acknowledged[pack] ?? 0) + 1;
  });
  spy.mockRestore();
  const file = path.join(app.outdir, 'validation-report.json');
  const reports: PackReport[] = existsSync(file) ? JSON.parse(readFileSync(file, 'utf8')).pluginReports : [];
  for (const p of reports)
    if (p.suppressedViolations) acknowledged[p.pluginName] = (acknowledged[p.pluginName] ?? 0) + p.suppressedViolations.length;
  return { assembly, error, reports, acknowledged };
}

/** Unacknowledged errors, one line each: pack, rule, constructs. */
function errors(reports: PackReport[]): string[] {
  return reports.flatMap((p) =>
    p.violations
      .filter((v) => v.severity === 'error' || v.severity === 'fatal')
      .map((v) => `${p.pluginName} ${v.ruleName}: ${v.violatingConstructs.map((c) => c.constructPath).join(', ')}`),
  );
}

/** Every template of an assembly and its nested (stage) assemblies. */
function templates(assembly: CloudAssembly): Array<{ stack: string; template: any }> {
  return [
    ...assembly.stacks.map((s) => ({ stack: s.hierarchicalId, template: s.template })),
    ...assembly.nestedAssemblies.flatMap((n) => templates(n.nestedAssembly)),
  ];
}

/** Allow statements of identity policies (the role's own permissions) whose Resource includes "*". */
function wildcardStatements(assembly: CloudAssembly): Array<{ where: string; actions: string[] }> {
  return templates(assembly).flatMap(({ stack, template }) =>
    Object.entries<any>(template.Resources ?? {}).flatMap(([logicalId, r]) => {
      const docs: any[] =
        r.Type === 'AWS::IAM::Policy' || r.Type === 'AWS::IAM::ManagedPolicy'
          ? [r.Properties.PolicyDocument]
          : r.Type === 'AWS::IAM::Role'
            ? (r.Properties.Policies ?? []).map((p: any) => p.PolicyDocument)
            : [];
      return docs
        .flatMap((d) => d.Statement)
        .filter((s: any) => s.Effect === 'Allow' && [].concat(s.Resource ?? []).includes('*' as never))
        .map((s: any) => ({ where: `${stack}/${logicalId}`, actions: [].concat(s.Action) }));
    }),
  );
}

describe.each<[string, () => SafeDeployConfig]>([
  ['the example configuration', () => fixtureConfig('example')],
  [
    'the example with HTTPS and an IAM-signed Function URL',
    () =>
      fixtureConfig('example', (raw) => {
        // One production region is enough to see what HTTPS and IAM auth change, at a third of the synth time.
        raw.stages[1].waves = [{ name: 'Wave1', regions: ['us-east-1'] }];
        delete raw.stages[1].bake;
        raw.services.find((s: any) => s.kind === 'lambda').url = 'iam';
        raw.services.find((s: any) => s.kind === 'ecs').certificateArn =
          'arn:aws:acm:us-east-1:111111111111:certificate/00000000-0000-4000-8000-000000000000';
      }),
  ],
])('every rule pack on %s', (_name, config) => {
  let result: ReturnType<typeof synthesizeWithAllPacks>;
  beforeAll(() => {
    const started = Date.now();
    result = synthesizeWithAllPacks(config());
    if (_name === 'the example configuration') exampleAssembly = result.assembly;
    const counts = Object.entries(result.acknowledged).map(([pack, n]) => `${pack}: ${n} acknowledged`);
    // Printed for the README's Security section: per pack, findings acknowledged. cfn-guard's count covers one
    // template of each shape (test/support/applicable-cfn-guard.ts), so it is lower than the README's per-template table.
    console.log(`${_name}: synth with all packs ${Date.now() - started} ms; ${counts.join('; ')}`);
  });

  test('AwsSolutions, Serverless, NIST 800-53 R5 and the Control Tower controls report zero unacknowledged errors', () => {
    expect({ error: result.error, errors: errors(result.reports) }).toEqual({ error: undefined, errors: [] });
  });

  test('each pack ran and found what it acknowledges (a pack that silently did not run would report nothing)', () => {
    for (const pack of ['AwsSolutions', 'Serverless', 'NIST.800.53.R5', 'cdk-validator-cfnguard'])
      expect({ pack, ran: (result.acknowledged[pack] ?? 0) > 0 }).toEqual({ pack, ran: true });
  });

  test('every IAM statement on Resource "*" is on an action AWS documents as not resource-scopable, or one with a reviewed reason', () => {
    const unexplained = wildcardStatements(result.assembly!).flatMap(({ where, actions }) =>
      actions.filter((a) => !(a in NOT_RESOURCE_SCOPABLE) && !(a in REVIEWED_WILDCARDS)).map((a) => `${where}: ${a}`),
    );
    expect(unexplained).toEqual([]);
  });
});

describe('what the packs found, fixed (example configuration, whole app)', () => {
  let assembly: CloudAssembly;
  const resources = (stackPattern: RegExp, type: string) =>
    templates(assembly)
      .filter((t) => stackPattern.test(t.stack))
      .flatMap((t) => Object.values<any>(t.template.Resources ?? {}).filter((r) => r.Type === type));
  beforeAll(() => {
    // The templates of the example as synthesized with every pack above (the packs add no resource).
    assembly = exampleAssembly ?? synthesizeWithAllPacks(fixtureConfig('example')).assembly!;
  });

  test('the pipeline role uses only its own artifact key and the replication keys, by alias, not every key of the account', () => {
    const [pipeline] = templates(assembly).filter((t) => t.stack === 'SafeDeployPipeline');
    const policy = Object.entries<any>(pipeline.template.Resources).find(([id]) => /^PipelineRoleDefaultPolicy/.test(id))![1];
    const kmsStatements = policy.Properties.PolicyDocument.Statement.filter((st: any) =>
      [].concat(st.Action).some((a: string) => a.startsWith('kms:')),
    );
    expect(kmsStatements).toEqual([
      expect.objectContaining({ Resource: { 'Fn::GetAtt': [expect.stringMatching(/^ArtifactsKey/), 'Arn'] } }),
      expect.objectContaining({
        Resource: ['arn:aws:kms:us-west-2:111111111111:key/*', 'arn:aws:kms:eu-west-1:111111111111:key/*'],
        Condition: {
          'ForAnyValue:StringEquals': { 'kms:ResourceAliases': [expect.stringMatching(/^alias\//), expect.stringMatching(/^alias\//)] },
        },
      }),
    ]);
    // The aliases are the replication keys' own.
    const aliases = resources(/^cross-region-stack/, 'AWS::KMS::Alias')
      .map((a) => a.Properties.AliasName)
      .sort();
    expect([...kmsStatements[1].Condition['ForAnyValue:StringEquals']['kms:ResourceAliases']].sort()).toEqual(aliases);
  });

  test('the replication buckets are versioned, expire artifacts with the artifact bucket, and log access', () => {
    const buckets = resources(/^cross-region-stack/, 'AWS::S3::Bucket').filter(
      (b) => b.Properties.BucketEncryption.ServerSideEncryptionConfiguration[0].ServerSideEncryptionByDefault.SSEAlgorithm === 'aws:kms',
    );
    expect(buckets).toHaveLength(2);
    for (const b of buckets) {
      expect(b.Properties).toMatchObject({
        VersioningConfiguration: { Status: 'Enabled' },
        LifecycleConfiguration: {
          Rules: expect.arrayContaining([
            expect.objectContaining({
              Id: 'ExpireOldArtifacts',
              ExpirationInDays: 180,
              NoncurrentVersionExpiration: { NoncurrentDays: 30 },
            }),
          ]),
        },
        LoggingConfiguration: {
          DestinationBucketName: { Ref: expect.stringMatching(/^ReplicationAccessLogs/) },
          LogFilePrefix: 'replication/',
        },
        PublicAccessBlockConfiguration: {
          BlockPublicAcls: true,
          BlockPublicPolicy: true,
          IgnorePublicAcls: true,
          RestrictPublicBuckets: true,
        },
      });
    }
    // TLS-only: every bucket of the support stacks denies requests without TLS.
    const policies = resources(/^cross-region-stack/, 'AWS::S3::BucketPolicy');
    expect(policies).toHaveLength(4);
    for (const p of policies)
      expect(p.Properties.PolicyDocument.Statement).toContainEqual(
        expect.objectContaining({ Effect: 'Deny', Action: 's3:*', Condition: { Bool: { 'aws:SecureTransport': 'false' } } }),
      );
  });

  test("undeliverable notification events land in an encrypted, TLS-only queue: EventBridge DLQs and the notifier's on-failure destination", () => {
    const rules = [...resources(/^SafeDeployPipeline$/, 'AWS::Events::Rule'), ...resources(/Platform$/, 'AWS::Events::Rule')];
    expect(rules.length).toBeGreaterThanOrEqual(5);
    for (const rule of rules)
      expect(rule.Properties.Targets.map((t: any) => Boolean(t.DeadLetterConfig?.Arn))).toEqual(rule.Properties.Targets.map(() => true));
    expect(resources(/^SafeDeployPipeline$/, 'AWS::Lambda::EventInvokeConfig')).toEqual([
      expect.objectContaining({
        Properties: expect.objectContaining({
          DestinationConfig: {
            OnFailure: { Destination: { 'Fn::GetAtt': [expect.stringMatching(/^SafetyFailedNotificationsQueue/), 'Arn'] } },
          },
        }),
      }),
    ]);
    for (const queue of resources(/./, 'AWS::SQS::Queue'))
      expect(queue.Properties).toMatchObject({ SqsManagedSseEnabled: true, MessageRetentionPeriod: 1209600 });
    const policies = resources(/./, 'AWS::SQS::QueuePolicy');
    expect(policies.length).toBeGreaterThan(0);
    for (const p of policies)
      expect(p.Properties.PolicyDocument.Statement).toContainEqual(
        expect.objectContaining({ Effect: 'Deny', Condition: { Bool: { 'aws:SecureTransport': 'false' } } }),
      );
  });
});

describe('the tables behind the acknowledgements', () => {
  test('every equivalent-rule id names a pack the product runs, and no id belongs to two controls', () => {
    const ids = Object.values(EQUIVALENT_RULES).flat();
    const prefixes = Object.values(RULE_PACKS);
    for (const id of ids)
      expect({ id, known: prefixes.some((p) => id.startsWith(`${p}-`) || id.startsWith(`${p}::`)) }).toEqual({ id, known: true });
    expect(ids.length).toBe(new Set(ids).size);
  });

  test('no action is both "not resource-scopable" and "reviewed", and every reference cites the Service Authorization Reference', () => {
    expect(Object.keys(NOT_RESOURCE_SCOPABLE).filter((a) => a in REVIEWED_WILDCARDS)).toEqual([]);
    for (const [action, source] of Object.entries(NOT_RESOURCE_SCOPABLE))
      expect({ action, source }).toEqual({
        action,
        source: expect.stringMatching(/service-authorization\/latest\/reference\/list_\w+\.html$/),
      });
    for (const [action, reason] of Object.entries(REVIEWED_WILDCARDS))
      expect({ action, long: reason.length >= 40 }).toEqual({ action, long: true });
  });
});
