import { Validations } from "aws-cdk-lib";
import type { IConstruct } from "constructs";
import type { PlatformStack } from "./stacks/platform-stack.js";

/**
 * Every cdk-nag AwsSolutions finding this app accepts, in one place, each with its reason.
 * Anything not listed here fails synthesis (and test/nag.test.ts).
 */
export function acknowledgeFindings(stack: PlatformStack): void {
  const ack = (construct: IConstruct, id: string, reason: string) => Validations.of(construct).acknowledge({ id: `AwsSolutions::AwsSolutions-${id}`, reason });
  const { network, database, cache, compute, migration, storage } = stack;
  void storage;

  for (const endpoint of stack.config.interfaceEndpoints ? ["Sqs", "SecretsManager", "EcrApi", "EcrDocker", "Logs"] : []) {
    ack(network.vpc.node.findChild(endpoint), "EC23", "Interface endpoint: HTTPS from the VPC's own CIDR only (a token nag cannot evaluate)");
  }
  ack(compute.loadBalancer, "EC23", "The public API: the load balancer takes HTTPS (and redirects HTTP) from anywhere by design");

  for (const task of [compute.api.taskDefinition, compute.worker.taskDefinition, migration.taskDefinition]) {
    ack(task, "ECS2", "Plain environment holds only non-secret settings (hosts, ports, queue URL, bucket name); credentials come from Secrets Manager");
    ack(task.obtainExecutionRole(), "IAM5[Resource::*]", "ecr:GetAuthorizationToken cannot be scoped to a resource");
  }
  ack(database.appSecret, "SMG4", "Rotated by rotating the secret and redeploying: the migration task's sensa-db app-login sets the role's password from it");
  ack(cache.authSecret, "SMG4", "ElastiCache AUTH tokens rotate through modify-replication-group, not a Secrets Manager rotation Lambda");

  for (const role of [compute.api.taskDefinition.taskRole, compute.worker.taskDefinition.taskRole]) {
    for (const finding of ["Resource::<StorageDocumentsCD3FCE94.Arn>/*", "Action::s3:List*", "Action::s3:GetObject*", "Action::s3:GetBucket*", "Action::s3:DeleteObject*", "Action::s3:Abort*"]) {
      ack(role, `IAM5[${finding}]`, "CDK's bucket grant: object-level actions on the documents bucket only");
    }
  }
  ack(migration.trigger, "IAM4[Policy::arn:<AWS::Partition>:iam::aws:policy/service-role/AWSLambdaBasicExecutionRole]", "Lambda's standard policy: write its own logs");
  ack(migration.trigger, "IAM5[Resource::*]", "ecs:DescribeTasks does not support resource ARNs; the statement is conditioned on this cluster");
  const logRetention = stack.node.children.find((c) => c.node.id.startsWith("LogRetention"));
  if (logRetention) {
    ack(logRetention, "IAM4[Policy::arn:<AWS::Partition>:iam::aws:policy/service-role/AWSLambdaBasicExecutionRole]", "CDK's log-retention helper for RDS log exports");
    ack(logRetention, "IAM5[Resource::*]", "CDK's log-retention helper sets retention on log groups RDS creates, whose names are not known here");
  }
  ack(compute.node.findChild("LoadBalancerLogs"), "S1", "This is the access-log bucket; logging it to itself would loop");

  for (const instance of [database.instance, database.replica]) {
    if (instance && stack.config.database.monitoringIntervalSeconds > 0) {
      ack(instance.node.findChild("MonitoringRole"), "IAM4[Policy::arn:<AWS::Partition>:iam::aws:policy/service-role/AmazonRDSEnhancedMonitoringRole]", "The policy AWS requires for RDS enhanced monitoring");
    }
  }
  if (database.replica) {
    ack(database.replica, "RDS3", "A read replica serves reads; availability comes from the Multi-AZ primary it follows");
    ack(database.replica, "RDS2", "A replica inherits the source's storage encryption (encrypted); CloudFormation rejects setting it");
    ack(database.replica, "RDS11", "A replica inherits the source's port (5433, not the default)");
  }
  if (stack.config.name === "development") {
    ack(database.instance, "RDS3", "Development is single-AZ by design (the spec's cost-optimised environment); Production is Multi-AZ");
    ack(database.instance, "RDS10", "Development stacks are per developer and disposable; Production has deletion protection");
    ack(cache.replicationGroup, "AEC4", "Development runs one cache node by design; Production replicates across AZs");
  }
}
