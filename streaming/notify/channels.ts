import http from 'node:http';
import https from 'node:https';
import type { Config } from '../../core/config.ts';
import { ConfigError, DeliveryError } from '../../core/errors.ts';
import { TRACKING_PARAMS } from '../../jobs/macros.ts';
import type { OpportunityRecord } from '../../schemas/index.ts';
import { sleep } from '../retry.ts';

export interface Notification {
  /** `<deal_id>@<price>:<channel>` (deliveryKey); sent as the Idempotency-Key header by HTTP channels. */
  readonly idempotencyKey: string;
  readonly text: string;
  readonly opportunity: OpportunityRecord;
}

export interface DeliveryReceipt {
  readonly httpStatus: number | null;
}

/** A notification channel. Throw DeliveryError (retryable for 429/5xx/network) on failure. */
export interface Channel {
  readonly name: string;
  /** Smooth per-channel rate limit (messages per minute), when any. */
  readonly ratePerMinute: number | undefined;
  send(n: Notification, timeoutMs: number): Promise<DeliveryReceipt>;
}

const agents = { http: new http.Agent({ keepAlive: true }), https: new https.Agent({ keepAlive: true }) };

/** One POST over a keep-alive connection; resolves with the status, rejects on network errors and timeouts. */
function request(
  url: string,
  body: string,
  headers: Record<string, string>,
  timeoutMs: number,
): Promise<number> {
  return new Promise((resolve, reject) => {
    const u = new URL(url);
    const secure = u.protocol === 'https:';
    const req = (secure ? https : http).request(
      u,
      {
        method: 'POST',
        agent: secure ? agents.https : agents.http,
        headers: { ...headers, 'content-length': Buffer.byteLength(body) },
      },
      (res) => {
        res.resume();
        res.on('end', () => resolve(res.statusCode ?? 0));
        res.on('error', reject);
      },
    );
    req.setTimeout(timeoutMs, () =>
      req.destroy(Object.assign(new Error(`timed out after ${timeoutMs} ms`), { name: 'TimeoutError' })),
    );
    req.on('error', reject);
    req.end(body);
  });
}

async function post(
  channel: string,
  url: string,
  body: string,
  contentType: string,
  idempotencyKey: string,
  timeoutMs: number,
): Promise<DeliveryReceipt> {
  let status: number;
  try {
    status = await request(
      url,
      body,
      { 'content-type': contentType, 'idempotency-key': idempotencyKey },
      timeoutMs,
    );
  } catch (error) {
    throw new DeliveryError(channel, `request failed: ${(error as Error).message}`, true);
  }
  if (status >= 200 && status < 300) return { httpStatus: status };
  const retryable = status === 429 || status >= 500 || status === 408;
  throw new DeliveryError(channel, `HTTP ${status}`, retryable, status);
}

/** A generic JSON webhook: {idempotency_key, deal_id, message, opportunity}. */
export function webhookChannel(name: string, url: string, ratePerMinute?: number): Channel {
  return {
    name,
    ratePerMinute,
    send: (n, timeoutMs) =>
      post(
        name,
        url,
        JSON.stringify({
          idempotency_key: n.idempotencyKey,
          deal_id: n.opportunity.deal_id,
          message: n.text,
          opportunity: n.opportunity,
        }),
        'application/json',
        n.idempotencyKey,
        timeoutMs,
      ),
  };
}

/** Slack incoming webhook: {"text": …}. */
export function slackChannel(name: string, url: string, ratePerMinute?: number): Channel {
  return {
    name,
    ratePerMinute,
    send: (n, timeoutMs) =>
      post(name, url, JSON.stringify({ text: n.text }), 'application/json', n.idempotencyKey, timeoutMs),
  };
}

/** Pushover messages API (form-encoded token, user, message, title, url). */
export function pushoverChannel(
  name: string,
  url: string,
  token: string,
  user: string,
  ratePerMinute?: number,
): Channel {
  return {
    name,
    ratePerMinute,
    send: (n, timeoutMs) =>
      post(
        name,
        url,
        new URLSearchParams({
          token,
          user,
          message: n.text,
          title: 'Deal Alert',
          url: clickLink(n.opportunity),
        }).toString(),
        'application/x-www-form-urlencoded',
        n.idempotencyKey,
        timeoutMs,
      ),
  };
}

