import { Logger } from '@aws-lambda-powertools/logger';

/**
 * A structured JSON logger for a handler; one line per decision. The level comes from the
 * environment (Lambda's application log level, then POWERTOOLS_LOG_LEVEL, then LOG_LEVEL);
 * the default is INFO. Tests silence it with POWERTOOLS_LOG_LEVEL=SILENT (test/support/quiet-logs.ts).
 */
export function createLogger(serviceName: string): Logger {
  return new Logger({ serviceName });
}
