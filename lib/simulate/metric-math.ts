/**
 * A small CloudWatch metric-math interpreter: a tokenizer and a recursive-descent parser for
 * exactly the subset our alarms use, compiled to one JavaScript function per alarm that computes a
 * datapoint (the simulator evaluates millions), with the missing-data rules of the CloudWatch user
 * guide ("Using metric math": https://docs.aws.amazon.com/AmazonCloudWatch/latest/monitoring/using-metric-math.html):
 *
 * - arithmetic (+ - * / ^) and unary minus: "Missing values in a time series are treated as 0. If
 *   the value of a data point causes a function to attempt to divide by zero, the data point is
 *   dropped." A timestamp missing from every operand stays missing; series op scalar keeps the
 *   series' timestamps;
 * - comparisons (== != <= >= < >) and AND/&&, OR/||: 1 or 0; "when only one of the time series has
 *   a value for a particular time stamp, the function treats the missing value in the other time
 *   series as 0";
 * - IF(condition, trueValue[, falseValue]): a missing condition drops the point; a true condition
 *   whose series value is missing gives 0; a false condition whose series value is missing (or no
 *   falseValue) drops the point (the guide's "Using IF expressions" tables);
 * - FILL(series, scalar): missing points take the scalar (REPEAT and LINEAR are not supported here);
 * - ABS; MAX([...]) and MIN([...]) of an array, point by point.
 *
 * MAX, MIN, SUM, AVG... of a single series return one scalar over the whole retrieved range; AWS
 * advises against them in alarms (the alarm retrieves more points than it evaluates), so this
 * interpreter rejects them, as it rejects every function it does not implement. Datapoints are
 * numbers; NaN stands for "missing".
 */

export class MetricMathError extends Error {}

type Token =
  | { kind: 'number'; value: number; pos: number }
  | { kind: 'id'; value: string; pos: number }
  | { kind: 'name'; value: string; pos: number }
  | { kind: 'op'; value: string; pos: number }
  | { kind: 'end'; pos: number };

/** Expression syntax tree. */
export type Expr =
  | { kind: 'number'; value: number }
  | { kind: 'ref'; id: string }
  | { kind: 'neg'; arg: Expr }
  | { kind: 'binary'; op: string; left: Expr; right: Expr }
  | { kind: 'call'; name: string; args: Expr[]; pos: number }
  | { kind: 'array'; items: Expr[] }
  | { kind: 'keyword'; name: string; pos: number };

const OPERATORS = ['==', '!=', '<=', '>=', '&&', '||', '<', '>', '+', '-', '*', '/', '^', '(', ')', '[', ']', ','];

export function tokenize(src: string): Token[] {
  const tokens: Token[] = [];
  let i = 0;
  while (i < src.length) {
    const ch = src[i];
    if (/\s/.test(ch)) {
      i++;
      continue;
    }
    const number = /^(\d+\.?\d*|\.\d+)([eE][+-]?\d+)?/.exec(src.slice(i));
    if (number) {
      tokens.push({ kind: 'number', value: Number(number[0]), pos: i });
      i += number[0].length;
      continue;
    }
    const word = /^[A-Za-z_][A-Za-z0-9_]*/.exec(src.slice(i));
    if (word) {
      const w = word[0];
      // Ids of metrics and expressions start with a lowercase letter; functions are upper case.
      tokens.push(/^[a-z]/.test(w) ? { kind: 'id', value: w, pos: i } : { kind: 'name', value: w, pos: i });
      i += w.length;
      continue;
    }
    const op = OPERATORS.find((o) => src.startsWith(o, i));
    if (op) {
      tokens.push({ kind: 'op', value: op, pos: i });
      i += op.length;
      continue;
    }
    throw new MetricMathError(`unexpected character ${JSON.stringify(ch)} at ${i} in ${JSON.stringify(src)}`);
  }
  tokens.push({ kind: 'end', pos: src.length });
  return tokens;
}

/**
 * Parses one expression by recursive descent. AWS does not document operator precedence; this
 * takes the usual one, OR < AND < comparison < + - < * / < unary - < ^ (right-associative), and
 * the judge's expressions parenthesize wherever it would matter.
 */
