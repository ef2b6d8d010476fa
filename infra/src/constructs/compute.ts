import { Duration, RemovalPolicy } from "aws-cdk-lib";
import * as appscaling from "aws-cdk-lib/aws-applicationautoscaling";
import * as acm from "aws-cdk-lib/aws-certificatemanager";
import type * as cloudwatch from "aws-cdk-lib/aws-cloudwatch";
import * as ec2 from "aws-cdk-lib/aws-ec2";
import * as ecs from "aws-cdk-lib/aws-ecs";
import * as elbv2 from "aws-cdk-lib/aws-elasticloadbalancingv2";
import * as logs from "aws-cdk-lib/aws-logs";
import * as s3 from "aws-cdk-lib/aws-s3";
import { Construct } from "constructs";
import type { ContainerEnvironment } from "./container-environment.js";
import { imageFrom } from "./image.js";
import { secureBucket } from "./storage.js";

/** The API container's port, behind the load balancer's HTTPS listener. */
const API_PORT = 8080;

/** One Fargate service: its task size and count, image, and what its container is started with. */
export interface ServiceProps extends ContainerEnvironment {
  /** Tasks at the least (and at first), and at the most when scaling out. */
  min: number;
  max: number;
  cpu: number;
  memoryMiB: number;
  /** `repository:tag` in ECR. */
  image: string;
}

export interface ComputeProps {
  vpc: ec2.IVpc;
  api: ServiceProps;
  worker: ServiceProps;
  /** ACM certificate for the API's HTTPS listener. */
  certificateArn: string;
  /** The workers' backlog (the queue's visible messages), which they scale on. */
  workerBacklog: cloudwatch.IMetric;
  /** Backlog per worker task before another is added. */
  messagesPerWorker: number;
  logRetentionDays: number;
  /** Keep the load balancer's access-log bucket when the stack is removed. */
  retainData: boolean;
}

/**
 * ECS on Fargate: the API behind an HTTPS load balancer, scaling on CPU; the workers scaling on
 * their backlog. Each container gets exactly the variables and secrets the stack hands it; what
 * the services may reach (security groups, queue and bucket grants) the stack decides too.
 */
export class Compute extends Construct {
  readonly cluster: ecs.Cluster;
  readonly api: ecs.FargateService;
  readonly worker: ecs.FargateService;
  readonly loadBalancer: elbv2.ApplicationLoadBalancer;
  readonly loadBalancerLogs: s3.Bucket;
  readonly targetGroup: elbv2.ApplicationTargetGroup;

  constructor(scope: Construct, id: string, props: ComputeProps) {
    super(scope, id);
    const { vpc } = props;
    this.cluster = new ecs.Cluster(this, "Cluster", { vpc, containerInsightsV2: ecs.ContainerInsights.ENABLED });

    this.api = this.service("Api", props.api, props.logRetentionDays, API_PORT);
    this.worker = this.service("Worker", props.worker, props.logRetentionDays);

    this.loadBalancer = new elbv2.ApplicationLoadBalancer(this, "LoadBalancer", {
      vpc,
      internetFacing: true,
      dropInvalidHeaderFields: true,
    });
    this.loadBalancerLogs = new s3.Bucket(this, "LoadBalancerLogs", {
      ...secureBucket(props.retainData),
      lifecycleRules: [{ expiration: Duration.days(props.logRetentionDays) }],
    });
    this.loadBalancer.logAccessLogs(this.loadBalancerLogs);
    const https = this.loadBalancer.addListener("Https", {
      port: 443,
      certificates: [acm.Certificate.fromCertificateArn(this, "Certificate", props.certificateArn)],
      sslPolicy: elbv2.SslPolicy.RECOMMENDED_TLS,
    });
    this.loadBalancer.addRedirect({ sourcePort: 80, targetPort: 443 });
    this.targetGroup = https.addTargets("Api", {
      port: API_PORT,
      protocol: elbv2.ApplicationProtocol.HTTP,
      targets: [this.api],
      healthCheck: { path: "/health", interval: Duration.seconds(15) },
      deregistrationDelay: Duration.seconds(30),
    });

    const apiScaling = this.api.autoScaleTaskCount({ minCapacity: props.api.min, maxCapacity: props.api.max });
    apiScaling.scaleOnCpuUtilization("Cpu", { targetUtilizationPercent: 60 });
    const workerScaling = this.worker.autoScaleTaskCount({
      minCapacity: props.worker.min,
      maxCapacity: props.worker.max,
    });
    const perWorker = props.messagesPerWorker;
    workerScaling.scaleOnMetric("QueueDepth", {
      metric: props.workerBacklog,
      scalingSteps: [
        { upper: 0, change: -1 },
        { lower: perWorker, change: +1 },
        { lower: perWorker * 5, change: +3 },
      ],
      adjustmentType: appscaling.AdjustmentType.CHANGE_IN_CAPACITY,
      cooldown: Duration.minutes(2),
    });
  }

  private service(name: "Api" | "Worker", props: ServiceProps, logRetentionDays: number, port?: number) {
    const task = new ecs.FargateTaskDefinition(this, `${name}Task`, {
      cpu: props.cpu,
      memoryLimitMiB: props.memoryMiB,
      runtimePlatform: {
        cpuArchitecture: ecs.CpuArchitecture.ARM64,
        operatingSystemFamily: ecs.OperatingSystemFamily.LINUX,
      },
    });
    task.addContainer(name.toLowerCase(), {
      image: imageFrom(this, `${name}Repository`, props.image),
      environment: props.environment,
      secrets: props.secrets,
      portMappings: port ? [{ containerPort: port }] : [],
      logging: ecs.LogDrivers.awsLogs({
        streamPrefix: name.toLowerCase(),
        logGroup: new logs.LogGroup(this, `${name}Logs`, {
          retention: logRetentionDays,
          removalPolicy: RemovalPolicy.DESTROY,
        }),
      }),
    });
    return new ecs.FargateService(this, name, {
      cluster: this.cluster,
      taskDefinition: task,
      desiredCount: props.min,
      vpcSubnets: { subnetType: ec2.SubnetType.PRIVATE_WITH_EGRESS },
      circuitBreaker: { rollback: true },
      minHealthyPercent: 100,
    });
  }
}
