/**
 * Where the workflow runs in the network, an explicit choice: an existing VPC with the subnets to use (ids, offline
 * at synth; or a type, looked up), or a VPC created for a demo. Optionally: ingress into the databases' security
 * groups from the functions and the task, and VPC endpoints for subnets without a NAT route (isolated subnets).
 */
import { Fn } from 'aws-cdk-lib';
import * as ec2 from 'aws-cdk-lib/aws-ec2';
import * as logs from 'aws-cdk-lib/aws-logs';
import type { Construct } from 'constructs';

/** How the stack finds its network. */
export interface NetworkProps {
  /** An existing VPC. With `subnetIds` nothing is looked up (synth stays offline). @default - none */
  readonly vpcId?: string;
  /** The subnets of `vpcId` the functions and the task use. @default - looked up by `subnetType` */
  readonly subnetIds?: readonly string[];
  /** The route tables of `subnetIds` (same order; one for all is repeated), for the S3 gateway endpoint. */
  readonly routeTableIds?: readonly string[];
  /** Which subnets of a looked-up VPC to use. @default 'private-with-egress' */
  readonly subnetType?: 'private-with-egress' | 'private-isolated';
  /** Create a new VPC (2 AZs, 1 NAT gateway, flow log): for a demo; it cannot reach a private database. */
  readonly createVpc?: boolean;
  /** Security groups of the databases: each gets ingress from the functions and the task on `databasePort`. */
  readonly databaseSecurityGroupIds?: readonly string[];
  /** @default 5432 */
  readonly databasePort?: number;
  /** Interface endpoints (and an S3 gateway) for subnets with no route to the AWS APIs. @default false */
  readonly vpcEndpoints?: boolean;
}

/** The AWS APIs the functions and the task call, as interface endpoints (S3 is a gateway endpoint). */
export const INTERFACE_ENDPOINTS = [
  'SECRETS_MANAGER',
  'STEP_FUNCTIONS',
  'ECR',
  'ECR_DOCKER',
  'CLOUDWATCH_LOGS',
  'CLOUDWATCH_MONITORING',
  'RDS',
  'STS',
] as const satisfies readonly (keyof typeof ec2.InterfaceVpcEndpointAwsService)[];

/** The VPC and the subnets to use, or a clear error when the choice is not explicit or not complete. */
export function resolveNetwork(
  scope: Construct,
  props: NetworkProps,
): { readonly vpc: ec2.IVpc; readonly subnets: ec2.SubnetSelection } {
  if (props.vpcId === undefined) {
    if (props.subnetIds !== undefined) throw new Error('subnetIds needs vpcId (the VPC the subnets belong to)');
    if (props.createVpc !== true)
      throw new Error(
        'pg-migrate needs a network that reaches your databases: give vpcId and subnetIds (the private subnets the ' +
          'functions and the task use), or vpcId and subnetType to look them up; createVpc=true creates a new VPC ' +
          'for a demo (it cannot reach a private database)',
      );
    const vpc = createDemoVpc(scope);
    return { vpc, subnets: { subnetType: ec2.SubnetType.PRIVATE_WITH_EGRESS } };
  }
  if (props.createVpc === true) throw new Error('createVpc and vpcId exclude each other: choose one');
  if (props.subnetIds !== undefined) {
    if (props.subnetIds.length === 0) throw new Error('subnetIds: give at least one subnet id');
    for (const id of props.subnetIds)
      if (!/^subnet-[0-9a-z]+$/.test(id)) throw new Error(`subnetIds: not a subnet id: ${JSON.stringify(id)}`);
    const tables = props.routeTableIds ?? [];
    if (tables.length > 1 && tables.length !== props.subnetIds.length)
      throw new Error('routeTableIds: give one for all subnets, or one per subnet in the order of subnetIds');
    const vpc = ec2.Vpc.fromVpcAttributes(scope, 'Vpc', {
      vpcId: props.vpcId,
      availabilityZones: Fn.getAzs(),
    });
    const subnets = props.subnetIds.map((subnetId, i) =>
      ec2.Subnet.fromSubnetAttributes(scope, `Subnet${i + 1}`, {
        subnetId,
        ...(tables.length > 0 ? { routeTableId: tables.length === 1 ? tables[0] : tables[i] } : {}),
      }),
    );
    return { vpc, subnets: { subnets } };
  }
  const vpc = ec2.Vpc.fromLookup(scope, 'Vpc', { vpcId: props.vpcId });
  const subnetType =
    props.subnetType === 'private-isolated' ? ec2.SubnetType.PRIVATE_ISOLATED : ec2.SubnetType.PRIVATE_WITH_EGRESS;
  return { vpc, subnets: { subnetType } };
}

