import type { Stack } from "aws-cdk-lib";
import { Match, Template } from "aws-cdk-lib/assertions";
import * as cloudwatch from "aws-cdk-lib/aws-cloudwatch";
import * as ecs from "aws-cdk-lib/aws-ecs";
import * as secretsmanager from "aws-cdk-lib/aws-secretsmanager";
import { beforeAll, describe, expect, it } from "vitest";
import { Compute, type ComputeProps } from "../../src/constructs/compute.js";
import { bareStack } from "../stacks.js";

function compute(overrides: Partial<ComputeProps> = {}): { stack: Stack; compute: Compute } {
  const { stack, vpc } = bareStack();
  const secret = new secretsmanager.Secret(stack, "Secret");
  const c = new Compute(stack, "Compute", {
    vpc,
    api: {
      min: 2,
      max: 4,
      cpu: 256,
      memoryMiB: 512,
      image: "sensa-learn/api:v1",
      environment: { ONLY: "api" },
      secrets: { TOKEN: ecs.Secret.fromSecretsManager(secret) },
    },
    worker: { min: 1, max: 3, cpu: 512, memoryMiB: 1024, image: "sensa-learn/worker:v1", environment: {}, secrets: {} },
    certificateArn: "arn:aws:acm:us-east-1:000000000000:certificate/test",
    workerBacklog: new cloudwatch.Metric({ namespace: "Test", metricName: "Backlog" }),
    messagesPerWorker: 7,
    logRetentionDays: 7,
    retainData: false,
    ...overrides,
  });
  return { stack, compute: c };
}

interface Container {
  Name: string;
  Image: unknown;
  Environment?: Array<{ Name: string; Value: unknown }>;
  Secrets?: Array<{ Name: string }>;
}

describe("Compute", () => {
  let t: Template;
  beforeAll(() => {
    t = Template.fromStack(compute().stack);
  });

  it("starts each container with exactly the variables and secrets it is given", () => {
    const containers = Object.values(t.findResources("AWS::ECS::TaskDefinition")).flatMap(
      (r) => r.Properties.ContainerDefinitions as Container[],
    );
    const api = containers.find((c) => c.Name === "api")!;
    const worker = containers.find((c) => c.Name === "worker")!;
    expect(api.Environment).toEqual([{ Name: "ONLY", Value: "api" }]);
    expect(api.Secrets?.map((s) => s.Name)).toEqual(["TOKEN"]);
    expect(worker.Environment).toBeUndefined();
    expect(worker.Secrets).toBeUndefined();
    expect(JSON.stringify(api.Image)).toMatch(/sensa-learn\/api.*:v1/);
  });

  it("opens nothing and grants nothing by itself: the task roles have no policy, no data store is reachable", () => {
    const policies = Object.values(t.findResources("AWS::IAM::Policy")).map((p) => JSON.stringify(p.Properties.Roles));
    expect(policies.filter((roles) => /TaskTaskRole/.test(roles))).toEqual([]);
    const ingress = Object.values(t.findResources("AWS::EC2::SecurityGroupIngress")).map(
      (r) => r.Properties.Description,
    );
    expect(ingress).toEqual(["Load balancer to target"]);
  });

  it("scales the API on CPU between its min and max", () => {
    t.hasResourceProperties("AWS::ApplicationAutoScaling::ScalableTarget", {
      MinCapacity: 2,
      MaxCapacity: 4,
    });
    t.hasResourceProperties("AWS::ApplicationAutoScaling::ScalingPolicy", {
      TargetTrackingScalingPolicyConfiguration: Match.objectLike({
        PredefinedMetricSpecification: { PredefinedMetricType: "ECSServiceAverageCPUUtilization" },
        TargetValue: 60,
      }),
    });
  });

  it("adds a worker per messagesPerWorker of backlog, three from five times that, and removes one when it is empty", () => {
    const steps = Object.values(t.findResources("AWS::ApplicationAutoScaling::ScalingPolicy"))
      .map((p) => p.Properties.StepScalingPolicyConfiguration)
      .filter(Boolean)
      .flatMap((c) => c.StepAdjustments as Array<{ ScalingAdjustment: number }>);
    expect(steps.map((s) => s.ScalingAdjustment).sort()).toEqual([-1, 1, 3]);
    t.hasResourceProperties("AWS::CloudWatch::Alarm", { MetricName: "Backlog", Threshold: 7 });
    t.hasResourceProperties("AWS::CloudWatch::Alarm", { MetricName: "Backlog", Threshold: 0 });
    t.hasResourceProperties("AWS::ApplicationAutoScaling::ScalableTarget", { MinCapacity: 1, MaxCapacity: 3 });
  });

  it("keeps the load balancer's access logs on removal only with retainData", () => {
    t.hasResource("AWS::S3::Bucket", { DeletionPolicy: "Delete" });
    Template.fromStack(compute({ retainData: true }).stack).hasResource("AWS::S3::Bucket", {
      DeletionPolicy: "Retain",
    });
  });
});
