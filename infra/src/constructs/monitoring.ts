import { Duration } from "aws-cdk-lib";
import * as cloudwatch from "aws-cdk-lib/aws-cloudwatch";
import * as actions from "aws-cdk-lib/aws-cloudwatch-actions";
import type * as ecs from "aws-cdk-lib/aws-ecs";
import type * as elbv2 from "aws-cdk-lib/aws-elasticloadbalancingv2";
import * as kms from "aws-cdk-lib/aws-kms";
import type * as rds from "aws-cdk-lib/aws-rds";
import * as sns from "aws-cdk-lib/aws-sns";
import * as subscriptions from "aws-cdk-lib/aws-sns-subscriptions";
import type * as sqs from "aws-cdk-lib/aws-sqs";
import { Construct } from "constructs";
import type { EnvironmentConfig } from "../config.js";

export interface MonitoringProps {
  limits: EnvironmentConfig["alarms"];
  database: {
    instance: rds.IDatabaseInstance;
    /** The parameter group's max_connections, of which the connections alarm takes a share. */
    maxConnections: number;
    /** The storage the used-space alarm is a share of. */
    allocatedStorageGiB: number;
  };
  queue: sqs.IQueue;
  cluster: ecs.ICluster;
  api: ecs.IService;
  worker: ecs.IService;
  apiTargetGroup: elbv2.IApplicationTargetGroup;
}

/** The spec's six CloudWatch alarms, each to one encrypted SNS topic. */
export class Monitoring extends Construct {
  readonly topic: sns.Topic;
  readonly alarms: Record<
    "rdsCpu" | "rdsConnections" | "rdsStorage" | "queueDepth" | "taskFailures" | "apiLatency",
    cloudwatch.Alarm
  >;

  constructor(scope: Construct, id: string, props: MonitoringProps) {
    super(scope, id);
    const { limits, database, queue, cluster, api, worker } = props;
    this.topic = new sns.Topic(this, "Alarms", {
      masterKey: new kms.Key(this, "AlarmsKey", { enableKeyRotation: true }),
      enforceSSL: true,
    });
    if (limits.email) this.topic.addSubscription(new subscriptions.EmailSubscription(limits.email));
    const period = Duration.minutes(5);

    const storageBytes = database.allocatedStorageGiB * 1024 ** 3;
    // ECS publishes no "task failure" metric: a task that fails leaves running below desired.
    // The alarm is the share of desired tasks not running, over both services.
    const insight = (metricName: string, service: string) =>
      new cloudwatch.Metric({
        namespace: "ECS/ContainerInsights",
        metricName,
        dimensionsMap: { ClusterName: cluster.clusterName, ServiceName: service },
        statistic: "Average",
        period,
      });

    this.alarms = {
      rdsCpu: new cloudwatch.Alarm(this, "RdsCpu", {
        alarmDescription: `RDS CPU above ${limits.rdsCpuPercent}%`,
        metric: database.instance.metricCPUUtilization({ period }),
        threshold: limits.rdsCpuPercent,
        evaluationPeriods: 3,
        comparisonOperator: cloudwatch.ComparisonOperator.GREATER_THAN_THRESHOLD,
      }),
      rdsConnections: new cloudwatch.Alarm(this, "RdsConnections", {
        alarmDescription: `RDS connections above ${limits.rdsConnectionsPercent}% of max_connections (${database.maxConnections})`,
        metric: database.instance.metricDatabaseConnections({ period }),
        threshold: Math.floor((database.maxConnections * limits.rdsConnectionsPercent) / 100),
        evaluationPeriods: 3,
        comparisonOperator: cloudwatch.ComparisonOperator.GREATER_THAN_THRESHOLD,
      }),
      rdsStorage: new cloudwatch.Alarm(this, "RdsStorage", {
        alarmDescription: `RDS storage above ${limits.rdsStorageUsedPercent}% used (free below ${100 - limits.rdsStorageUsedPercent}% of ${database.allocatedStorageGiB} GiB)`,
        metric: database.instance.metricFreeStorageSpace({ period }),
        threshold: Math.floor((storageBytes * (100 - limits.rdsStorageUsedPercent)) / 100),
        evaluationPeriods: 1,
        comparisonOperator: cloudwatch.ComparisonOperator.LESS_THAN_THRESHOLD,
      }),
      queueDepth: new cloudwatch.Alarm(this, "QueueDepth", {
        alarmDescription: `Processing queue above ${limits.queueDepth} messages`,
        metric: queue.metricApproximateNumberOfMessagesVisible({ period }),
        threshold: limits.queueDepth,
        evaluationPeriods: 2,
        comparisonOperator: cloudwatch.ComparisonOperator.GREATER_THAN_THRESHOLD,
      }),
      taskFailures: new cloudwatch.Alarm(this, "TaskFailures", {
        alarmDescription: `ECS tasks failing: more than ${limits.taskFailurePercent}% of desired tasks not running`,
        metric: new cloudwatch.MathExpression({
          expression:
            "100 * ((apiDesired - apiRunning) + (workerDesired - workerRunning)) / (apiDesired + workerDesired)",
          usingMetrics: {
            apiDesired: insight("DesiredTaskCount", api.serviceName),
            apiRunning: insight("RunningTaskCount", api.serviceName),
            workerDesired: insight("DesiredTaskCount", worker.serviceName),
            workerRunning: insight("RunningTaskCount", worker.serviceName),
          },
          period,
          label: "Desired tasks not running (%)",
        }),
        threshold: limits.taskFailurePercent,
        evaluationPeriods: 2,
        comparisonOperator: cloudwatch.ComparisonOperator.GREATER_THAN_THRESHOLD,
        treatMissingData: cloudwatch.TreatMissingData.NOT_BREACHING,
      }),
      apiLatency: new cloudwatch.Alarm(this, "ApiLatency", {
        alarmDescription: `API p95 latency above ${limits.apiLatencySeconds} s`,
        metric: props.apiTargetGroup.metrics.targetResponseTime({ period, statistic: "p95" }),
        threshold: limits.apiLatencySeconds,
        evaluationPeriods: 3,
        comparisonOperator: cloudwatch.ComparisonOperator.GREATER_THAN_THRESHOLD,
      }),
    };
    for (const alarm of Object.values(this.alarms)) alarm.addAlarmAction(new actions.SnsAction(this.topic));
  }
}
