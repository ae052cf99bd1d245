/**
 * A handler module that throws while loading (e.g. reading a missing env var at import) never gets
 * to report to CodeDeploy or CodePipeline. Each handler must load with an empty environment.
 */
const HANDLERS = [
  ['lambda-pre-traffic-hook', ['handler']],
  ['lambda-post-traffic-hook', ['handler']],
  ['ecs-test-traffic-hook', ['handler']],
  ['ecs-traffic-check-hook', ['handler']],
  ['bake-gate', ['handler']],
  ['ecs-deployment', ['onEvent', 'isComplete']],
  ['pipeline-notifier', ['handler']],
  ['approve-permissions', ['handler']],
] as const;

describe('handler modules load with no environment at all', () => {
  const saved = process.env;
  afterEach(() => {
    process.env = saved;
  });

  test.each(HANDLERS)('lambda/%s exports %j', (folder, exports) => {
    process.env = { POWERTOOLS_LOG_LEVEL: 'SILENT' };
    let mod: Record<string, unknown> = {};
    jest.isolateModules(() => {
      // eslint-disable-next-line @typescript-eslint/no-require-imports -- a fresh module per handler, loaded inside isolateModules
      mod = require(`../../lambda/${folder}/index`);
    });
    for (const name of exports) expect(typeof mod[name]).toBe('function');
  });
});
