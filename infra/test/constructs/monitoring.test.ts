import { Template } from "aws-cdk-lib/assertions";
import * as ecs from "aws-cdk-lib/aws-ecs";
import * as elbv2 from "aws-cdk-lib/aws-elasticloadbalancingv2";
import * as rds from "aws-cdk-lib/aws-rds";
import * as sqs from "aws-cdk-lib/aws-sqs";
import { beforeAll, describe, expect, it } from "vitest";
import { development } from "../../src/config.js";
import { Monitoring } from "../../src/constructs/monitoring.js";
import { bareStack } from "../stacks.js";

function monitoring(database: { maxConnections: number; allocatedStorageGiB: number }, email?: string): Template {
  const { stack, vpc } = bareStack();
  const cluster = new ecs.Cluster(stack, "Cluster", { vpc });
  const service = (name: string) =>
    ecs.FargateService.fromFargateServiceAttributes(stack, name, { cluster, serviceName: name.toLowerCase() });
  new Monitoring(stack, "Monitoring", {
    limits: { ...development("test").alarms, email },
    database: {
      instance: rds.DatabaseInstance.fromDatabaseInstanceAttributes(stack, "Instance", {
        instanceIdentifier: "db",
        instanceEndpointAddress: "db.example",
        port: 5433,
        securityGroups: [],
      }),
      ...database,
    },
    queue: sqs.Queue.fromQueueArn(stack, "Queue", "arn:aws:sqs:us-east-1:000000000000:processing"),
    cluster,
    api: service("Api"),
    worker: service("Worker"),
    apiTargetGroup: elbv2.ApplicationTargetGroup.fromTargetGroupAttributes(stack, "Targets", {
      targetGroupArn: "arn:aws:elasticloadbalancing:us-east-1:000000000000:targetgroup/api/0123456789abcdef",
      loadBalancerArns: "arn:aws:elasticloadbalancing:us-east-1:000000000000:loadbalancer/app/api/0123456789abcdef",
    }),
  });
  return Template.fromStack(stack);
}

const alarm = (t: Template, metric: string) =>
  Object.values(t.findResources("AWS::CloudWatch::Alarm"))
    .map((r) => r.Properties)
    .find((p) => p.MetricName === metric);

describe("Monitoring", () => {
  let small: Template;
  let bigger: Template;
  let withEmail: Template;
  beforeAll(() => {
    small = monitoring({ maxConnections: 400, allocatedStorageGiB: 20 });
    bigger = monitoring({ maxConnections: 1000, allocatedStorageGiB: 50 });
    withEmail = monitoring({ maxConnections: 400, allocatedStorageGiB: 20 }, "ops@example.com");
  });

  it("sets the connections alarm at its share of max_connections, and the storage alarm at its share of the storage", () => {
    expect(alarm(small, "DatabaseConnections")).toMatchObject({ Threshold: 320 });
    expect(alarm(small, "FreeStorageSpace")).toMatchObject({ Threshold: Math.floor(0.2 * 20 * 1024 ** 3) });
    expect(alarm(bigger, "DatabaseConnections")).toMatchObject({ Threshold: 800 });
    expect(alarm(bigger, "FreeStorageSpace")).toMatchObject({ Threshold: Math.floor(0.2 * 50 * 1024 ** 3) });
  });

  it("sends all six alarms to its topic, and subscribes an email only when one is given", () => {
    const without = small;
    without.resourceCountIs("AWS::CloudWatch::Alarm", 6);
    for (const a of Object.values(without.findResources("AWS::CloudWatch::Alarm"))) {
      expect(JSON.stringify(a.Properties.AlarmActions)).toMatch(/MonitoringAlarms/);
    }
    without.resourceCountIs("AWS::SNS::Subscription", 0);
    withEmail.hasResourceProperties("AWS::SNS::Subscription", { Protocol: "email", Endpoint: "ops@example.com" });
  });
});
