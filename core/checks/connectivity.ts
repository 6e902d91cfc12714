/** Shared by `connection-source` and `connection-target`: the server-phase session's outcome, failures explained. */
import { describeServer } from '../connection.js';
import type { CheckResult } from '../report.js';
import { result } from './check.js';
import type { Endpoint } from './collect.js';
import type { Outcome, ServerFacts } from './facts.js';
import type { CheckId } from './ids.js';

export interface ConnectionFacts {
  readonly side: 'source' | 'target';
  readonly host: string;
  readonly port: number;
  readonly user: string;
  readonly database: string;
  readonly sslmode: string;
  readonly server: Outcome<ServerFacts>;
}

/** Pure: the connection facts of one side from the server phase. */
export function connectionFacts(
  side: 'source' | 'target',
  endpoint: Endpoint,
  server: Outcome<ServerFacts>,
): ConnectionFacts {
  return { side, ...endpoint, server };
}

/** Pure: what to do about a connection error, from its SQLSTATE / socket code and message. */
export function connectionRemedy(
  code: string | undefined,
  message: string,
  facts: Pick<ConnectionFacts, 'host' | 'port' | 'user' | 'database' | 'sslmode'>,
): string {
  const where = describeServer(facts);
  if (code === '28P01' || /password authentication failed/i.test(message))
    return `check the password of user "${facts.user}" (the secret or environment variable holding the connection string)`;
  if (/no pg_hba\.conf entry/i.test(message))
    return `allow this client in pg_hba.conf of ${where} (a "host … scram-sha-256" line for user "${facts.user}"), or change sslmode (now ${facts.sslmode}) if the entry requires hostssl / hostnossl`;
  if (code === '28000' && /role .* does not exist/i.test(message))
    return `create the role "${facts.user}" on ${where} or connect as an existing one`;
  if (code === '3D000')
    return `the database "${facts.database}" does not exist on ${where}: name an existing database (e.g. postgres) in the connection string`;
  if (code === '53300') return `the server has no free connection slots: raise max_connections or close idle sessions`;
  if (/ssl|tls|certificate/i.test(message))
    return `adjust sslmode (now ${facts.sslmode}): use require when the server demands TLS, verify-full with sslrootcert for a CA-checked connection, disable when the server has no TLS`;
  if (code === 'ENOTFOUND' || code === 'EAI_AGAIN')
    return `the host name ${facts.host} does not resolve: check it and the DNS of the network the tool runs in`;
  if (code === 'ECONNREFUSED')
    return `nothing listens on ${where}: check host and port, that the server runs, and its listen_addresses`;
  if (code === 'ETIMEDOUT' || code === 'EHOSTUNREACH' || code === 'ENETUNREACH' || /timeout/i.test(message))
    return `${where} cannot be reached in time: open the port in the security group / firewall for the tool's network (Lambda and task subnets), check routing, or raise connectTimeoutSeconds`;
  return `check host, port, user and password, the server's pg_hba.conf, the security group / firewall, and sslmode (now ${facts.sslmode})`;
}

export function evaluateConnection(id: CheckId, facts: ConnectionFacts): CheckResult[] {
  const where = describeServer(facts);
  if (!facts.server.ok) {
    return [
      result(
        id,
        'fail',
        `cannot connect to the ${facts.side} ${where} as "${facts.user}" (database "${facts.database}"): ${facts.server.error}`,
        {
          remedy: connectionRemedy(facts.server.code, facts.server.error, facts),
          details: { host: facts.host, port: facts.port, ...(facts.server.code ? { code: facts.server.code } : {}) },
        },
      ),
    ];
  }
  const server = facts.server.value;
  return [
    result(
      id,
      'pass',
      `connected to the ${facts.side} ${where} as "${server.user}" (PostgreSQL ${server.version}${server.superuser ? ', superuser' : ''})`,
      {
        details: {
          host: facts.host,
          port: facts.port,
          version: server.version,
          versionNum: server.versionNum,
          superuser: server.superuser,
        },
      },
    ),
  ];
}
