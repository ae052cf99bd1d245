import { CloudFormationClient } from '@aws-sdk/client-cloudformation';
import { CodeBuildClient } from '@aws-sdk/client-codebuild';
import { CodeDeployClient } from '@aws-sdk/client-codedeploy';
import { CodePipelineClient } from '@aws-sdk/client-codepipeline';

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
 * The SDK retries throttling and 5xx itself (standard mode, here with more attempts than its
 * default 3); `call()` in aws.ts adds a few attempts on top for what it gives up on.
 */
const MAX_ATTEMPTS = 6;

/** Creates the clients for `region` with the default credential chain. */
export function createClients(region: string): OpsClients {
  const config = { region, maxAttempts: MAX_ATTEMPTS };
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
