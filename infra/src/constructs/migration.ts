import { Duration, RemovalPolicy } from "aws-cdk-lib";
import * as ec2 from "aws-cdk-lib/aws-ec2";
import * as ecs from "aws-cdk-lib/aws-ecs";
import * as iam from "aws-cdk-lib/aws-iam";
import * as lambda from "aws-cdk-lib/aws-lambda";
import * as logs from "aws-cdk-lib/aws-logs";
import type * as secretsmanager from "aws-cdk-lib/aws-secretsmanager";
import * as triggers from "aws-cdk-lib/triggers";
import { Construct, type IConstruct } from "constructs";
import type { EnvironmentConfig } from "../config.js";
import type { ContainerEnvironment } from "./container-environment.js";
import { imageFrom } from "./image.js";

type AppAuthentication = EnvironmentConfig["database"]["appAuthentication"];

/**
 * What the migration container runs: the package's own migrate, then the app login it needs
 * (granted rds_iam when the services sign in with IAM tokens).
 */
export function migrationCommand(appAuthentication: AppAuthentication): string[] {
  return ["sh", "-c", `sensa-db migrate && sensa-db app-login${appAuthentication === "iam" ? " --iam" : ""}`];
}

export interface MigrationProps {
  vpc: ec2.IVpc;
  cluster: ecs.ICluster;
  /** `repository:tag` of an image with @sensa-learn/db installed. */
  image: string;
  /** The owner's connection: migrations run as the owner. */
  owner: ContainerEnvironment;
  /** The app login's secret, handed only to `sensa-db app-login`. */
  appLoginSecret: secretsmanager.ISecret;
  appAuthentication: AppAuthentication;
  /** What must exist before the task runs (the database instance). */
  runAfter: IConstruct[];
  logRetentionDays: number;
}

/**
 * Runs `sensa-db migrate` from @sensa-learn/db as a one-off Fargate task on every deploy, and
 * makes the deploy wait for it: a trigger (invoked synchronously by CloudFormation) starts the
 * task, waits until it stops and fails unless the container exited 0. A custom resource that
 * only called runTask would return at once and let a failed migration pass. The task's security
 * group reaches nothing inside the VPC until the stack allows it to (the database's port).
 */
export class Migration extends Construct implements ec2.IConnectable {
  readonly taskDefinition: ecs.FargateTaskDefinition;
  readonly trigger: triggers.TriggerFunction;
  readonly connections: ec2.Connections;

  constructor(scope: Construct, id: string, props: MigrationProps) {
    super(scope, id);
    const { vpc, cluster } = props;
    this.taskDefinition = new ecs.FargateTaskDefinition(this, "Task", {
      cpu: 256,
      memoryLimitMiB: 512,
      runtimePlatform: {
        cpuArchitecture: ecs.CpuArchitecture.ARM64,
        operatingSystemFamily: ecs.OperatingSystemFamily.LINUX,
      },
    });
    const logRetention = props.logRetentionDays;
    this.taskDefinition.addContainer("migrate", {
      image: imageFrom(this, "Repository", props.image),
      command: migrationCommand(props.appAuthentication),
      environment: { ...props.owner.environment, NODE_ENV: "production" },
      // Migrations run as the owner; the app login's credentials are only handed to app-login.
      secrets: {
        ...props.owner.secrets,
        APP_DB_USER: ecs.Secret.fromSecretsManager(props.appLoginSecret, "username"),
        APP_DB_PASSWORD: ecs.Secret.fromSecretsManager(props.appLoginSecret, "password"),
      },
      logging: ecs.LogDrivers.awsLogs({
        streamPrefix: "migrate",
        logGroup: new logs.LogGroup(this, "Logs", { retention: logRetention, removalPolicy: RemovalPolicy.DESTROY }),
      }),
    });
    const securityGroup = new ec2.SecurityGroup(this, "SecurityGroup", { vpc, description: "The migration task" });
    this.connections = new ec2.Connections({ securityGroups: [securityGroup] });
    const subnets = vpc.selectSubnets({ subnetType: ec2.SubnetType.PRIVATE_WITH_EGRESS }).subnetIds;

    this.trigger = new triggers.TriggerFunction(this, "RunAndWait", {
      runtime: lambda.Runtime.NODEJS_24_X,
      handler: "index.handler",
      code: lambda.Code.fromInline(RUN_AND_WAIT),
      timeout: Duration.minutes(15),
      executeAfter: props.runAfter,
      executeOnHandlerChange: true,
      logGroup: new logs.LogGroup(this, "TriggerLogs", {
        retention: logRetention,
        removalPolicy: RemovalPolicy.DESTROY,
      }),
      environment: {
        CLUSTER: cluster.clusterArn,
        TASK_DEFINITION: this.taskDefinition.taskDefinitionArn,
        SUBNETS: subnets.join(","),
        SECURITY_GROUP: securityGroup.securityGroupId,
        CONTAINER: "migrate",
      },
    });
    // Run (and follow) exactly this task, and pass only its roles to ECS.
    this.trigger.addToRolePolicy(
      new iam.PolicyStatement({ actions: ["ecs:RunTask"], resources: [this.taskDefinition.taskDefinitionArn] }),
    );
    this.trigger.addToRolePolicy(
      new iam.PolicyStatement({
        actions: ["ecs:DescribeTasks"],
        resources: ["*"],
        conditions: { ArnEquals: { "ecs:cluster": cluster.clusterArn } },
      }),
    );
    this.trigger.addToRolePolicy(
      new iam.PolicyStatement({
        actions: ["iam:PassRole"],
        resources: [this.taskDefinition.taskRole.roleArn, this.taskDefinition.obtainExecutionRole().roleArn],
      }),
    );
  }
}

/** The trigger's handler: start the task, wait for it to stop, fail unless it exited 0. */
const RUN_AND_WAIT = `
const { ECSClient, RunTaskCommand, DescribeTasksCommand, waitUntilTasksStopped } = require("@aws-sdk/client-ecs");
exports.handler = async () => {
  const ecs = new ECSClient({});
  const cluster = process.env.CLUSTER;
  const run = await ecs.send(new RunTaskCommand({
    cluster,
    taskDefinition: process.env.TASK_DEFINITION,
    launchType: "FARGATE",
    networkConfiguration: { awsvpcConfiguration: { subnets: process.env.SUBNETS.split(","), securityGroups: [process.env.SECURITY_GROUP], assignPublicIp: "DISABLED" } },
  }));
  if (!run.tasks || run.tasks.length === 0) throw new Error("migration task did not start: " + JSON.stringify(run.failures));
  const task = run.tasks[0].taskArn;
  await waitUntilTasksStopped({ client: ecs, maxWaitTime: 840 }, { cluster, tasks: [task] });
  const [stopped] = (await ecs.send(new DescribeTasksCommand({ cluster, tasks: [task] }))).tasks;
  const container = stopped.containers.find((c) => c.name === process.env.CONTAINER);
  if (!container || container.exitCode !== 0) {
    throw new Error("sensa-db migrate failed (exit " + (container && container.exitCode) + "): " + stopped.stoppedReason + ". See the migrate log group.");
  }
  return { task, exitCode: 0 };
};
`;
