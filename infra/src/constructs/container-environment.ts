import type * as ecs from "aws-cdk-lib/aws-ecs";

/** What a container is started with: plain variables, and the ones ECS reads from Secrets Manager. */
export interface ContainerEnvironment {
  environment: Record<string, string>;
  secrets: Record<string, ecs.Secret>;
}

/** Several parts' variables in one container's, later parts winning, in the order given. */
export function combine(...parts: ContainerEnvironment[]): ContainerEnvironment {
  return {
    environment: Object.assign({}, ...parts.map((p) => p.environment)),
    secrets: Object.assign({}, ...parts.map((p) => p.secrets)),
  };
}