export function parseExpression(src: string): Expr {
  const tokens = tokenize(src);
  let at = 0;
  const peek = () => tokens[at];
  const fail = (what: string, t: Token = peek()): never => {
    const found = t.kind === 'end' ? 'end of expression' : JSON.stringify(t.value);
    throw new MetricMathError(`${what} at ${t.pos} in ${JSON.stringify(src)}, found ${found}`);
  };
  const isOp = (v: string) => peek().kind === 'op' && (peek() as { value: string }).value === v;
  const isName = (v: string) => peek().kind === 'name' && (peek() as { value: string }).value === v;
  const expect = (v: string) => {
    if (!isOp(v)) fail(`expected ${JSON.stringify(v)}`);
    at++;
  };

  /**
   * A left-associative level of binary operators: `match` names the operator the next token is at
   * this level (or undefined), `operand` parses what stands between them.
   */
  const level = (match: () => string | undefined, operand: () => Expr) => (): Expr => {
    let left = operand();
    for (let op = match(); op !== undefined; op = match()) {
      at++;
      left = { kind: 'binary', op, left, right: operand() };
    }
    return left;
  };
  const or = level(
    () => (isOp('||') || isName('OR') ? 'OR' : undefined),
    () => and(),
  );
  const and = level(
    () => (isOp('&&') || isName('AND') ? 'AND' : undefined),
    () => comparison(),
  );
  const comparison = (): Expr => {
    const left = additive();
    const t = peek();
    if (t.kind === 'op' && ['==', '!=', '<=', '>=', '<', '>'].includes(t.value)) {
      at++;
      const right = additive();
      const next = peek();
      if (next.kind === 'op' && ['==', '!=', '<=', '>=', '<', '>'].includes(next.value))
        fail('comparisons do not chain: add parentheses', next);
      return { kind: 'binary', op: t.value, left, right };
    }
    return left;
  };
  const multiplicative = level(
    () => ['*', '/'].find((o) => isOp(o)),
    () => unary(),
  );
  const additive = level(() => ['+', '-'].find((o) => isOp(o)), multiplicative);
  const unary = (): Expr => {
    if (isOp('-')) {
      at++;
      return { kind: 'neg', arg: unary() };
    }
    if (isOp('+')) {
      at++;
      return unary();
    }
    return power();
  };
  const power = (): Expr => {
    const base = primary();
    if (isOp('^')) {
      at++;
      return { kind: 'binary', op: '^', left: base, right: unary() };
    }
    return base;
  };
  const list = (close: string): Expr[] => {
    const items: Expr[] = [];
    if (isOp(close)) fail(`expected a value before ${JSON.stringify(close)}`);
    items.push(or());
    while (isOp(',')) {
      at++;
      items.push(or());
    }
    expect(close);
    return items;
  };
  const primary = (): Expr => {
    const t = peek();
    if (t.kind === 'number') {
      at++;
      return { kind: 'number', value: t.value };
    }
    if (t.kind === 'id') {
      at++;
      return { kind: 'ref', id: t.value };
    }
    if (t.kind === 'name') {
      at++;
      if (isOp('(')) {
        at++;
        return { kind: 'call', name: t.value, args: isOp(')') ? (at++, []) : list(')'), pos: t.pos };
      }
      return { kind: 'keyword', name: t.value, pos: t.pos };
    }
    if (isOp('(')) {
      at++;
      const inner = or();
      expect(')');
      return inner;
    }
    if (isOp('[')) {
      at++;
      return { kind: 'array', items: list(']') };
    }
    return fail('expected a number, an id, a function or "("');
  };

  const expr = or();
  if (peek().kind !== 'end') fail('unexpected token');
  return expr;
}

/** The ids an expression refers to. */
export function referencedIds(e: Expr): string[] {
  switch (e.kind) {
    case 'ref':
      return [e.id];
    case 'neg':
      return referencedIds(e.arg);
    case 'binary':
      return [...referencedIds(e.left), ...referencedIds(e.right)];
    case 'call':
      return e.args.flatMap(referencedIds);
    case 'array':
      return e.items.flatMap(referencedIds);
    default:
      return [];
  }
}

/** Whether a compiled expression is one number or a series read one datapoint at a time. */
type Kind = 'scalar' | 'series';

/**
 * Generated JavaScript: statements computing temporaries, the last of which (`name`) is the value
 * of one datapoint (NaN = missing). Straight-line code without helper calls, so that V8 compiles
 * an alarm's whole query into one tight function.
 */
class Emitter {
  readonly lines: string[] = [];
  private next = 0;
  /** A new temporary holding `js`. */
  temp(js: string): string {
    const name = `t${this.next++}`;
    this.lines.push(`  const ${name} = ${js};`);
    return name;
  }
}

interface Code {
  readonly kind: Kind;
  /** A temporary, an entry local or a literal holding the value. */
  readonly ref: string;
}

const ARITHMETIC: Record<string, string> = { '+': '+', '-': '-', '*': '*', '/': '/' };
const COMPARISON: Record<string, string> = { '==': '===', '!=': '!==', '<=': '<=', '>=': '>=', '<': '<', '>': '>' };

