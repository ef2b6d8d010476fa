import { Match, type Template } from "aws-cdk-lib/assertions";
import { beforeAll, describe, expect, it } from "vitest";
import { development } from "../src/config.js";
import { migrationCommand } from "../src/constructs/migration.js";
import { templates } from "./stacks.js";

// The spec's figures, written out here (not read from src/config.ts), so changing a figure in
// the config fails the test that names it.
let dev: Template;
let prod: Template;
let devName: string;
beforeAll(() => {
  const t = templates();
  dev = t.devTemplate;
  prod = t.prodTemplate;
  devName = t.dev.stackName;
});

const primary = (t: Template) =>
  Object.values(
    t.findResources("AWS::RDS::DBInstance", { Properties: { SourceDBInstanceIdentifier: Match.absent() } }),
  )[0]!.Properties;
const alarm = (t: Template, description: RegExp) => {
  const found = Object.values(t.findResources("AWS::CloudWatch::Alarm"))
    .map((r) => r.Properties)
    .filter((p) => description.test(p.AlarmDescription));
  expect(found, String(description)).toHaveLength(1);
  return found[0];
};
const scalable = (t: Template, dimension: RegExp) =>
  Object.values(t.findResources("AWS::ApplicationAutoScaling::ScalableTarget"))
    .map((r) => r.Properties)
    .find((p) => dimension.test(JSON.stringify(p.ResourceId)));

describe("Development", () => {
  it("is one stack per developer, named by developer id", () => {
    expect(devName).toBe("sensa-dev-ana");
    expect(() => development("Not Valid!")).toThrow(/developerId/);
  });
  it("spans 2 AZs with 1 NAT gateway, and only the free S3 endpoint", () => {
    dev.resourceCountIs("AWS::EC2::NatGateway", 1);
    dev.resourceCountIs("AWS::EC2::Subnet", 6);
    dev.resourceCountIs("AWS::EC2::VPCEndpoint", 1);
  });
  it("runs RDS db.t4g.medium, single-AZ, no replica, 7-day backups, no deletion protection", () => {
    expect(primary(dev)).toMatchObject({
      DBInstanceClass: "db.t4g.medium",
      MultiAZ: false,
      BackupRetentionPeriod: 7,
      DeletionProtection: false,
    });
    dev.resourceCountIs("AWS::RDS::DBInstance", 1);
  });
  it("runs one cache.t4g.micro Redis node", () => {
    dev.hasResourceProperties("AWS::ElastiCache::ReplicationGroup", {
      CacheNodeType: "cache.t4g.micro",
      NumCacheClusters: 1,
      AutomaticFailoverEnabled: false,
    });
  });
  it("runs 1 API task and 1 worker task", () => {
    expect(scalable(dev, /Api/)).toMatchObject({ MinCapacity: 1, MaxCapacity: 1 });
    expect(scalable(dev, /Worker/)).toMatchObject({ MinCapacity: 1, MaxCapacity: 1 });
  });
  it("keeps logs 7 days", () => {
    for (const group of Object.values(dev.findResources("AWS::Logs::LogGroup")))
      expect(group.Properties.RetentionInDays).toBe(7);
  });
});

describe("Production", () => {
  it("spans 3 AZs with 3 NAT gateways, and endpoints that keep AWS traffic off them", () => {
    prod.resourceCountIs("AWS::EC2::NatGateway", 3);
    prod.resourceCountIs("AWS::EC2::Subnet", 9);
    prod.resourceCountIs("AWS::EC2::VPCEndpoint", 6);
  });
  it("runs RDS db.r6g.large Multi-AZ with 30-day backups, deletion protection, enhanced monitoring and Performance Insights", () => {
    expect(primary(prod)).toMatchObject({
      DBInstanceClass: "db.r6g.large",
      MultiAZ: true,
      BackupRetentionPeriod: 30,
      DeletionProtection: true,
      MonitoringInterval: 60,
      EnablePerformanceInsights: true,
    });
  });
  it("has a read replica of the same class", () => {
    prod.resourceCountIs("AWS::RDS::DBInstance", 2);
    prod.hasResourceProperties("AWS::RDS::DBInstance", {
      SourceDBInstanceIdentifier: Match.anyValue(),
      DBInstanceClass: "db.r6g.large",
    });
  });
  it("runs a cache.m6g.large Redis replication group with automatic failover across AZs", () => {
    prod.hasResourceProperties("AWS::ElastiCache::ReplicationGroup", {
      CacheNodeType: "cache.m6g.large",
      NumCacheClusters: 2,
      AutomaticFailoverEnabled: true,
      MultiAZEnabled: true,
    });
  });
  it("scales the API from 3 to 10 tasks and workers from 5 to 20 on queue depth", () => {
    expect(scalable(prod, /Api/)).toMatchObject({ MinCapacity: 3, MaxCapacity: 10 });
    expect(scalable(prod, /Worker/)).toMatchObject({ MinCapacity: 5, MaxCapacity: 20 });
    prod.hasResourceProperties("AWS::CloudWatch::Alarm", {
      MetricName: "ApproximateNumberOfMessagesVisible",
      AlarmActions: Match.arrayWith([
        Match.objectLike({ Ref: Match.stringLikeRegexp("WorkerTaskCountTargetQueueDepthUpperPolicy") }),
      ]),
    });
  });
  it("keeps logs 30 days", () => {
    for (const group of Object.values(prod.findResources("AWS::Logs::LogGroup")))
      expect(group.Properties.RetentionInDays).toBe(30);
  });
});

