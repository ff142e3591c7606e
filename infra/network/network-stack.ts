/**
 * The VPC the batch, streaming and search areas run in: private isolated subnets only (no
 * internet gateway, no NAT), an S3 gateway endpoint (the lake traffic, free) and interface
 * endpoints for the AWS APIs dealctl, EMR and SageMaker call, VPC flow logs to CloudWatch. The
 * VPC and subnets carry the tag AmazonEMRServicePolicy_v2 requires before EMR may use them.
 */
import { Stack, Tags } from 'aws-cdk-lib';
import * as ec2 from 'aws-cdk-lib/aws-ec2';
import * as logs from 'aws-cdk-lib/aws-logs';
import type { Construct } from 'constructs';
import { acknowledge } from '../nag.ts';
import { removalPolicyOf } from '../removal.ts';
import type { NetworkStackProps } from './network-stack-props.ts';

/** Interface endpoint names (ec2.InterfaceVpcEndpointAwsService keys) the config may list. */
export const INTERFACE_ENDPOINTS = {
  glue: ec2.InterfaceVpcEndpointAwsService.GLUE,
  emr: ec2.InterfaceVpcEndpointAwsService.EMR,
  sagemakerApi: ec2.InterfaceVpcEndpointAwsService.SAGEMAKER_API,
  sagemakerRuntime: ec2.InterfaceVpcEndpointAwsService.SAGEMAKER_RUNTIME,
  secretsManager: ec2.InterfaceVpcEndpointAwsService.SECRETS_MANAGER,
  ecrApi: ec2.InterfaceVpcEndpointAwsService.ECR,
  ecrDocker: ec2.InterfaceVpcEndpointAwsService.ECR_DOCKER,
  logs: ec2.InterfaceVpcEndpointAwsService.CLOUDWATCH_LOGS,
  sts: ec2.InterfaceVpcEndpointAwsService.STS,
} as const;
export type InterfaceEndpointName = keyof typeof INTERFACE_ENDPOINTS;

export class NetworkStack extends Stack {
  readonly vpc: ec2.Vpc;

  constructor(scope: Construct, id: string, props: NetworkStackProps) {
    super(scope, id, props);
    const { config } = props;
    this.vpc = new ec2.Vpc(this, 'Vpc', {
      vpcName: `${config.namePrefix}-vpc`,
      ipAddresses: ec2.IpAddresses.cidr(config.network.cidr),
      maxAzs: config.network.maxAzs,
      natGateways: 0,
      subnetConfiguration: [{ name: 'private', subnetType: ec2.SubnetType.PRIVATE_ISOLATED, cidrMask: 20 }],
      // true would deploy a Lambda-backed custom resource; the default group is unused here.
      restrictDefaultSecurityGroup: false,
      gatewayEndpoints: { s3: { service: ec2.GatewayVpcEndpointAwsService.S3 } },
    });
    Tags.of(this.vpc).add('for-use-with-amazon-emr-managed-policies', 'true');
    const flowLogs = new logs.LogGroup(this, 'FlowLogs', {
      logGroupName: `/${config.namePrefix}/vpc-flow-logs`,
      retention: config.observability.logRetentionDays as logs.RetentionDays,
      removalPolicy: removalPolicyOf(this, config),
    });
    this.vpc.addFlowLog('FlowLog', {
      destination: ec2.FlowLogDestination.toCloudWatchLogs(flowLogs),
      trafficType: ec2.FlowLogTrafficType.REJECT,
    });
    for (const name of config.network.interfaceEndpoints) {
      const endpoint = this.vpc.addInterfaceEndpoint(`Endpoint-${name}`, {
        service: INTERFACE_ENDPOINTS[name],
        privateDnsEnabled: true,
      });
      acknowledge(
        endpoint,
        'EC23',
        "The endpoint's security group admits 443 from the VPC's own CIDR (a Fn::GetAtt, which the rule cannot evaluate); never 0.0.0.0/0.",
      );
    }
  }
}
