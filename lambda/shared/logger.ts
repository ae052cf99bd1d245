import { Logger } from '@aws-lambda-powertools/logger';

/** A structured JSON logger for a handler; one line per decision. */
export function createLogger(serviceName: string): Logger {
  return new Logger({ serviceName, logLevel: process.env.LOG_LEVEL === 'DEBUG' ? 'DEBUG' : 'INFO' });
}
