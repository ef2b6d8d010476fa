import * as ec2 from "aws-cdk-lib/aws-ec2";
import * as ecs from "aws-cdk-lib/aws-ecs";
import * as elasticache from "aws-cdk-lib/aws-elasticache";
import * as secretsmanager from "aws-cdk-lib/aws-secretsmanager";
import { Construct } from "constructs";
import type { ContainerEnvironment } from "./container-environment.js";

/** Redis listens here, not on 6379: one less thing for scanners to guess. */
export const REDIS_PORT = 6380;

export interface CacheProps {
  vpc: ec2.IVpc;
  /** Which environment's cache, in its description. */
  environmentName: string;
  nodeType: string;
  /** 1: a single node; 2+: a replica in another AZ and automatic failover. */
  nodes: number;
  /** Daily snapshots kept; 0 takes none. */
  snapshotRetentionDays: number;
}

/**
 * Redis (ElastiCache) in the isolated subnets: one node, or a replication group with replicas in
 * other AZs and automatic failover. Encrypted at rest and in transit, with an AUTH token kept in
 * Secrets Manager. Nothing reaches it until the stack allows a peer through `connections`.
 */
export class Cache extends Construct implements ec2.IConnectable {
  readonly connections: ec2.Connections;
  readonly replicationGroup: elasticache.CfnReplicationGroup;
  readonly authSecret: secretsmanager.Secret;

  constructor(scope: Construct, id: string, props: CacheProps) {
    super(scope, id);
    const { vpc } = props;
    const securityGroup = new ec2.SecurityGroup(this, "SecurityGroup", {
      vpc,
      description: "Redis: only the services reach it",
      allowAllOutbound: false,
    });
    this.connections = new ec2.Connections({ securityGroups: [securityGroup], defaultPort: ec2.Port.tcp(REDIS_PORT) });
    const subnets = new elasticache.CfnSubnetGroup(this, "Subnets", {
      description: "Isolated data subnets",
      subnetIds: vpc.selectSubnets({ subnetType: ec2.SubnetType.PRIVATE_ISOLATED }).subnetIds,
    });
    this.authSecret = new secretsmanager.Secret(this, "AuthToken", {
      description: "Redis AUTH token",
      generateSecretString: { excludePunctuation: true, passwordLength: 64 },
    });
    const replicated = props.nodes > 1;
    this.replicationGroup = new elasticache.CfnReplicationGroup(this, "Redis", {
      replicationGroupDescription: `Sensa Learn ${props.environmentName} cache`,
      engine: "redis",
      cacheNodeType: props.nodeType,
      numCacheClusters: props.nodes,
      automaticFailoverEnabled: replicated,
      multiAzEnabled: replicated,
      cacheSubnetGroupName: subnets.ref,
      securityGroupIds: [securityGroup.securityGroupId],
      atRestEncryptionEnabled: true,
      transitEncryptionEnabled: true,
      authToken: this.authSecret.secretValue.unsafeUnwrap(), // a dynamic reference, resolved by CloudFormation
      port: REDIS_PORT,
      snapshotRetentionLimit: props.snapshotRetentionDays,
    });
  }

  /** The primary endpoint and the AUTH token, as a service's container gets them. */
  connection(): ContainerEnvironment {
    return {
      environment: {
        REDIS_HOST: this.replicationGroup.attrPrimaryEndPointAddress,
        REDIS_PORT: this.replicationGroup.attrPrimaryEndPointPort,
      },
      secrets: { REDIS_AUTH_TOKEN: ecs.Secret.fromSecretsManager(this.authSecret) },
    };
  }
}
