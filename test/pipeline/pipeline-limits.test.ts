import { App } from 'aws-cdk-lib';
import { Template } from 'aws-cdk-lib/assertions';
import { RegionInfo } from 'aws-cdk-lib/region-info';
import type { SafeDeployConfig } from '../../lib/config/schema';
import { planPipeline } from '../../lib/pipeline/limits';
import { buildSafeDeployApp } from '../../lib/pipeline/safe-deploy-app';
import { TestApps } from '../support/app';
import { fixtureConfig } from '../support/fixtures';
import { COMMIT, stagesOf, synthPipeline } from '../support/pipeline';
import { synthesize } from '../support/whole-app';

const apps = new TestApps();
afterAll(() => apps.cleanup());
const synth = (config: SafeDeployConfig, app?: App) => synthPipeline(apps, config, app);

describe('AWS limits at synth', () => {
  /** The three services (plus two more Lambdas) across `waves` of `perWave` regions in production. */
  const scaled = (regions: string[][], extraLambdas = 2) =>
    fixtureConfig('three-services', (c) => {
      for (let i = 0; i < extraLambdas; i++) c.services.push({ ...c.services[1], name: `worker-${i + 1}` });
      c.stages[1].bake.minRequests = 0; // one-wave layouts below would leave nothing to count
      c.stages[1].waves = regions.map((r, i) => ({ name: `Wave${i + 1}`, regions: r }));
    });
  const REGIONS = [
    'us-east-1',
    'us-east-2',
    'us-west-1',
    'us-west-2',
    'eu-west-1',
    'eu-west-2',
    'eu-west-3',
    'eu-central-1',
    'eu-north-1',
    'ap-southeast-1',
    'ap-southeast-2',
    'ap-northeast-1',
    'ap-northeast-2',
    'ap-south-1',
    'ca-central-1',
    'sa-east-1',
  ];

  test('the planned action counts are the built ones; 5 services in a wave of 8 regions fill a stage to exactly 50', () => {
    const config = scaled([REGIONS.slice(0, 4)], 0);
    const { template } = synth(config);
    const built = stagesOf(template).map((st) => [st.Name, st.Actions.length]);
    expect(built).toEqual(planPipeline(config).map((st) => [st.name, st.actions]));
    expect(planPipeline(scaled([REGIONS.slice(0, 8)])).find((st) => st.name === 'Prod-Wave1')!.actions).toBe(2 + 8 * 6);
  });

  /**
   * Targets scale the pipeline role: one deploy-role and one asset-role grant each, until its policy
   * overflows into OverflowPolicy1, 2, ... whose CDK-generated wildcards cdk-nag must find acknowledged.
   * One Lambda service per target: the services do not change the pipeline role.
   */
  test('32 targets in two production accounts synthesize with zero unacknowledged cdk-nag or safety-policy findings', () => {
    // Beta (1) + Prod (8 + 7) + Prod2 in another account (8 + 8) = 32; the 16 of Beta and Prod are a part of it.
    const config = fixtureConfig('lambda-only', (c) => {
      c.services = [c.services[0]];
      const prod = c.stages[1];
      delete prod.bake;
      prod.waves = [
        { name: 'Wave1', regions: REGIONS.slice(0, 8) },
        { name: 'Wave2', regions: REGIONS.slice(8, 15) },
      ];
      c.stages.push({
        ...prod,
        name: 'Prod2',
        account: '333333333333',
        waves: [
          { name: 'Wave1', regions: REGIONS.slice(0, 8) },
          { name: 'Wave2', regions: REGIONS.slice(8, 16) },
        ],
      });
    });
    expect(config.stages.reduce((n, st) => n + st.waves.reduce((m, w) => m + w.regions.length, 0), 0)).toBe(32);
    const app = apps.create({ context: { 'aws:cdk:bundling-stacks': [] } });
    const built = buildSafeDeployApp(app, config, { commit: COMMIT, cliVersion: '2.1148.1' });
    const { error, failures } = synthesize(app);
    expect({ error, failures }).toEqual({ error: undefined, failures: [] });
    // The pipeline role's policy outgrows one document: CDK splits it, and the split is acknowledged too.
    const resources = Template.fromStack(built.pipeline).toJSON().Resources;
    expect(Object.keys(resources).some((id) => /^PipelineRoleOverflowPolicy1/.test(id))).toBe(true);
  });

  test('fails, with the numbers, when a wave cannot fit 50 actions', () => {
    expect(() => synth(scaled([REGIONS.slice(0, 9)]))).toThrow(
      [
        "The pipeline does not fit CodePipeline's limits:",
        '  - stages[1].waves[0]: pipeline stage "Prod-Wave1" would need 56 actions (9 regions × (5 service stacks + 1 platform stack) + 2 permission-check actions); CodePipeline allows 50 per stage: split the wave into waves of at most 8 regions',
      ].join('\n'),
    );
  });

  test('fails when the pipeline would have more than 50 stages', () => {
    const awsRegions = RegionInfo.regions.filter((r) => r.partition === 'aws' && !r.name.includes('gov')).map((r) => r.name);
    // Source, Build, UpdatePipeline, Assets, Images, Beta, then a gate and a stage per wave: 6 + 2 × 23 = 52.
    const config = scaled(
      awsRegions.slice(0, 23).map((r) => [r]),
      0,
    );
    expect(() => synth(config)).toThrow(
      /stages: the pipeline would have 52 stages .*; CodePipeline allows 50: use fewer, larger waves or a second pipeline/,
    );
  });
});