/**
 * Series-series operations treat a point missing in one operand as 0 and keep it missing only when
 * missing in both; series-scalar operations keep the series' missing points; division by zero drops
 * the point; comparisons and logic give 1 or 0.
 */
function binaryJs(op: string, a: Code, b: Code, out: Emitter): string {
  const apply = (x: string, y: string) => {
    if (op === '^') return `Math.pow(${x}, ${y})`;
    if (op === '/') return `(${y} === 0 ? NaN : ${x} / ${y})`;
    if (ARITHMETIC[op]) return `(${x} ${ARITHMETIC[op]} ${y})`;
    if (COMPARISON[op]) return `(${x} ${COMPARISON[op]} ${y} ? 1 : 0)`;
    if (op === 'AND') return `(${x} !== 0 && ${y} !== 0 ? 1 : 0)`;
    if (op === 'OR') return `(${x} !== 0 || ${y} !== 0 ? 1 : 0)`;
    throw new MetricMathError(`operator ${op} is not supported`);
  };
  if (a.kind === 'series' && b.kind === 'series') {
    const x = out.temp(`${a.ref} !== ${a.ref} ? 0 : ${a.ref}`);
    const y = out.temp(`${b.ref} !== ${b.ref} ? 0 : ${b.ref}`);
    return `(${a.ref} !== ${a.ref} && ${b.ref} !== ${b.ref}) ? NaN : ${apply(x, y)}`;
  }
  const missing = [a, b].filter((c) => c.kind === 'series').map((c) => `${c.ref} !== ${c.ref}`);
  return missing.length ? `${missing.join(' || ')} ? NaN : ${apply(a.ref, b.ref)}` : apply(a.ref, b.ref);
}

/** Translates an expression to statements over the locals `e_<id>` of the entries it refers to. */
function generate(e: Expr, kindOf: (id: string) => Kind, src: string, out: Emitter): Code {
  const where = (pos: number) => ` at ${pos} in ${JSON.stringify(src)}`;
  switch (e.kind) {
    case 'number':
      return { kind: 'scalar', ref: `(${e.value})` };
    case 'ref':
      return { kind: kindOf(e.id), ref: `e_${e.id}` };
    case 'keyword':
      throw new MetricMathError(`${e.name}${where(e.pos)} is not supported by this simulator (only FILL(series, number) fills)`);
    case 'array':
      throw new MetricMathError(`an array [...] is only supported as the argument of MAX or MIN in ${JSON.stringify(src)}`);
    case 'neg': {
      const a = generate(e.arg, kindOf, src, out);
      return { kind: a.kind, ref: out.temp(`-${a.ref}`) };
    }
    case 'binary': {
      const a = generate(e.left, kindOf, src, out);
      const b = generate(e.right, kindOf, src, out);
      const kind: Kind = a.kind === 'series' || b.kind === 'series' ? 'series' : 'scalar';
      return { kind, ref: out.temp(binaryJs(e.op, a, b, out)) };
    }
    case 'call':
      return generateCall(e, kindOf, src, where(e.pos), out);
  }
}

