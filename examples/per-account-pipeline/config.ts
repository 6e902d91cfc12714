/**
 * The pipeline's per-account settings (accounts.json): read, validated — every problem of every entry reported at
 * once, each naming the entry and the field — and turned into plain values. No dependency but Node's.
 */
import { readFileSync } from 'node:fs';

/** One account pg-migrate is deployed to. */
export interface AccountConfig {
  /** The pipeline stage's name, e.g. `Staging` (letters, digits, `-`; unique). */
  readonly name: string;
  readonly account: string;
  readonly region: string;
  /** A production account: the pipeline waits for a manual approval before deploying to it. */
  readonly production: boolean;
  readonly vpcId: string;
  readonly subnetIds: readonly string[];
  readonly sourceSecretArn: string;
  readonly targetSecretArn: string;
  readonly alarmEmail?: string;
  /** UTC time of a nightly `check`, `HH:MM`. */
  readonly nightlyCheck?: string;
  readonly taskCpu?: number;
  readonly taskMemoryMiB?: number;
}

export interface PipelineConfig {
  /** Where the pipeline runs, and the repository it builds (a CodeConnections connection). */
  readonly pipeline: {
    readonly account: string;
    readonly region: string;
    readonly connectionArn: string;
    /** `owner/repository` */
    readonly repository: string;
    readonly branch: string;
  };
  /** The account of the central operations role (it may start and read executions everywhere). */
  readonly operationsAccount?: string;
  /** Name of the role each account gets for operations (the pipeline's check assumes it too). */
  readonly operationsRoleName: string;
  /** An event bus that receives every account's execution status changes. */
  readonly statusEventBusArn?: string;
  readonly accounts: readonly AccountConfig[];
}

/** A bad configuration: every problem, one a line. */
export class ConfigError extends Error {
  override readonly name = 'ConfigError';
  constructor(
    readonly source: string,
    readonly problems: readonly string[],
  ) {
    super(`${source}: ${problems.length} problem(s):\n${problems.map((p) => `  - ${p}`).join('\n')}`);
  }
}

