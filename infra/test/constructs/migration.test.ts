import { Match, Template } from "aws-cdk-lib/assertions";
import * as ecs from "aws-cdk-lib/aws-ecs";
import * as secretsmanager from "aws-cdk-lib/aws-secretsmanager";
import { beforeAll, describe, expect, it } from "vitest";
import { Migration, migrationCommand } from "../../src/constructs/migration.js";
import { bareStack } from "../stacks.js";

function migration(): Template {
  const { stack, vpc } = bareStack();
  const owner = new secretsmanager.Secret(stack, "Owner");
  const app = new secretsmanager.Secret(stack, "AppLogin");
  const after = new secretsmanager.Secret(stack, "SomethingFirst");
  new Migration(stack, "Migration", {
    vpc,
    cluster: new ecs.Cluster(stack, "Cluster", { vpc }),
    image: "sensa-learn/db-migrate:v1",
    owner: { environment: { PGHOST: "db.example" }, secrets: { PGPASSWORD: ecs.Secret.fromSecretsManager(owner) } },
    appLoginSecret: app,
    appAuthentication: "password",
    runAfter: [after],
    logRetentionDays: 7,
  });
  return Template.fromStack(stack);
}

describe("Migration", () => {
  let t: Template;
  beforeAll(() => {
    t = migration();
  });

  it("runs the owner's connection plus the app login's credentials for app-login, and the migrate command", () => {
    const [container] = Object.values(t.findResources("AWS::ECS::TaskDefinition"))[0]!.Properties.ContainerDefinitions;
    expect(container.Environment).toEqual([
      { Name: "PGHOST", Value: "db.example" },
      { Name: "NODE_ENV", Value: "production" },
    ]);
    expect(container.Secrets.map((s: { Name: string }) => s.Name)).toEqual([
      "PGPASSWORD",
      "APP_DB_USER",
      "APP_DB_PASSWORD",
    ]);
    expect(container.Command).toEqual(migrationCommand("password"));
  });

  it("makes the app login with --iam when the services sign in with IAM tokens", () => {
    expect(migrationCommand("iam").join(" ")).toMatch(/sensa-db app-login --iam$/);
    expect(migrationCommand("password").join(" ")).toMatch(/sensa-db app-login$/);
  });

  it("runs after what it is given, and opens no security group by itself", () => {
    t.hasResource("Custom::Trigger", { DependsOn: Match.arrayWith([Match.stringLikeRegexp("SomethingFirst")]) });
    t.resourceCountIs("AWS::EC2::SecurityGroupIngress", 0);
  });
});
