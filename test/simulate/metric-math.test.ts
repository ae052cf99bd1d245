import { compileAlarm, evaluateSeries, MetricMathError, parseExpression, tokenize } from '../../lib/simulate/metric-math';

const N = NaN;
/** Evaluates `expression` over named series (NaN = missing), as the alarm's returned entry. */
const run = (expression: string, series: Record<string, number[]>) =>
  evaluateSeries([...Object.keys(series).map((id) => ({ id })), { id: 'e', expression }], 'e', series);

describe('metric math: the CloudWatch user guide examples', () => {
  // "Using IF expressions": IF(metric1, metric2, metric3) with missing points.
  test('IF(series, series, series)', () => {
    expect(
      run('IF(metric1, metric2, metric3)', { metric1: [1, 1, 0, 0, N], metric2: [30, N, 0, 0, 30], metric3: [0, 0, 20, N, 20] }),
    ).toEqual([30, 0, 20, N, N]);
  });
  test('IF(series, scalar, series) and IF(series, series, scalar)', () => {
    const m = { metric1: [1, 1, 0, 0, N], metric2: [30, N, 0, 0, 30], metric3: [0, 0, 20, N, 20] };
    expect(run('IF(metric1, 5, metric3)', m)).toEqual([5, 5, 20, N, N]);
    expect(run('IF(metric1, metric2, 5)', m)).toEqual([30, 0, 5, 5, N]);
  });
  // "Comparison and logical operators": metric1 = [30, 20, 0, 0], metric2 = [20, -, 20, -].
  test('comparisons and AND read a point missing in one series as 0', () => {
    const m = { metric1: [30, 20, 0, 0], metric2: [20, N, 20, N] };
    expect(run('(metric1 < metric2)', m)).toEqual([0, 0, 1, 0]);
    expect(run('(metric1 >= 30)', m)).toEqual([1, 0, 0, 0]);
    expect(run('(metric1 > 15 AND metric2 > 15)', m)).toEqual([1, 0, 0, 0]);
  });
});

describe('metric math: missing data and division by zero', () => {
  test('series op series: missing in one is 0, missing in both stays missing', () => {
    expect(run('a + b', { a: [1, N, N], b: [2, 3, N] })).toEqual([3, 3, N]);
  });
  test('series op scalar keeps the series missing, comparisons included', () => {
    expect(run('a * 100', { a: [1, N] })).toEqual([100, N]);
    expect(run('a >= 100', { a: [150, N] })).toEqual([1, N]);
  });
  test('division by zero drops the point, also when the divisor is missing', () => {
    expect(run('a / b', { a: [1, 4, 2], b: [0, 2, N] })).toEqual([N, 2, N]);
  });
  test('FILL fills missing points with a number', () => {
    expect(run('100 * FILL(e1, 0) / r', { e1: [N, 5, N], r: [10, 10, N] })).toEqual([0, 50, N]);
  });
  test('MAX and MIN of an array, point by point', () => {
    expect(run('MAX([a, b])', { a: [1, N, N], b: [3, 2, N] })).toEqual([3, 2, N]);
    expect(run('MIN([a, b])', { a: [1, N, 5], b: [3, 2, 4] })).toEqual([1, 0, 4]);
  });
  test('operators: precedence, unary minus, right-associative power, && and ||', () => {
    expect(run('a + b * 2 ^ 2', { a: [1], b: [3] })).toEqual([13]);
    expect(run('-2 ^ 2 + a', { a: [0] })).toEqual([-4]);
    expect(run('2 ^ 3 ^ 2 + a', { a: [0] })).toEqual([512]);
    expect(run('(a > 1 && b > 1) || a == 0', { a: [2, 0, 2], b: [2, 0, 0] })).toEqual([1, 1, 0]);
    expect(run('ABS(a - b) != 1', { a: [2, 5], b: [3, 1] })).toEqual([0, 1]);
  });
  test("today's Lambda error rate: 100 * errors / invocations", () => {
    expect(run('100 * errors / invocations', { errors: [0, 1, N], invocations: [30, 50, N] })).toEqual([0, 2, N]);
  });
  test('expressions refer to other expressions, each computed once per point', () => {
    const f = compileAlarm(
      [
        { id: 'm', expression: undefined },
        { id: 'twice', expression: 'm * 2' },
        { id: 'out', expression: 'twice + twice' },
      ],
      'out',
      () => (i) => i + 1,
    );
    expect([f(0), f(1)]).toEqual([4, 8]);
  });
});

describe('metric math: parse errors and unsupported functions fail loudly', () => {
  test('tokenizer rejects unknown characters', () => {
    expect(() => tokenize('a $ b')).toThrow(new MetricMathError('unexpected character "$" at 2 in "a $ b"'));
  });
  test.each([
    ['a +', 'expected a number, an id, a function or "(" at 3 in "a +", found end of expression'],
    ['(a + b', 'expected ")" at 6 in "(a + b", found end of expression'],
    ['a b', 'unexpected token at 2 in "a b", found "b"'],
    ['a < b < c', 'comparisons do not chain: add parentheses at 6 in "a < b < c", found "<"'],
    ['IF(a, )', 'expected a number, an id, a function or "(" at 6 in "IF(a, )", found ")"'],
    ['MAX([])', 'expected a value before "]" at 5 in "MAX([])", found "]"'],
  ])('parse error: %s', (src, message) => {
    expect(() => parseExpression(src)).toThrow(new MetricMathError(message));
  });
  test.each([
    ['SQRT(a)', 'function SQRT at 0 in "SQRT(a)" is not supported by this simulator (supported: FILL, IF, ABS, MAX([..]), MIN([..]))'],
    [
      'SUM([a, a])',
      'function SUM at 0 in "SUM([a, a])" is not supported by this simulator (supported: FILL, IF, ABS, MAX([..]), MIN([..]))',
    ],
    [
      'METRICS()',
      'function METRICS at 0 in "METRICS()" is not supported by this simulator (supported: FILL, IF, ABS, MAX([..]), MIN([..]))',
    ],
    [
      'MAX(a)',
      'MAX at 0 in "MAX(a)" of a single series is one number over the whole retrieved range, which AWS advises against in alarms: not supported (use MAX([a, b]))',
    ],
    ['FILL(a, REPEAT)', 'FILL(..., REPEAT) at 0 in "FILL(a, REPEAT)" is not supported by this simulator: fill with a number'],
    ['IF(a)', 'IF at 0 in "IF(a)" takes 2 to 3 arguments, got 1'],
    ['a + [a]', 'an array [...] is only supported as the argument of MAX or MIN in "a + [a]"'],
    ['a + nope', 'nope is not the id of a metric or expression of this alarm'],
  ])('compile error: %s', (src, message) => {
    expect(() => run(src, { a: [1] })).toThrow(new MetricMathError(message));
  });
  test('an expression that refers to itself', () => {
    expect(() =>
      compileAlarm(
        [
          { id: 'x', expression: 'y + 1' },
          { id: 'y', expression: 'x * 2' },
        ],
        'x',
        () => () => 0,
      ),
    ).toThrow('expression x refers to itself');
  });
});