const PATTERNS = {
  account: [/^\d{12}$/, 'a 12-digit AWS account id'],
  region: [/^[a-z]{2}(-gov|-iso[a-z]?)?-[a-z]+-\d$/, 'an AWS region such as eu-west-1'],
  name: [/^[A-Za-z][A-Za-z0-9-]{0,63}$/, 'a name of letters, digits and -, starting with a letter'],
  vpcId: [/^vpc-[0-9a-f]{8,17}$/, 'a VPC id (vpc-…)'],
  subnetId: [/^subnet-[0-9a-f]{8,17}$/, 'a subnet id (subnet-…)'],
  secretArn: [/^arn:aws[a-z-]*:secretsmanager:[a-z0-9-]+:\d{12}:secret:.+$/, 'a Secrets Manager secret ARN'],
  connectionArn: [
    /^arn:aws[a-z-]*:(codestar-connections|codeconnections):[a-z0-9-]+:\d{12}:connection\/.+$/,
    'a CodeConnections connection ARN',
  ],
  eventBusArn: [/^arn:aws[a-z-]*:events:[a-z0-9-]+:\d{12}:event-bus\/.+$/, 'an EventBridge event bus ARN'],
  repository: [/^[\w.-]+\/[\w.-]+$/, 'owner/repository'],
  branch: [/^[^\s~^:?*[\\]+$/, 'a branch name'],
  email: [/^[^@\s]+@[^@\s]+\.[^@\s]+$/, 'an e-mail address'],
  time: [/^([01]\d|2[0-3]):[0-5]\d$/, 'a UTC time HH:MM'],
  roleName: [/^[\w+=,.@-]{1,64}$/, 'an IAM role name'],
} as const satisfies Record<string, readonly [RegExp, string]>;

/** Fargate's CPU units. */
const TASK_CPUS = [256, 512, 1024, 2048, 4096, 8192, 16384];

/** Reads the fields of one JSON object, collecting problems instead of throwing. */
class Fields {
  private readonly value: Record<string, unknown>;
  /** Not an object: that one problem is reported, not each of its missing fields. */
  private readonly invalid: boolean = false;

  constructor(
    value: unknown,
    private readonly where: string,
    private readonly problems: string[],
    known: readonly string[],
  ) {
    if (typeof value !== 'object' || value === null || Array.isArray(value)) {
      problems.push(`${where}: must be an object`);
      this.value = {};
      this.invalid = true;
      return;
    }
    this.value = value as Record<string, unknown>;
    for (const key of Object.keys(this.value))
      if (!known.includes(key))
        problems.push(`${where}.${key}: unknown setting (expected one of: ${known.join(', ')})`);
  }

  private fail(key: string, message: string): undefined {
    if (!this.invalid) this.problems.push(`${this.where}.${key}: ${message}`);
    return undefined;
  }

  text(key: string, pattern: keyof typeof PATTERNS, required = true): string | undefined {
    const value = this.value[key];
    if (value === undefined) return required ? this.fail(key, 'is required') : undefined;
    const [regex, what] = PATTERNS[pattern];
    if (typeof value !== 'string' || !regex.test(value))
      return this.fail(key, `must be ${what}, got ${JSON.stringify(value)}`);
    return value;
  }

  list(key: string, pattern: keyof typeof PATTERNS): string[] | undefined {
    const value = this.value[key];
    if (!Array.isArray(value) || value.length === 0) return this.fail(key, 'must be a non-empty list');
    const [regex, what] = PATTERNS[pattern];
    const bad = value.filter((v) => typeof v !== 'string' || !regex.test(v));
    if (bad.length > 0)
      return this.fail(key, `every entry must be ${what}, got ${bad.map((v) => JSON.stringify(v)).join(', ')}`);
    return value as string[];
  }

  flag(key: string): boolean | undefined {
    const value = this.value[key];
    if (typeof value !== 'boolean')
      return this.fail(key, `must be true or false${value === undefined ? ' (required)' : ''}`);
    return value;
  }

  integer(key: string, check: (n: number) => boolean, what: string): number | undefined {
    const value = this.value[key];
    if (value === undefined) return undefined;
    if (typeof value !== 'number' || !Number.isInteger(value) || !check(value))
      return this.fail(key, `must be ${what}, got ${JSON.stringify(value)}`);
    return value;
  }

  raw(key: string): unknown {
    return this.value[key];
  }
}

/** The account and region of an ARN. */
function arnPlace(arn: string): { region: string; account: string } {
  const [, , , region = '', account = ''] = arn.split(':');
  return { region, account };
}

const opt = <K extends string, V>(key: K, value: V | undefined): { [P in K]?: V } =>
  (value === undefined ? {} : { [key]: value }) as { [P in K]?: V };

function parseAccount(value: unknown, where: string, problems: string[]): AccountConfig | undefined {
  const f = new Fields(value, where, problems, [
    'name',
    'account',
    'region',
    'production',
    'vpcId',
    'subnetIds',
    'sourceSecretArn',
    'targetSecretArn',
    'alarmEmail',
    'nightlyCheck',
    'taskCpu',
    'taskMemoryMiB',
  ]);
  const before = problems.length;
  const name = f.text('name', 'name');
  const account = f.text('account', 'account');
  const region = f.text('region', 'region');
  const production = f.flag('production');
  const vpcId = f.text('vpcId', 'vpcId');
  const subnetIds = f.list('subnetIds', 'subnetId');
  const sourceSecretArn = f.text('sourceSecretArn', 'secretArn');
  const targetSecretArn = f.text('targetSecretArn', 'secretArn');
  const alarmEmail = f.text('alarmEmail', 'email', false);
  const nightlyCheck = f.text('nightlyCheck', 'time', false);
  const taskCpu = f.integer('taskCpu', (n) => TASK_CPUS.includes(n), `one of ${TASK_CPUS.join(', ')}`);
  const taskMemoryMiB = f.integer('taskMemoryMiB', (n) => n >= 512 && n <= 122_880, 'MiB from 512 to 122880');
  for (const [key, arn] of [
    ['sourceSecretArn', sourceSecretArn],
    ['targetSecretArn', targetSecretArn],
  ] as const) {
    if (arn === undefined || account === undefined || region === undefined) continue;
    const place = arnPlace(arn);
    if (place.account !== account || place.region !== region)
      problems.push(
        `${where}.${key}: the secret is in ${place.account} ${place.region}, not in this account's ${account} ${region}`,
      );
  }
  if (
    problems.length > before ||
    name === undefined ||
    account === undefined ||
    region === undefined ||
    production === undefined ||
    vpcId === undefined ||
    subnetIds === undefined ||
    sourceSecretArn === undefined ||
    targetSecretArn === undefined
  )
    return undefined;
  return {
    name,
    account,
    region,
    production,
    vpcId,
    subnetIds,
    sourceSecretArn,
    targetSecretArn,
    ...opt('alarmEmail', alarmEmail),
    ...opt('nightlyCheck', nightlyCheck),
    ...opt('taskCpu', taskCpu),
    ...opt('taskMemoryMiB', taskMemoryMiB),
  };
}

/** Validates a parsed accounts.json; throws a {@link ConfigError} naming every problem. */
export function parseConfig(value: unknown, source = 'accounts.json'): PipelineConfig {
  const problems: string[] = [];
  const top = new Fields(value, source.replace(/.*\//, ''), problems, [
    'pipeline',
    'operationsAccount',
    'operationsRoleName',
    'statusEventBusArn',
    'accounts',
  ]);
  const p = new Fields(top.raw('pipeline'), 'pipeline', problems, [
    'account',
    'region',
    'connectionArn',
    'repository',
    'branch',
  ]);
  const pipeline = {
    account: p.text('account', 'account'),
    region: p.text('region', 'region'),
    connectionArn: p.text('connectionArn', 'connectionArn'),
    repository: p.text('repository', 'repository'),
    branch: p.text('branch', 'branch'),
  };
  const operationsAccount = top.text('operationsAccount', 'account', false);
  const operationsRoleName = top.text('operationsRoleName', 'roleName', false) ?? 'pg-migrate-operations';
  const statusEventBusArn = top.text('statusEventBusArn', 'eventBusArn', false);
  const entries = top.raw('accounts');
  const accounts: AccountConfig[] = [];
  if (!Array.isArray(entries) || entries.length === 0) problems.push('accounts: must be a non-empty list');
  else
    entries.forEach((entry: unknown, i) => {
      const label =
        typeof (entry as { name?: unknown } | null)?.name === 'string' ? ` (${(entry as { name: string }).name})` : '';
      const parsed = parseAccount(entry, `accounts[${i}]${label}`, problems);
      if (parsed !== undefined) accounts.push(parsed);
    });
  // Stage names are construct ids (case-insensitive in a pipeline's artifacts); one deployment per account and region.
  const seen = new Map<string, string>();
  for (const a of accounts) {
    for (const [what, key] of [
      ['name', `name:${a.name.toLowerCase()}`],
      ['account and region', `place:${a.account}:${a.region}`],
    ] as const) {
      const other = seen.get(key);
      if (other !== undefined) problems.push(`accounts: ${a.name} has the same ${what} as ${other}`);
      else seen.set(key, a.name);
    }
  }
  const { account, region, connectionArn, repository, branch } = pipeline;
  if (
    problems.length > 0 ||
    account === undefined ||
    region === undefined ||
    connectionArn === undefined ||
    repository === undefined ||
    branch === undefined
  )
    throw new ConfigError(source, problems);
  return {
    pipeline: { account, region, connectionArn, repository, branch },
    operationsRoleName,
    ...opt('operationsAccount', operationsAccount),
    ...opt('statusEventBusArn', statusEventBusArn),
    accounts,
  };
}

/** Reads and validates the configuration file. */
export function loadConfig(path: string): PipelineConfig {
  let value: unknown;
  try {
    value = JSON.parse(readFileSync(path, 'utf8'));
  } catch (err) {
    throw new ConfigError(path, [err instanceof Error ? err.message : String(err)]);
  }
  return parseConfig(value, path);
}