describe("the database", () => {
  it.each([
    ["Development", () => dev],
    ["Production", () => prod],
  ])("%s: PostgreSQL 17 with pg_stat_statements, TLS forced, encrypted, rotated credentials", (_, t) => {
    expect(primary(t())).toMatchObject({
      Engine: "postgres",
      EngineVersion: "17.9",
      StorageEncrypted: true,
      Port: "5433",
    });
    t().hasResourceProperties("AWS::RDS::DBParameterGroup", {
      Parameters: Match.objectLike({ shared_preload_libraries: "pg_stat_statements", "rds.force_ssl": "1" }),
    });
    t().resourceCountIs("AWS::SecretsManager::RotationSchedule", 1);
  });
  it("outputs rds_address, rds_port and rds_database_name, as the spec's Terraform did", () => {
    const outputs = prod.findOutputs("*");
    expect(Object.keys(outputs)).toEqual(expect.arrayContaining(["rdsaddress", "rdsport", "rdsdatabasename"]));
  });
  it("takes connections only from the API, the workers and the migration task", () => {
    const ingress = Object.values(prod.findResources("AWS::EC2::SecurityGroupIngress"))
      .map((r) => r.Properties)
      .filter((p) => p.FromPort === 5433);
    expect(ingress.map((p) => p.Description).sort()).toEqual([
      "Api to PostgreSQL",
      "RDS Proxy to PostgreSQL",
      "Worker to PostgreSQL",
      "migration task to PostgreSQL",
    ]);
  });
});

describe("the spec's six alarms", () => {
  it("RDS CPU > 80%", () =>
    expect(alarm(prod, /RDS CPU/)).toMatchObject({
      MetricName: "CPUUtilization",
      Threshold: 80,
      ComparisonOperator: "GreaterThanThreshold",
    }));
  it("RDS connections > 80% of max_connections (1600 in Production: 1280)", () =>
    expect(alarm(prod, /RDS connections/)).toMatchObject({
      MetricName: "DatabaseConnections",
      Threshold: 1280,
      ComparisonOperator: "GreaterThanThreshold",
    }));
  it("RDS storage > 80% used (free < 20% of 100 GiB)", () =>
    expect(alarm(prod, /RDS storage/)).toMatchObject({
      MetricName: "FreeStorageSpace",
      Threshold: Math.floor(0.2 * 100 * 1024 ** 3),
      ComparisonOperator: "LessThanThreshold",
    }));
  it("SQS depth > 100 messages", () =>
    expect(alarm(prod, /Processing queue/)).toMatchObject({
      MetricName: "ApproximateNumberOfMessagesVisible",
      Threshold: 100,
      ComparisonOperator: "GreaterThanThreshold",
    }));
  it("ECS task failures > 5% (desired tasks not running, from Container Insights)", () => {
    const a = alarm(prod, /ECS tasks failing/);
    expect(a).toMatchObject({ Threshold: 5, ComparisonOperator: "GreaterThanThreshold" });
    expect(JSON.stringify(a.Metrics)).toMatch(/RunningTaskCount.*DesiredTaskCount|DesiredTaskCount.*RunningTaskCount/);
  });
  it("API latency > 1.5 s (p95 target response time)", () =>
    expect(alarm(prod, /API p95 latency/)).toMatchObject({
      MetricName: "TargetResponseTime",
      ExtendedStatistic: "p95",
      Threshold: 1.5,
    }));
  it("all six notify one encrypted SNS topic", () => {
    // (The other alarms in the template are the autoscaling policies' own.)
    const notifying = Object.values(prod.findResources("AWS::CloudWatch::Alarm")).filter((r) =>
      /MonitoringAlarms/.test(JSON.stringify(r.Properties.AlarmActions)),
    );
    expect(notifying.map((a) => a.Properties.AlarmDescription.split(" ")[0]).sort()).toEqual([
      "API",
      "ECS",
      "Processing",
      "RDS",
      "RDS",
      "RDS",
    ]);
    prod.hasResourceProperties("AWS::SNS::Topic", { KmsMasterKeyId: Match.anyValue() });
  });
});

