import type { PipelineFixture } from './pipeline-fixture';

export type { FixtureAction, FixtureService, FixtureStage, FixtureTarget, PipelineFixture } from './pipeline-fixture';

/** The pipeline the app builds from test/fixtures/example.config.json (production in account 222222222222). */
export function examplePipeline(): PipelineFixture {
  // A fresh copy: scenarios may change it.
  return JSON.parse(JSON.stringify(require('./example-pipeline.json'))) as PipelineFixture;
}

/**
 * The same pipeline with production in the pipeline's own account (the example config without
 * `stages[1].account`): every name stays, only the account changes, so deployctl's pipeline-account
 * credentials can read production's stacks and deployments.
 */
export function singleAccountPipeline(): PipelineFixture {
  const f = examplePipeline();
  const prod = [...new Set(f.targets.filter((t) => t.account !== f.account).map((t) => t.account))];
  let json = JSON.stringify(f);
  for (const a of prod) json = json.split(a).join(f.account);
  return JSON.parse(json) as PipelineFixture;
}
