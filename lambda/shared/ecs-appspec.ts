/** The task definition ARN an ECS AppSpec (JSON or YAML) deploys, if it can be read. */
export function taskDefinitionOf(appSpecContent: string | undefined): string | undefined {
  return appSpecContent?.match(/TaskDefinition["']?\s*:\s*["']?(arn:[^"'\s,}]+)/)?.[1];
}

/** Family and revision of a task definition revision ARN (`...:task-definition/<family>:<revision>`). */
export function familyRevision(taskDefinitionArn: string): { family: string; revision: number } | undefined {
  const m = /:task-definition\/([A-Za-z0-9_-]{1,255}):(\d+)$/.exec(taskDefinitionArn);
  return m ? { family: m[1], revision: Number(m[2]) } : undefined;
}
