import { Duration, RemovalPolicy } from "aws-cdk-lib";
import * as appscaling from "aws-cdk-lib/aws-applicationautoscaling";
import * as acm from "aws-cdk-lib/aws-certificatemanager";
import * as ec2 from "aws-cdk-lib/aws-ec2";
import * as ecr from "aws-cdk-lib/aws-ecr";
import * as ecs from "aws-cdk-lib/aws-ecs";
import * as elbv2 from "aws-cdk-lib/aws-elasticloadbalancingv2";
import * as logs from "aws-cdk-lib/aws-logs";
import * as s3 from "aws-cdk-lib/aws-s3";
import { Construct } from "constructs";
import type { EnvironmentConfig } from "../config.js";
import type { Cache } from "./cache.js";
import type { Database } from "./database.js";
import type { Queue } from "./queue.js";

/** An image from an ECR repository by name (`repo:tag`): nothing is built, so synth needs no Docker. */
export function imageFrom(scope: Construct, id: string, reference: string): ecs.ContainerImage {
  const [repository, tag = "latest"] = reference.split(":");
  return ecs.ContainerImage.fromEcrRepository(ecr.Repository.fromRepositoryName(scope, id, repository!), tag);
}

export interface ComputeProps {
  vpc: ec2.IVpc;
  config: EnvironmentConfig;
  database: Database;
  cache: Cache;
  queue: Queue;
  documents: s3.IBucket;
}

/**
 * ECS on Fargate: the API behind an HTTPS load balancer, scaling on CPU; the workers scaling on
 * the processing queue's depth. Both read the database as the app login (row-level security
 * applies), Redis with its AUTH token, and nothing else but their queue and the documents bucket.
 */
export class Compute extends Construct {
  readonly cluster: ecs.Cluster;
  readonly api: ecs.FargateService;
  readonly worker: ecs.FargateService;
  readonly loadBalancer: elbv2.ApplicationLoadBalancer;
  readonly targetGroup: elbv2.ApplicationTargetGroup;

