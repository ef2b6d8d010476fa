import { RemovalPolicy } from "aws-cdk-lib";
import * as ec2 from "aws-cdk-lib/aws-ec2";
import * as logs from "aws-cdk-lib/aws-logs";
import { Construct } from "constructs";

export interface NetworkProps {
  availabilityZones: string[];
  natGateways: number;
  /** SQS, Secrets Manager, ECR and Logs endpoints in the service subnets. */
  interfaceEndpoints: boolean;
  logRetentionDays: number;
}

/**
 * The VPC: public subnets for the load balancer and NAT, private subnets with egress for the
 * services, isolated subnets (no route out at all) for the database and cache. The S3 gateway
 * endpoint (free) and, where configured, interface endpoints keep AWS API traffic off the NAT
 * gateways, which bill per GB.
 */
export class Network extends Construct {
  readonly vpc: ec2.Vpc;
  readonly interfaceEndpoints: ec2.InterfaceVpcEndpoint[] = [];

  constructor(scope: Construct, id: string, props: NetworkProps) {
    super(scope, id);
    this.vpc = new ec2.Vpc(this, "Vpc", {
      availabilityZones: props.availabilityZones,
      natGateways: props.natGateways,
      subnetConfiguration: [
        { name: "public", subnetType: ec2.SubnetType.PUBLIC, cidrMask: 24 },
        { name: "services", subnetType: ec2.SubnetType.PRIVATE_WITH_EGRESS, cidrMask: 22 },
        { name: "data", subnetType: ec2.SubnetType.PRIVATE_ISOLATED, cidrMask: 24 },
      ],
      flowLogs: {
        rejected: {
          trafficType: ec2.FlowLogTrafficType.REJECT,
          destination: ec2.FlowLogDestination.toCloudWatchLogs(
            new logs.LogGroup(this, "FlowLogs", {
              retention: props.logRetentionDays,
              removalPolicy: RemovalPolicy.DESTROY,
            }),
          ),
        },
      },
    });
    this.vpc.addGatewayEndpoint("S3", { service: ec2.GatewayVpcEndpointAwsService.S3 });
    if (!props.interfaceEndpoints) return;
    for (const [name, service] of [
      ["Sqs", ec2.InterfaceVpcEndpointAwsService.SQS],
      ["SecretsManager", ec2.InterfaceVpcEndpointAwsService.SECRETS_MANAGER],
      ["EcrApi", ec2.InterfaceVpcEndpointAwsService.ECR],
      ["EcrDocker", ec2.InterfaceVpcEndpointAwsService.ECR_DOCKER],
      ["Logs", ec2.InterfaceVpcEndpointAwsService.CLOUDWATCH_LOGS],
    ] as const) {
      this.interfaceEndpoints.push(
        this.vpc.addInterfaceEndpoint(name, { service, subnets: { subnetType: ec2.SubnetType.PRIVATE_WITH_EGRESS } }),
      );
    }
  }
}
