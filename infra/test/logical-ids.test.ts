import type { Template } from "aws-cdk-lib/assertions";
import { beforeAll, describe, expect, it } from "vitest";
import { templates } from "./stacks.js";

// CloudFormation replaces a resource whose logical ID changes: a new, empty database, bucket or
// queue, new credentials. A refactor that moves a construct (another parent, another id) must
// not do that silently, so the stateful resources' IDs are written out here.
const STATEFUL = [
  "AWS::EC2::VPC",
  "AWS::RDS::DBInstance",
  "AWS::RDS::DBProxy",
  "AWS::ElastiCache::ReplicationGroup",
  "AWS::S3::Bucket",
  "AWS::SQS::Queue",
  "AWS::SecretsManager::Secret",
  "AWS::KMS::Key",
  "AWS::Logs::LogGroup",
];

const BOTH = [
  "NetworkVpc7FB7348F",
  "NetworkFlowLogs2BEC3212",
  "DatabaseInstanceAA8A5FDE",
  "DatabaseAppLogin12CACADD",
  "CacheRedis3AE797EA",
  "CacheAuthToken04672416",
  "QueueProcessingE5961FA2",
  "QueueDeadLetters9B423CAD",
  "StorageDocumentsCD3FCE94",
  "StorageAccessLogs96FB524C",
  "ComputeLoadBalancerLogs4FEB1F19",
  "ComputeApiLogsD9ACDEB7",
  "ComputeWorkerLogsA70D9C34",
  "MigrationLogsAD1DB442",
  "MigrationTriggerLogsBE1DA88E",
  "MonitoringAlarmsKey0C929FFE",
];

function statefulIds(t: Template): string[] {
  return STATEFUL.flatMap((type) => Object.keys(t.findResources(type))).sort();
}

let dev: Template;
let prod: Template;
beforeAll(() => {
  ({ devTemplate: dev, prodTemplate: prod } = templates());
});

describe("the stateful resources keep their logical IDs", () => {
  it("Development (stack sensa-dev-ana)", () => {
    expect(statefulIds(dev)).toEqual(
      [...BOTH, "sensadevanaDatabaseInstanceSecretC1DA6A363fdaad7efa858a3daf9490cf0a702aeb"].sort(),
    );
  });

  it("Production, with its read replica and RDS Proxy", () => {
    expect(statefulIds(prod)).toEqual(
      [
        ...BOTH,
        "DatabaseReadReplicaFA1999F7",
        "DatabaseProxyB19764C1",
        "sensaproductionDatabaseInstanceSecretC4BDFBC93fdaad7efa858a3daf9490cf0a702aeb",
      ].sort(),
    );
  });
});
