import { existsSync, readFileSync } from 'node:fs';
import * as path from 'node:path';
import type { App } from 'aws-cdk-lib';
import type { CloudAssembly } from 'aws-cdk-lib/cx-api';
import type { SafeDeployConfig } from '../../lib/config/schema';
import { buildSafeDeployApp, SafeDeployApp } from '../../lib/pipeline/safe-deploy-app';

/** Synthesizes `app`; returns the assembly, or the error synth threw (a failed validation throws). */
export function trySynth(app: App): { assembly?: CloudAssembly; error?: string } {
  try {
    return { assembly: app.synth() };
  } catch (e) {
    return { error: String(e) };
  }
}

/** Synthesizes the whole app; returns the assembly or the error, and every unsuppressed validation failure. */
export function synthesize(app: App): { assembly?: CloudAssembly; failures: string[]; error?: string } {
  const { assembly, error } = trySynth(app);
  const report = path.join(app.outdir, 'validation-report.json');
  const failures: string[] = existsSync(report)
    ? JSON.parse(readFileSync(report, 'utf8')).pluginReports.flatMap((p: any) =>
        p.violations
          .filter((v: any) => v.severity === 'error' || p.conclusion === 'failure')
          .map((v: any) => `${p.pluginName} ${v.ruleName}: ${v.violatingConstructs.map((c: any) => c.constructPath).join(', ')}`),
      )
    : [];
  return { assembly, failures, error };
}

/** Builds the whole app (pipeline, or a personal stage) as `bin/app.ts` does, at a fixed commit. */
export function buildApp(config: SafeDeployConfig, app: App, personal?: string): SafeDeployApp {
  return buildSafeDeployApp(app, config, { commit: 'a'.repeat(40), cliVersion: '2.1148.1', personal });
}
