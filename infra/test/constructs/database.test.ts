import type { Stack } from "aws-cdk-lib";
import { Match, Template } from "aws-cdk-lib/assertions";
import type * as ec2 from "aws-cdk-lib/aws-ec2";
import * as iam from "aws-cdk-lib/aws-iam";
import { beforeAll, describe, expect, it } from "vitest";
import { development } from "../../src/config.js";
import { APP_LOGIN, Database, DATABASE_PORT } from "../../src/constructs/database.js";
import { DatabaseProxy } from "../../src/constructs/database-proxy.js";
import { bareStack, peer } from "../stacks.js";

type Settings = Partial<ConstructorParameters<typeof Database>[2]>;

function database(settings: Settings = {}): { stack: Stack; vpc: ec2.Vpc; database: Database } {
  const { stack, vpc } = bareStack();
  const { rdsProxy: _, ...base } = development("test").database;
  const db = new Database(stack, "Database", { vpc, ...base, logRetentionDays: 7, retainData: false, ...settings });
  return { stack, vpc, database: db };
}

const resolved = (stack: Stack, value: unknown) => JSON.stringify(stack.resolve(value));
const secretNames = (secrets: Record<string, unknown>) => Object.keys(secrets).sort();

const taskRole = (stack: Stack) =>
  new iam.Role(stack, "TaskRole", { assumedBy: new iam.ServicePrincipal("ecs-tasks.amazonaws.com") });

// Synthesizing is slow on a busy machine: each template is built once, in a hook.
let withPeer: Template;
let kept: Template;
let withReplica: Template;
let passwordGrant: Template;
let iamGrant: Template;
beforeAll(() => {
  const plain = database({ retainData: false });
  plain.database.connections.allowDefaultPortFrom(peer(plain.stack, plain.vpc, "Service"), "Service to PostgreSQL");
  plain.database.grantAppLogin(taskRole(plain.stack));
  withPeer = passwordGrant = Template.fromStack(plain.stack);
  kept = Template.fromStack(database({ retainData: true }).stack);
  const replicated = database({ readReplica: true, instanceClass: "db.r6g.large" });
  withReplica = Template.fromStack(replicated.stack);
  const iamDb = database({ appAuthentication: "iam", readReplica: true });
  iamDb.database.grantAppLogin(taskRole(iamDb.stack));
  iamGrant = Template.fromStack(iamDb.stack);
});

