/**
 * The cdk-nag (AwsSolutions) findings on what the workflow creates that stand by design, each acknowledged on the
 * construct it concerns, with the reason it stands. Anything else cdk-nag finds fails the synth.
 */
import { CfnElement, Stack, Token, Validations } from 'aws-cdk-lib';
import type * as ecs from 'aws-cdk-lib/aws-ecs';
import type * as iam from 'aws-cdk-lib/aws-iam';
import type * as lambda from 'aws-cdk-lib/aws-lambda';
import type * as s3 from 'aws-cdk-lib/aws-s3';
import type * as sfn from 'aws-cdk-lib/aws-stepfunctions';
import type { Construct } from 'constructs';

/** The parts of the workflow with acknowledged findings. */
export interface AcknowledgedParts {
  /** The construct the allowed-secret patterns are acknowledged on (the workflow). */
  readonly workflow: Construct;
  readonly functions: readonly lambda.IFunction[];
  /** The function that reads CloudWatch metrics for the disk-space check. */
  readonly precheckFunction: lambda.IFunction;
  readonly taskDefinition: ecs.TaskDefinition;
  /** The cluster the tasks run in (ecs:TagResource is granted on its tasks). */
  readonly cluster: ecs.ICluster;
  readonly stateMachine: sfn.StateMachine;
  /** Every secret ARN form and pattern the workflow grants (infra/workflow-resources.ts allowedSecretPatterns). */
  readonly allowedSecretArns: readonly string[];
  /** The report bucket (full reports under `runs/`). */
  readonly reportBucket: s3.IBucket;
  /** Whether the workflow created the report bucket (else the deployer brought it). */
  readonly reportBucketCreated: boolean;
}

/**
 * The region and account of `stack` as cdk-nag writes them in a finding's id: the pseudo parameter of an
 * environment-agnostic stack, the value of a stack deployed to a given account and region.
 */
export function nagEnvironment(stack: Stack): { readonly region: string; readonly account: string } {
  return {
    region: Token.isUnresolved(stack.region) ? '<AWS::Region>' : stack.region,
    account: Token.isUnresolved(stack.account) ? '<AWS::AccountId>' : stack.account,
  };
}

