/**
 * HTTP bounds for the SDK clients of the handlers and deployctl (`new XClient({ requestHandler: BOUNDED_HTTP })`).
 * Without them a hung connection waits for the function's own timeout, eating the time a hook or
 * job worker keeps for reporting. Not for Lambda Invoke, which lasts as long as the function runs.
 */
export const BOUNDED_HTTP = { connectionTimeout: 3_000, requestTimeout: 10_000, throwOnRequestTimeout: true } as const;
