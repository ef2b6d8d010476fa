import { CfnOutput, Duration, Stack, Tags, type StackProps } from "aws-cdk-lib";
import { Construct } from "constructs";
import type { EnvironmentConfig } from "../config.js";
import { Cache } from "../constructs/cache.js";
import { Compute } from "../constructs/compute.js";
import { combine } from "../constructs/container-environment.js";
import { Database } from "../constructs/database.js";
import { DatabaseProxy } from "../constructs/database-proxy.js";
import { Migration } from "../constructs/migration.js";
import { Monitoring } from "../constructs/monitoring.js";
import { Network } from "../constructs/network.js";
import { Queue } from "../constructs/queue.js";
import { Storage } from "../constructs/storage.js";

/**
 * One environment of the platform. The constructs each get only the values they need from the
 * config and from each other; who may reach whom (security groups), who may use what (queue and
 * bucket grants) and what each container is started with are decided here, in one place.
 */
export class PlatformStack extends Stack {
  readonly network: Network;
  readonly database: Database;
  readonly databaseProxy: DatabaseProxy | undefined;
  readonly cache: Cache;
  readonly queue: Queue;
  readonly storage: Storage;
  readonly compute: Compute;
  readonly migration: Migration;
  readonly monitoring: Monitoring;

  constructor(
    scope: Construct,
    readonly config: EnvironmentConfig,
    props: StackProps = {},
  ) {
    super(scope, config.stackName, { ...props, env: { account: props.env?.account, region: config.region } });
    Tags.of(this).add("project", "sensa-learn");
    Tags.of(this).add("environment", config.name);
    const { logRetentionDays, retainData } = config;

    this.network = new Network(this, "Network", {
      availabilityZones: config.availabilityZones,
      natGateways: config.natGateways,
      interfaceEndpoints: config.interfaceEndpoints,
      logRetentionDays,
    });
    const { vpc } = this.network;
    const database = (this.database = new Database(this, "Database", {
      vpc,
      ...config.database,
      logRetentionDays,
      retainData,
    }));
    // The spec's Terraform outputs, under the same names.
    new CfnOutput(this, "rds_address", { value: database.instance.dbInstanceEndpointAddress });
    new CfnOutput(this, "rds_port", { value: database.instance.dbInstanceEndpointPort });
    new CfnOutput(this, "rds_database_name", { value: database.databaseName });
    new CfnOutput(this, "rds_owner_secret_arn", { value: database.ownerSecret.secretArn });
    const proxy = (this.databaseProxy = config.database.rdsProxy
      ? new DatabaseProxy(this, "DatabaseProxy", {
          vpc,
          instance: database.instance,
          loginSecret: database.appSecret,
          iamAuth: config.database.appAuthentication === "iam",
        })
      : undefined);
    const cache = (this.cache = new Cache(this, "Cache", { vpc, environmentName: config.name, ...config.cache }));
    const { queue } = (this.queue = new Queue(this, "Queue"));
    const { documents } = (this.storage = new Storage(this, "Storage", {
      ...config.storage,
      retainData,
      logRetentionDays,
    }));

    // What both services' containers are started with, besides their own database connection.
    const shared = combine(cache.connection(), {
      environment: { QUEUE_URL: queue.queueUrl, DOCUMENTS_BUCKET: documents.bucketName, NODE_ENV: "production" },
      secrets: {},
    });
    const { api: apiSize, worker: workerSize } = config.compute;
    const compute = (this.compute = new Compute(this, "Compute", {
      vpc,
      // The API and the workers log in as the app login, through the proxy where there is one.
      api: {
        ...apiSize,
        image: config.compute.apiImage,
        ...combine(database.appConnection("sensa-api", proxy), shared),
      },
      worker: {
        ...workerSize,
        image: config.compute.workerImage,
        ...combine(database.appConnection("sensa-worker", proxy), shared),
      },
      certificateArn: config.compute.certificateArn,
      workerBacklog: queue.metricApproximateNumberOfMessagesVisible({ period: Duration.minutes(1) }),
      messagesPerWorker: config.compute.messagesPerWorker,
      logRetentionDays,
      retainData,
    }));
    const services = { Api: compute.api, Worker: compute.worker };

    const migration = (this.migration = new Migration(this, "Migration", {
      vpc,
      cluster: compute.cluster,
      image: config.compute.migrationImage,
      owner: database.ownerConnection(),
      appLoginSecret: database.appSecret,
      appAuthentication: config.database.appAuthentication,
      runAfter: [database.instance],
      logRetentionDays,
    }));
    // Services start on a migrated schema.
    for (const service of Object.values(services)) service.node.addDependency(migration.trigger);

    this.monitoring = new Monitoring(this, "Monitoring", {
      limits: config.alarms,
      database: {
        instance: database.instance,
        maxConnections: config.database.maxConnections,
        allocatedStorageGiB: config.database.allocatedStorageGiB,
      },
      queue,
      cluster: compute.cluster,
      api: compute.api,
      worker: compute.worker,
      apiTargetGroup: compute.targetGroup,
    });

    // Who reaches whom, each on the target's own port: PostgreSQL (and its replica) from the
    // proxy, the services and the migration task; the proxy and Redis from the services only.
    if (proxy) database.connections.allowDefaultPortFrom(proxy, "RDS Proxy to PostgreSQL");
    for (const [name, service] of Object.entries(services)) {
      database.connections.allowDefaultPortFrom(service, `${name} to PostgreSQL`);
      cache.connections.allowDefaultPortFrom(service, `${name} to Redis`);
    }
    for (const [name, service] of Object.entries(services)) {
      proxy?.connections.allowDefaultPortFrom(service, `${name} to RDS Proxy`);
    }
    database.connections.allowDefaultPortFrom(migration, "migration task to PostgreSQL");

    // Least privilege: the API enqueues and stores uploads; workers consume and read them.
    const apiRole = compute.api.taskDefinition.taskRole;
    const workerRole = compute.worker.taskDefinition.taskRole;
    for (const role of [apiRole, workerRole]) database.grantAppLogin(role, proxy);
    queue.grantSendMessages(apiRole);
    queue.grantConsumeMessages(workerRole);
    documents.grantReadWrite(apiRole);
    documents.grantRead(workerRole);
  }

  /** The AZs come from config, so synthesis needs no account lookup (and gets 3 AZs, not 2). */
  override get availabilityZones(): string[] {
    return this.config.availabilityZones;
  }
}
