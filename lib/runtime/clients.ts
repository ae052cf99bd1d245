import { CloudFormationClient } from '@aws-sdk/client-cloudformation';
import { CodeBuildClient } from '@aws-sdk/client-codebuild';
import { CodeDeployClient } from '@aws-sdk/client-codedeploy';
import { CodePipelineClient } from '@aws-sdk/client-codepipeline';
import { BOUNDED_HTTP } from './http';

/** The SDK clients the operator functions use, all for one region. */
export interface OpsClients {
  codepipeline: CodePipelineClient;
  codedeploy: CodeDeployClient;
  cloudformation: CloudFormationClient;
  codebuild: CodeBuildClient;
}

/** Gives the clients for a region: stacks of a cross-region pipeline live in other regions. */
export type ClientsForRegion = (region: string) => OpsClients;

/**
 * How the CLI's clients talk to AWS, so an unreachable or silent endpoint fails in seconds, not
 * minutes: the SDK retries throttling, 5xx and network errors itself (standard mode, 3 attempts);
 * `call()` in context.ts adds a few attempts on top for throttling and 5xx only. Worst case of one
 * call against an endpoint that accepts connections but never answers: 3 x 10 s.
 */
export const CLIENT_SETTINGS = {
  maxAttempts: 3,
  requestHandler: BOUNDED_HTTP,
} as const;

/** Creates the clients for `region` with the default credential chain. */
export function createClients(region: string): OpsClients {
  const config = { region, ...CLIENT_SETTINGS };
  return {
    codepipeline: new CodePipelineClient(config),
    codedeploy: new CodeDeployClient(config),
    cloudformation: new CloudFormationClient(config),
    codebuild: new CodeBuildClient(config),
  };
}

/** Caches one set of clients per region, starting from the clients of the home region. */
export function clientsPerRegion(home: OpsClients, homeRegion: string, factory: ClientsForRegion = createClients): ClientsForRegion {
  const cache = new Map<string, OpsClients>([[homeRegion, home]]);
  return (region: string) => {
    let clients = cache.get(region);
    if (!clients) {
      clients = factory(region);
      cache.set(region, clients);
    }
    return clients;
  };
}
