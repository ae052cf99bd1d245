import { App, Validations } from 'aws-cdk-lib';
import type { CloudAssembly } from 'aws-cdk-lib/cx-api';
import { CfnGuardValidator } from '@cdklabs/cdk-validator-cfnguard';
import { NIST80053R5Checks } from 'cdk-nag';
import { existsSync, readFileSync } from 'node:fs';
import * as path from 'node:path';
import type { SafeDeployConfig } from '../../lib/config/schema';
import { buildSafeDeployApp } from '../../lib/pipeline/safe-deploy-app';
import { EQUIVALENT_RULES, RULE_PACKS } from '../../lib/policy/acknowledgements';
import { NOT_RESOURCE_SCOPABLE, REVIEWED_WILDCARDS } from '../../lib/policy/wildcard-resources';
import { TestApps } from '../support/app';
import { fixtureConfig } from '../support/fixtures';

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

/** Synthesizes `config` with every pack; returns the assembly (or the error) and each pack's report. */
function synthesizeWithAllPacks(config: SafeDeployConfig): { assembly?: CloudAssembly; error?: string; reports: PackReport[] } {
  // Bundling skipped: the packs read the templates, not the handlers' code.
  const app: App = apps.create({ context: { 'aws:cdk:bundling-stacks': [] }, policyValidationBeta1: [new CfnGuardValidator()] });
  buildSafeDeployApp(app, config, { commit: 'a'.repeat(40), cliVersion: '2.1148.1' });
  Validations.of(app).addPlugins(new NIST80053R5Checks(app));
  let assembly: CloudAssembly | undefined;
  let error: string | undefined;
  try {
    assembly = app.synth();
  } catch (e) {
    error = String(e);
  }
  const file = path.join(app.outdir, 'validation-report.json');
  const reports: PackReport[] = existsSync(file) ? JSON.parse(readFileSync(file, 'utf8')).pluginReports : [];
  return { assembly, error, reports };
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
        raw.services.find((s: any) => s.kind === 'lambda').url = 'iam';
        raw.services.find((s: any) => s.kind === 'ecs').certificateArn = 'arn:aws:acm:us-east-1:111111111111:certificate/00000000-0000-4000-8000-000000000000';
      }),
  ],
])('every rule pack on %s', (_name, config) => {
  let result: ReturnType<typeof synthesizeWithAllPacks>;
  beforeAll(() => {
    const started = Date.now();
    result = synthesizeWithAllPacks(config());
    const counts = result.reports.map((p) => `${p.pluginName}: ${p.violations.length} open, ${p.suppressedViolations?.length ?? 0} acknowledged`);
    // Printed for the security notes (docs/readme/security.md): per pack, rules still open and acknowledged.
    console.log(`${_name}: synth with all packs ${Date.now() - started} ms; ${counts.join('; ')}`);
  });

  test('AwsSolutions, Serverless, NIST 800-53 R5 and the Control Tower controls report zero unacknowledged errors', () => {
    expect({ error: result.error, errors: errors(result.reports) }).toEqual({ error: undefined, errors: [] });
  });

  test('each pack ran and found what it acknowledges (a pack that silently did not run would report nothing)', () => {
    const acknowledgedBy = Object.fromEntries(result.reports.map((p) => [p.pluginName, p.suppressedViolations?.length ?? 0]));
    for (const pack of ['AwsSolutions', 'Serverless', 'NIST.800.53.R5', 'cdk-validator-cfnguard']) expect({ pack, ran: (acknowledgedBy[pack] ?? 0) > 0 }).toEqual({ pack, ran: true });
  });

  test('every IAM statement on Resource "*" is on an action AWS documents as not resource-scopable, or one with a reviewed reason', () => {
    const unexplained = wildcardStatements(result.assembly!).flatMap(({ where, actions }) =>
      actions.filter((a) => !(a in NOT_RESOURCE_SCOPABLE) && !(a in REVIEWED_WILDCARDS)).map((a) => `${where}: ${a}`),
    );
    expect(unexplained).toEqual([]);
  });
});

describe('the tables behind the acknowledgements', () => {
  test('every equivalent-rule id names a pack the product runs, and no id belongs to two controls', () => {
    const ids = Object.values(EQUIVALENT_RULES).flat();
    const prefixes = Object.values(RULE_PACKS);
    for (const id of ids) expect({ id, known: prefixes.some((p) => id.startsWith(`${p}-`) || id.startsWith(`${p}::`)) }).toEqual({ id, known: true });
    expect(ids.length).toBe(new Set(ids).size);
  });

  test('no action is both "not resource-scopable" and "reviewed", and every reference cites the Service Authorization Reference', () => {
    expect(Object.keys(NOT_RESOURCE_SCOPABLE).filter((a) => a in REVIEWED_WILDCARDS)).toEqual([]);
    for (const [action, source] of Object.entries(NOT_RESOURCE_SCOPABLE)) expect({ action, source }).toEqual({ action, source: expect.stringMatching(/service-authorization\/latest\/reference\/list_\w+\.html$/) });
    for (const [action, reason] of Object.entries(REVIEWED_WILDCARDS)) expect({ action, long: reason.length >= 40 }).toEqual({ action, long: true });
  });
});
