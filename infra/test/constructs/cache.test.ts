import type { Stack } from "aws-cdk-lib";
import { Template } from "aws-cdk-lib/assertions";
import { beforeAll, describe, expect, it } from "vitest";
import { Cache, REDIS_PORT } from "../../src/constructs/cache.js";
import { bareStack, peer } from "../stacks.js";

function cache(nodes: number, snapshotRetentionDays = 0): { stack: Stack; cache: Cache; template: () => Template } {
  const { stack, vpc } = bareStack();
  const c = new Cache(stack, "Cache", {
    vpc,
    environmentName: "test",
    nodeType: "cache.t4g.micro",
    nodes,
    snapshotRetentionDays,
  });
  c.connections.allowDefaultPortFrom(peer(stack, vpc, "Service"), "Service to Redis");
  return { stack, cache: c, template: () => Template.fromStack(stack) };
}

// Synthesizing is slow on a busy machine: each template is built once, in a hook.
let single: Template;
let replicated: Template;
beforeAll(() => {
  single = cache(1, 0).template();
  replicated = cache(2, 7).template();
});

describe("Cache", () => {
  it("one node: no failover, no Multi-AZ, the snapshots configured", () => {
    single.hasResourceProperties("AWS::ElastiCache::ReplicationGroup", {
      NumCacheClusters: 1,
      AutomaticFailoverEnabled: false,
      MultiAZEnabled: false,
      SnapshotRetentionLimit: 0,
      ReplicationGroupDescription: "Sensa Learn test cache",
    });
  });

  it("two nodes or more: automatic failover across AZs", () => {
    replicated.hasResourceProperties("AWS::ElastiCache::ReplicationGroup", {
      NumCacheClusters: 2,
      AutomaticFailoverEnabled: true,
      MultiAZEnabled: true,
      SnapshotRetentionLimit: 7,
    });
  });

  it(`listens on ${REDIS_PORT} and lets in only the peers allowed through its connections, on that port`, () => {
    const t = single;
    t.hasResourceProperties("AWS::ElastiCache::ReplicationGroup", { Port: REDIS_PORT });
    const ingress = Object.values(t.findResources("AWS::EC2::SecurityGroupIngress")).map((r) => r.Properties);
    expect(ingress).toEqual([
      expect.objectContaining({ Description: "Service to Redis", FromPort: REDIS_PORT, ToPort: REDIS_PORT }),
    ]);
  });

  it("gives a service the primary endpoint and the AUTH token from Secrets Manager", () => {
    const { stack, cache: c } = cache(2);
    const { environment, secrets } = c.connection();
    expect(JSON.stringify(stack.resolve(environment.REDIS_HOST))).toMatch(/PrimaryEndPoint\.Address/);
    expect(JSON.stringify(stack.resolve(environment.REDIS_PORT))).toMatch(/PrimaryEndPoint\.Port/);
    expect(Object.keys(secrets)).toEqual(["REDIS_AUTH_TOKEN"]);
    expect(JSON.stringify(stack.resolve(secrets.REDIS_AUTH_TOKEN!.arn))).toMatch(/CacheAuthToken/);
  });
});
