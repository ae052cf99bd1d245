import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import * as path from 'node:path';
import { App, AppProps } from 'aws-cdk-lib';
import cdkJson from '../../cdk.json';

/** The feature flags of cdk.json, so tests synthesize what `cdk synth` does. */
const FEATURE_FLAGS: Record<string, unknown> = cdkJson.context;

/**
 * No creation stack traces on resources and annotations: they only reach the assembly's metadata,
 * which no test reads, and capturing them is a tenth of a synth's time (CDK's own context keys).
 */
const NO_STACK_TRACES: Record<string, unknown> = {
  'aws:cdk:disable-creation-stack-traces': true,
  'aws:cdk:disable-stack-trace': true,
};

/** A temporary output folder and the Apps synthesized into it; call `cleanup()` in afterAll. */
export class TestApps {
  private readonly dirs: string[] = [];

  /**
   * A new App with cdk.json's feature flags, writing to its own temp folder. The built-in
   * CloudFormation validation is off unless asked for: test/app.test.ts runs it over the whole app once.
   */
  create(props: AppProps = {}): App {
    const outdir = mkdtempSync(path.join(tmpdir(), 'safe-deploy-test-'));
    this.dirs.push(outdir);
    return new App({
      builtinCloudFormationValidation: false,
      // No tree.json: nothing reads the construct tree, and writing it is part of every synth.
      treeMetadata: false,
      ...props,
      outdir,
      context: { ...FEATURE_FLAGS, ...NO_STACK_TRACES, ...props.context },
    });
  }

  /** Removes every folder created. */
  cleanup(): void {
    for (const dir of this.dirs.splice(0)) rmSync(dir, { recursive: true, force: true });
  }
}