/** Writes one JSON line per notification (stdout by default). */
export function consoleChannel(
  name = 'console',
  out: NodeJS.WritableStream = process.stdout,
  ratePerMinute?: number,
): Channel {
  return {
    name,
    ratePerMinute,
    async send(n) {
      out.write(`${JSON.stringify({ notification: n.idempotencyKey, message: n.text })}\n`);
      return { httpStatus: null };
    },
  };
}

/** Builds the configured channels; secrets are read from the environment variables the config names. */
export function channelsFromConfig(config: Config, env: NodeJS.ProcessEnv = process.env): Channel[] {
  const names = new Set<string>();
  return config.streaming.notify.channels.map((c): Channel => {
    const name = c.name ?? c.type;
    if (names.has(name))
      throw new ConfigError(`two notify channels are named ${name}: give them distinct names`);
    names.add(name);
    switch (c.type) {
      case 'webhook':
        return webhookChannel(name, c.url, c.ratePerMinute);
      case 'slack':
        return slackChannel(name, c.url, c.ratePerMinute);
      case 'pushover': {
        const token = env[c.tokenEnv];
        const user = env[c.userEnv];
        if (!token || !user)
          throw new ConfigError(
            `pushover channel ${name}: set ${c.tokenEnv} and ${c.userEnv} in the environment`,
          );
        return pushoverChannel(name, c.url, token, user, c.ratePerMinute);
      }
      default:
        return consoleChannel(name, process.stdout, c.ratePerMinute);
    }
  });
}

/** A smooth rate limiter: at most `ratePerMinute` acquisitions per minute, evenly spaced. */
export class RateLimiter {
  private next = 0;
  constructor(private readonly ratePerMinute: number) {}

  /** Milliseconds the caller must wait before its turn (the slot is reserved). */
  reserve(now = Date.now()): number {
    const interval = 60_000 / this.ratePerMinute;
    const slot = Math.max(now, this.next);
    this.next = slot + interval;
    return slot - now;
  }

  async acquire(beat?: () => Promise<void>): Promise<void> {
    let wait = this.reserve();
    while (wait > 0) {
      const step = Math.min(wait, 1_000);
      await sleep(step);
      wait -= step;
      await beat?.();
    }
  }
}

const MAX = 200;

const isTracking = (key: string) => {
  const k = key.replace(/[A-Z]/g, (c) => c.toLowerCase()); // ASCII only, as the SQL compares keys
  return TRACKING_PARAMS.some((p) => (p.endsWith('*') ? k.startsWith(p.slice(0, -1)) : k === p));
};

/**
 * The link a person clicks: the item's published link (Deal.link) with only the tracking
 * parameters removed (jobs/macros.ts TRACKING_PARAMS, the list the deal id is built without);
 * scheme, host, path case, the other parameters in their order and the fragment stay as
 * published. A link that is not a URL is returned trimmed, as it is.
 */
export function clickLink(o: Pick<OpportunityRecord, 'link' | 'url'>): string {
  const link = (o.link ?? '').trim() || o.url;
  const q = link.indexOf('?');
  if (q < 0) return link;
  const hash = link.indexOf('#', q);
  const query = link.slice(q + 1, hash < 0 ? undefined : hash);
  const kept = query
    .split('&')
    .filter((part) => part !== '' && !isTracking(part.split('=')[0]!))
    .join('&');
  return `${link.slice(0, q)}${kept ? `?${kept}` : ''}${hash < 0 ? '' : link.slice(hash)}`;
}

/** The notification text, at most 200 characters: price, estimate, discount, title, link. */
export function renderMessage(o: OpportunityRecord): string {
  const money = (v: number) => `$${v.toFixed(2).replace(/\.00$/, '')}`;
  const head = `Deal Alert! ${money(o.price)} (est. ${money(o.estimate)}, save ${money(o.discount)}): `;
  const url = ` ${clickLink(o)}`;
  const chars = (s: string) => [...s];
  const room = MAX - chars(head).length - chars(url).length;
  if (room >= 12) {
    const t = chars(o.title);
    const title = t.length <= room ? o.title : `${t.slice(0, room - 1).join('')}…`;
    return head + title + url;
  }
  const t = chars(o.title);
  const roomNoUrl = MAX - chars(head).length;
  return head + (t.length <= roomNoUrl ? o.title : `${t.slice(0, roomNoUrl - 1).join('')}…`);
}
