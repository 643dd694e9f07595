/**
 * The gateway's audit trail: one event per `tools/call`, `resources/read` and `prompts/get`, with
 * who called, what, the outcome and how long it took. Argument values are never recorded (they may
 * hold secrets); with `audit.arguments: 'hashed'` a keyed hash (HMAC) of their canonical JSON is, so
 * equal calls can be matched without revealing them. Keyed, because a plain hash of a short secret
 * (a password, a PIN) is found again by hashing guesses: without the key nobody can test one.
 */
import { createHmac, randomBytes } from 'node:crypto';
import type { McpOperation } from '@gatehouse/resource';

export type GatewayAuditOutcome = 'allowed' | 'denied' | 'upstream_error';

export interface GatewayAuditEvent {
  type: 'mcp.call';
  user_id?: string;
  client_id?: string;
  detail: {
    server: string;
    method: string;
    name?: string;
    outcome: GatewayAuditOutcome;
    duration_ms: number;
    arguments_hmac?: string;
  };
}

/** The audited methods, and the params field that names what is called (the `Mcp-Name` field). */
const AUDITED = new Map([
  ['tools/call', 'name'],
  ['resources/read', 'uri'],
  ['prompts/get', 'name'],
]);

/** One call worth recording: its method, what it names, and its arguments (never stored as is). */
export interface AuditedCall {
  method: string;
  name?: string;
  arguments?: unknown;
}

/** The call an operation makes, when it is one the trail records. */
export function auditedCall(operation: Pick<McpOperation, 'method' | 'params'>): AuditedCall | undefined {
  const field = operation.method ? AUDITED.get(operation.method) : undefined;
  if (!field || !operation.method) return undefined;
  const name = operation.params?.[field];
  return {
    method: operation.method,
    ...(typeof name === 'string' ? { name } : {}),
    ...(operation.params?.arguments !== undefined ? { arguments: operation.params.arguments } : {}),
  };
}

/**
 * JSON canonicalization (RFC 8785): object members sorted by their UTF-16 code units, no
 * whitespace, numbers and strings as ECMAScript's JSON.stringify writes them.
 */
export function canonicalJson(value: unknown): string {
  if (Array.isArray(value)) return `[${value.map((v) => canonicalJson(v ?? null)).join(',')}]`;
  if (value !== null && typeof value === 'object') {
    const members = Object.keys(value)
      .filter((k) => (value as Record<string, unknown>)[k] !== undefined)
      .sort()
      .map((k) => `${JSON.stringify(k)}:${canonicalJson((value as Record<string, unknown>)[k])}`);
    return `{${members.join(',')}}`;
  }
  return JSON.stringify(value) ?? 'null';
}

/** A keyed hash of a call's arguments, given their canonical JSON (absent arguments are `{}`). */
export type ArgumentsMac = (canonical: string) => string;

/** A MAC under a purpose-specific key: the gateway's keyed hashes (audit arguments, request states). */
export type Mac = (purpose: string, value: string) => string;

/**
 * HMAC-SHA256 under a random key of this process, for a gateway not given one derived from the
 * master secret: what it computes then matches within this process only.
 */
export function ephemeralMac(): Mac {
  const key = randomBytes(32);
  return (purpose, value) => createHmac('sha256', key).update(`${purpose}\0${value}`).digest('base64url');
}

/** Builds the event for one call; `argumentsMac` when the server's `audit.arguments` is `hashed`. */
export function callEvent(options: {
  server: string;
  call: AuditedCall;
  outcome: GatewayAuditOutcome;
  durationMs: number;
  argumentsMac?: ArgumentsMac | undefined;
  userId?: string | undefined;
  clientId?: string | undefined;
}): GatewayAuditEvent {
  const { call } = options;
  return {
    type: 'mcp.call',
    ...(options.userId !== undefined ? { user_id: options.userId } : {}),
    ...(options.clientId !== undefined ? { client_id: options.clientId } : {}),
    detail: {
      server: options.server,
      method: call.method,
      ...(call.name !== undefined ? { name: call.name } : {}),
      outcome: options.outcome,
      duration_ms: Math.max(0, Math.round(options.durationMs)),
      ...(options.argumentsMac
        ? { arguments_hmac: options.argumentsMac(canonicalJson(call.arguments ?? {})) }
        : {}),
    },
  };
}
