import { showValue as show, wholeNumberField } from '../shared/limits';

/**
 * Longest bake a gate can wait for: CodePipeline fails a Lambda invoke action after 24 hours, and the
 * gate also waits up to 2 hours past the bake for traffic (DeploymentSafety `requestGrace`).
 */
export const MAX_BAKE_MINUTES = 1200;

/** A stage's bake, in minutes since the previous wave finished deploying (config `bake.minutes`, SafetyStage `bake.minutes`). */
export const bakeMinutesField = wholeNumberField(
  0,
  MAX_BAKE_MINUTES,
  (v) =>
    `${show(v)} minutes is not a bake the gate can wait for: CodePipeline ends a Lambda action after 24 hours and the gate allows 2 more hours ` +
    `for traffic, so use a whole number from 0 to ${MAX_BAKE_MINUTES}`,
);
