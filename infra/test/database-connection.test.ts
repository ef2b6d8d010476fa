import { App } from "aws-cdk-lib";
import { Template } from "aws-cdk-lib/assertions";
import { beforeAll, describe, expect, it } from "vitest";
import { resolveTarget } from "../../src/connection/target.js";
import { production } from "../src/config.js";
import { APP_LOGIN } from "../src/constructs/database.js";
import { PlatformStack } from "../src/stacks/platform-stack.js";
import { templates } from "./stacks.js";

// What the tasks are given must be what @sensa-learn/db reads: each container's variables are fed
// to the package's own resolveTarget (CloudFormation tokens replaced by sample values).

interface Container {
  Name: string;
  Environment: Array<{ Name: string; Value: unknown }>;
  Secrets?: Array<{ Name: string; ValueFrom: unknown }>;
}

function containers(t: Template): Record<string, Container> {
  const all = Object.values(t.findResources("AWS::ECS::TaskDefinition")).flatMap(
    (r) => r.Properties.ContainerDefinitions as Container[],
  );
  return Object.fromEntries(all.map((c) => [c.Name, c]));
}

/** The environment a container starts with: plain values as given, tokens and secrets as samples. */
function envOf(c: Container): Record<string, string> {
  const env: Record<string, string> = {};
  for (const { Name, Value } of c.Environment)
    env[Name] = typeof Value === "string" ? Value : Name === "PGPORT" ? "5433" : `<${Name}>`;
  for (const { Name } of c.Secrets ?? []) env[Name] = `<secret ${Name}>`;
  return env;
}

/** The logical id of the secret a container's variable is read from. */
const secretOf = (c: Container, name: string) =>
  JSON.stringify(c.Secrets?.find((s) => s.Name === name)?.ValueFrom).match(/"Ref":"([^"]+)"/)?.[1];

describe("what the API, worker and migration tasks pass to @sensa-learn/db", () => {
  let tasks: Record<string, Container>;
  beforeAll(() => {
    tasks = containers(templates().prodTemplate);
  });

  it.each(["api", "worker", "migrate"])(
    "%s: PG* variables for the RDS endpoint with verified TLS, no DATABASE_URL and no CA file",
    (name) => {
      const c = tasks[name]!;
      const env = envOf(c);
      // Production's services reach the primary through RDS Proxy, on its fixed port; the migration directly.
      const port = name === "migrate" ? "5433" : "5432";
      expect(env).toMatchObject({ PGHOST: "<PGHOST>", PGPORT: port, PGDATABASE: "sensa", PGSSLMODE: "verify-full" });
      expect(JSON.stringify(c.Environment.find((e) => e.Name === "PGHOST")!.Value)).toMatch(
        name === "migrate" ? /Endpoint\.Address/ : /DatabaseProxy.*"Endpoint"/,
      );
      // The package trusts Amazon's RDS CAs itself; a CA file would have to be in every image.
      expect(env).not.toHaveProperty("PGSSLROOTCERT");
      expect(env).not.toHaveProperty("DATABASE_URL");
      expect(resolveTarget({ env })).toMatchObject({
        host: "<PGHOST>",
        port: Number(port),
        database: "sensa",
        user: "<secret PGUSER>",
        password: "<secret PGPASSWORD>",
        sslMode: "verify-full",
        iam: false,
        source: "PG* variables",
      });
    },
  );

  it("names each service's connections (PGAPPNAME); the migration keeps sensa-db's own name", () => {
    expect(envOf(tasks.api!).PGAPPNAME).toBe("sensa-api");
    expect(envOf(tasks.worker!).PGAPPNAME).toBe("sensa-worker");
    expect(envOf(tasks.migrate!)).not.toHaveProperty("PGAPPNAME");
  });

  it("gives the services the app login's secret and the migration the owner's", () => {
    const app = secretOf(tasks.api!, "PGPASSWORD");
    expect(app).toMatch(/AppLogin/);
    expect(secretOf(tasks.worker!, "PGPASSWORD")).toBe(app);
    expect(secretOf(tasks.migrate!, "PGPASSWORD")).toMatch(/DatabaseInstanceSecret/);
    expect(secretOf(tasks.migrate!, "APP_DB_PASSWORD")).toBe(app);
  });
});

describe("with appAuthentication: iam", () => {
  let template: Template;
  beforeAll(() => {
    const config = production();
    const stack = new PlatformStack(new App(), {
      ...config,
      database: { ...config.database, appAuthentication: "iam" },
    });
    template = Template.fromStack(stack);
  });

  it("the services get DATABASE_IAM_AUTH and the login name, and no password at all", () => {
    for (const name of ["api", "worker"]) {
      const c = containers(template)[name]!;
      const env = envOf(c);
      expect(env).toMatchObject({ DATABASE_IAM_AUTH: "true", PGUSER: APP_LOGIN, PGSSLMODE: "verify-full" });
      expect((c.Secrets ?? []).map((s) => s.Name)).not.toContain("PGPASSWORD");
      expect(resolveTarget({ env })).toMatchObject({ iam: true, user: APP_LOGIN, password: undefined });
    }
  });

  it("the migration task makes the app login with --iam, so it is granted rds_iam", () => {
    const c = containers(template)["migrate"]!;
    expect((c as { Command?: string[] }).Command?.join(" ")).toMatch(/sensa-db app-login --iam$/);
  });

  it("each service's task role may rds-db:connect as the app login, and only as it", () => {
    const connects = Object.values(template.findResources("AWS::IAM::Policy"))
      .flatMap((p) =>
        (p.Properties.PolicyDocument.Statement as Array<{ Action: unknown; Resource: unknown }>).map((s) => ({
          policy: JSON.stringify(p.Properties.Roles),
          ...s,
        })),
      )
      .filter((s) => JSON.stringify(s.Action).includes("rds-db:connect"));
    expect(connects.map((s) => s.policy).join(" ")).toMatch(
      /ApiTaskTaskRole[\s\S]*WorkerTaskTaskRole|WorkerTaskTaskRole[\s\S]*ApiTaskTaskRole/,
    );
    for (const s of connects) expect(JSON.stringify(s.Resource)).toMatch(new RegExp(`dbuser:.*/${APP_LOGIN}`));
  });

  it("the migration still runs as the owner with its password", () => {
    const c = containers(template).migrate!;
    expect(envOf(c)).not.toHaveProperty("DATABASE_IAM_AUTH");
    expect(secretOf(c, "PGPASSWORD")).toMatch(/DatabaseInstanceSecret/);
  });
});
