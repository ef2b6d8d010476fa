import { Duration, RemovalPolicy } from "aws-cdk-lib";
import * as ec2 from "aws-cdk-lib/aws-ec2";
import * as ecs from "aws-cdk-lib/aws-ecs";
import type * as iam from "aws-cdk-lib/aws-iam";
import * as rds from "aws-cdk-lib/aws-rds";
import * as secretsmanager from "aws-cdk-lib/aws-secretsmanager";
import { Construct } from "constructs";
import type { EnvironmentConfig } from "../config.js";
import type { ContainerEnvironment } from "./container-environment.js";
import type { DatabaseProxy } from "./database-proxy.js";

/** The login the API and workers use: a member of sensa_app, created by `sensa-db app-login`. */
export const APP_LOGIN = "sensa_app_login";

/** PostgreSQL listens here, not on 5432: one less thing for scanners to guess. Replicas inherit it. */
export const DATABASE_PORT = 5433;

/**
 * TLS with the certificate and host name verified. @sensa-learn/db trusts Amazon's RDS CAs
 * (every region) besides Node's roots, so no CA file is shipped or passed (PGSSLROOTCERT stays
 * unset), and RDS certificates name the endpoint, which is the PGHOST given.
 */
const SSL_MODE = "verify-full";

const ENGINE = rds.DatabaseInstanceEngine.postgres({ version: rds.PostgresEngineVersion.VER_17_9 });

export interface DatabaseProps extends Omit<EnvironmentConfig["database"], "rdsProxy"> {
  vpc: ec2.IVpc;
  /** How long RDS's exported logs are kept. */
  logRetentionDays: number;
  /** Take a final snapshot when the instance is removed; otherwise delete it outright. */
  retainData: boolean;
}

/**
 * RDS PostgreSQL with pgvector available (RDS ships it from 15.2; 17 is within the 15-18 range
 * the package is tested on). Credentials are generated into Secrets Manager and rotated; no
 * password is ever passed on a command line. The app's own login (a member of sensa_app, never
 * the owner) gets a second secret, which the migration task turns into a role. Nothing reaches
 * the instance or its replica until the stack allows a peer through `connections`.
 */
export class Database extends Construct implements ec2.IConnectable {
  readonly instance: rds.DatabaseInstance;
  readonly replica: rds.DatabaseInstanceReadReplica | undefined;
  readonly connections: ec2.Connections;
  /** The owner (RDS master user): used only by the migration task. */
  readonly ownerSecret: secretsmanager.ISecret;
  /** What the API and workers log in as. */
  readonly appSecret: secretsmanager.Secret;
  readonly databaseName: string;
  private readonly appAuthentication: EnvironmentConfig["database"]["appAuthentication"];

