import { CfnOutput, Duration, RemovalPolicy } from "aws-cdk-lib";
import * as ec2 from "aws-cdk-lib/aws-ec2";
import * as ecs from "aws-cdk-lib/aws-ecs";
import * as rds from "aws-cdk-lib/aws-rds";
import * as secretsmanager from "aws-cdk-lib/aws-secretsmanager";
import { Construct } from "constructs";
import type { EnvironmentConfig } from "../config.js";
import { PROXY_PORT, type DatabaseProxy } from "./database-proxy.js";

/** The login the API and workers use: a member of sensa_app, created by `sensa-db app-login`. */
export const APP_LOGIN = "sensa_app_login";

/**
 * TLS with the certificate and host name verified. @sensa-learn/db trusts Amazon's RDS CAs
 * (every region) besides Node's roots, so no CA file is shipped or passed (PGSSLROOTCERT stays
 * unset), and RDS certificates name the endpoint, which is the PGHOST given.
 */
export const SSL_MODE = "verify-full";

/** What a container needs to connect: plain variables and the ones read from Secrets Manager. */
export interface DatabaseConnection {
  environment: Record<string, string>;
  secrets: Record<string, ecs.Secret>;
}

/**
 * RDS PostgreSQL with pgvector available (RDS ships it from 15.2; 17 is within the 15-18 range
 * the package is tested on). Credentials are generated into Secrets Manager and rotated; no
 * password is ever passed on a command line. The app's own login (a member of sensa_app, never
 * the owner) gets a second secret, which the migration task turns into a role.
 */
export class Database extends Construct {
  readonly instance: rds.DatabaseInstance;
  readonly replica: rds.DatabaseInstanceReadReplica | undefined;
  readonly securityGroup: ec2.SecurityGroup;
  /** The owner (RDS master user): used only by the migration task. */
  readonly ownerSecret: secretsmanager.ISecret;
  /** What the API and workers log in as. */
  readonly appSecret: secretsmanager.Secret;
  readonly config: EnvironmentConfig["database"];
  private readonly appAuthentication: EnvironmentConfig["database"]["appAuthentication"];
  /** Set by DatabaseProxy: the app login then reaches the primary through it. */
  private appProxy: rds.DatabaseProxy | undefined;

  constructor(scope: Construct, id: string, props: { vpc: ec2.IVpc; config: EnvironmentConfig }) {
    super(scope, id);
    const { vpc } = props;
    const config = (this.config = props.config.database);
    const production = props.config.name === "production";

    this.securityGroup = new ec2.SecurityGroup(this, "SecurityGroup", { vpc, description: "PostgreSQL: only the services reach it", allowAllOutbound: false });
    const parameterGroup = new rds.ParameterGroup(this, "Parameters", {
      engine: rds.DatabaseInstanceEngine.postgres({ version: rds.PostgresEngineVersion.VER_17_9 }),
      parameters: {
        shared_preload_libraries: "pg_stat_statements",
        "pg_stat_statements.track": "all",
        max_connections: String(config.maxConnections),
        // Encryption in transit: refuse non-TLS connections.
        "rds.force_ssl": "1",
        log_min_duration_statement: "1000",
      },
    });

    this.instance = new rds.DatabaseInstance(this, "Instance", {
      engine: rds.DatabaseInstanceEngine.postgres({ version: rds.PostgresEngineVersion.VER_17_9 }),
      instanceType: new ec2.InstanceType(config.instanceClass.replace(/^db\./, "")),
      vpc,
      vpcSubnets: { subnetType: ec2.SubnetType.PRIVATE_ISOLATED },
      securityGroups: [this.securityGroup],
      port: 5433, // not the default port: one less thing for scanners to guess
      databaseName: config.databaseName,
      credentials: rds.Credentials.fromGeneratedSecret("sensa_owner"),
      multiAz: config.multiAz,
      allocatedStorage: config.allocatedStorageGiB,
      maxAllocatedStorage: config.maxAllocatedStorageGiB,
      storageType: rds.StorageType.GP3,
      storageEncrypted: true,
      parameterGroup,
      backupRetention: Duration.days(config.backupRetentionDays),
      deletionProtection: config.deletionProtection,
      removalPolicy: production ? RemovalPolicy.SNAPSHOT : RemovalPolicy.DESTROY,
      monitoringInterval: config.monitoringIntervalSeconds ? Duration.seconds(config.monitoringIntervalSeconds) : undefined,
      enablePerformanceInsights: config.performanceInsights,
      cloudwatchLogsExports: ["postgresql", "upgrade"],
      cloudwatchLogsRetention: props.config.logRetentionDays,
      iamAuthentication: true,
      autoMinorVersionUpgrade: true,
      copyTagsToSnapshot: true,
    });
    this.ownerSecret = this.instance.secret!;
    // Quarterly at the latest, as the spec's security practices ask; monthly here.
    this.instance.addRotationSingleUser({ automaticallyAfter: Duration.days(30) });

    this.appSecret = new secretsmanager.Secret(this, "AppLogin", {
      description: "The login app services use: a member of sensa_app, subject to row-level security",
      generateSecretString: {
        secretStringTemplate: JSON.stringify({ username: APP_LOGIN }),
        generateStringKey: "password",
        excludePunctuation: true,
        passwordLength: 40,
      },
    });

    if (config.readReplica) {
      this.replica = new rds.DatabaseInstanceReadReplica(this, "ReadReplica", {
        sourceDatabaseInstance: this.instance,
        instanceType: new ec2.InstanceType(config.instanceClass.replace(/^db\./, "")),
        vpc,
        vpcSubnets: { subnetType: ec2.SubnetType.PRIVATE_ISOLATED },
        securityGroups: [this.securityGroup],
        // Encryption and port are inherited from the source instance (CloudFormation rejects
        // StorageEncrypted beside SourceDBInstanceIdentifier).
        parameterGroup,
        deletionProtection: config.deletionProtection,
        monitoringInterval: config.monitoringIntervalSeconds ? Duration.seconds(config.monitoringIntervalSeconds) : undefined,
        enablePerformanceInsights: config.performanceInsights,
        removalPolicy: RemovalPolicy.DESTROY,
        autoMinorVersionUpgrade: true,
      });
    }

    this.appAuthentication = config.appAuthentication;

    // The spec's Terraform outputs, under the same names.
    new CfnOutput(scope, "rds_address", { value: this.instance.dbInstanceEndpointAddress });
    new CfnOutput(scope, "rds_port", { value: this.instance.dbInstanceEndpointPort });
    new CfnOutput(scope, "rds_database_name", { value: config.databaseName });
    new CfnOutput(scope, "rds_owner_secret_arn", { value: this.ownerSecret.secretArn });
  }

