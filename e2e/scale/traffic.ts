/**
 * Client traffic spread over several instances: each request goes to the instance a test chooses
 * (or the next one), every status is recorded, and a connection error (an instance that died) is
 * retried on the next live instance, as a client behind a load balancer would see it.
 */
import type { Agent } from '../helpers/agent.ts';

export class ConnectionFailed extends Error {}

export interface Sent {
  response: Response;
  /** The instance that answered. */
  instance: number;
  /** Whether a connection error sent this request to another instance first. */
  failedOver: boolean;
}

export class Traffic {
  readonly urls: readonly string[];
  readonly down = new Set<number>();
  /** Responses by status, and every 5xx with where it came from. */
  readonly statuses = new Map<number, number>();
  readonly serverErrors: string[] = [];
  connectionErrors = 0;
  #next = 0;

  constructor(urls: readonly string[]) {
    this.urls = urls;
  }

  /** The next live instance, round robin. */
  pick(): number {
    for (let i = 0; i < this.urls.length; i++) {
      const n = this.#next++ % this.urls.length;
      if (!this.down.has(n)) return n;
    }
    throw new ConnectionFailed('no instance is up');
  }

  /**
   * Sends `path` to instance `on` (default: the next), through `agent` when given (cookies, no
   * redirects followed). With `retry`, a connection error marks the instance down and tries the
   * next live ones; without it, the error is thrown as ConnectionFailed.
   */
  async send(
    path: string,
    init: RequestInit & { form?: Record<string, string> } = {},
    options: { on?: number; agent?: Agent; retry?: boolean } = {},
  ): Promise<Sent> {
    let instance = options.on ?? this.pick();
    let failedOver = false;
    for (let attempt = 0; ; attempt++) {
      const url = `${this.urls[instance]}${path}`;
      try {
        const response = options.agent
          ? await options.agent.fetch(url, init)
          : await fetch(url, { redirect: 'manual', ...withForm(init) });
        this.statuses.set(response.status, (this.statuses.get(response.status) ?? 0) + 1);
        if (response.status >= 500) {
          this.serverErrors.push(
            `${response.status} from instance ${instance} for ${init.method ?? 'GET'} ${path}`,
          );
        }
        return { response, instance, failedOver };
      } catch (err) {
        this.connectionErrors++;
        if (!options.retry || attempt + 1 >= this.urls.length) {
          throw new ConnectionFailed(`instance ${instance}: ${(err as Error).message}`);
        }
        // The client's own health check: an instance that refused a connection is skipped from now on.
        this.down.add(instance);
        failedOver = true;
        instance = this.pick();
      }
    }
  }
}

function withForm(init: RequestInit & { form?: Record<string, string> }): RequestInit {
  const { form, ...rest } = init;
  if (!form) return rest;
  const headers = new Headers(rest.headers);
  headers.set('content-type', 'application/x-www-form-urlencoded');
  return { ...rest, headers, body: new URLSearchParams(form).toString() };
}
