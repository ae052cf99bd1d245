/**
 * A service's own check, as its hooks receive it (environment variable SERVICE_CHECK, JSON):
 * an HTTP request, an invocation with a payload, or nothing (the alarms alone judge the version).
 */
export type ServiceCheck =
  | { readonly type: 'http'; readonly path: string; readonly expectedStatus: number; readonly bodyContains?: string }
  | { readonly type: 'invoke'; readonly payload: unknown; readonly bodyContains?: string }
  | { readonly type: 'none' };

/** Parses SERVICE_CHECK; a missing or malformed value is an error the hook reports as Failed. */
export function parseServiceCheck(raw: string | undefined): ServiceCheck | { error: string } {
  if (raw === undefined || raw === '') return { error: 'SERVICE_CHECK is not set' };
  let v: unknown;
  try {
    v = JSON.parse(raw);
  } catch (err) {
    return { error: `SERVICE_CHECK is not JSON: ${(err as Error).message}` };
  }
  const c = v as Record<string, unknown> | null;
  const body = c?.bodyContains;
  if (body !== undefined && typeof body !== 'string')
    return { error: `SERVICE_CHECK.bodyContains ${JSON.stringify(body)} is not a string` };
  switch (c?.type) {
    case 'none':
      return { type: 'none' };
    case 'invoke':
      return { type: 'invoke', payload: c.payload, bodyContains: body };
    case 'http':
      if (typeof c.path !== 'string' || !c.path.startsWith('/'))
        return { error: `SERVICE_CHECK.path ${JSON.stringify(c.path)} is not a path starting with "/"` };
      if (!Number.isInteger(c.expectedStatus))
        return { error: `SERVICE_CHECK.expectedStatus ${JSON.stringify(c.expectedStatus)} is not an HTTP status` };
      return { type: 'http', path: c.path, expectedStatus: c.expectedStatus as number, bodyContains: body };
    default:
      return { error: `SERVICE_CHECK.type ${JSON.stringify(c?.type)} is not "http", "invoke" or "none"` };
  }
}