function generateCall(e: Extract<Expr, { kind: 'call' }>, kindOf: (id: string) => Kind, src: string, where: string, out: Emitter): Code {
  const arity = (min: number, max: number) => {
    if (e.args.length < min || e.args.length > max) {
      throw new MetricMathError(`${e.name}${where} takes ${min === max ? min : `${min} to ${max}`} arguments, got ${e.args.length}`);
    }
  };
  switch (e.name) {
    case 'FILL': {
      arity(2, 2);
      if (e.args[1].kind === 'keyword')
        throw new MetricMathError(`FILL(..., ${e.args[1].name})${where} is not supported by this simulator: fill with a number`);
      const series = generate(e.args[0], kindOf, src, out);
      const filler = generate(e.args[1], kindOf, src, out);
      if (series.kind !== 'series' || filler.kind !== 'scalar')
        throw new MetricMathError(`FILL${where} is supported as FILL(series, number) only`);
      return { kind: 'series', ref: out.temp(`${series.ref} !== ${series.ref} ? ${filler.ref} : ${series.ref}`) };
    }
    case 'IF': {
      arity(2, 3);
      const [cond, yes, no] = e.args.map((a) => generate(a, kindOf, src, out));
      const kind: Kind = [cond, yes, no].some((c) => c?.kind === 'series') ? 'series' : 'scalar';
      const otherwise = no ? no.ref : 'NaN';
      if (cond.kind === 'scalar') return { kind, ref: out.temp(`${cond.ref} !== 0 ? ${yes.ref} : ${otherwise}`) };
      // A missing condition drops the point; a true one with a missing series value gives 0; a false
      // one takes the false value, missing where that series is (or where there is none).
      const chosen = yes.kind === 'series' ? `(${yes.ref} !== ${yes.ref} ? 0 : ${yes.ref})` : yes.ref;
      return { kind, ref: out.temp(`${cond.ref} !== ${cond.ref} ? NaN : ${cond.ref} !== 0 ? ${chosen} : ${otherwise}`) };
    }
    case 'ABS': {
      arity(1, 1);
      const a = generate(e.args[0], kindOf, src, out);
      return { kind: a.kind, ref: out.temp(`Math.abs(${a.ref})`) };
    }
    case 'MAX':
    case 'MIN': {
      arity(1, 1);
      const arg = e.args[0];
      if (arg.kind !== 'array') {
        throw new MetricMathError(
          `${e.name}${where} of a single series is one number over the whole retrieved range, which AWS advises against in alarms: not supported (use ${e.name}([a, b]))`,
        );
      }
      // Point by point over the items present; a point missing in every item stays missing.
      const items = arg.items.map((x) => generate(x, kindOf, src, out));
      const present = items.map((x) => `${x.ref} === ${x.ref}`).join(' || ');
      const values = items.map((x) => `(${x.ref} !== ${x.ref} ? 0 : ${x.ref})`).join(', ');
      return { kind: 'series', ref: out.temp(`${present} ? Math.${e.name === 'MAX' ? 'max' : 'min'}(${values}) : NaN`) };
    }
    default:
      throw new MetricMathError(
        `function ${e.name}${where} is not supported by this simulator (supported: FILL, IF, ABS, MAX([..]), MIN([..]))`,
      );
  }
}

/** One entry of an alarm's `Metrics`: a metric read by the caller, or an expression over other entries. */
export interface QueryEntry {
  readonly id: string;
  readonly expression?: string;
}

/**
 * Compiles the entry `returnId` of an alarm's metric query to a function of the datapoint index:
 * the entries it needs, in dependency order, become straight-line JavaScript; `metric(id)` reads
 * the entries without an expression. Unknown ids, cycles and unsupported functions throw here.
 */
export function compileAlarm(
  entries: readonly QueryEntry[],
  returnId: string,
  metric: (id: string) => (i: number) => number,
): (i: number) => number {
  const byId = new Map(entries.map((q) => [q.id, q]));
  const kinds = new Map<string, Kind>();
  const metricIds: string[] = [];
  const visiting = new Set<string>();
  const out = new Emitter();
  const visit = (id: string): Kind => {
    const known = kinds.get(id);
    if (known) return known;
    const q = byId.get(id);
    if (!q) throw new MetricMathError(`${id} is not the id of a metric or expression of this alarm`);
    if (visiting.has(id)) throw new MetricMathError(`expression ${id} refers to itself`);
    if (!/^[a-z][A-Za-z0-9_]*$/.test(id))
      throw new MetricMathError(`${JSON.stringify(id)} is not a metric-math id (a lowercase letter, then letters, digits or _)`);
    visiting.add(id);
    let kind: Kind;
    if (q.expression === undefined) {
      kind = 'series';
      out.lines.push(`  const e_${id} = M[${metricIds.length}](i);`);
      metricIds.push(id);
    } else {
      const generated = generate(parseExpression(q.expression), visit, q.expression, out);
      kind = generated.kind;
      out.lines.push(`  const e_${id} = ${generated.ref};`);
    }
    visiting.delete(id);
    kinds.set(id, kind);
    return kind;
  };
  visit(returnId);
  const body = `return function (i) {\n${out.lines.join('\n')}\n  return e_${returnId};\n};`;
  const metrics = metricIds.map((id) => metric(id));
  // The code comes from our own parse tree: ids are checked identifiers, numbers are JS numbers.
  return new Function('M', body)(metrics) as (i: number) => number;
}

/** Evaluates an alarm's `returnId` over whole series given per metric id (for tests and diagnostics). */
export function evaluateSeries(
  entries: readonly QueryEntry[],
  returnId: string,
  series: Readonly<Record<string, readonly number[]>>,
): number[] {
  const length = Math.max(...Object.values(series).map((s) => s.length));
  const f = compileAlarm(entries, returnId, (id) => {
    const s = series[id];
    if (!s) throw new MetricMathError(`no series given for metric ${id}`);
    return (i) => (s[i] === undefined ? NaN : s[i]);
  });
  return Array.from({ length }, (_, i) => f(i));
}
