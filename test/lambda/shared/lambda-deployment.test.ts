import '../../support/quiet-logs';
import { parseAppSpec } from '../../../lambda/shared/lambda-deployment';
import { isSameFunction, readHookConfig } from '../../../lambda/shared/hook-config';

describe('parseAppSpec', () => {
  test('reads the JSON AppSpec CloudFormation writes', () => {
    const content = JSON.stringify({
      version: 0.0,
      Resources: [{ fn: { Type: 'AWS::Lambda::Function', Properties: { Name: 'svc', Alias: 'live', CurrentVersion: 3, TargetVersion: '4' } } }],
      Hooks: [{ BeforeAllowTraffic: 'pre' }, { AfterAllowTraffic: 'post' }],
    });
    expect(parseAppSpec(content)).toEqual({ functionName: 'svc', alias: 'live', currentVersion: '3', targetVersion: '4' });
  });

  test('reads the flat YAML form', () => {
    const yaml = ['version: 0.0', 'Resources:', '  - myFunction:', '      Type: AWS::Lambda::Function', '      Properties:', '        Name: "svc"', '        Alias: "live"', '        CurrentVersion: "3"', '        TargetVersion: "4"'].join('\n');
    expect(parseAppSpec(yaml)).toEqual({ functionName: 'svc', alias: 'live', currentVersion: '3', targetVersion: '4' });
  });

  test('refuses an AppSpec with two functions', () => {
    const fn = { Type: 'AWS::Lambda::Function', Properties: { Name: 'a', Alias: 'live', CurrentVersion: '1', TargetVersion: '2' } };
    expect(() => parseAppSpec(JSON.stringify({ Resources: [{ a: fn }, { b: fn }] }))).toThrow('AppSpec has 2 AWS::Lambda::Function resources, expected exactly 1');
  });
});

describe('readHookConfig', () => {
  test('reads the three settings', () => {
    expect(readHookConfig({ FUNCTION_NAME: 'svc', ALIAS_NAME: 'live', CHECK_TIMEOUT_MS: '30000' })).toEqual({ functionName: 'svc', aliasName: 'live', checkTimeoutMs: 30000 });
  });
  test('names every missing or bad setting', () => {
    expect(readHookConfig({ CHECK_TIMEOUT_MS: '-1' })).toEqual({ error: 'FUNCTION_NAME is not set; ALIAS_NAME is not set; CHECK_TIMEOUT_MS "-1" is not a positive integer' });
  });
});

test('isSameFunction accepts the name or an ARN of the function', () => {
  expect(isSameFunction('svc', 'svc')).toBe(true);
  expect(isSameFunction('arn:aws:lambda:us-east-1:111111111111:function:svc', 'svc')).toBe(true);
  expect(isSameFunction('other', 'svc')).toBe(false);
});
