import { z } from "zod";
import { withOverrides, type Overrides } from "./overrides.js";

/**
 * Every figure that differs between environments lives here, validated, so constructs never
 * hard-code a size or ask which environment they are in. The values are the platform spec's
 * ("Environment Configurations", "Monitoring", "Backup and Recovery").
 */
export const environmentConfigSchema = z.object({
  /** Tags the stack and names the cache; nothing branches on it. */
  name: z.string().regex(/^[a-z][a-z0-9-]*$/),
  /** Stack name; per developer in Development. */
  stackName: z.string().regex(/^[A-Za-z][A-Za-z0-9-]{0,127}$/),
  region: z.string(),
  /** Pinned so synthesis needs no AWS account or lookups. RDS subnet groups and ALBs need 2+. */
  availabilityZones: z.array(z.string()).min(2).max(3),
  natGateways: z.number().int().min(1).max(3),
  /**
   * Interface endpoints (SQS, Secrets Manager, ECR, Logs) bill ~$7/month per AZ each: they pay
   * for themselves against NAT data charges at Production's traffic, not a developer's.
   */
  interfaceEndpoints: z.boolean(),
  /**
   * What removing the stack (or replacing a resource) does to data: true keeps the buckets and
   * takes a final database snapshot; false empties and deletes them (a disposable stack).
   */
  retainData: z.boolean(),
  database: z.object({
    instanceClass: z.string().regex(/^db\.[a-z0-9]+\.[a-z0-9]+$/),
    multiAz: z.boolean(),
    readReplica: z.boolean(),
    allocatedStorageGiB: z.number().int().min(20),
    maxAllocatedStorageGiB: z.number().int().min(20),
    /** Set in the parameter group, so the connections alarm's 80% is of a known number. */
    maxConnections: z.number().int().min(50),
    backupRetentionDays: z.number().int().min(1).max(35),
    deletionProtection: z.boolean(),
    /** Enhanced monitoring interval in seconds; 0 turns it off. */
    monitoringIntervalSeconds: z.literal([0, 1, 5, 10, 15, 30, 60]),
    performanceInsights: z.boolean(),
    databaseName: z.string().regex(/^[a-z_][a-z0-9_]*$/),
    /**
     * How the API and workers log in: the app login's password from Secrets Manager, or an RDS
     * IAM token signed per connection by @sensa-learn/db from the task role (no password at all;
     * the login must be granted rds_iam, after which RDS refuses its password).
     */
    appAuthentication: z.enum(["password", "iam"]),
    /** RDS Proxy in front of the primary for the API and workers (the migration task connects directly). */
    rdsProxy: z.boolean(),
  }),
  cache: z.object({
    nodeType: z.string().regex(/^cache\.[a-z0-9]+\.[a-z0-9]+$/),
    /** 1: a single node; 2+: a replication group with automatic failover across AZs. */
    nodes: z.number().int().min(1).max(6),
    /** Daily snapshots kept; 0 takes none. */
    snapshotRetentionDays: z.number().int().min(0).max(35),
  }),
  storage: z.object({
    /** Keep every version of a document (overwritten or deleted uploads can be restored). */
    versioned: z.boolean(),
  }),
  compute: z.object({
    api: z.object({
      min: z.number().int().min(1),
      max: z.number().int().min(1),
      cpu: z.number().int(),
      memoryMiB: z.number().int(),
    }),
    worker: z.object({
      min: z.number().int().min(1),
      max: z.number().int().min(1),
      cpu: z.number().int(),
      memoryMiB: z.number().int(),
    }),
    /** Queue messages per worker task before another is added. */
    messagesPerWorker: z.number().int().min(1),
    apiImage: z.string().min(1),
    workerImage: z.string().min(1),
    /** The image that holds @sensa-learn/db and runs `sensa-db migrate`. */
    migrationImage: z.string().min(1),
    /** ACM certificate for the API's HTTPS listener. */
    certificateArn: z.string().startsWith("arn:aws:acm:"),
  }),
  logRetentionDays: z.number().int(),
  alarms: z.object({
    rdsCpuPercent: z.number().min(1).max(100),
    rdsConnectionsPercent: z.number().min(1).max(100),
    rdsStorageUsedPercent: z.number().min(1).max(100),
    queueDepth: z.number().int().min(1),
    taskFailurePercent: z.number().min(0).max(100),
    apiLatencySeconds: z.number().positive(),
    /** Where alarms are sent; none means subscribe to the topic later. */
    email: z.string().email().optional(),
  }),
});
export type EnvironmentConfig = z.infer<typeof environmentConfigSchema>;

