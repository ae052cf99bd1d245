import { showValue as show, wholeNumberField } from '../shared/limits';

/**
 * The bounds of a CanaryLambdaService's props, each with its message: the construct checks its props
 * with them, and the config schema (lib/config) embeds them for the same fields of a Lambda service.
 */

/** Concurrency reserved for the service function: at least 1; the product caps it at 10000. */
export const reservedConcurrencyField = wholeNumberField(
  1,
  10000,
  (v) => `${show(v)} is not a reserved concurrency: use a whole number from 1 to 10000`,
);
