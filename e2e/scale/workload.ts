/**
 * The mixed load of the scale tests: code flows whose every step lands on a different instance,
 * refreshes (some sent to every instance at once with the same token), and revocations checked on
 * every instance. Records what clients received, so a test can check afterwards that nothing a
 * client was told is lost.
 */
import { Agent, approvedScopeOf, csrfOf, pkce } from '../helpers/agent.ts';
import { ConnectionFailed, type Traffic } from './traffic.ts';

export interface WorkloadConfig {
  issuer: string;
  clientId: string;
  redirectUri: string;
  users: { username: string; password: string }[];
  /** Basic credentials of a confidential client, for introspection. */
  introspector: string;
  /** Time an acknowledged revocation may take to reach every instance. Default 1000 ms. */
  propagationMs?: number;
  /** Retry on another instance after a connection error (the crash test). */
  failover?: boolean;
}

/** One grant as its client holds it: the latest tokens received. */
export interface Family {
  id: number;
  refresh: string;
  access: string;
  /** Every access token received for this grant that the client has not revoked itself. */
  accessTokens: string[];
  revoked: boolean;
  /** A revocation was sent but never acknowledged (every instance failed): its outcome is unknown. */
  inDoubt: boolean;
  busy: boolean;
}

export interface Revocation {
  kind: 'access_token' | 'refresh_token';
  /** The access token that must be refused afterwards (the grant's latest, for a grant revocation). */
  access: string;
  refresh?: string;
  family: number;
  acknowledgedAt: number;
  /** Milliseconds until every instance refused it, or undefined if some did not within the limit. */
  propagatedMs?: number;
  failures: string[];
}

export const MCP_INITIALIZE = JSON.stringify({
  jsonrpc: '2.0',
  id: 1,
  method: 'initialize',
  params: {
    protocolVersion: '2025-06-18',
    capabilities: {},
    clientInfo: { name: 'scale-test', version: '1' },
  },
});

export class Workload {
  readonly traffic: Traffic;
  readonly config: WorkloadConfig;
  readonly families: Family[] = [];
  readonly revocations: Revocation[] = [];
  /** Requirement violations: unexpected statuses, disagreeing parallel refreshes, … */
  readonly errors: string[] = [];
  readonly counts = { flows: 0, logins: 0, refreshes: 0, parallelRefreshes: 0, abandoned: 0 };
  readonly #checks: Promise<void>[] = [];

  constructor(traffic: Traffic, config: WorkloadConfig) {
    this.traffic = traffic;
    this.config = config;
  }