describe("security", () => {
  it("encrypts the documents bucket, blocks public access, requires TLS and tiers storage", () => {
    prod.hasResourceProperties("AWS::S3::Bucket", {
      BucketEncryption: Match.anyValue(),
      PublicAccessBlockConfiguration: {
        BlockPublicAcls: true,
        BlockPublicPolicy: true,
        IgnorePublicAcls: true,
        RestrictPublicBuckets: true,
      },
      LifecycleConfiguration: {
        Rules: Match.arrayWith([
          Match.objectLike({ Transitions: [{ StorageClass: "INTELLIGENT_TIERING", TransitionInDays: 0 }] }),
        ]),
      },
    });
    prod.hasResourceProperties("AWS::S3::BucketPolicy", {
      PolicyDocument: {
        Statement: Match.arrayWith([
          Match.objectLike({ Effect: "Deny", Condition: { Bool: { "aws:SecureTransport": "false" } } }),
        ]),
      },
    });
  });
  it("encrypts Redis at rest and in transit, with an AUTH token", () => {
    prod.hasResourceProperties("AWS::ElastiCache::ReplicationGroup", {
      AtRestEncryptionEnabled: true,
      TransitEncryptionEnabled: true,
      AuthToken: Match.anyValue(),
    });
  });
  it("gives the queue a dead-letter queue and requires TLS", () => {
    prod.hasResourceProperties("AWS::SQS::Queue", {
      RedrivePolicy: { maxReceiveCount: 5, deadLetterTargetArn: Match.anyValue() },
    });
  });
  it("lets the API only send to its queue and the workers only consume from it", () => {
    const policies = Object.entries(prod.findResources("AWS::IAM::Policy"));
    const actionsOf = (role: RegExp) =>
      JSON.stringify(policies.filter(([id]) => role.test(id)).map(([, p]) => p.Properties.PolicyDocument));
    expect(actionsOf(/ApiTaskTaskRole/)).toMatch(/sqs:SendMessage/);
    expect(actionsOf(/ApiTaskTaskRole/)).not.toMatch(/sqs:ReceiveMessage/);
    expect(actionsOf(/WorkerTaskTaskRole/)).toMatch(/sqs:ReceiveMessage/);
    expect(actionsOf(/WorkerTaskTaskRole/)).not.toMatch(/sqs:SendMessage|s3:PutObject/);
  });
  it("lets the API read and write documents and the workers only read them", () => {
    const policies = Object.entries(prod.findResources("AWS::IAM::Policy"));
    const actionsOf = (role: RegExp) =>
      JSON.stringify(policies.filter(([id]) => role.test(id)).map(([, p]) => p.Properties.PolicyDocument));
    expect(actionsOf(/ApiTaskTaskRole/)).toMatch(/s3:PutObject/);
    expect(actionsOf(/ApiTaskTaskRole/)).toMatch(/s3:GetObject/);
    expect(actionsOf(/WorkerTaskTaskRole/)).toMatch(/s3:GetObject/);
    expect(actionsOf(/WorkerTaskTaskRole/)).not.toMatch(/s3:DeleteObject/);
  });
  it.each([
    ["Development", () => dev],
    ["Production", () => prod],
  ])("%s: Redis takes connections only from the API and the workers, on 6380", (_, t) => {
    const ingress = Object.values(t().findResources("AWS::EC2::SecurityGroupIngress")).map((r) => r.Properties);
    const redis = ingress.filter((p) => /to Redis/.test(p.Description));
    expect(redis.map((p) => p.Description).sort()).toEqual(["Api to Redis", "Worker to Redis"]);
    for (const p of redis)
      expect(p).toMatchObject({
        FromPort: 6380,
        ToPort: 6380,
        GroupId: { "Fn::GetAtt": [expect.stringMatching(/^CacheSecurityGroup/), "GroupId"] },
      });
  });
  it("passes no password anywhere in plain text: services read the app login's secret", () => {
    const api = Object.values(prod.findResources("AWS::ECS::TaskDefinition")).find((t) =>
      JSON.stringify(t).includes('"Name":"api"'),
    )!;
    const container = api.Properties.ContainerDefinitions[0];
    expect(container.Secrets.map((s: { Name: string }) => s.Name).sort()).toEqual([
      "PGPASSWORD",
      "PGUSER",
      "REDIS_AUTH_TOKEN",
    ]);
    expect(JSON.stringify(container.Environment)).not.toMatch(/PASSWORD/);
  });
});

describe("the migration task", () => {
  it("runs sensa-db migrate from @sensa-learn/db as the owner, with the secrets, awaited by a trigger", () => {
    const task = Object.values(prod.findResources("AWS::ECS::TaskDefinition")).find((t) =>
      JSON.stringify(t).includes('"Name":"migrate"'),
    )!;
    const container = task.Properties.ContainerDefinitions[0];
    expect(container.Command).toEqual(migrationCommand("password"));
    expect(container.Command.join(" ")).toMatch(/sensa-db migrate/);
    expect(container.Secrets.map((s: { Name: string }) => s.Name).sort()).toEqual([
      "APP_DB_PASSWORD",
      "APP_DB_USER",
      "PGPASSWORD",
      "PGUSER",
    ]);
    prod.hasResourceProperties("Custom::Trigger", { HandlerArn: Match.anyValue() });
    prod.hasResourceProperties("AWS::Lambda::Function", {
      Timeout: 900,
      Code: { ZipFile: Match.stringLikeRegexp("waitUntilTasksStopped[\\s\\S]*exitCode !== 0") },
    });
  });
  it("runs before the API and workers start", () => {
    const services = Object.values(prod.findResources("AWS::ECS::Service"));
    for (const s of services) expect(JSON.stringify(s.DependsOn)).toMatch(/MigrationRunAndWait/);
  });
});
