import { Stack, Tags, type StackProps } from "aws-cdk-lib";
import { Construct } from "constructs";
import type { EnvironmentConfig } from "../config.js";
import { Cache } from "../constructs/cache.js";
import { Compute } from "../constructs/compute.js";
import { Database } from "../constructs/database.js";
import { DatabaseProxy } from "../constructs/database-proxy.js";
import { Migration } from "../constructs/migration.js";
import { Monitoring } from "../constructs/monitoring.js";
import { Network } from "../constructs/network.js";
import { Queue } from "../constructs/queue.js";
import { Storage } from "../constructs/storage.js";

/** One environment of the platform: the constructs, each given only what it needs. */
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

  constructor(scope: Construct, readonly config: EnvironmentConfig, props: StackProps = {}) {
    super(scope, config.stackName, { ...props, env: { account: props.env?.account, region: config.region } });
    Tags.of(this).add("project", "sensa-learn");
    Tags.of(this).add("environment", config.name);

    this.network = new Network(this, "Network", config);
    const vpc = this.network.vpc;
    this.database = new Database(this, "Database", { vpc, config });
    this.databaseProxy = config.database.rdsProxy ? new DatabaseProxy(this, "DatabaseProxy", { vpc, database: this.database, config }) : undefined;
    this.cache = new Cache(this, "Cache", { vpc, config });
    this.queue = new Queue(this, "Queue");
    this.storage = new Storage(this, "Storage", config);
    this.compute = new Compute(this, "Compute", { vpc, config, database: this.database, cache: this.cache, queue: this.queue, documents: this.storage.documents });
    this.databaseProxy?.allowFrom([this.compute.api, this.compute.worker]);
    this.migration = new Migration(this, "Migration", { vpc, cluster: this.compute.cluster, database: this.database, config });
    // Services start on a migrated schema.
    this.compute.api.node.addDependency(this.migration.trigger);
    this.compute.worker.node.addDependency(this.migration.trigger);
    this.monitoring = new Monitoring(this, "Monitoring", { config, database: this.database, queue: this.queue, compute: this.compute });
  }

  /** The AZs come from config, so synthesis needs no account lookup (and gets 3 AZs, not 2). */
  override get availabilityZones(): string[] {
    return this.config.availabilityZones;
  }
}