describe("Database", () => {
  it(`listens on ${DATABASE_PORT}, and lets in only the peers allowed through its connections, on that port`, () => {
    const t = withPeer;
    t.hasResourceProperties("AWS::RDS::DBInstance", { Port: String(DATABASE_PORT) });
    const ingress = Object.values(t.findResources("AWS::EC2::SecurityGroupIngress")).map((r) => r.Properties);
    const ours = ingress.filter((p) => p.Description === "Service to PostgreSQL");
    expect(ours).toEqual([expect.objectContaining({ FromPort: DATABASE_PORT, ToPort: DATABASE_PORT })]);
    // The only other rule is CDK's own for the rotation Lambda.
    expect(ingress.filter((p) => p !== ours[0]).map((p) => p.Description)).toEqual([
      expect.stringMatching(/RotationSingleUser/),
    ]);
  });

  it("takes a final snapshot on removal with retainData, and deletes outright without", () => {
    kept.hasResource("AWS::RDS::DBInstance", { DeletionPolicy: "Snapshot" });
    withPeer.hasResource("AWS::RDS::DBInstance", { DeletionPolicy: "Delete" });
  });

  it("adds a read replica only when asked, of the same class", () => {
    withPeer.resourceCountIs("AWS::RDS::DBInstance", 1);
    withReplica.resourceCountIs("AWS::RDS::DBInstance", 2);
    withReplica.hasResourceProperties("AWS::RDS::DBInstance", {
      SourceDBInstanceIdentifier: Match.anyValue(),
      DBInstanceClass: "db.r6g.large",
    });
  });

  describe("connections", () => {
    it("the owner's: the instance itself, verified TLS, the owner's secret, no application name and no replicas", () => {
      const { stack, database: db } = database({ readReplica: true });
      const { environment, secrets } = db.ownerConnection();
      expect(Object.keys(environment)).toEqual(["PGHOST", "PGPORT", "PGDATABASE", "PGSSLMODE"]);
      expect(resolved(stack, environment.PGHOST)).toMatch(/DatabaseInstance.*Endpoint\.Address/);
      expect(resolved(stack, environment.PGPORT)).toMatch(/DatabaseInstance.*Endpoint\.Port/);
      expect(environment).toMatchObject({ PGDATABASE: "sensa", PGSSLMODE: "verify-full" });
      expect(secretNames(secrets)).toEqual(["PGPASSWORD", "PGUSER"]);
      expect(resolved(stack, secrets.PGPASSWORD!.arn)).toMatch(/DatabaseInstanceSecret/);
    });

    it("a service's: the app login's secret, its PGAPPNAME, and the replica as PGHOST_REPLICAS", () => {
      const { stack, database: db } = database({ readReplica: true });
      const { environment, secrets } = db.appConnection("sensa-api");
      expect(environment.PGAPPNAME).toBe("sensa-api");
      expect(resolved(stack, environment.PGHOST)).toMatch(/DatabaseInstance.*Endpoint\.Address/);
      expect(resolved(stack, environment.PGHOST_REPLICAS)).toMatch(
        /ReadReplica.*Endpoint\.Address.*ReadReplica.*Endpoint\.Port/,
      );
      expect(resolved(stack, secrets.PGPASSWORD!.arn)).toMatch(/AppLogin/);
    });

    it("without a replica, no PGHOST_REPLICAS", () => {
      expect(database().database.appConnection("sensa-api").environment).not.toHaveProperty("PGHOST_REPLICAS");
    });

    it("through RDS Proxy: the proxy's endpoint on its own port (5432)", () => {
      const { stack, vpc, database: db } = database();
      const proxy = new DatabaseProxy(stack, "Proxy", {
        vpc,
        instance: db.instance,
        loginSecret: db.appSecret,
        iamAuth: false,
      });
      const { environment } = db.appConnection("sensa-worker", proxy);
      expect(resolved(stack, environment.PGHOST)).toMatch(/Proxy.*"Endpoint"/);
      expect(environment.PGPORT).toBe("5432");
      // The owner never goes through it.
      expect(resolved(stack, db.ownerConnection().environment.PGHOST)).toMatch(/DatabaseInstance.*Endpoint\.Address/);
    });

    it("with IAM authentication: the login's name and DATABASE_IAM_AUTH, and no secret at all", () => {
      const { environment, secrets } = database({ appAuthentication: "iam" }).database.appConnection("sensa-api");
      expect(environment).toMatchObject({ PGUSER: APP_LOGIN, DATABASE_IAM_AUTH: "true" });
      expect(secrets).toEqual({});
    });
  });

  describe("grantAppLogin", () => {
    const connects = (t: Template) =>
      Object.values(t.findResources("AWS::IAM::Policy")).flatMap((p) =>
        (p.Properties.PolicyDocument.Statement as Array<{ Action: unknown; Resource: unknown }>).filter((s) =>
          JSON.stringify(s.Action).includes("rds-db:connect"),
        ),
      );

    it("with a password grants nothing (ECS reads the secret with the execution role)", () => {
      expect(connects(passwordGrant)).toEqual([]);
    });

    it("with IAM authentication: rds-db:connect as the app login only, on the primary and the replica", () => {
      const resources = connects(iamGrant).flatMap((s) => [s.Resource].flat());
      expect(resources).toHaveLength(2);
      for (const r of resources) expect(JSON.stringify(r)).toMatch(new RegExp(`dbuser:.*/${APP_LOGIN}`));
    });
  });
});
