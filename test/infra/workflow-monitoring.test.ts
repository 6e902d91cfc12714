/**
 * What a console user watches, as synthesized: the dashboard (the state machine's executions, and per database the
 * metrics the Lambdas and the task publish), the alarms on replication lag and on a stopped apply worker and where
 * they notify, the metrics settings every function and the task get, and cdk-nag over it all. One synth for the
 * file (bundling skipped).
 */
import { App, Stack } from 'aws-cdk-lib';
import { Match, Template } from 'aws-cdk-lib/assertions';
import * as ec2 from 'aws-cdk-lib/aws-ec2';
import { AwsSolutionsChecks } from 'cdk-nag';
import { beforeAll, describe, expect, it } from 'vitest';
import { METRIC_NAMES, PHASES } from '../../core/metrics.js';
import { createApp } from '../../infra/app.js';
import type { PgMigrationStack } from '../../infra/pg-migration-stack.js';
import { PgMigrationWorkflow } from '../../infra/pg-migration-workflow.js';
import { logicalIdIn } from '../support/template.js';

type Resource = { Type: string; Properties: Record<string, unknown> };

const NAMESPACE = 'Team/Migrations';
const LAG_BYTES = 500_000_000;

let stack: PgMigrationStack;
let template: Template;
let json: { Resources: Record<string, Resource> };

/** The dashboard body as CloudFormation receives it: the Fn::Join's literal parts, tokens as their JSON. */
function dashboardBody(): string {
  const id = logicalIdIn(json, 'AWS::CloudWatch::Dashboard', 'Dashboard');
  const body = json.Resources[id]?.Properties.DashboardBody as { 'Fn::Join': [string, unknown[]] };
  return body['Fn::Join'][1].map((part) => (typeof part === 'string' ? part : JSON.stringify(part))).join('');
}

beforeAll(() => {
  const app = new App({
    context: {
      'aws:cdk:bundling-stacks': [],
      vpcId: 'vpc-0a0a0a0a0a0a0a0a0',
      subnetIds: 'subnet-0a0a0a0a0a0a0a0a1,subnet-0a0a0a0a0a0a0a0a2',
      alarmEmail: 'dba@example.com',
      metricsNamespace: NAMESPACE,
      replicationLagAlarmBytes: String(LAG_BYTES),
    },
  });
  stack = createApp(app).stack;
  // Synthesis runs cdk-nag: an unacknowledged finding throws here.
  json = app.synth().getStackByName(stack.stackName).template as typeof json;
  template = Template.fromJSON(json);
}, 120_000);

describe('the alarms', () => {
  it('fire on the largest replication lag of any database above the threshold, and notify the alarm topic', () => {
    template.hasResourceProperties('AWS::CloudWatch::Alarm', {
      Namespace: NAMESPACE,
      MetricName: METRIC_NAMES.replicationLagBytes,
      Dimensions: [{ Name: 'service', Value: 'pg-migrate' }],
      Statistic: 'Maximum',
      Period: 300,
      Threshold: LAG_BYTES,
      ComparisonOperator: 'GreaterThanThreshold',
      EvaluationPeriods: 3,
      DatapointsToAlarm: 2,
      TreatMissingData: 'notBreaching',
      AlarmActions: [{ Ref: logicalIdIn(json, 'AWS::SNS::Topic', 'AlarmTopic') }],
    });
  });

  it("fire when a database's apply worker is seen down, and notify the alarm topic", () => {
    template.hasResourceProperties('AWS::CloudWatch::Alarm', {
      Namespace: NAMESPACE,
      MetricName: METRIC_NAMES.applyWorkerUp,
      Dimensions: [{ Name: 'service', Value: 'pg-migrate' }],
      Statistic: 'Minimum',
      Threshold: 1,
      ComparisonOperator: 'LessThanThreshold',
      EvaluationPeriods: 3,
      DatapointsToAlarm: 2,
      TreatMissingData: 'notBreaching',
      AlarmActions: [{ Ref: logicalIdIn(json, 'AWS::SNS::Topic', 'AlarmTopic') }],
    });
    expect(stack.workflow.applyWorkerStoppedAlarm.alarmArn).toBeDefined();
  });

  it('are three with the failed executions alarm, all on the dashboard', () => {
    template.resourceCountIs('AWS::CloudWatch::Alarm', 3);
    const body = dashboardBody();
    for (const id of ['FailedExecutionsAlarm', 'ReplicationLagAlarm', 'ApplyWorkerStoppedAlarm'])
      expect(body).toContain(logicalIdIn(json, 'AWS::CloudWatch::Alarm', id));
  });
});