  constructor(scope: Construct, id: string, props: DatabaseProps) {
    super(scope, id);
    const { vpc } = props;
    this.databaseName = props.databaseName;
    this.appAuthentication = props.appAuthentication;

    const securityGroup = new ec2.SecurityGroup(this, "SecurityGroup", {
      vpc,
      description: "PostgreSQL: only the services reach it",
      allowAllOutbound: false,
    });
    this.connections = new ec2.Connections({
      securityGroups: [securityGroup],
      defaultPort: ec2.Port.tcp(DATABASE_PORT),
    });
    const parameterGroup = new rds.ParameterGroup(this, "Parameters", {
      engine: ENGINE,
      parameters: {
        shared_preload_libraries: "pg_stat_statements",
        "pg_stat_statements.track": "all",
        max_connections: String(props.maxConnections),
        // Encryption in transit: refuse non-TLS connections.
        "rds.force_ssl": "1",
        log_min_duration_statement: "1000",
      },
    });
    const instanceType = new ec2.InstanceType(props.instanceClass.replace(/^db\./, ""));
    const monitoringInterval = props.monitoringIntervalSeconds
      ? Duration.seconds(props.monitoringIntervalSeconds)
      : undefined;

    this.instance = new rds.DatabaseInstance(this, "Instance", {
      engine: ENGINE,
      instanceType,
      vpc,
      vpcSubnets: { subnetType: ec2.SubnetType.PRIVATE_ISOLATED },
      securityGroups: [securityGroup],
      port: DATABASE_PORT,
      databaseName: props.databaseName,
      credentials: rds.Credentials.fromGeneratedSecret("sensa_owner"),
      multiAz: props.multiAz,
      allocatedStorage: props.allocatedStorageGiB,
      maxAllocatedStorage: props.maxAllocatedStorageGiB,
      storageType: rds.StorageType.GP3,
      storageEncrypted: true,
      parameterGroup,
      backupRetention: Duration.days(props.backupRetentionDays),
      deletionProtection: props.deletionProtection,
      removalPolicy: props.retainData ? RemovalPolicy.SNAPSHOT : RemovalPolicy.DESTROY,
      monitoringInterval,
      enablePerformanceInsights: props.performanceInsights,
      cloudwatchLogsExports: ["postgresql", "upgrade"],
      cloudwatchLogsRetention: props.logRetentionDays,
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

    if (props.readReplica) {
      this.replica = new rds.DatabaseInstanceReadReplica(this, "ReadReplica", {
        sourceDatabaseInstance: this.instance,
        instanceType,
        vpc,
        vpcSubnets: { subnetType: ec2.SubnetType.PRIVATE_ISOLATED },
        securityGroups: [securityGroup],
        // Encryption and port are inherited from the source instance (CloudFormation rejects
        // StorageEncrypted beside SourceDBInstanceIdentifier).
        parameterGroup,
        deletionProtection: props.deletionProtection,
        monitoringInterval,
        enablePerformanceInsights: props.performanceInsights,
        removalPolicy: RemovalPolicy.DESTROY,
        autoMinorVersionUpgrade: true,
      });
    }
  }

  /**
   * How the migration task connects as the owner, in the variables @sensa-learn/db reads
   * (libpq's PG*: `createDb()` and `sensa-db` take them with no url): the instance itself,
   * verified TLS, and the owner's rotated secret.
   */
  ownerConnection(): ContainerEnvironment {
    return {
      environment: this.endpoint(this.instance.dbInstanceEndpointAddress, this.instance.dbInstanceEndpointPort),
      secrets: this.credentials(this.ownerSecret),
    };
  }

  /**
   * How a service connects as the app login: the primary, or `via` the proxy in front of it; the
   * read replica as PGHOST_REPLICAS (read-only contexts run there, same login, same TLS); the
   * login's secret, or with `appAuthentication: "iam"` DATABASE_IAM_AUTH=true and no password at
   * all (see grantAppLogin). PGAPPNAME names the service's connections in pg_stat_activity.
   */
  appConnection(applicationName: string, via?: DatabaseProxy): ContainerEnvironment {
    const environment = {
      ...(via
        ? this.endpoint(via.proxy.endpoint, String(via.port))
        : this.endpoint(this.instance.dbInstanceEndpointAddress, this.instance.dbInstanceEndpointPort)),
      PGAPPNAME: applicationName,
      ...(this.replica
        ? { PGHOST_REPLICAS: `${this.replica.dbInstanceEndpointAddress}:${this.replica.dbInstanceEndpointPort}` }
        : {}),
    };
    if (this.appAuthentication === "iam") {
      return { environment: { ...environment, PGUSER: APP_LOGIN, DATABASE_IAM_AUTH: "true" }, secrets: {} };
    }
    return { environment, secrets: this.credentials(this.appSecret) };
  }

  /**
   * What `grantee` (a service's task role) needs besides its variables to log in as the app
   * login: with IAM authentication, `rds-db:connect` as that user only, on the primary (or `via`
   * the proxy) and on the replica. With a password, nothing: ECS reads the secret with the
   * task's execution role.
   */
  grantAppLogin(grantee: iam.IGrantable, via?: DatabaseProxy): void {
    if (this.appAuthentication !== "iam") return;
    (via?.proxy ?? this.instance).grantConnect(grantee, APP_LOGIN);
    this.replica?.grantConnect(grantee, APP_LOGIN);
  }

  private endpoint(host: string, port: string): Record<string, string> {
    return { PGHOST: host, PGPORT: port, PGDATABASE: this.databaseName, PGSSLMODE: SSL_MODE };
  }

  private credentials(secret: secretsmanager.ISecret): Record<string, ecs.Secret> {
    return {
      PGUSER: ecs.Secret.fromSecretsManager(secret, "username"),
      PGPASSWORD: ecs.Secret.fromSecretsManager(secret, "password"),
    };
  }
}
