/**
 * A loopback Step Functions endpoint for the task's callbacks: `SendTaskSuccess`, `SendTaskFailure` and
 * `SendTaskHeartbeat` over the AWS JSON 1.0 protocol (`X-Amz-Target: AWSStepFunctions.<Operation>`). The task
 * child process reaches it through `AWS_ENDPOINT_URL_SFN`, so the container's own code path is the one that runs.
 *
 * @example
 * ```ts
 * const endpoint = await LocalSfnEndpoint.start();
 * const pending = endpoint.expect(token);           // resolves with SendTaskSuccess's output
 * // child: new SFNClient({}).send(new SendTaskSuccessCommand({ taskToken: token, output: '{}' }))
 * await endpoint.close();
 * ```
 */
import { createServer, type IncomingMessage, type Server, type ServerResponse } from 'node:http';
import type { AddressInfo } from 'node:net';

/** What a task reported through SendTaskFailure. */
export class TaskFailure extends Error {
  /** `name` is the error (what Retry / Catch match), the message is the cause. */
  constructor(name: string, cause: string) {
    super(cause);
    this.name = name;
  }
}

interface Pending {
  readonly resolve: (output: unknown) => void;
  readonly reject: (err: Error) => void;
  lastHeartbeat: number;
}

const MAX_BODY = 256 * 1024 + 4096; // Step Functions' payload limit is 256 KiB

export class LocalSfnEndpoint {
  private readonly pending = new Map<string, Pending>();
  private readonly finished = new Set<string>();

  private constructor(
    private readonly server: Server,
    /** `http://127.0.0.1:<port>`, for `AWS_ENDPOINT_URL_SFN`. */
    readonly url: string,
  ) {}

  /** Listens on 127.0.0.1 on a free port. */
  static async start(): Promise<LocalSfnEndpoint> {
    const holder: { endpoint?: LocalSfnEndpoint } = {};
    const server = createServer((req, res) => {
      holder.endpoint?.handle(req, res);
    });
    await new Promise<void>((resolve, reject) => {
      server.once('error', reject);
      server.listen(0, '127.0.0.1', () => resolve());
    });
    server.unref();
    const { port } = server.address() as AddressInfo;
    const endpoint = new LocalSfnEndpoint(server, `http://127.0.0.1:${port}`);
    holder.endpoint = endpoint;
    return endpoint;
  }

  /**
   * Registers a task token; the promise resolves with the parsed `output` of SendTaskSuccess and rejects with a
   * {@link TaskFailure} on SendTaskFailure (or with whatever {@link fail} is given).
   */
  expect(token: string): Promise<unknown> {
    return new Promise((resolve, reject) => {
      this.pending.set(token, { resolve, reject, lastHeartbeat: Date.now() });
    });
  }

  /** Milliseconds since the token's last heartbeat (or registration); undefined when it is not pending. */
  sinceHeartbeat(token: string): number | undefined {
    const p = this.pending.get(token);
    return p ? Date.now() - p.lastHeartbeat : undefined;
  }

  /** Whether the token is still waiting for its outcome. */
  isPending(token: string): boolean {
    return this.pending.has(token);
  }

  /** Settles a pending token with an error from outside (child exited, heartbeat timeout, abort). */
  fail(token: string, err: Error): void {
    const p = this.pending.get(token);
    if (!p) return;
    this.settle(token);
    p.reject(err);
  }

  async close(): Promise<void> {
    for (const token of [...this.pending.keys()])
      this.fail(token, new TaskFailure('States.Runtime', 'endpoint closed'));
    await new Promise<void>((resolve) => this.server.close(() => resolve()));
  }

  private settle(token: string): void {
    this.pending.delete(token);
    this.finished.add(token);
  }

  private handle(req: IncomingMessage, res: ServerResponse): void {
    const chunks: Buffer[] = [];
    let size = 0;
    req.on('data', (chunk: Buffer) => {
      size += chunk.length;
      if (size <= MAX_BODY) chunks.push(chunk);
    });
    req.on('end', () => {
      if (size > MAX_BODY) return reply(res, 400, { __type: 'InvalidOutput', message: 'request too large' });
      const target = String(req.headers['x-amz-target'] ?? '');
      let body: Record<string, unknown>;
      try {
        body = JSON.parse(Buffer.concat(chunks).toString('utf8') || '{}') as Record<string, unknown>;
      } catch {
        return reply(res, 400, { __type: 'SerializationException', message: 'body is not JSON' });
      }
      this.dispatch(target, body, res);
    });
  }

  private dispatch(target: string, body: Record<string, unknown>, res: ServerResponse): void {
    const operation = target.replace(/^AWSStepFunctions\./, '');
    const token = typeof body.taskToken === 'string' ? body.taskToken : undefined;
    if (!['SendTaskSuccess', 'SendTaskFailure', 'SendTaskHeartbeat'].includes(operation)) {
      return reply(res, 400, { __type: 'UnknownOperationException', message: `unsupported operation ${target}` });
    }
    if (token === undefined) return reply(res, 400, { __type: 'InvalidToken', message: 'taskToken is required' });
    const p = this.pending.get(token);
    if (!p) {
      return this.finished.has(token)
        ? reply(res, 400, { __type: 'TaskTimedOut', message: 'the task is no longer waiting for this token' })
        : reply(res, 400, { __type: 'TaskDoesNotExist', message: 'unknown task token' });
    }
    if (operation === 'SendTaskHeartbeat') {
      p.lastHeartbeat = Date.now();
      return reply(res, 200, {});
    }
    if (operation === 'SendTaskSuccess') {
      let output: unknown;
      try {
        output = JSON.parse(typeof body.output === 'string' ? body.output : 'null');
      } catch {
        return reply(res, 400, { __type: 'InvalidOutput', message: 'output is not JSON' });
      }
      this.settle(token);
      p.resolve(output);
      return reply(res, 200, {});
    }
    this.settle(token);
    p.reject(
      new TaskFailure(
        typeof body.error === 'string' && body.error !== '' ? body.error : 'States.TaskFailed',
        typeof body.cause === 'string' ? body.cause : '',
      ),
    );
    reply(res, 200, {});
  }
}

function reply(res: ServerResponse, status: number, body: unknown): void {
  const text = JSON.stringify(body);
  res.writeHead(status, {
    'content-type': 'application/x-amz-json-1.0',
    'content-length': Buffer.byteLength(text),
    'x-amzn-requestid': 'local',
  });
  res.end(text);
}
