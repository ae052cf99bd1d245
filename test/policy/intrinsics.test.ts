import { flattenCfnReference, referencedIds, refOf, sameValue } from '../../lib/policy/intrinsics';

describe('flattenCfnReference (the names cdk-nag gives IAM5 findings)', () => {
  test('Ref and Fn::GetAtt become <id> and <id.attribute>', () => {
    expect(flattenCfnReference({ Ref: 'ArtifactsBucket2AAC5544' })).toBe('<ArtifactsBucket2AAC5544>');
    expect(flattenCfnReference({ Ref: 'AWS::Region' })).toBe('<AWS::Region>');
    expect(flattenCfnReference({ 'Fn::GetAtt': ['ArtifactsBucket2AAC5544', 'Arn'] })).toBe('<ArtifactsBucket2AAC5544.Arn>');
  });

  test('plain strings pass through, with ${...} written <...>', () => {
    expect(flattenCfnReference('*')).toBe('*');
    expect(flattenCfnReference('arn:aws:kms:us-west-2:111111111111:key/*')).toBe('arn:aws:kms:us-west-2:111111111111:key/*');
    expect(flattenCfnReference('arn:${AWS::Partition}:s3:::${Bucket}/*')).toBe('arn:<AWS::Partition>:s3:::<Bucket>/*');
  });

  test('Fn::Join joins its flattened parts with the delimiter', () => {
    // A bucket grant: the bucket's objects.
    const objects = { 'Fn::Join': ['', [{ 'Fn::GetAtt': ['ArtifactsBucket2AAC5544', 'Arn'] }, '/*']] };
    expect(flattenCfnReference(objects)).toBe('<ArtifactsBucket2AAC5544.Arn>/*');
    // CodeBuild's log groups, as CDK Pipelines writes them.
    const arn = ['arn:', { Ref: 'AWS::Partition' }, ':logs:', { Ref: 'AWS::Region' }, ':', { Ref: 'AWS::AccountId' }];
    const logGroups = { 'Fn::Join': ['', [...arn, ':log-group:/aws/codebuild/', { Ref: 'BuildProject097C5DB7' }, ':*']] };
    expect(flattenCfnReference(logGroups)).toBe(
      'arn:<AWS::Partition>:logs:<AWS::Region>:<AWS::AccountId>:log-group:/aws/codebuild/<BuildProject097C5DB7>:*',
    );
    expect(flattenCfnReference({ 'Fn::Join': [':', ['a', { 'Fn::Join': ['-', ['b', { Ref: 'C' }]] }]] })).toBe('a:b-<C>');
  });

  test('Fn::Sub and Fn::ImportValue give their flattened argument', () => {
    const roles = { 'Fn::Sub': 'arn:${AWS::Partition}:iam::${AWS::AccountId}:role/cdk-*' };
    expect(flattenCfnReference(roles)).toBe('arn:<AWS::Partition>:iam::<AWS::AccountId>:role/cdk-*');
    expect(flattenCfnReference({ 'Fn::ImportValue': { 'Fn::Sub': '${Stack}-BucketArn' } })).toBe('<Stack>-BucketArn');
    expect(flattenCfnReference({ 'Fn::Join': ['', [{ 'Fn::ImportValue': 'Shared-KeyArn' }, '/*']] })).toBe('Shared-KeyArn/*');
    // The two-argument form is kept as JSON (its variables are not substituted), as cdk-nag does.
    expect(flattenCfnReference({ 'Fn::Sub': ['${A}-x', { A: { Ref: 'B' } }] })).toBe('["${A}-x",{"A":{"Ref":"B"}}]');
  });

  test('anything else is its JSON; undefined is empty', () => {
    expect(flattenCfnReference(undefined)).toBe('');
    expect(flattenCfnReference({ 'Fn::Select': [0, ['a']] })).toBe('{"Fn::Select":[0,["a"]]}');
    expect(flattenCfnReference({ Ref: '' })).toBe('{"Ref":""}');
    expect(flattenCfnReference(5)).toBe('5');
    expect(flattenCfnReference(null)).toBe('null');
  });
});

describe('refOf, referencedIds, sameValue', () => {
  test('refOf reads Ref and Fn::GetAtt only', () => {
    expect(refOf({ Ref: 'Alarm' })).toBe('Alarm');
    expect(refOf({ 'Fn::GetAtt': ['Alarm', 'Arn'] })).toBe('Alarm');
    expect(refOf('Alarm')).toBeUndefined();
    expect(refOf({ 'Fn::Join': ['', [{ Ref: 'Alarm' }]] })).toBeUndefined();
    expect(refOf(null)).toBeUndefined();
  });

  test('referencedIds finds every reference, nested in joins', () => {
    const fast = { 'Fn::GetAtt': ['Fast', 'Arn'] };
    const parts = ['ALARM("', fast, '") OR ALARM("', { 'Fn::GetAtt': ['Slow', 'Arn'] }, '") OR ', { Ref: 'Fast' }];
    const rule = { 'Fn::Join': ['', parts] };
    expect(referencedIds(rule)).toEqual(['Fast', 'Slow', 'Fast']);
    expect(referencedIds('ALARM(x)')).toEqual([]);
  });

  test('sameValue compares template values by content', () => {
    expect(sameValue({ Ref: 'A' }, { Ref: 'A' })).toBe(true);
    expect(sameValue({ Ref: 'A' }, { Ref: 'B' })).toBe(false);
    expect(sameValue('name', 'name')).toBe(true);
  });
});
