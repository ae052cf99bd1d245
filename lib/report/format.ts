import { MODEL, round } from './hand-model';
import { formatSimulatedReadiness } from './simulated';
import type { AlarmReport, ServiceReport } from './types';

/** Human-readable report, one block per service. */
export function formatReport(reports: ServiceReport[]): string {
  if (reports.length === 0) return 'No Lambda alias or ECS service found in the assembly.';
  const min = (s?: number) => (s === undefined || Number.isNaN(s) ? 'unknown' : `${round(s / 60)} min`);
  const lines: string[] = [];
  for (const r of reports) {
    lines.push(`${r.stage} (${r.stageType}) ${r.stack} ${r.kind} ${r.service}`);
    const shift =
      r.shift.type === 'canary'
        ? `canary ${r.shift.percent}% for ${r.shift.intervalMinutes} min, then 100%`
        : r.shift.type === 'linear'
          ? `linear +${r.shift.percent}% every ${r.shift.intervalMinutes} min`
          : r.shift.type;
    lines.push(`  deployment config: ${r.deploymentConfig} (${shift}; done after ${r.deploymentMinutes ?? 'unknown'} min)`);
    if (r.alarms.length === 0) lines.push('  alarms: NONE - a bad release is never rolled back automatically');
    const sim = r.simulation;
    if (sim) {
      for (const a of r.alarms) {
        const left = sim.notSimulated.find((n) => n.alarm === a.name);
        lines.push(`  alarm ${a.name}: ${describeAlarm(a)}${left ? `, not simulated (${shortReason(left.reason)})` : ''}`);
      }
      lines.push(...formatSimulatedReadiness(sim));
      if (sim.notSimulated.length > 0) lines.push('  alarms not simulated can only make a rollback sooner.');
    } else {
      for (const a of r.alarms) {
        lines.push(`  alarm ${a.name}: ${describeAlarm(a)}, worst-case detection ${min(a.detectionSeconds)}`);
        for (const c of a.children ?? [])
          lines.push(`    child ${c.name}: ${describeAlarm(c)}, worst-case detection ${min(c.detectionSeconds)}`);
      }
      lines.push(`  hand model (worst case), not simulated: ${r.handModelReason ?? 'unknown reason'}`);
      lines.push(`  worst case from first errors to rollback start: ${min(r.worstCaseToRollbackSeconds)}`);
      lines.push(
        `  caught by canary: ${r.caughtByCanary ? 'yes' : 'NO - the deployment completes before the alarms can fire; only the bake gate and pipeline rollback remain'}`,
      );
      if (r.exposureTrafficMinutes !== undefined) {
        lines.push(
          `  exposure before rollback: ${r.shareAtRollbackPercent}% of traffic at rollback, ${r.exposureTrafficMinutes} full-traffic minutes`,
        );
      }
    }
    lines.push(`  bake: ${r.bake ? `${r.bake.minutes} min and ${r.bake.minRequests} requests` : 'none'}`);
    const w = r.deploymentWindow;
    lines.push(
      `  deployment window: ${w ? `${w.windows.map((x) => `${x.days.join(',')} ${x.start}-${x.end}`).join('; ')} ${w.timeZone}${(w.blockedDates ?? []).length ? `, blocked ${w.blockedDates!.join(', ')}` : ''}` : 'any time'}`,
    );
    for (const f of r.flags) {
      lines.push(
        `  feature flags (${f.environment}): ${f.strategy === 'custom' ? '' : `${f.strategy}, `}${f.description}; AppConfig watches ${f.watchedMinutes ?? 'unknown'} min`,
      );
      if (f.monitors.length === 0) lines.push('    monitors: NONE - a bad flag change is never rolled back automatically');
      for (const m of f.monitors) lines.push(`    monitor ${m.name}: worst-case detection ${min(m.detectionSeconds)}`);
      lines.push(
        `    bad flag change rolled back automatically: ${f.rolledBackAutomatically ? 'yes' : "NO - AppConfig stops watching before the alarms can fire; raise the stage's flags.rollout.bakeMinutes"}`,
      );
    }
  }
  lines.push(
    '',
    'Simulated: seeded deployments of a crash loop (99% errors, failing health checks) and of +2 points of errors over a 0.2% baseline, replayed through the ' +
      `alarms as synthesized (lib/simulate; model: metrics visible ${MODEL.metricDelaySeconds} s after their minute, alarms evaluated every ${MODEL.evaluationIntervalSeconds} s, CodeDeploy polls every ${MODEL.codeDeployPollSeconds} s).`,
    `Hand model: detection = (M+1) x period + ${MODEL.metricDelaySeconds}s metric delay + ${MODEL.evaluationIntervalSeconds}s alarm evaluation + ${MODEL.codeDeployPollSeconds}s CodeDeploy poll (README, "Rollback-readiness report").`,
  );
  return lines.join('\n');
}

/** `AWS/Lambda Errors Sum ["FunctionName"]: ... has no role` reads as "no simulated series for AWS/Lambda Errors by FunctionName". */
function shortReason(reason: string): string {
  const metric = /^(\S+ \S+) \S+ \[([^\]]*)\]: .*no role/.exec(reason);
  return metric ? `no simulated series for ${metric[1]} by ${metric[2].replace(/"/g, '').replace(/,/g, ', ') || 'no dimension'}` : reason;
}

function describeAlarm(a: AlarmReport): string {
  if (a.kind === 'composite') return `composite of ${a.children?.length ?? 0}`;
  if (a.periodSeconds === undefined) return 'defined outside the assembly';
  return `period ${a.periodSeconds}s, ${a.datapointsToAlarm} of ${a.evaluationPeriods} datapoints`;
}