/** What a deploy passes with `-c key=value`, in any environment. */
export interface DeployInputs {
  certificateArn?: string | undefined;
  imageTag?: string | undefined;
  alarmEmail?: string | undefined;
}

const REGION = "us-east-1";
const AZS = ["us-east-1a", "us-east-1b", "us-east-1c"];

/**
 * The cost-optimised environment every other one starts from: 2 AZs, one NAT, single-AZ data,
 * t4g sizes, one task of each service, 7-day retention, disposable data. Development is exactly
 * this, named per developer.
 */
function base(inputs: DeployInputs): Omit<EnvironmentConfig, "name" | "stackName"> {
  const tag = inputs.imageTag ?? "latest";
  return {
    region: REGION,
    availabilityZones: AZS.slice(0, 2),
    natGateways: 1,
    interfaceEndpoints: false,
    retainData: false,
    database: {
      instanceClass: "db.t4g.medium",
      multiAz: false,
      readReplica: false,
      allocatedStorageGiB: 20,
      maxAllocatedStorageGiB: 100,
      maxConnections: 400,
      backupRetentionDays: 7,
      deletionProtection: false,
      monitoringIntervalSeconds: 0,
      performanceInsights: false,
      databaseName: "sensa",
      appAuthentication: "password",
      rdsProxy: false,
    },
    cache: { nodeType: "cache.t4g.micro", nodes: 1, snapshotRetentionDays: 0 },
    storage: { versioned: false },
    compute: {
      api: { min: 1, max: 1, cpu: 256, memoryMiB: 512 },
      worker: { min: 1, max: 1, cpu: 512, memoryMiB: 1024 },
      messagesPerWorker: 10,
      apiImage: `sensa-learn/api:${tag}`,
      workerImage: `sensa-learn/worker:${tag}`,
      migrationImage: `sensa-learn/db-migrate:${tag}`,
      certificateArn:
        inputs.certificateArn ?? `arn:aws:acm:${REGION}:000000000000:certificate/set-certificateArn-in-context`,
    },
    logRetentionDays: 7,
    alarms: {
      rdsCpuPercent: 80,
      rdsConnectionsPercent: 80,
      rdsStorageUsedPercent: 80,
      queueDepth: 100,
      taskFailurePercent: 5,
      apiLatencySeconds: 1.5,
      email: inputs.alarmEmail,
    },
  };
}

/**
 * Everything Production changes from the base, and nothing else: 3 AZs with a NAT each, Multi-AZ
 * r6g database with a replica, RDS Proxy, enhanced monitoring, replicated m6g cache, autoscaling
 * services, 30-day retention, data kept on removal.
 */
export const productionOverrides: Overrides<EnvironmentConfig> = {
  availabilityZones: AZS,
  natGateways: 3,
  interfaceEndpoints: true,
  retainData: true,
  database: {
    instanceClass: "db.r6g.large",
    multiAz: true,
    readReplica: true,
    allocatedStorageGiB: 100,
    maxAllocatedStorageGiB: 1000,
    maxConnections: 1600,
    backupRetentionDays: 30,
    deletionProtection: true,
    monitoringIntervalSeconds: 60,
    performanceInsights: true,
    rdsProxy: true,
  },
  cache: { nodeType: "cache.m6g.large", nodes: 2, snapshotRetentionDays: 7 },
  storage: { versioned: true },
  compute: {
    api: { min: 3, max: 10, cpu: 1024, memoryMiB: 2048 },
    worker: { min: 5, max: 20, cpu: 1024, memoryMiB: 2048 },
  },
  logRetentionDays: 30,
};

/** One stack per developer: the base, named `sensa-dev-<developerId>`. */
export function development(developerId: string, inputs: DeployInputs = {}): EnvironmentConfig {
  if (!/^[a-z][a-z0-9-]{1,30}$/.test(developerId)) {
    throw new Error(
      `developerId must be 2-31 lowercase letters, digits or dashes, starting with a letter: got "${developerId}"`,
    );
  }
  return environmentConfigSchema.parse({ ...base(inputs), name: "development", stackName: `sensa-dev-${developerId}` });
}

/** High availability: the base with Production's overrides. */
export function production(inputs: DeployInputs = {}): EnvironmentConfig {
  const config = { ...base(inputs), name: "production", stackName: "sensa-production" };
  return environmentConfigSchema.parse(withOverrides(config, productionOverrides));
}
