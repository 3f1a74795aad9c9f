/**
 * `--redis redis://[user:password@]host[:port][/db]` (rediss:// for TLS): parsed into connection options,
 * and checked once with a short timeout before a command starts, so that a wrong URL or a Redis that is
 * not running is one clear error within seconds — not a client that retries forever. After that check
 * the connections reconnect on their own (a worker outlives a Redis restart).
 */
import { RedisConnection, type RedisOptions } from 'bullmq';
import { fail } from '../../util/errors.js';

export interface RedisTarget {
  readonly options: RedisOptions;
  /** The URL without its password, for messages. */
  readonly shown: string;
}

/** How long the first connection may take before the command gives up (ms). */
export const REDIS_CHECK_TIMEOUT_MS = 5000;

export function parseRedisUrl(text: string): RedisTarget {
  let url: URL;
  try {
    url = new URL(text);
  } catch {
    fail('BAD_INPUT', `--redis: '${text}' is not a URL; expected redis://host:6379 (or rediss:// for TLS)`);
  }
  if (url.protocol !== 'redis:' && url.protocol !== 'rediss:')
    fail('BAD_INPUT', `--redis: '${text}' is not a redis:// or rediss:// URL`);
  if (url.hostname === '') fail('BAD_INPUT', `--redis: '${text}' names no host`);
  const port = url.port === '' ? 6379 : Number(url.port);
  const dbText = url.pathname.replace(/^\//, '');
  const db = dbText === '' ? 0 : Number(dbText);
  if (!Number.isInteger(db) || db < 0)
    fail('BAD_INPUT', `--redis: the database in '${text}' must be a number (redis://host:6379/0)`);
  const shownUrl = new URL(url.href);
  if (shownUrl.password !== '') shownUrl.password = '***';
  return {
    options: {
      // brackets of an IPv6 host are the URL's, not the address's
      host: url.hostname.replace(/^\[(.*)\]$/, '$1'),
      port,
      db,
      ...(url.username === '' ? {} : { username: decodeURIComponent(url.username) }),
      ...(url.password === '' ? {} : { password: decodeURIComponent(url.password) }),
      ...(url.protocol === 'rediss:' ? { tls: {} } : {}),
    },
    shown: shownUrl.href,
  };
}

/**
 * Connects once without retrying (one attempt, REDIS_CHECK_TIMEOUT_MS at most) and sends PING: a RUNTIME
 * error naming the URL and the reason when Redis cannot be reached or refuses (authentication).
 */
export async function checkRedis(target: RedisTarget, timeoutMs = REDIS_CHECK_TIMEOUT_MS): Promise<void> {
  // A bare connection (no queue: nothing is written to Redis), one attempt, no offline queue.
  const probe = new RedisConnection(
    {
      ...target.options,
      retryStrategy: () => null,
      connectTimeout: timeoutMs,
      maxRetriesPerRequest: 0,
      enableOfflineQueue: false,
    },
    { shared: false, blocking: false },
  );
  let lastError: unknown = null;
  probe.on('error', (e) => {
    lastError = e;
  });
  let timer: NodeJS.Timeout | undefined;
  try {
    const timeout = new Promise<never>((_, reject) => {
      timer = setTimeout(() => {
        reject(new Error(`no answer in ${timeoutMs / 1000} s`));
      }, timeoutMs);
    });
    const ping = async (): Promise<void> => {
      const client = await probe.client;
      await client.info(); // a round trip (authentication included)
    };
    await Promise.race([ping(), timeout]);
  } catch (e) {
    const why = describeError(lastError ?? e);
    const hint = /NOAUTH|WRONGPASS/.test(why)
      ? 'give the password in --redis (redis://:password@host:port)'
      : 'is redis-server running there (docs/queue.md)?';
    fail('RUNTIME', `cannot reach Redis at ${target.shown}: ${why}; ${hint}`);
  } finally {
    clearTimeout(timer);
    await probe.close().catch(() => undefined);
  }
}

function describeError(e: unknown): string {
  if (e instanceof AggregateError && e.errors.length > 0) return describeError(e.errors[0]);
  if (!(e instanceof Error)) return String(e);
  const code = (e as NodeJS.ErrnoException).code;
  return code !== undefined && !e.message.includes(code) ? `${code} ${e.message}` : e.message;
}
