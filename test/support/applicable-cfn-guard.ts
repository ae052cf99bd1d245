import { createHash } from 'node:crypto';
import { readdirSync, readFileSync, statSync } from 'node:fs';
import * as path from 'node:path';
import { CfnGuardValidator } from '@cdklabs/cdk-validator-cfnguard';
import type { IPolicyValidationContextBeta1, IPolicyValidationPluginBeta1, PolicyValidationPluginReportBeta1 } from 'aws-cdk-lib';

const RULES_DIR = path.join(
  path.dirname(require.resolve('@cdklabs/cdk-validator-cfnguard/package.json')),
  'rules',
  'control-tower',
  'cfn-guard',
);
const RESOURCE_TYPE = /AWS::[A-Za-z0-9]+::[A-Za-z0-9]+/g;

/** Every rule file of the Control Tower pack, with the resource types it reads. */
function ruleFiles(dir = RULES_DIR): Array<{ name: string; types: Set<string> }> {
  return readdirSync(dir).flatMap((entry) => {
    const file = path.join(dir, entry);
    if (statSync(file).isDirectory()) return ruleFiles(file);
    if (!entry.endsWith('.guard')) return [];
    return [{ name: path.parse(entry).name, types: new Set(readFileSync(file, 'utf8').match(RESOURCE_TYPE) ?? []) }];
  });
}

/**
 * The Control Tower proactive controls (cfn-guard), run only where they can apply: a rule that reads
 * only resource types the app does not have finds nothing, and cfn-guard spends most of its time on
 * such rules (474 rule files; about 60 read a type safe-deploy deploys). Same plugin name, so the
 * app's acknowledgements (`cdk-validator-cfnguard::<rule>`) and the report read as before.
 */
export class ApplicableCfnGuardValidator implements IPolicyValidationPluginBeta1 {
  readonly name: string;
  readonly version?: string;
  readonly ruleIds?: string[];
  private readonly rules = ruleFiles();

  constructor() {
    const all = new CfnGuardValidator();
    this.name = all.name;
    this.version = all.version;
    this.ruleIds = all.ruleIds;
  }

  validate(context: IPolicyValidationContextBeta1): PolicyValidationPluginReportBeta1 {
    const templatePaths = distinctTemplates(context.templatePaths);
    const present = new Set(
      templatePaths.flatMap((p) => Object.values<{ Type: string }>(JSON.parse(readFileSync(p, 'utf8')).Resources ?? {}).map((r) => r.Type)),
    );
    // A rule naming no type at all is kept: it may apply to anything.
    const disabledRules = this.rules.filter((r) => r.types.size > 0 && ![...r.types].some((t) => present.has(t))).map((r) => r.name);
    return new CfnGuardValidator({ disabledRules }).validate({ ...context, templatePaths });
  }
}

/**
 * One template of each shape: the stacks of one service in two regions of a stage type differ
 * only in region, account, the regional AppConfig layer's version, and the names and hashes CDK
 * derives from construct paths (which hold the region). The Control Tower rules read which properties are set, never those values, so
 * they find the same in both; checking one of them cuts cfn-guard's time.
 */
export function distinctTemplates(templatePaths: readonly string[]): string[] {
  const seen = new Set<string>();
  return templatePaths.filter((p) => {
    const shape = readFileSync(p, 'utf8')
      .replace(/\b(?:us|eu|ap|sa|ca|me|af|il|mx)-(?:gov-)?[a-z]+-\d\b/g, '<region>')
      .replace(/\b\d{12}\b/g, '<account>')
      .replace(/(:layer:[\w-]+:)\d+/g, '$1<version>')
      .replace(/(?:us|eu|ap|sa|ca|me|af|il|mx)(?:gov)?(?:north|south|east|west|central)+\d/g, '<region>')
      .replace(/(?=[0-9a-f]*[a-f])[0-9a-f]{8,}|(?=[0-9A-F]*[A-F])[0-9A-F]{8,}/g, '<hash>');
    const key = createHash('sha256').update(shape).digest('hex');
    if (seen.has(key)) return false;
    seen.add(key);
    return true;
  });
}