function createDemoVpc(scope: Construct): ec2.Vpc {
  const vpc = new ec2.Vpc(scope, 'Vpc', {
    maxAzs: 2,
    natGateways: 1,
    subnetConfiguration: [
      { name: 'public', subnetType: ec2.SubnetType.PUBLIC, cidrMask: 24 },
      { name: 'private', subnetType: ec2.SubnetType.PRIVATE_WITH_EGRESS, cidrMask: 22 },
    ],
  });
  vpc.addFlowLog('FlowLog', {
    destination: ec2.FlowLogDestination.toCloudWatchLogs(
      new logs.LogGroup(scope, 'FlowLogs', { retention: logs.RetentionDays.ONE_MONTH }),
    ),
    trafficType: ec2.FlowLogTrafficType.REJECT,
  });
  return vpc;
}

/** Lets the functions and the task into each database security group on the database port. */
export function allowIntoDatabases(
  scope: Construct,
  clients: readonly ec2.ISecurityGroup[],
  groupIds: readonly string[],
  port = 5432,
): void {
  groupIds.forEach((groupId, i) => {
    if (!/^sg-[0-9a-z]+$/.test(groupId))
      throw new Error(`databaseSecurityGroupIds: not a security group id: ${JSON.stringify(groupId)}`);
    const database = ec2.SecurityGroup.fromSecurityGroupId(scope, `DatabaseSecurityGroup${i}`, groupId);
    for (const client of clients)
      database.connections.allowFrom(client, ec2.Port.tcp(port), 'pg-migrate functions and task to PostgreSQL');
  });
}

/**
 * Interface endpoints for the AWS APIs the workflow calls, in the workflow's subnets, open on 443 to the functions
 * and the task only; and the S3 gateway endpoint (ECR image layers, the report bucket) on the subnets' route tables.
 */
export function addVpcEndpoints(
  scope: Construct,
  vpc: ec2.IVpc,
  subnets: ec2.SubnetSelection,
  clients: readonly ec2.ISecurityGroup[],
): void {
  const securityGroup = new ec2.SecurityGroup(scope, 'EndpointSecurityGroup', {
    vpc,
    description: 'pg-migrate VPC endpoints: HTTPS from the functions and the task',
    allowAllOutbound: false,
  });
  for (const client of clients) securityGroup.connections.allowFrom(client, ec2.Port.tcp(443), 'HTTPS to AWS APIs');
  for (const name of INTERFACE_ENDPOINTS) {
    new ec2.InterfaceVpcEndpoint(scope, `${name.replaceAll('_', '')}Endpoint`, {
      vpc,
      service: ec2.InterfaceVpcEndpointAwsService[name],
      subnets,
      securityGroups: [securityGroup],
      privateDnsEnabled: true,
      open: false,
    });
  }
  const selected = vpc.selectSubnets(subnets);
  if (selected.subnets.some((s) => !hasRouteTable(s)))
    throw new Error(
      'vpcEndpoints on given subnetIds needs routeTableIds (the S3 gateway endpoint goes on the route tables)',
    );
  new ec2.GatewayVpcEndpoint(scope, 'S3Endpoint', {
    vpc,
    service: ec2.GatewayVpcEndpointAwsService.S3,
    subnets: [subnets],
  });
}

function hasRouteTable(subnet: ec2.ISubnet): boolean {
  try {
    return typeof subnet.routeTable.routeTableId === 'string';
  } catch {
    return false;
  }
}