describe('the dashboard', () => {
  it("shows the state machine's executions and their duration", () => {
    const body = dashboardBody();
    const machine = logicalIdIn(json, 'AWS::StepFunctions::StateMachine', 'StateMachine');
    expect(body).toContain(machine);
    for (const metric of [
      'ExecutionsStarted',
      'ExecutionsSucceeded',
      'ExecutionsFailed',
      'ExecutionsTimedOut',
      'ExecutionsAborted',
      'ExecutionTime',
    ])
      expect(body).toContain(`"${metric}"`);
  });

  it('draws every metric the Lambdas and the task publish, one line per database, in the configured namespace', () => {
    const body = dashboardBody();
    for (const name of Object.values(METRIC_NAMES)) {
      expect(body).toContain(
        `SEARCH('{\\"${NAMESPACE}\\",Database,service} MetricName=\\"${name}\\" service=\\"pg-migrate\\"'`,
      );
    }
    expect(body).toContain(`"value":${LAG_BYTES}`);
    expect(body).toContain(PHASES.map((p, i) => `${i + 1} ${p}`).join(', '));
  });

  it("is named in the stack's outputs", () => {
    template.hasOutput('DashboardName', {
      Value: { Ref: logicalIdIn(json, 'AWS::CloudWatch::Dashboard', 'Dashboard') },
    });
  });
});

describe('the metrics settings', () => {
  it('turns metrics on in every function and in the task, in the configured namespace', () => {
    const functions = template.findResources('AWS::Lambda::Function', {
      Properties: { Environment: { Variables: { PG_MIGRATE_METRICS: 'on', POWERTOOLS_METRICS_NAMESPACE: NAMESPACE } } },
    });
    expect(Object.keys(functions)).toHaveLength(Object.keys(stack.workflow.functions).length);
    template.hasResourceProperties('AWS::ECS::TaskDefinition', {
      ContainerDefinitions: [
        Match.objectLike({
          Environment: Match.arrayWith([
            { Name: 'PG_MIGRATE_METRICS', Value: 'on' },
            { Name: 'POWERTOOLS_METRICS_NAMESPACE', Value: NAMESPACE },
          ]),
        }),
      ],
    });
  });

  it('uses the namespace PgMigrate and a 1 GiB lag threshold by default', () => {
    const app = new App({ context: { 'aws:cdk:bundling-stacks': [] } });
    const other = new Stack(app, 'Defaults', { env: { account: '123456789012', region: 'eu-west-1' } });
    const vpc = new ec2.Vpc(other, 'Vpc', { natGateways: 1 });
    new PgMigrationWorkflow(other, 'Workflow', { vpc });
    const defaults = Template.fromStack(other);
    defaults.hasResourceProperties('AWS::CloudWatch::Alarm', {
      Namespace: 'PgMigrate',
      MetricName: METRIC_NAMES.replicationLagBytes,
      Threshold: 1024 ** 3,
    });
    defaults.hasResourceProperties('AWS::Lambda::Function', {
      Environment: { Variables: Match.objectLike({ POWERTOOLS_METRICS_NAMESPACE: 'PgMigrate' }) },
    });
    expect(
      Object.keys(defaults.findResources('AWS::CloudWatch::Alarm', { Properties: { AlarmActions: Match.anyValue() } })),
    ).toEqual([]);
  }, 60_000);

  it.each([
    [{ metricsNamespace: 'AWS/Lambda' }, /metricsNamespace "AWS\/Lambda" is not a CloudWatch namespace of your own/],
    [{ metricsNamespace: 'has space' }, /metricsNamespace "has space"/],
    [{ replicationLagAlarmBytes: 0 }, /replicationLagAlarmBytes must be a positive integer/],
    [{ replicationLagAlarmBytes: 1.5 }, /replicationLagAlarmBytes must be a positive integer/],
  ])('fails when %o', (props, message) => {
    const other = new Stack(new App(), 'Bad');
    const vpc = new ec2.Vpc(other, 'Vpc', { natGateways: 1 });
    expect(() => new PgMigrationWorkflow(other, 'Workflow', { vpc, ...props })).toThrow(message);
  });
});

describe('cdk-nag AwsSolutions', () => {
  it('leaves no finding unacknowledged with the dashboard and the alarms', () => {
    const report = new AwsSolutionsChecks().validateScope(stack);
    expect(report.violations.map((v) => v.ruleName)).toEqual([]);
  }, 60_000);
});
