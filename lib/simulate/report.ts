import type { CellResult, SetResult } from './experiment';

/** Percent with one decimal, e.g. "5.5%", or "<0.1%" for rare non-zero figures. */
export function pct(x: number): string {
  if (x === 0) return '0%';
  if (x < 0.001) return '<0.1%';
  return `${(x * 100).toFixed(1).replace(/\.0$/, '')}%`;
}

/** A cell of the table: what happened to the runs of one alarm set. */
export function describe(result: CellResult, s: SetResult): string {
  const parts: string[] = [];
  if (result.expect === 'pass') {
    parts.push(`rollback ${pct(s.rollback)}`);
  } else {
    parts.push(`caught ${pct(s.rollback)} (in step ${pct(s.rollbackInStep)})`);
    if (s.medianSeconds !== undefined) parts.push(`p50 ${Math.round(s.medianSeconds)} s, p95 ${Math.round(s.p95Seconds!)} s`);
    parts.push(`exposure ${pct(s.exposure)}`);
  }
  if (s.held > 0) parts.push(`held: too little traffic ${pct(s.held)}`);
  if (result.expect === 'rollback' && s.completed > 0) parts.push(`**passed ${pct(s.completed)}**`);
  return parts.join(', ');
}

/** A markdown table: one row per scenario and rate, one column per alarm set. */
export function table(results: readonly CellResult[]): string {
  if (results.length === 0) return '';
  const sets = results[0].sets.map((s) => s.set);
  const lines = [`| scenario | rps | step | ${sets.join(' | ')} |`, `|---|---:|---:|${sets.map(() => '---').join('|')}|`];
  for (const r of results) {
    lines.push(`| ${r.label} | ${r.rps} | ${r.stepMinutes} min | ${r.sets.map((s) => describe(r, s)).join(' | ')} |`);
  }
  return lines.join('\n');
}

/** A target of the brief, checked against measured results. */
export interface TargetCheck {
  readonly target: string;
  readonly measured: string;
  readonly met: boolean;
}

/**
 * The targets of issue 11 for the judge, checked against the measured cells (`shape` is the table
 * they come from). Never hard-coded: each figure is read from the results.
 */
export function checkTargets(
  shape: string,
  results: readonly CellResult[],
  judgeSet: string,
  sized?: readonly CellResult[],
): TargetCheck[] {
  const cell = (rs: readonly CellResult[] | undefined, scenario: string, rps: number) => {
    const r = rs?.find((x) => x.scenario === scenario && x.rps === rps);
    const s = r?.sets.find((x) => x.set === judgeSet);
    return r && s ? { r, s } : undefined;
  };
  const checks: TargetCheck[] = [];
  const add = (target: string, found: ReturnType<typeof cell>, measure: (c: NonNullable<ReturnType<typeof cell>>) => [string, boolean]) => {
    if (!found) return;
    const [measured, met] = measure(found);
    checks.push({ target: `${shape}: ${target}`, measured, met });
  };
  for (const rps of [0.2, 5, 200]) {
    for (const scenario of ['healthy', 'healthy-noisy']) {
      add(`${scenario} falsely rolled back <= 0.1% at ${rps} rps`, cell(results, scenario, rps), ({ s }) => [
        `${pct(s.rollback)} of ${s.runs}`,
        s.rollback <= 0.001,
      ]);
    }
  }
  add('+2 pt caught within its step >= 99% at 200 rps, median <= 150 s', cell(results, 'errors-2pt', 200), ({ s }) => [
    `${pct(s.rollbackInStep)} in step, median ${Math.round(s.medianSeconds ?? NaN)} s`,
    s.rollbackInStep >= 0.99 && (s.medianSeconds ?? Infinity) <= 150,
  ]);
  add(
    '+2 pt caught before full traffic >= 95% at 5 rps (step sized by the power calculation)',
    cell(sized, 'errors-2pt', 5),
    ({ r, s }) => [`${pct(s.rollbackInStep)} with a ${r.stepMinutes}-minute step`, s.rollbackInStep >= 0.95],
  );
  add('latency x2 caught >= 95% at 200 rps', cell(results, 'latency-2x', 200), ({ s }) => [
    `${pct(s.rollback)} (in step ${pct(s.rollbackInStep)})`,
    s.rollback >= 0.95,
  ]);
  for (const rps of [0.2, 5, 200]) {
    add(`crash loop caught at ${rps} rps`, cell(results, 'crash-loop', rps), ({ s }) => [
      `${pct(s.rollback)} (in step ${pct(s.rollbackInStep)}), median ${Math.round(s.medianSeconds ?? NaN)} s`,
      s.rollback >= 0.99,
    ]);
  }
  for (const scenario of ['errors-2pt', 'errors-0.3pt', 'latency-2x', 'crash-loop']) {
    add(`${scenario} at 0.2 rps: caught or held, never passed silently`, cell(results, scenario, 0.2), ({ s }) => [
      `caught ${pct(s.rollback)}, held ${pct(s.held)}, passed ${pct(s.completed)}`,
      s.completed === 0,
    ]);
  }
  for (const rps of [5, 200]) {
    add(`dependency outage on both rolls back <= 5% at ${rps} rps`, cell(results, 'outage', rps), ({ s }) => [
      `${pct(s.rollback)}`,
      s.rollback <= 0.05,
    ]);
  }
  return checks;
}

export function targetsTable(checks: readonly TargetCheck[]): string {
  const lines = ['| target | measured | met |', '|---|---|---|'];
  for (const c of checks) lines.push(`| ${c.target} | ${c.measured} | ${c.met ? 'yes' : '**no**'} |`);
  return lines.join('\n');
}