  get #retry() {
    return this.config.failover === true;
  }

  /**
   * Authorize → sign in → consent → token, each step on the next instance (the interaction, the
   * session and the code live in the store). Returns the new family, or undefined when a crash
   * interrupted it (only with failover; without, that is an error).
   */
  async codeFlow(agent = new Agent()): Promise<Family | undefined> {
    const { issuer, clientId, redirectUri } = this.config;
    const user = this.config.users[this.families.length % this.config.users.length] as {
      username: string;
      password: string;
    };
    const { verifier, challenge } = pkce();
    const state = Math.random().toString(36).slice(2);
    const query = new URLSearchParams({
      response_type: 'code',
      client_id: clientId,
      redirect_uri: redirectUri,
      state,
      code_challenge: challenge,
      code_challenge_method: 'S256',
      scope: 'tools:list tools:execute',
    });
    let crashed = false;
    const step = async (path: string, init: RequestInit & { form?: Record<string, string> } = {}) => {
      const sent = await this.traffic.send(path, init, { agent, retry: this.#retry });
      crashed ||= sent.failedOver;
      return sent.response;
    };
    const fail = (what: string, response: Response) => {
      if (crashed) this.counts.abandoned++;
      else this.errors.push(`code flow: ${what} answered ${response.status}`);
      return undefined;
    };
    try {
      let response = await step(`/oauth/authorize?${query}`);
      let location = response.headers.get('location') ?? '';
      if (location.startsWith('/interaction/')) {
        let page = await (await step(location)).text();
        if (page.includes('name="password"')) {
          this.counts.logins++;
          response = await step(`${location}/login`, {
            method: 'POST',
            form: { csrf: csrfOf(page), username: user.username, password: user.password },
          });
          if (response.status !== 303) return fail('sign-in', response);
          page = await (await step(location)).text();
        }
        if (page.includes('name="decision"')) {
          response = await step(`${location}/consent`, {
            method: 'POST',
            form: { csrf: csrfOf(page), decision: 'approve', scope: approvedScopeOf(page) },
          });
        }
        location = response.headers.get('location') ?? '';
      }
      if (!location.startsWith(redirectUri))
        return fail(`authorization (${location || 'no redirect'})`, response);
      const params = new URL(location).searchParams;
      if (params.get('state') !== state || params.get('iss') !== issuer || !params.get('code')) {
        this.errors.push(`code flow: redirect ${location} lacks code, state or iss=${issuer}`);
        return undefined;
      }
      // The code is single use: after a connection error its fate is unknown, so never resend it.
      const { response: tokenResponse } = await this.traffic.send('/oauth/token', {
        method: 'POST',
        form: {
          grant_type: 'authorization_code',
          code: params.get('code') as string,
          code_verifier: verifier,
          redirect_uri: redirectUri,
          client_id: clientId,
        },
      });
      const body = (await tokenResponse.json()) as { access_token: string; refresh_token: string };
      if (tokenResponse.status !== 200) return fail(`code exchange (${JSON.stringify(body)})`, tokenResponse);
      this.counts.flows++;
      const family: Family = {
        id: this.families.length,
        refresh: body.refresh_token,
        access: body.access_token,
        accessTokens: [body.access_token],
        revoked: false,
        inDoubt: false,
        busy: false,
      };
      this.families.push(family);
      return family;
    } catch (err) {
      if (err instanceof ConnectionFailed && this.#retry) {
        this.counts.abandoned++;
        return undefined;
      }
      throw err;
    }
  }

  /**
   * Refreshes a family's refresh token once, or with `parallel` on every live instance at the same
   * moment: all must answer 200 with the same successor (the retry window), never two successors.
   */
  async refresh(family: Family, parallel = false): Promise<void> {
    const form = {
      grant_type: 'refresh_token',
      refresh_token: family.refresh,
      client_id: this.config.clientId,
    };
    const targets = parallel
      ? this.traffic.urls.map((_, i) => i).filter((i) => !this.traffic.down.has(i))
      : [this.traffic.pick()];
    const answers = await Promise.allSettled(
      targets.map(async (on) => {
        // A refresh is safe to resend: within the retry window the same token gets the same answer.
        const { response } = await this.traffic.send(
          '/oauth/token',
          { method: 'POST', form },
          { on, retry: this.#retry },
        );
        return { status: response.status, body: (await response.json()) as Record<string, string> };
      }),
    );
    const received = answers.flatMap((a) => (a.status === 'fulfilled' ? [a.value] : []));
    if (received.length === 0) {
      if (!this.#retry) this.errors.push(`refresh: no instance answered`);
      return;
    }
    for (const r of received) {
      if (r.status !== 200)
        this.errors.push(`refresh${parallel ? ' (parallel)' : ''}: ${r.status} ${JSON.stringify(r.body)}`);
    }
    const ok = received.filter((r) => r.status === 200);
    const successors = new Set(ok.map((r) => r.body.refresh_token));
    if (successors.size > 1)
      this.errors.push(`parallel refreshes of one token got ${successors.size} successors`);
    const first = ok[0];
    if (!first) return;
    this.counts.refreshes++;
    if (parallel) this.counts.parallelRefreshes++;
    family.refresh = first.body.refresh_token as string;
    family.access = first.body.access_token as string;
    for (const r of ok)
      if (!family.accessTokens.includes(r.body.access_token as string))
        family.accessTokens.push(r.body.access_token as string);
  }

  /**
   * Revokes a family's access token (that token only) or refresh token (the whole grant) on one
   * instance; once acknowledged, checks in the background that every live instance refuses it
   * within the propagation limit, by introspection and at the guarded /mcp endpoint.
   */
  async revoke(family: Family, kind: Revocation['kind']): Promise<void> {
    const token = kind === 'access_token' ? family.access : family.refresh;
    let sent: Awaited<ReturnType<Traffic['send']>>;
    try {
      sent = await this.traffic.send(
        '/oauth/revoke',
        { method: 'POST', form: { token, token_type_hint: kind, client_id: this.config.clientId } },
        { retry: this.#retry },
      );
    } catch (err) {
      if (!(err instanceof ConnectionFailed && this.#retry)) throw err;
      family.inDoubt = true;
      return;
    }
    if (sent.response.status !== 200) {
      this.errors.push(`revoke ${kind}: ${sent.response.status} ${await sent.response.text()}`);
      return;
    }
    const revocation: Revocation = {
      kind,
      access: family.access,
      family: family.id,
      acknowledgedAt: Date.now(),
      failures: [],
      ...(kind === 'refresh_token' ? { refresh: family.refresh } : {}),
    };
    this.revocations.push(revocation);
    if (kind === 'refresh_token') family.revoked = true;
    else family.accessTokens = family.accessTokens.filter((t) => t !== family.access);
    this.#checks.push(this.#watchPropagation(revocation));
  }

  async #watchPropagation(revocation: Revocation): Promise<void> {
    const limit = this.config.propagationMs ?? 1000;
    const deadline = revocation.acknowledgedAt + limit;
    const live = this.traffic.urls.map((_, i) => i).filter((i) => !this.traffic.down.has(i));
    const latest = await Promise.all(
      live.map(async (on) => {
        for (;;) {
          let refused: boolean;
          try {
            refused = await this.isRefused(revocation.access, on);
          } catch (err) {
            // An instance that died meanwhile (the crash test) accepts nothing any more.
            if (!(err instanceof ConnectionFailed && this.#retry)) throw err;
            this.traffic.down.add(on);
            return 0;
          }
          if (refused) return Date.now();
          if (Date.now() >= deadline) {
            revocation.failures.push(
              `instance ${on} still accepted the revoked ${revocation.kind} after ${limit} ms`,
            );
            return undefined;
          }
          await new Promise((resolve) => setTimeout(resolve, 50));
        }
      }),
    );
    if (latest.every((t) => t !== undefined)) {
      revocation.propagatedMs = Math.max(0, ...latest.map((t) => (t as number) - revocation.acknowledgedAt));
    }
  }

  /** Whether instance `on` refuses an access token: inactive at introspection and 401 at /mcp. */
  async isRefused(accessToken: string, on: number): Promise<boolean> {
    const [introspection, mcp] = await Promise.all([
      this.introspect(accessToken, on),
      this.callMcp(accessToken, on),
    ]);
    return !introspection.active && mcp === 401;
  }

  /** Whether instance `on` accepts an access token: active at introspection and 200 at /mcp. */
  async isAccepted(accessToken: string, on: number): Promise<boolean> {
    const [introspection, mcp] = await Promise.all([
      this.introspect(accessToken, on),
      this.callMcp(accessToken, on),
    ]);
    return introspection.active === true && mcp === 200;
  }

  async introspect(token: string, on: number): Promise<{ active: boolean }> {
    const { response } = await this.traffic.send(
      '/oauth/introspect',
      { method: 'POST', headers: { authorization: this.config.introspector }, form: { token } },
      { on },
    );
    if (response.status !== 200) throw new Error(`introspection on instance ${on}: ${response.status}`);
    return (await response.json()) as { active: boolean };
  }

  /** An MCP initialize at the guarded demo server; returns the status. */
  async callMcp(accessToken: string, on: number): Promise<number> {
    const { response } = await this.traffic.send(
      '/mcp',
      {
        method: 'POST',
        headers: {
          authorization: `Bearer ${accessToken}`,
          'content-type': 'application/json',
          accept: 'application/json, text/event-stream',
        },
        body: MCP_INITIALIZE,
      },
      { on },
    );
    await response.body?.cancel();
    return response.status;
  }

  /**
   * Runs `workers` concurrent clients for `seconds`: each starts with a code flow, then mixes new
   * flows, refreshes (every fifth sent to every instance at once) and revocations. `during` runs
   * alongside (the crash test kills an instance from there).
   */
  async run(workers: number, seconds: number, during?: () => Promise<void>): Promise<void> {
    const until = Date.now() + seconds * 1000;
    let actions = 0;
    const worker = async (w: number) => {
      let agent = new Agent();
      await this.codeFlow(agent);
      while (Date.now() < until) {
        actions++;
        const live = this.families.filter((f) => !f.revoked && !f.inDoubt && !f.busy);
        const roll = Math.random();
        if (live.length < workers || roll < 0.2) {
          // Half the flows come from a new browser (sign-in form), half from one already signed in.
          if (roll < 0.1) agent = new Agent();
          await this.codeFlow(agent);
          continue;
        }
        const family = live[Math.floor(Math.random() * live.length)] as Family;
        family.busy = true;
        try {
          if (roll < 0.8) await this.refresh(family, actions % 5 === w % 5);
          else await this.revoke(family, actions % 2 === 0 ? 'access_token' : 'refresh_token');
        } finally {
          family.busy = false;
        }
      }
    };
    await Promise.all([...Array.from({ length: workers }, (_, w) => worker(w)), during?.()]);
    await Promise.all(this.#checks);
  }
}
