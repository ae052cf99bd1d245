/**
 * Answers a mocked SDK v3 client (aws-sdk-client-mock) from a table of command classes, as the
 * simulated AWS of test/ops/watch-world.ts and test/lifecycle/world.ts do: one fake per client that
 * dispatches on the command's class (a fake per command would make sinon match each call against
 * all of them, ten times slower over the thousands of calls of a simulated release), told the
 * caller's region and account. The account rides in the access key id of the client's credentials
 * (`AKID111111111111`), so one mock can serve clients of several accounts.
 */

/** Where a call comes from. */
export interface CallContext {
  readonly region: string;
  /** The 12 digits in the credentials' access key id, if any. */
  readonly account?: string;
}

/** One call, before it is answered. */
export interface AnsweredCall extends CallContext {
  readonly service: string;
  /** The command's name without `Command`, e.g. `GetPipelineState`. */
  readonly command: string;
  readonly input: any;
}

export type CommandAnswer = (input: any, where: CallContext) => unknown;

/** A mock's stubbed `send`, as aws-sdk-client-mock exposes it. */
interface MockedSend {
  readonly send: { callsFake(fn: (...args: any[]) => unknown): unknown };
}

/**
 * Installs the fake on `mock` and returns `on(command, answer)` to add answers to its table.
 * `before` sees every call first: it may record it, or throw to fail it (throttling, denial).
 */
export function answerCommands(
  mock: unknown,
  service: string,
  before?: (call: AnsweredCall) => void,
): (command: unknown, answer: CommandAnswer) => void {
  const answers = new Map<unknown, CommandAnswer>();
  (mock as MockedSend).send.callsFake(async function (
    this: { config: { region: unknown; credentials: unknown } },
    cmd: { constructor: unknown; input: unknown },
  ) {
    const command = (cmd.constructor as { name: string }).name.replace(/Command$/, '');
    const answer = answers.get(cmd.constructor);
    if (!answer) throw new Error(`simulated AWS: no answer for ${service}:${command}`);
    const r = this.config.region;
    const region = typeof r === 'function' ? await (r as () => Promise<string>)() : String(r);
    const c = this.config.credentials;
    const credentials = (typeof c === 'function' ? await (c as () => Promise<unknown>)() : c) as { accessKeyId?: string } | undefined;
    const account = credentials?.accessKeyId?.match(/\d{12}/)?.[0];
    before?.({ service, command, region, account, input: cmd.input });
    return answer(cmd.input, { region, account });
  });
  return (command, answer) => {
    answers.set(command, answer);
  };
}
