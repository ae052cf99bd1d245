import { CfnValue, refOf, sameValue } from './intrinsics';

export type { CfnValue };

/** A resource of a synthesized CloudFormation template. */
export interface TemplateResource {
  readonly Type: string;
  readonly Properties?: Record<string, CfnValue>;
  readonly UpdatePolicy?: Record<string, CfnValue>;
}

/** A synthesized CloudFormation template, as far as the policy and the report read it. */
export interface CfnTemplate {
  readonly Resources?: Record<string, TemplateResource>;
}

export const DEPLOYMENT_GROUP = 'AWS::CodeDeploy::DeploymentGroup';

/** A resource a CodeDeploy canary releases to: a Lambda alias or an ECS service. */
export interface DeploymentTarget {
  readonly logicalId: string;
  readonly resource: TemplateResource;
  readonly kind: 'lambda-alias' | 'ecs-service';
  /**
   * The deployment group that releases it, when that group is in the same template: the one the
   * alias's UpdatePolicy.CodeDeployLambdaAliasUpdate names, or the one listing the service in ECSServices.
   */
  readonly deploymentGroupId?: string;
}

/**
 * One walk over a template's resources, shared by the safety policy (lib/policy/rules) and the
 * rollback-readiness report (lib/report): resources by type, references resolved to logical IDs,
 * and the Lambda aliases and ECS services with the deployment groups that release them.
 */
export class TemplateIndex {
  readonly resources: Readonly<Record<string, TemplateResource>>;
  private readonly byType = new Map<string, Array<[string, TemplateResource]>>();

  constructor(template: CfnTemplate) {
    this.resources = template.Resources ?? {};
    for (const entry of Object.entries(this.resources)) {
      const list = this.byType.get(entry[1].Type) ?? [];
      list.push(entry);
      this.byType.set(entry[1].Type, list);
    }
  }

  /** The resources of one type, as [logicalId, resource], in template order. */
  ofType(type: string): ReadonlyArray<[string, TemplateResource]> {
    return this.byType.get(type) ?? [];
  }

  /** The resource with this logical ID, if the template has it. */
  get(logicalId: string | undefined): TemplateResource | undefined {
    return logicalId === undefined ? undefined : this.resources[logicalId];
  }

  /** The resource a Ref or Fn::GetAtt points at, if the template has it. */
  referenced(value: unknown): TemplateResource | undefined {
    return this.get(refOf(value));
  }

  /**
   * The logical ID of the resource `value` designates: by Ref or Fn::GetAtt, or by its name property
   * (`DeploymentGroupName`, `AlarmName`) equal to `value`. With `type`, only resources of that type count.
   */
  idOfNamed(value: unknown, nameProperty: string, type?: string): string | undefined {
    const id = refOf(value);
    if (id !== undefined && this.resources[id] && (type === undefined || this.resources[id].Type === type)) return id;
    const candidates = type === undefined ? Object.entries(this.resources) : this.ofType(type);
    return candidates.find(([, r]) => r.Properties?.[nameProperty] !== undefined && sameValue(r.Properties[nameProperty], value))?.[0];
  }

  /** The Lambda aliases and ECS services of the template, in template order, each with its deployment group. */
  deploymentTargets(): DeploymentTarget[] {
    return Object.entries(this.resources).flatMap(([logicalId, resource]): DeploymentTarget[] => {
      if (resource.Type === 'AWS::Lambda::Alias') {
        const groupName = resource.UpdatePolicy?.CodeDeployLambdaAliasUpdate?.DeploymentGroupName;
        const deploymentGroupId = this.idOfNamed(groupName, 'DeploymentGroupName', DEPLOYMENT_GROUP);
        return [{ logicalId, resource, kind: 'lambda-alias', deploymentGroupId }];
      }
      if (resource.Type === 'AWS::ECS::Service') {
        const services = (g: TemplateResource) => (g.Properties?.ECSServices ?? []) as Array<{ ServiceName?: unknown }>;
        const group = this.ofType(DEPLOYMENT_GROUP).find(([, g]) => services(g).some((s) => refOf(s.ServiceName) === logicalId));
        return [{ logicalId, resource, kind: 'ecs-service', deploymentGroupId: group?.[0] }];
      }
      return [];
    });
  }
}
