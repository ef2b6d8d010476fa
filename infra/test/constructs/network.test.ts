import { App, Stack } from "aws-cdk-lib";
import { Template } from "aws-cdk-lib/assertions";
import { beforeAll, describe, expect, it } from "vitest";
import { Network } from "../../src/constructs/network.js";

function network(interfaceEndpoints: boolean): { network: Network; template: Template } {
  const stack = new Stack(new App(), "Test", { env: { region: "us-east-1" } });
  const n = new Network(stack, "Network", {
    availabilityZones: ["us-east-1a", "us-east-1b"],
    natGateways: 1,
    interfaceEndpoints,
    logRetentionDays: 7,
  });
  return { network: n, template: Template.fromStack(stack) };
}

describe("Network", () => {
  let without: ReturnType<typeof network>;
  let withEndpoints: ReturnType<typeof network>;
  beforeAll(() => {
    without = network(false);
    withEndpoints = network(true);
  });

  it("always has the free S3 gateway endpoint, and the interface endpoints only when asked", () => {
    without.template.resourceCountIs("AWS::EC2::VPCEndpoint", 1);
    expect(without.network.interfaceEndpoints).toEqual([]);
    withEndpoints.template.resourceCountIs("AWS::EC2::VPCEndpoint", 6);
    expect(withEndpoints.network.interfaceEndpoints.map((e) => e.node.id)).toEqual([
      "Sqs",
      "SecretsManager",
      "EcrApi",
      "EcrDocker",
      "Logs",
    ]);
  });

  it("logs rejected traffic, kept as long as configured", () => {
    const { template } = without;
    template.hasResourceProperties("AWS::EC2::FlowLog", { TrafficType: "REJECT" });
    template.hasResourceProperties("AWS::Logs::LogGroup", { RetentionInDays: 7 });
  });
});
