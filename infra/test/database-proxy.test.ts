import { Match, type Template } from "aws-cdk-lib/assertions";
import { beforeAll, describe, expect, it } from "vitest";
import { resolveTarget } from "../../src/connection/target.js";
import { resolveReplicaTargets } from "../../src/connection/replicas.js";
import { templates } from "./stacks.js";

interface Container {
  Name: string;
  Environment: Array<{ Name: string; Value: unknown }>;
  Secrets?: Array<{ Name: string }>;
}

function containers(t: Template): Record<string, Container> {
  const all = Object.values(t.findResources("AWS::ECS::TaskDefinition")).flatMap(
    (r) => r.Properties.ContainerDefinitions as Container[],
  );
  return Object.fromEntries(all.map((c) => [c.Name, c]));
}

const value = (c: Container, name: string) => c.Environment.find((e) => e.Name === name)?.Value;

let dev: Template;
let prod: Template;
beforeAll(() => {
  ({ devTemplate: dev, prodTemplate: prod } = templates());
});

describe("RDS Proxy and read replicas in Production", () => {
  it("puts one RDS Proxy in front of the primary, TLS required, logging in with the app login's secret only", () => {
    prod.resourceCountIs("AWS::RDS::DBProxy", 1);
    const [proxy] = Object.values(prod.findResources("AWS::RDS::DBProxy"));
    expect(proxy!.Properties).toMatchObject({ EngineFamily: "POSTGRESQL", RequireTLS: true });
    const auth = proxy!.Properties.Auth as Array<{ SecretArn: unknown; IAMAuth: string }>;
    expect(auth).toHaveLength(1);
    expect(JSON.stringify(auth[0]!.SecretArn)).toMatch(/AppLogin/);
    prod.hasResourceProperties("AWS::RDS::DBProxyTargetGroup", {
      DBInstanceIdentifiers: [{ Ref: Match.stringLikeRegexp("DatabaseInstance") }],
      ConnectionPoolConfigurationInfo: Match.objectLike({ MaxConnectionsPercent: 50 }),
    });
  });

  it.each(["api", "worker"])(
    "%s connects to the proxy endpoint on 5432 and gets the replica as PGHOST_REPLICAS",
    (name) => {
      const c = containers(prod)[name]!;
      expect(JSON.stringify(value(c, "PGHOST"))).toMatch(/DatabaseProxy.*"Endpoint"/);
      expect(value(c, "PGPORT")).toBe("5432");
      const replicas = JSON.stringify(value(c, "PGHOST_REPLICAS"));
      expect(replicas).toMatch(/ReadReplica.*Endpoint\.Address/);
      expect(replicas).toMatch(/ReadReplica.*Endpoint\.Port/);
    },
  );

  it("what the services get is what @sensa-learn/db reads: the proxy as primary, the replica beside it", () => {
    const env = {
      PGHOST: "proxy.example",
      PGPORT: "5432",
      PGDATABASE: "sensa",
      PGSSLMODE: "verify-full",
      PGUSER: "sensa_app_login",
      PGPASSWORD: "pw",
      PGHOST_REPLICAS: "replica.example:5433",
    };
    const primary = resolveTarget({ env })!;
    expect(primary).toMatchObject({ host: "proxy.example", port: 5432 });
    expect(resolveReplicaTargets(primary, {}, env)).toEqual([{ ...primary, host: "replica.example", port: 5433 }]);
  });

  it("the migration task connects to the instance directly, never through the proxy, and gets no replica", () => {
    const c = containers(prod).migrate!;
    expect(JSON.stringify(value(c, "PGHOST"))).toMatch(/DatabaseInstance.*Endpoint\.Address/);
    expect(value(c, "PGHOST_REPLICAS")).toBeUndefined();
  });

  it("the proxy takes connections only from the API and the workers, and reaches PostgreSQL", () => {
    const ingress = Object.values(prod.findResources("AWS::EC2::SecurityGroupIngress")).map((r) => r.Properties);
    expect(
      ingress
        .filter((p) => p.FromPort === 5432)
        .map((p) => p.Description)
        .sort(),
    ).toEqual(["Api to RDS Proxy", "Worker to RDS Proxy"]);
    expect(ingress.filter((p) => p.FromPort === 5433).map((p) => p.Description)).toContain("RDS Proxy to PostgreSQL");
  });
});

describe("Development", () => {
  it("has no proxy and no replica: the services connect to the instance", () => {
    dev.resourceCountIs("AWS::RDS::DBProxy", 0);
    const api = containers(dev).api!;
    expect(JSON.stringify(value(api, "PGHOST"))).toMatch(/DatabaseInstance.*Endpoint\.Address/);
    expect(value(api, "PGHOST_REPLICAS")).toBeUndefined();
  });
});
