import * as path from 'node:path';

/**
 * The fixed-threshold alarms the service stacks synthesized before the canary judge (canary 10% for
 * 10 minutes; error rate > 1%, p99 > 1000 ms, 2 of 3 one-minute periods), frozen in
 * ./today-alarms.json as the "before" that `npm run simulate` measures beside the judge.
 */

/** The frozen fixture's path. */
export const TODAY_FIXTURE = path.join(__dirname, 'today-alarms.json');
