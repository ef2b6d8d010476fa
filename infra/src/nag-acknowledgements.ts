import { Validations, type CfnResource } from "aws-cdk-lib";
import type { IConstruct } from "constructs";
import { DATABASE_PORT } from "./constructs/database.js";
import type { PlatformStack } from "./stacks/platform-stack.js";

/**
 * Every cdk-nag AwsSolutions finding this app accepts, in one place, each with its reason.
 * Anything not listed here fails synthesis (and test/nag.test.ts). Each is conditioned on the
 * config field that causes it, never on the environment's name.
 */
export function acknowledgeFindings(stack: PlatformStack): void {
  const ack = (construct: IConstruct, id: string, reason: string) =>
    Validations.of(construct).acknowledge({ id: `AwsSolutions::AwsSolutions-${id}`, reason });
  const { network, database, cache, compute, migration, storage, config } = stack;

  for (const endpoint of network.interfaceEndpoints) {
    ack(endpoint, "EC23", "Interface endpoint: HTTPS from the VPC's own CIDR only (a token nag cannot evaluate)");
  }
  ack(
    compute.loadBalancer,
    "EC23",
    "The public API: the load balancer takes HTTPS (and redirects HTTP) from anywhere by design",
  );

  for (const task of [compute.api.taskDefinition, compute.worker.taskDefinition, migration.taskDefinition]) {
    ack(
      task,
      "ECS2",
      "Plain environment holds only non-secret settings (hosts, ports, queue URL, bucket name); credentials come from Secrets Manager",
    );
    ack(task.obtainExecutionRole(), "IAM5[Resource::*]", "ecr:GetAuthorizationToken cannot be scoped to a resource");
  }
  ack(
    database.appSecret,
    "SMG4",
    "Rotated by rotating the secret and redeploying: the migration task's sensa-db app-login sets the role's password from it",
  );
  ack(
    cache.authSecret,
    "SMG4",
    "ElastiCache AUTH tokens rotate through modify-replication-group, not a Secrets Manager rotation Lambda",
  );

  const documents = stack.getLogicalId(storage.documents.node.defaultChild as CfnResource);
  for (const role of [compute.api.taskDefinition.taskRole, compute.worker.taskDefinition.taskRole]) {
    for (const finding of [
      `Resource::<${documents}.Arn>/*`,
      "Action::s3:List*",
      "Action::s3:GetObject*",
      "Action::s3:GetBucket*",
      "Action::s3:DeleteObject*",
      "Action::s3:Abort*",
    ]) {
      ack(role, `IAM5[${finding}]`, "CDK's bucket grant: object-level actions on the documents bucket only");
    }
  }
  const lambdaBasicExecution =
    "IAM4[Policy::arn:<AWS::Partition>:iam::aws:policy/service-role/AWSLambdaBasicExecutionRole]";
  ack(migration.trigger, lambdaBasicExecution, "Lambda's standard policy: write its own logs");
  ack(
    migration.trigger,
    "IAM5[Resource::*]",
    "ecs:DescribeTasks does not support resource ARNs; the statement is conditioned on this cluster",
  );
  const logRetention = stack.node.children.find((c) => c.node.id.startsWith("LogRetention"));
  if (logRetention) {
    ack(logRetention, lambdaBasicExecution, "CDK's log-retention helper for RDS log exports");
    ack(
      logRetention,
      "IAM5[Resource::*]",
      "CDK's log-retention helper sets retention on log groups RDS creates, whose names are not known here",
    );
  }
  ack(compute.loadBalancerLogs, "S1", "This is the access-log bucket; logging it to itself would loop");

  if (config.database.monitoringIntervalSeconds > 0) {
    for (const instance of [database.instance, database.replica]) {
      if (!instance) continue;
      ack(
        instance.node.findChild("MonitoringRole"),
        "IAM4[Policy::arn:<AWS::Partition>:iam::aws:policy/service-role/AmazonRDSEnhancedMonitoringRole]",
        "The policy AWS requires for RDS enhanced monitoring",
      );
    }
  }
  if (database.replica) {
    ack(
      database.replica,
      "RDS3",
      "A read replica serves reads; availability comes from the Multi-AZ primary it follows",
    );
    ack(
      database.replica,
      "RDS2",
      "A replica inherits the source's storage encryption (encrypted); CloudFormation rejects setting it",
    );
    ack(database.replica, "RDS11", `A replica inherits the source's port (${DATABASE_PORT}, not the default)`);
  }
  if (!config.database.multiAz) {
    ack(database.instance, "RDS3", "A single-AZ instance by configuration (the spec's cost-optimised Development)");
  }
  if (!config.database.deletionProtection) {
    ack(
      database.instance,
      "RDS10",
      "No deletion protection by configuration: Development stacks are per developer and disposable",
    );
  }
  if (config.cache.nodes === 1) {
    ack(cache.replicationGroup, "AEC4", "One cache node by configuration (the spec's cost-optimised Development)");
  }
}
