/**
 * What the benchmark's processes say to each other over their IPC channels, and the settings every
 * contender shares so that they do the same work per request.
 */

/** The scopes every contender is asked for: a realistic MCP set, the same string everywhere. */
/** The command-line options every load bench takes (parseArgs), with their defaults. */
export const LOAD_OPTIONS = {
  rounds: { type: 'string', default: '5' },
  seconds: { type: 'string', default: '4' },
  warmup: { type: 'string', default: '2' },
  connections: { type: 'string', default: '16' },
} as const;

export const BENCH_SCOPE = 'tools:list tools:execute resources:read prompts:list';

/** Never contacted: the authorization code flow stops at the redirect and reads the code from it. */
export const BENCH_REDIRECT_URI = 'http://127.0.0.1/callback';

/** Access token lifetime everywhere, seconds. */
export const ACCESS_TOKEN_TTL = 3600;

/** A contender server process tells the orchestrator where it listens and which client to use. */
export interface ReadyMessage {
  type: 'ready';
  /** The token endpoint, on 127.0.0.1. */
  tokenEndpoint: string;
  /** The RFC 8707 resource indicator the access tokens are for. */
  resource: string;
  clientId: string;
  clientSecret: string;
}

/** Asks a contender for `count` fresh refresh tokens (the chains' first links), outside any measurement. */
export interface MintRequest {
  type: 'mint';
  id: number;
  count: number;
}

export interface MintReply {
  type: 'minted';
  id: number;
  tokens: string[];
  error?: string;
}

export type Scenario = 'client_credentials' | 'refresh_token';

/** One measurement: the load generator runs it and answers with a `LoadResult`. */
export interface LoadJob {
  type: 'job';
  id: number;
  tokenEndpoint: string;
  /** Several instances of one server: the connections are spread over these origins, round robin. */
  origins?: string[];
  resource: string;
  /** `Basic …` (client_secret_basic, RFC 6749 §2.3.1). */
  authorization: string;
  scenario: Scenario;
  /** For `refresh_token`: one token per chain to start from, plus spares. */
  refreshTokens: string[];
  connections: number;
  seconds: number;
}

export interface LoadResult {
  type: 'result';
  id: number;
  /** Responses with status 200 and the expected fields. */
  ok: number;
  /** Any other response, or a 200 without a token. */
  failed: number;
  /** Socket errors and timeouts. */
  errors: number;
  /** Refresh tokens sent more than once (must be 0: every request uses a fresh one). */
  reused: number;
  /** A few failure bodies, for diagnosis. */
  samples: string[];
  /** Measured wall time, seconds. */
  seconds: number;
  /** Latency percentiles in milliseconds, from every ok response. */
  p50: number;
  p99: number;
  /** CPU seconds the load generator used during the measurement. */
  cpuSeconds: number;
  error?: string;
}
