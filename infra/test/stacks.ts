import { App, Stack } from "aws-cdk-lib";
import { Template } from "aws-cdk-lib/assertions";
import * as ec2 from "aws-cdk-lib/aws-ec2";
import { buildApp } from "../src/app.js";

/** Both environments, built once per test file, as CloudFormation templates. */
export function templates() {
  const dev = buildApp(new App({ context: { env: "development", developerId: "ana" } })).stack;
  const prod = buildApp(new App({ context: { env: "production" } })).stack;
  return { dev, prod, devTemplate: Template.fromStack(dev), prodTemplate: Template.fromStack(prod) };
}

/** An empty stack with a VPC shaped like the platform's (public, services, isolated data subnets), for one construct. */
export function bareStack(): { stack: Stack; vpc: ec2.Vpc } {
  const stack = new Stack(new App(), "Test", { env: { region: "us-east-1" } });
  const vpc = new ec2.Vpc(stack, "Vpc", {
    maxAzs: 2,
    natGateways: 1,
    subnetConfiguration: [
      { name: "public", subnetType: ec2.SubnetType.PUBLIC },
      { name: "services", subnetType: ec2.SubnetType.PRIVATE_WITH_EGRESS },
      { name: "data", subnetType: ec2.SubnetType.PRIVATE_ISOLATED },
    ],
  });
  return { stack, vpc };
}

/** A security group standing for a service that connects to the construct under test. */
export function peer(stack: Stack, vpc: ec2.IVpc, id: string): ec2.SecurityGroup {
  return new ec2.SecurityGroup(stack, id, { vpc });
}
