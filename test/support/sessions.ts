/**
 * Counting sessions the way the servers see them: clusters started with {@link SESSION_LOGGING} log every
 * connection and disconnection with a millisecond timestamp; {@link sessionsDuring} reads what a piece of work
 * opened, per database, and how many sessions were open at once at most. No timing is involved.
 */
import type { TestCluster } from './cluster.js';

/** Server settings that make a cluster log its sessions. */
export const SESSION_LOGGING = {
  log_connections: 'on',
  log_disconnections: 'on',
  log_line_prefix: '%m [%p] ',
} as const;

export interface SessionCount {
  /** Sessions opened, by database. */
  readonly perDatabase: Readonly<Record<string, number>>;
  /** The most sessions open at the same time. */
  readonly peak: number;
}

/** Pure: the sessions of a server log excerpt (lines prefixed `%m [%p] `). */
export function countSessions(log: string): SessionCount {
  const perDatabase: Record<string, number> = {};
  const events: { at: string; delta: number }[] = [];
  for (const line of log.split('\n')) {
    const authorized = /^(\S+ \S+) \S+ \[\d+\] LOG:\s+connection authorized: user=\S+ database=(\S+)/.exec(line);
    if (authorized) {
      const db = authorized[2]!;
      perDatabase[db] = (perDatabase[db] ?? 0) + 1;
      events.push({ at: authorized[1]!, delta: 1 });
      continue;
    }
    const ended = /^(\S+ \S+) \S+ \[\d+\] LOG:\s+disconnection: session time/.exec(line);
    if (ended) events.push({ at: ended[1]!, delta: -1 });
  }
  // Same-millisecond events: ends first, so the peak is never overstated.
  events.sort((a, b) => (a.at < b.at ? -1 : a.at > b.at ? 1 : a.delta - b.delta));
  let open = 0;
  let peak = 0;
  for (const e of events) {
    open += e.delta;
    peak = Math.max(peak, open);
  }
  return { perDatabase, peak };
}

/** Runs `work` and returns, per cluster (in order), the sessions it opened there. */
export async function sessionsDuring(
  clusters: readonly TestCluster[],
  work: () => Promise<unknown>,
): Promise<SessionCount[]> {
  const offsets = clusters.map((c) => c.log().length);
  await work();
  return Promise.all(
    clusters.map(async (cluster, i) => {
      // The disconnection lines come when the sessions end: wait (bounded) until every session was closed.
      let text = '';
      for (let attempt = 0; attempt < 200; attempt++) {
        text = cluster.log().slice(offsets[i]);
        const opened = (text.match(/connection authorized/g) ?? []).length;
        const closed = (text.match(/disconnection: session time/g) ?? []).length;
        if (opened === closed) break;
        await new Promise((resolve) => setTimeout(resolve, 50));
      }
      return countSessions(text);
    }),
  );
}
