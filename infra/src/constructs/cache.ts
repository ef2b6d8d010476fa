import * as ec2 from "aws-cdk-lib/aws-ec2";
import * as elasticache from "aws-cdk-lib/aws-elasticache";
import * as secretsmanager from "aws-cdk-lib/aws-secretsmanager";
import { Construct } from "constructs";
import type { EnvironmentConfig } from "../config.js";

/**
 * Redis (ElastiCache) in the isolated subnets: one node in Development; in Production a
 * replication group with a replica in another AZ and automatic failover. Encrypted at rest and
 * in transit, with an AUTH token kept in Secrets Manager.
 */
export class Cache extends Construct {
  readonly securityGroup: ec2.SecurityGroup;
  readonly replicationGroup: elasticache.CfnReplicationGroup;
  readonly authSecret: secretsmanager.Secret;

  constructor(scope: Construct, id: string, props: { vpc: ec2.IVpc; config: EnvironmentConfig }) {
    super(scope, id);
    const { vpc, config } = props;
    this.securityGroup = new ec2.SecurityGroup(this, "SecurityGroup", { vpc, description: "Redis: only the services reach it", allowAllOutbound: false });
    const subnets = new elasticache.CfnSubnetGroup(this, "Subnets", {
      description: "Isolated data subnets",
      subnetIds: vpc.selectSubnets({ subnetType: ec2.SubnetType.PRIVATE_ISOLATED }).subnetIds,
    });
    this.authSecret = new secretsmanager.Secret(this, "AuthToken", {
      description: "Redis AUTH token",
      generateSecretString: { excludePunctuation: true, passwordLength: 64 },
    });
    const replicated = config.cache.nodes > 1;
    this.replicationGroup = new elasticache.CfnReplicationGroup(this, "Redis", {
      replicationGroupDescription: `Sensa Learn ${config.name} cache`,
      engine: "redis",
      cacheNodeType: config.cache.nodeType,
      numCacheClusters: config.cache.nodes,
      automaticFailoverEnabled: replicated,
      multiAzEnabled: replicated,
      cacheSubnetGroupName: subnets.ref,
      securityGroupIds: [this.securityGroup.securityGroupId],
      atRestEncryptionEnabled: true,
      transitEncryptionEnabled: true,
      authToken: this.authSecret.secretValue.unsafeUnwrap(), // a dynamic reference, resolved by CloudFormation
      port: 6380,
      snapshotRetentionLimit: replicated ? 7 : 0,
    });
  }
}