  /**
   * How `task` connects, in the variables @sensa-learn/db reads (libpq's PG*: `createDb()` and
   * `sensa-db` take them with no url): the endpoint, verified TLS, and the credentials of `login`.
   * The owner (migrations) always uses its rotated secret; the app login uses its secret, or with
   * `appAuthentication: "iam"` an IAM token (DATABASE_IAM_AUTH=true), the task role being granted
   * `rds-db:connect` as that user and no password being handed over.
   */
  connectionFor(login: "owner" | "app", task: ecs.TaskDefinition, applicationName?: string): DatabaseConnection {
    const proxy = login === "app" ? this.appProxy : undefined;
    const environment: Record<string, string> = {
      PGHOST: proxy ? proxy.endpoint : this.instance.dbInstanceEndpointAddress,
      PGPORT: proxy ? String(PROXY_PORT) : this.instance.dbInstanceEndpointPort,
      PGDATABASE: this.config.databaseName,
      PGSSLMODE: SSL_MODE,
      ...(applicationName ? { PGAPPNAME: applicationName } : {}),
      // Read-only contexts run there (@sensa-learn/db's PGHOST_REPLICAS: same login, same TLS).
      ...(login === "app" && this.replica ? { PGHOST_REPLICAS: `${this.replica.dbInstanceEndpointAddress}:${this.replica.dbInstanceEndpointPort}` } : {}),
    };
    const secret = login === "owner" ? this.ownerSecret : this.appSecret;
    if (login === "app" && this.appAuthentication === "iam") {
      (proxy ?? this.instance).grantConnect(task.taskRole, APP_LOGIN);
      this.replica?.grantConnect(task.taskRole, APP_LOGIN);
      return { environment: { ...environment, PGUSER: APP_LOGIN, DATABASE_IAM_AUTH: "true" }, secrets: {} };
    }
    return {
      environment,
      secrets: { PGUSER: ecs.Secret.fromSecretsManager(secret, "username"), PGPASSWORD: ecs.Secret.fromSecretsManager(secret, "password") },
    };
  }

  /** The app login reaches the primary through `proxy` (DatabaseProxy calls this); the owner never does. */
  routeAppThrough(proxy: DatabaseProxy): void {
    this.appProxy = proxy.proxy;
  }
}
