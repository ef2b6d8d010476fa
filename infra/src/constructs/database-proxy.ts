import { Duration } from "aws-cdk-lib";
import * as ec2 from "aws-cdk-lib/aws-ec2";
import * as rds from "aws-cdk-lib/aws-rds";
import type * as secretsmanager from "aws-cdk-lib/aws-secretsmanager";
import { Construct } from "constructs";

/**
 * RDS Proxy listens on the engine's default port whatever port the instance uses; CloudFormation
 * has no attribute for it.
 */
const PROXY_PORT = 5432;

export interface DatabaseProxyProps {
  vpc: ec2.IVpc;
  /** The primary the proxy pools connections to. */
  instance: rds.IDatabaseInstance;
  /** The one login it serves (the app login's secret). */
  loginSecret: secretsmanager.ISecret;
  /** Clients sign in with IAM tokens instead of the password. */
  iamAuth: boolean;
}

/**
 * RDS Proxy in front of the primary, for the API and workers only: many tasks' pools share a
 * bounded set of server connections, and a Multi-AZ failover is absorbed by the proxy instead of
 * every task reconnecting. It pools in transaction mode, which @sensa-learn/db's contexts are
 * built for (everything they set is transaction-local). It logs in with the app login's secret,
 * so it serves that login only; the migration task keeps connecting directly as the owner (a
 * proxy pins, and gains nothing for, one long session). Read replicas are reached directly:
 * RDS Proxy has read-only endpoints for Aurora only. Its security group lets nobody in until the
 * stack allows a peer through `connections`; the stack also opens the database to it.
 */
export class DatabaseProxy extends Construct implements ec2.IConnectable {
  readonly proxy: rds.DatabaseProxy;
  readonly connections: ec2.Connections;
  readonly port = PROXY_PORT;

  constructor(scope: Construct, id: string, props: DatabaseProxyProps) {
    super(scope, id);
    const { vpc } = props;
    // Outbound: the primary, and Secrets Manager for the login's credentials.
    const securityGroup = new ec2.SecurityGroup(this, "SecurityGroup", {
      vpc,
      description: "RDS Proxy: the services reach PostgreSQL through it",
      allowAllOutbound: true,
    });
    this.connections = new ec2.Connections({ securityGroups: [securityGroup], defaultPort: ec2.Port.tcp(PROXY_PORT) });
    this.proxy = new rds.DatabaseProxy(this, "Proxy", {
      proxyTarget: rds.ProxyTarget.fromInstance(props.instance),
      secrets: [props.loginSecret],
      vpc,
      vpcSubnets: { subnetType: ec2.SubnetType.PRIVATE_ISOLATED },
      securityGroups: [securityGroup],
      requireTLS: true,
      iamAuth: props.iamAuth,
      // Half of max_connections (800 of 1,600): the rest stays for the migration task, operators
      // and the replica's own clients (who connect to the replica, not here).
      maxConnectionsPercent: 50,
      maxIdleConnectionsPercent: 10,
      // A request waits this long for a server connection, as the package's own pool does.
      borrowTimeout: Duration.seconds(10),
      idleClientTimeout: Duration.minutes(30),
    });
  }
}
