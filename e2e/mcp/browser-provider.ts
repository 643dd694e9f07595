import { randomBytes } from 'node:crypto';
import type { Page } from 'playwright-core';
import { signInAndConsent } from '../helpers/browser.ts';
import { startLoopbackServer } from '../helpers/loopback.ts';

/** The parts of the SDKs' `OAuthTokens` / client information this provider keeps (wire names). */
type Tokens = { access_token: string; token_type: string; refresh_token?: string; scope?: string };
type ClientInformation = { client_id: string; client_secret?: string; [key: string]: unknown };

/** A loopback redirect URI (RFC 8252 §7.3) that records each authorization response it receives. */
export interface LoopbackCallback {
  /** `http://127.0.0.1:<port>/callback` */
  url: string;
  /** Resolves with the query of the next request to the callback. */
  next(): Promise<URLSearchParams>;
  close(): Promise<void>;
}

export async function startCallback(): Promise<LoopbackCallback> {
  const waiting: ((params: URLSearchParams) => void)[] = [];
  const server = await startLoopbackServer((req, res) => {
    const url = new URL(req.url ?? '/', 'http://127.0.0.1');
    res.writeHead(200, { 'content-type': 'text/plain' }).end('Signed in. You can close this window.');
    if (url.pathname === '/callback') waiting.shift()?.(url.searchParams);
  });
  return {
    url: `${server.url}/callback`,
    next: () => new Promise((resolve) => waiting.push(resolve)),
    close: server.close,
  };
}

export interface BrowserProviderOptions {
  page: Page;
  callback: LoopbackCallback;
  username: string;
  password: string;
  clientName: string;
  /** A client registered beforehand (e.g. `gatehouse clients add`): the SDK then skips DCR. */
  preregistered?: ClientInformation;
}

/**
 * A small, honest `OAuthClientProvider` for the official MCP SDK clients (v1 and v2 share the
 * interface): everything in memory, a public client registered by DCR with a loopback redirect
 * URI, and `redirectToAuthorization` played by a person in headless Chromium (sign in, approve).
 * The code is captured where the AS sends it, at the loopback callback, after `state` is checked;
 * the test hands it to `transport.finishAuth(provider.takeCallback())` as an app would.
 *
 * It does nothing the SDK should do itself: no discovery, no PKCE, no token requests.
 */
export class BrowserOAuthProvider {
  readonly options: BrowserProviderOptions;
  /** Every authorization URL the SDK sent the user to, in order. */
  readonly authorizations: URL[] = [];
  /** How many times the SDK registered this client (DCR). */
  registrations = 0;
  /** When false, `redirectToAuthorization` only records the URL (a user who walked away). */
  interactive = true;
  /** Looks at the consent screen before "Approve" is clicked; told whether it was shown at all. */
  onConsent: ((page: Page) => Promise<void>) | undefined;
  /** Whether the last authorization showed the consent screen (remembered consent skips it). */
  consentShown = false;
  #client: ClientInformation | undefined;
  #tokens: Tokens | undefined;
  #verifier: string | undefined;
  #state: string | undefined;
  #discovery: unknown;
  #callback: URLSearchParams | undefined;

  constructor(options: BrowserProviderOptions) {
    this.options = options;
    this.#client = options.preregistered;
  }

  get redirectUrl(): string {
    return this.options.callback.url;
  }

  get clientMetadata() {
    return {
      client_name: this.options.clientName,
      redirect_uris: [this.redirectUrl],
      grant_types: ['authorization_code', 'refresh_token'],
      response_types: ['code'],
      token_endpoint_auth_method: 'none',
      application_type: 'native',
    };
  }

  state(): string {
    this.#state = randomBytes(16).toString('base64url');
    return this.#state;
  }

  clientInformation(): ClientInformation | undefined {
    return this.#client;
  }

  saveClientInformation(info: ClientInformation): void {
    if (info.client_id !== this.#client?.client_id) this.registrations++;
    this.#client = info;
  }

  tokens(): Tokens | undefined {
    return this.#tokens;
  }

  saveTokens(tokens: Tokens): void {
    this.#tokens = tokens;
  }

  saveCodeVerifier(verifier: string): void {
    this.#verifier = verifier;
  }

  codeVerifier(): string {
    if (!this.#verifier) throw new Error('no PKCE code verifier saved');
    return this.#verifier;
  }

  saveDiscoveryState(state: unknown): void {
    this.#discovery = state;
  }

  discoveryState(): never {
    return this.#discovery as never;
  }

  invalidateCredentials(scope: 'all' | 'client' | 'tokens' | 'verifier' | 'discovery'): void {
    if (scope === 'all' || scope === 'client') this.#client = undefined;
    if (scope === 'all' || scope === 'tokens') this.#tokens = undefined;
    if (scope === 'all' || scope === 'verifier') this.#verifier = undefined;
    if (scope === 'all' || scope === 'discovery') this.#discovery = undefined;
  }

  async redirectToAuthorization(url: URL): Promise<void> {
    this.authorizations.push(new URL(url));
    if (!this.interactive) return;
    const arrived = this.options.callback.next();
    this.consentShown = false;
    await signInAndConsent(this.options.page, url.href, {
      username: this.options.username,
      password: this.options.password,
      redirectPrefix: this.redirectUrl,
      onConsent: async (page) => {
        this.consentShown = true;
        await this.onConsent?.(page);
      },
    });
    const params = await arrived;
    if (params.get('state') !== this.#state)
      throw new Error('the authorization response has the wrong state');
    if (params.has('error')) throw new Error(`authorization failed: ${params.get('error')}`);
    this.#callback = params;
  }

  /** The authorization response the browser brought back (code, state, iss), once. */
  takeCallback(): URLSearchParams {
    const params = this.#callback;
    if (!params) throw new Error('no authorization response arrived at the callback');
    this.#callback = undefined;
    return params;
  }
}
