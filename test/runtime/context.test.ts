import { collectPages, isRetryableAnswer, MAX_LIST_PAGES, opsContext } from '../../lib/runtime/context';
import * as f from '../ops/fixtures';

const ctx = () => opsContext(f.clients(), { region: f.REGION, retry: f.RETRY });

describe('collectPages', () => {
  test('follows the tokens to the last page, in order', async () => {
    const pages: Record<string, { items: number[]; next?: string }> = {
      start: { items: [1, 2], next: 'a' },
      a: { items: [3], next: 'b' },
      b: { items: [4] },
    };
    const asked: Array<string | undefined> = [];
    const items = await collectPages(ctx(), async (token) => {
      asked.push(token);
      return pages[token ?? 'start'];
    });
    expect(items).toEqual([1, 2, 3, 4]);
    expect(asked).toEqual([undefined, 'a', 'b']);
  });

  test('stops when a page repeats the token it was asked with (a malformed response must not loop)', async () => {
    const page = jest.fn(async () => ({ items: ['x'], next: 'same' }));
    await expect(collectPages(ctx(), page)).resolves.toEqual(['x', 'x']);
    expect(page).toHaveBeenCalledTimes(2);
  });

  test(`reads at most ${MAX_LIST_PAGES} pages`, async () => {
    let n = 0;
    const items = await collectPages(ctx(), async () => ({ items: [n], next: `t${++n}` }));
    expect(items).toHaveLength(MAX_LIST_PAGES);
  });

  test('a page without items counts as empty', async () => {
    await expect(collectPages(ctx(), async () => ({}))).resolves.toEqual([]);
  });

  test('a throttled page is retried', async () => {
    const throttled = Object.assign(new Error('Rate exceeded'), { name: 'ThrottlingException', $metadata: { httpStatusCode: 400 } });
    const page = jest
      .fn()
      .mockRejectedValueOnce(throttled)
      .mockResolvedValueOnce({ items: [1] });
    await expect(collectPages(ctx(), page)).resolves.toEqual([1]);
    expect(page).toHaveBeenCalledTimes(2);
  });
});

describe('isRetryableAnswer', () => {
  test.each([
    [{ name: 'ThrottlingException', $metadata: { httpStatusCode: 400 } }, true],
    [{ name: 'InternalFailure', $metadata: { httpStatusCode: 500 } }, true],
    [{ name: 'AccessDeniedException', $metadata: { httpStatusCode: 403 } }, false],
    [{ name: 'TimeoutError', code: 'ETIMEDOUT' }, false],
    [{ name: 'Error', code: 'ECONNREFUSED', $metadata: {} }, false],
    [null, false],
  ])('%j -> %p', (err, expected) => {
    expect(isRetryableAnswer(err)).toBe(expected);
  });
});
