import * as ecr from "aws-cdk-lib/aws-ecr";
import * as ecs from "aws-cdk-lib/aws-ecs";
import type { Construct } from "constructs";

/** An image from an ECR repository by name (`repo:tag`): nothing is built, so synth needs no Docker. */
export function imageFrom(scope: Construct, id: string, reference: string): ecs.ContainerImage {
  const [repository, tag = "latest"] = reference.split(":");
  return ecs.ContainerImage.fromEcrRepository(ecr.Repository.fromRepositoryName(scope, id, repository!), tag);
}
