/**
 * The IAM actions the app grants on `Resource: "*"`, and why. test/policy/security-packs.test.ts
 * reads every identity-policy statement of every synthesized template: an action on "*" must be in
 * one of these two tables, or the test fails and names the statement.
 */

const SAR = 'https://docs.aws.amazon.com/service-authorization/latest/reference';

/**
 * Actions the Service Authorization Reference lists with no resource type: "If there is no value
 * for this column, you must specify all resources ("*")". Each names the page that says so.
 */
export const NOT_RESOURCE_SCOPABLE: Readonly<Record<string, string>> = {
  'ecr:GetAuthorizationToken': `${SAR}/list_amazonelasticcontainerregistry.html`,
  'codedeploy:StopDeployment': `${SAR}/list_awscodedeploy.html`,
  'codedeploy:ContinueDeployment': `${SAR}/list_awscodedeploy.html`,
  'codedeploy:ListDeploymentTargets': `${SAR}/list_awscodedeploy.html`,
  'codedeploy:BatchGetDeploymentTargets': `${SAR}/list_awscodedeploy.html`,
  'codedeploy:GetDeploymentTarget': `${SAR}/list_awscodedeploy.html`,
  'codepipeline:PutJobSuccessResult': `${SAR}/list_awscodepipeline.html`,
  'codepipeline:PutJobFailureResult': `${SAR}/list_awscodepipeline.html`,
  'codepipeline:GetJobDetails': `${SAR}/list_awscodepipeline.html`,
  'cloudwatch:GetMetricData': `${SAR}/list_amazoncloudwatch.html`,
  'cloudwatch:GetMetricStatistics': `${SAR}/list_amazoncloudwatch.html`,
  'ecs:DescribeTaskDefinition': `${SAR}/list_amazonelasticcontainerservice.html`,
  'ecs:ListTaskDefinitions': `${SAR}/list_amazonelasticcontainerservice.html`,
  'appconfig:ListApplications': `${SAR}/list_awsappconfig.html`,
  'lambda:ListFunctions': `${SAR}/list_awslambda.html`,
  'ec2:DescribeNetworkInterfaces': `${SAR}/list_amazonec2.html`,
  'ec2:DescribeSubnets': `${SAR}/list_amazonec2.html`,
  'logs:CreateLogDelivery': `${SAR}/list_amazoncloudwatchlogs.html`,
  'logs:GetLogDelivery': `${SAR}/list_amazoncloudwatchlogs.html`,
  'logs:UpdateLogDelivery': `${SAR}/list_amazoncloudwatchlogs.html`,
  'logs:DeleteLogDelivery': `${SAR}/list_amazoncloudwatchlogs.html`,
  'logs:ListLogDeliveries': `${SAR}/list_amazoncloudwatchlogs.html`,
  'logs:DescribeResourcePolicies': `${SAR}/list_amazoncloudwatchlogs.html`,
  'sts:GetCallerIdentity': `${SAR}/list_awssecuritytokenservice.html`,
};

/**
 * Actions that could be scoped to a resource but that the app grants on "*", each with the reason a
 * reviewer accepted. Most come from aws-cdk-lib's own constructs (CDK Pipelines, the Provider
 * framework, Lambda in a VPC).
 */
export const REVIEWED_WILDCARDS: Readonly<Record<string, string>> = {
  // Lambda in a VPC (the ECS test-traffic hook): what AWSLambdaVPCAccessExecutionRole grants.
  'ec2:CreateNetworkInterface':
    'Lambda creates the function\'s network interfaces in subnets it picks at run time; AWS\'s AWSLambdaVPCAccessExecutionRole grants these ec2 actions on "*".',
  'ec2:DeleteNetworkInterface': 'As ec2:CreateNetworkInterface: Lambda removes the interfaces it created, whose ids are unknown at synth.',
  'ec2:AssignPrivateIpAddresses': 'As ec2:CreateNetworkInterface: part of AWSLambdaVPCAccessExecutionRole, on interfaces unknown at synth.',
  'ec2:UnassignPrivateIpAddresses':
    'As ec2:CreateNetworkInterface: part of AWSLambdaVPCAccessExecutionRole, on interfaces unknown at synth.',
  // The Provider framework's waiter state machine (aws-cdk-lib) logging to CloudWatch Logs.
  'logs:PutResourcePolicy':
    'Step Functions vended log delivery: the CloudWatch Logs guide says to grant PutResourcePolicy, DescribeResourcePolicies and DescribeLogGroups on "*" (AWS-logs-infrastructure-CWL); aws-cdk-lib\'s waiter state machine role does.',
  'logs:DescribeLogGroups': "As logs:PutResourcePolicy: the vended-logs setup of the Provider framework's waiter state machine.",
  'logs:CreateLogStream':
    "aws-cdk-lib's logging statement for the Provider framework's waiter state machine (one role per deployment resource); Step Functions writes through log delivery, not these calls.",
  'logs:PutLogEvents': 'As logs:CreateLogStream: part of the same generated waiter state machine statement.',
  // CDK Pipelines.
  'codebuild:BatchGetBuilds':
    "CDK Pipelines' shared asset-publishing role runs the asset CodeBuild projects it generates (names unknown at synth); start, read and stop builds only.",
  'codebuild:StartBuild': 'As codebuild:BatchGetBuilds: the asset-publishing projects CDK Pipelines generates.',
  'codebuild:StopBuild': 'As codebuild:BatchGetBuilds: the asset-publishing projects CDK Pipelines generates.',
  'cloudformation:DescribeStacks':
    'Self-mutation runs `cdk deploy`, which reads the bootstrap stack (name depends on the qualifier) before deploying; read-only.',
  's3:ListBucket':
    'Self-mutation runs `cdk deploy`, which lists the bootstrap bucket (name depends on the qualifier) before deploying; read-only.',
};
