import { Duration } from "aws-cdk-lib";
import * as ec2 from "aws-cdk-lib/aws-ec2";
import * as rds from "aws-cdk-lib/aws-rds";
import { Construct } from "constructs";
import type { EnvironmentConfig } from "../config.js";
import type { Database } from "./database.js";

/**
 * RDS Proxy listens on the engine's default port whatever port the instance uses (5433 here);
 * CloudFormation has no attribute for it.
 */
export const PROXY_PORT = 5432;

/**
 * RDS Proxy in front of the primary, for the API and workers only: many tasks' pools share a
 * bounded set of server connections, and a Multi-AZ failover is absorbed by the proxy instead of
 * every task reconnecting. It pools in transaction mode, which @sensa-learn/db's contexts are
 * built for (everything they set is transaction-local). It logs in with the app login's secret,
 * so it serves that login only; the migration task keeps connecting directly as the owner (a
 * proxy pins, and gains nothing for, one long session). Read replicas are reached directly:
 * RDS Proxy has read-only endpoints for Aurora only.
 */
export class DatabaseProxy extends Construct {
  readonly proxy: rds.DatabaseProxy;
  readonly securityGroup: ec2.SecurityGroup;

  constructor(scope: Construct, id: string, props: { vpc: ec2.IVpc; database: Database; config: EnvironmentConfig }) {
    super(scope, id);
    const { vpc, database, config } = props;
    // Outbound: the primary, and Secrets Manager for the login's credentials.
    this.securityGroup = new ec2.SecurityGroup(this, "SecurityGroup", { vpc, description: "RDS Proxy: the services reach PostgreSQL through it", allowAllOutbound: true });
    database.securityGroup.addIngressRule(this.securityGroup, ec2.Port.tcp(5433), "RDS Proxy to PostgreSQL");
    this.proxy = new rds.DatabaseProxy(this, "Proxy", {
      proxyTarget: rds.ProxyTarget.fromInstance(database.instance),
      secrets: [database.appSecret],
      vpc,
      vpcSubnets: { subnetType: ec2.SubnetType.PRIVATE_ISOLATED },
      securityGroups: [this.securityGroup],
      requireTLS: true,
      iamAuth: config.database.appAuthentication === "iam",
      // Half of max_connections (800 of 1,600): the rest stays for the migration task, operators
      // and the replica's own clients (who connect to the replica, not here).
      maxConnectionsPercent: 50,
      maxIdleConnectionsPercent: 10,
      // A request waits this long for a server connection, as the package's own pool does.
      borrowTimeout: Duration.seconds(10),
      idleClientTimeout: Duration.minutes(30),
    });
    database.routeAppThrough(this);
  }

  /** The services' tasks may reach the proxy. */
  allowFrom(peers: ec2.IConnectable[]): void {
    for (const peer of peers) this.securityGroup.addIngressRule(peer.connections.securityGroups[0]!, ec2.Port.tcp(PROXY_PORT), `${(peer as unknown as Construct).node.id} to RDS Proxy`);
  }
}