  constructor(scope: Construct, id: string, props: ComputeProps) {
    super(scope, id);
    const { vpc, config, database, cache, queue, documents } = props;
    this.cluster = new ecs.Cluster(this, "Cluster", { vpc, containerInsightsV2: ecs.ContainerInsights.ENABLED });

    const environment = {
      REDIS_HOST: cache.replicationGroup.attrPrimaryEndPointAddress,
      REDIS_PORT: cache.replicationGroup.attrPrimaryEndPointPort,
      QUEUE_URL: queue.queue.queueUrl,
      DOCUMENTS_BUCKET: documents.bucketName,
      NODE_ENV: "production",
    };
    const secrets = {
      REDIS_AUTH_TOKEN: ecs.Secret.fromSecretsManager(cache.authSecret),
    };
    const service = (name: "Api" | "Worker", sizing: EnvironmentConfig["compute"]["api"], image: string, port?: number) => {
      const task = new ecs.FargateTaskDefinition(this, `${name}Task`, {
        cpu: sizing.cpu,
        memoryLimitMiB: sizing.memoryMiB,
        runtimePlatform: { cpuArchitecture: ecs.CpuArchitecture.ARM64, operatingSystemFamily: ecs.OperatingSystemFamily.LINUX },
      });
      // PGAPPNAME names each service's connections in pg_stat_activity.
      const db = database.connectionFor("app", task, `sensa-${name.toLowerCase()}`);
      task.addContainer(name.toLowerCase(), {
        image: imageFrom(this, `${name}Repository`, image),
        environment: { ...db.environment, ...environment },
        secrets: { ...db.secrets, ...secrets },
        portMappings: port ? [{ containerPort: port }] : [],
        logging: ecs.LogDrivers.awsLogs({
          streamPrefix: name.toLowerCase(),
          logGroup: new logs.LogGroup(this, `${name}Logs`, { retention: config.logRetentionDays, removalPolicy: RemovalPolicy.DESTROY }),
        }),
      });
      return new ecs.FargateService(this, name, {
        cluster: this.cluster,
        taskDefinition: task,
        desiredCount: sizing.min,
        vpcSubnets: { subnetType: ec2.SubnetType.PRIVATE_WITH_EGRESS },
        circuitBreaker: { rollback: true },
        minHealthyPercent: 100,
      });
    };

    this.api = service("Api", config.compute.api, config.compute.apiImage, 8080);
    this.worker = service("Worker", config.compute.worker, config.compute.workerImage);

    this.loadBalancer = new elbv2.ApplicationLoadBalancer(this, "LoadBalancer", { vpc, internetFacing: true, dropInvalidHeaderFields: true });
    this.loadBalancer.logAccessLogs(documentsAccessLogBucket(this, config));
    const https = this.loadBalancer.addListener("Https", {
      port: 443,
      certificates: [acm.Certificate.fromCertificateArn(this, "Certificate", config.compute.certificateArn)],
      sslPolicy: elbv2.SslPolicy.RECOMMENDED_TLS,
    });
    this.loadBalancer.addRedirect({ sourcePort: 80, targetPort: 443 });
    this.targetGroup = https.addTargets("Api", {
      port: 8080,
      protocol: elbv2.ApplicationProtocol.HTTP,
      targets: [this.api],
      healthCheck: { path: "/health", interval: Duration.seconds(15) },
      deregistrationDelay: Duration.seconds(30),
    });

    const apiScaling = this.api.autoScaleTaskCount({ minCapacity: config.compute.api.min, maxCapacity: config.compute.api.max });
    apiScaling.scaleOnCpuUtilization("Cpu", { targetUtilizationPercent: 60 });
    const workerScaling = this.worker.autoScaleTaskCount({ minCapacity: config.compute.worker.min, maxCapacity: config.compute.worker.max });
    const perWorker = config.compute.messagesPerWorker;
    workerScaling.scaleOnMetric("QueueDepth", {
      metric: queue.queue.metricApproximateNumberOfMessagesVisible({ period: Duration.minutes(1) }),
      scalingSteps: [
        { upper: 0, change: -1 },
        { lower: perWorker, change: +1 },
        { lower: perWorker * 5, change: +3 },
      ],
      adjustmentType: appscaling.AdjustmentType.CHANGE_IN_CAPACITY,
      cooldown: Duration.minutes(2),
    });

    // Least privilege: the API enqueues and stores uploads; workers consume and read them.
    queue.queue.grantSendMessages(this.api.taskDefinition.taskRole);
    queue.queue.grantConsumeMessages(this.worker.taskDefinition.taskRole);
    documents.grantReadWrite(this.api.taskDefinition.taskRole);
    documents.grantRead(this.worker.taskDefinition.taskRole);
    for (const s of [this.api, this.worker]) {
      database.securityGroup.addIngressRule(s.connections.securityGroups[0]!, ec2.Port.tcp(5433), `${s.node.id} to PostgreSQL`);
      cache.securityGroup.addIngressRule(s.connections.securityGroups[0]!, ec2.Port.tcp(6380), `${s.node.id} to Redis`);
    }
  }
}

function documentsAccessLogBucket(scope: Construct, config: EnvironmentConfig): s3.Bucket {
  const production = config.name === "production";
  return new s3.Bucket(scope, "LoadBalancerLogs", {
    encryption: s3.BucketEncryption.S3_MANAGED,
    blockPublicAccess: s3.BlockPublicAccess.BLOCK_ALL,
    enforceSSL: true,
    lifecycleRules: [{ expiration: Duration.days(config.logRetentionDays) }],
    removalPolicy: production ? RemovalPolicy.RETAIN : RemovalPolicy.DESTROY,
    autoDeleteObjects: !production,
  });
}