/** Acknowledges the findings that stand by design. */
export function acknowledgeWorkflowFindings(parts: AcknowledgedParts): void {
  const patterns = parts.allowedSecretArns.filter((arn) => /[*?]/.test(arn));
  if (patterns.length > 0) {
    Validations.of(parts.workflow).acknowledge(
      ...patterns.map((arn) => ({
        id: `AwsSolutions-IAM5[Resource::${arn}]`,
        reason:
          'A secret the deployer named (sourceSecretArn, targetSecretArn: the ARN and its "-??????" completion, since a partial ARN cannot be told from a complete one) or a pattern for request-supplied secrets (allowedSecretArns); read only.',
      })),
    );
  }
  const rdsEnvironment = nagEnvironment(Stack.of(parts.workflow));
  Validations.of(parts.workflow).acknowledge(
    ...(['db', 'cluster'] as const).map((kind) => ({
      id: `AwsSolutions-IAM5[Resource::arn:<AWS::Partition>:rds:${rdsEnvironment.region}:${rdsEnvironment.account}:${kind}:*]`,
      reason:
        'rds:DescribeDBInstances / DescribeDBClusters on the instances and clusters of this account and region: a secret RDS manages names its instance or cluster (request field or the secret tag) only at run time; describing reveals endpoints, never data or credentials.',
    })),
  );
  Validations.of(parts.precheckFunction).acknowledge({
    id: 'AwsSolutions-IAM5[Resource::*]',
    reason:
      'cloudwatch:GetMetricData / GetMetricStatistics support no resource-level permissions; they read RDS FreeStorageSpace for the disk-space check.',
  });
  for (const fn of parts.functions) {
    Validations.of(fn).acknowledge(
      {
        id: 'AwsSolutions-IAM4[Policy::arn:<AWS::Partition>:iam::aws:policy/service-role/AWSLambdaBasicExecutionRole]',
        reason: 'The AWS managed basic execution policy only lets the function write its own logs.',
      },
      {
        id: 'AwsSolutions-IAM4[Policy::arn:<AWS::Partition>:iam::aws:policy/service-role/AWSLambdaVPCAccessExecutionRole]',
        reason: 'The AWS managed VPC access policy only manages the ENIs a function in a VPC needs.',
      },
      {
        id: 'AwsSolutions-IAM5[Resource::*]',
        reason: 'X-Ray PutTraceSegments / PutTelemetryRecords support no resource-level permissions (active tracing).',
      },
      {
        id: 'AwsSolutions-L1',
        reason:
          'Node.js 22 is the runtime the project targets and tests (the task image runs node:22 too); both move together.',
      },
    );
  }
  Validations.of(parts.taskDefinition).acknowledge(
    {
      id: 'AwsSolutions-ECS2',
      reason:
        'The container environment holds only non-secret settings (sslmode, log level, plain-URI switch); credentials come from Secrets Manager at run time.',
    },
    {
      id: 'AwsSolutions-IAM5[Resource::*]',
      reason: 'The execution role needs ecr:GetAuthorizationToken, which supports no resource-level permissions.',
    },
  );
  const stack = Stack.of(parts.stateMachine);
  const logicalId = (construct: Construct): string => {
    const child = construct.node.defaultChild;
    if (!(child instanceof CfnElement)) throw new Error(`${construct.node.path} has no CloudFormation resource`);
    return stack.getLogicalId(child);
  };
  if (parts.reportBucketCreated) {
    Validations.of(parts.reportBucket).acknowledge({
      id: 'AwsSolutions-S1',
      reason:
        'Only the workflow roles write run reports (put/get under runs/, no list or delete); an access-log bucket would need the same finding acknowledged. CloudTrail data events audit object access where required.',
    });
    Validations.of(parts.workflow).acknowledge({
      id: `AwsSolutions-IAM5[Resource::<${logicalId(parts.reportBucket)}.Arn>/runs/*]`,
      reason:
        "The run's report objects (runs/<execution name>/...): their keys exist only once the run writes them; put/get only, no list or delete.",
    });
  }
  // How cdk-nag renders the cluster's name: a literal for an imported cluster, `<LogicalId>` for one made here.
  const clusterChild = parts.cluster.node.defaultChild;
  const clusterName =
    clusterChild instanceof CfnElement ? `<${stack.getLogicalId(clusterChild)}>` : parts.cluster.clusterName;
  const { region, account } = nagEnvironment(stack);
  Validations.of(parts.stateMachine).acknowledge(
    {
      id: 'AwsSolutions-IAM5[Resource::*]',
      reason: 'X-Ray tracing and CloudWatch Logs delivery (logging ALL) support no resource-level permissions.',
    },
    {
      id: `AwsSolutions-IAM5[Resource::arn:<AWS::Partition>:ecs:${region}:${account}:task/${clusterName}/*]`,
      reason:
        'ecs:TagResource, only with ecs:CreateAction = RunTask, on the tasks of this cluster: their ids do not exist before RunTask creates them.',
    },
    ...parts.functions.map((fn) => ({
      id: `AwsSolutions-IAM5[Resource::<${logicalId(fn)}.Arn>:*]`,
      reason: 'lambda:InvokeFunction on the versions and aliases of this one function only.',
    })),
  );
}

/** Acknowledges the operations role's findings: reading executions needs their ARN pattern. */
export function acknowledgeOperationsFindings(role: iam.Role, stateMachine: sfn.StateMachine): void {
  const child = stateMachine.node.defaultChild;
  if (!(child instanceof CfnElement)) throw new Error(`${stateMachine.node.path} has no CloudFormation resource`);
  const stack = Stack.of(stateMachine);
  const logicalId = stack.getLogicalId(child);
  const { region, account } = nagEnvironment(stack);
  Validations.of(role).acknowledge({
    id: `AwsSolutions-IAM5[Resource::arn:<AWS::Partition>:states:${region}:${account}:execution:<${logicalId}.Name>:*]`,
    reason:
      'Reading executions (status, history) of this one state machine: execution ARNs are its ARN plus a name chosen at start.',
  });
}
