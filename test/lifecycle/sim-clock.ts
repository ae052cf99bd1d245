/**
 * Simulated time for the lifecycle world. Everything that waits (CodePipeline's engine, CodeDeploy's
 * traffic shifts, the bake gate between polls, deployctl between checks) waits with `sleep`, which
 * parks the caller until `drive` moves the clock to its wake-up time: hours of release run in
 * milliseconds, and concurrent actors (an operator and CodeDeploy) interleave by the clock.
 */
export class SimClock {
  now: number;
  private readonly timers: { at: number; seq: number; wake: () => void }[] = [];
  private seq = 0;
  /** Errors of background work (`spawn`), rethrown by `drive`. */
  private readonly failures: unknown[] = [];

  constructor(start: number) {
    this.now = start;
  }

  /** Waits `ms` of simulated time. */
  readonly sleep = (ms: number): Promise<void> =>
    new Promise<void>((wake) => {
      this.timers.push({ at: this.now + Math.max(0, ms), seq: this.seq++, wake });
    });

  /** Runs `work` in the background (an actor of its own); its failure fails the next `drive`. */
  spawn(work: () => Promise<unknown>): void {
    work().catch((err) => this.failures.push(err));
  }

  /**
   * Moves the clock from timer to timer until `work` settles, and returns its result. Fails when
   * nothing is scheduled while `work` still waits (a deadlock of the simulation), or past `limitMs`.
   */
  async drive<T>(work: Promise<T>, limitMs = 7 * 24 * 3_600_000): Promise<T> {
    let done = false;
    let value: T | undefined;
    let error: unknown;
    let failed = false;
    work.then(
      (v) => {
        done = true;
        value = v;
      },
      (e) => {
        done = true;
        failed = true;
        error = e;
      },
    );
    const limit = this.now + limitMs;
    await settle();
    while (!done) {
      this.rethrow();
      if (this.timers.length === 0) throw new Error('simulation deadlock: the awaited work waits, but nothing is scheduled');
      this.timers.sort((a, b) => a.at - b.at || a.seq - b.seq);
      const next = this.timers.shift()!;
      if (next.at > limit) throw new Error(`simulation ran past its limit of ${limitMs / 3_600_000} h`);
      this.now = Math.max(this.now, next.at);
      next.wake();
      await settle();
    }
    this.rethrow();
    if (failed) throw error;
    return value as T;
  }

  /** Sets the clock forward to `time` at once: whatever was due before it runs next, late. */
  jump(time: number): void {
    this.now = Math.max(this.now, time);
  }

  /** Moves the clock by `ms`, running whatever is due meanwhile. */
  advance(ms: number): Promise<void> {
    return this.drive(this.sleep(ms));
  }

  private rethrow(): void {
    if (this.failures.length > 0) throw this.failures.shift();
  }
}

/** Lets every promise chain that can progress without the clock run to its next wait. */
async function settle(): Promise<void> {
  await new Promise<void>((r) => setImmediate(r));
}
