/**
 * One guarded GET of a JSON document at a URL chosen by an unknown party (a client's `client_id`).
 *
 * Defence against SSRF and DNS rebinding: the host name is resolved once, every address it
 * resolves to must be publicly routable, and the socket then connects only to those vetted
 * addresses (the request's `lookup` hook answers with them instead of asking DNS again), while the
 * Host header, TLS SNI and certificate check keep using the host name. Redirects are never followed,
 * the body is capped while it streams, one deadline covers resolution, connection and body, and
 * nothing identifying (cookies, credentials) is sent.
 *
 * @see https://datatracker.ietf.org/doc/html/draft-ietf-oauth-client-id-metadata-document#name-server-side-request-forgery
 * @see https://datatracker.ietf.org/doc/html/draft-ietf-oauth-client-id-metadata-document#name-client-information-discover
 */
import { lookup as dnsLookup } from 'node:dns/promises';
import type { IncomingHttpHeaders, IncomingMessage } from 'node:http';
import { request as httpRequest } from 'node:http';
import { request as httpsRequest } from 'node:https';
import type { LookupFunction } from 'node:net';
import { isIP } from 'node:net';
import { OAuthError } from '@gatehouse/core';
import { isPublicAddress } from './address-policy.ts';

/** An address a host name resolved to. */
export interface ResolvedAddress {
  address: string;
  family: 4 | 6;
}

/** Resolves a host name to all of its addresses, e.g. from `node:dns/promises` or a test table. */
export type Resolver = (hostname: string) => Promise<ResolvedAddress[]>;

export interface FetchDocumentOptions {
  resolve: Resolver;
  /** Development only: let the URL resolve to loopback, private and other special-use addresses. */
  dangerouslyAllowPrivateNetworks: boolean;
  /** Development only: fetch `http://` URLs too. Default `false`: only `https://`. */
  dangerouslyAllowInsecureHttp?: boolean;
  maxBytes: number;
  timeoutMs: number;
  /** Names the document in error descriptions. Default `client metadata document`. */
  documentName?: string;
}

export interface FetchedDocument {
  json: unknown;
  headers: IncomingHttpHeaders;
}

/** The system resolver (getaddrinfo, so /etc/hosts applies), with every address it knows. */
export const systemResolver: Resolver = async (hostname) => {
  const found = await dnsLookup(hostname, { all: true, order: 'verbatim' });
  return found.map(({ address, family }) => ({ address, family: family === 6 ? 6 : 4 }));
};

const USER_AGENT = 'Gatehouse (OAuth Client ID Metadata Document fetcher)';

type Refuse = (why: string) => OAuthError;

/** `application/json` or a structured `application/<name>+json` type, as the draft allows. */
const JSON_MEDIA_TYPE = /^application\/(?:[a-z0-9!#$&^_.-]+\+)?json$/;

/** The refusal every failure becomes; `what` names the document (see `documentName`). */
function refusal(what: string, why: string): OAuthError {
  return new OAuthError('invalid_client', `The ${what} ${why}.`);
}

/**
 * Fetches and parses one JSON document under the guards described above.
 *
 * @throws OAuthError `invalid_client` with a reason that never names internal addresses.
 * @example const { json, headers } = await fetchJsonDocument(new URL(clientId), options)
 */
export async function fetchJsonDocument(url: URL, options: FetchDocumentOptions): Promise<FetchedDocument> {
  const refuse = (why: string) => refusal(options.documentName ?? 'client metadata document', why);
  const httpAllowed = options.dangerouslyAllowInsecureHttp === true && url.protocol === 'http:';
  if (url.protocol !== 'https:' && !httpAllowed) throw refuse('URL must use the https scheme');
  if (url.username !== '' || url.password !== '') throw refuse('URL must not contain credentials');
  const controller = new AbortController();
  const timer = setTimeout(() => controller.abort(), options.timeoutMs);
  try {
    const addresses = await untilAborted(vettedAddresses(url, options, refuse), controller.signal);
    return await get(url, addresses, options.maxBytes, controller.signal, refuse);
  } catch (err) {
    if (controller.signal.aborted) throw refuse('could not be retrieved in time');
    if (err instanceof OAuthError) throw err;
    // Socket, TLS and parser errors carry addresses and internals: the client learns only this.
    throw refuse('could not be retrieved');
  } finally {
    clearTimeout(timer);
  }
}

/**
 * The addresses the request may connect to: the IP literal of the URL, or everything its host name
 * resolves to. If any one is special-use the whole name is refused, since a resolver or a DNS
 * rebinding attacker decides which address a connection would pick.
 */
async function vettedAddresses(
  url: URL,
  options: FetchDocumentOptions,
  refuse: Refuse,
): Promise<ResolvedAddress[]> {
  const hostname = url.hostname.replace(/^\[(.*)\]$/, '$1');
  let candidates: ResolvedAddress[];
  const literal = isIP(hostname);
  if (literal !== 0) {
    candidates = [{ address: hostname, family: literal === 6 ? 6 : 4 }];
  } else {
    try {
      candidates = await options.resolve(hostname);
    } catch {
      throw refuse("URL's host name could not be resolved");
    }
  }
  if (candidates.length === 0) throw refuse("URL's host name could not be resolved");
  const vetted: ResolvedAddress[] = [];
  for (const { address } of candidates) {
    const family = isIP(address);
    const allowed = options.dangerouslyAllowPrivateNetworks ? family !== 0 : isPublicAddress(address);
    if (!allowed) throw refuse('URL resolves to an address that is not publicly routable');
    vetted.push({ address, family: family === 6 ? 6 : 4 });
  }
  return vetted;
}

/**
 * A `lookup` for node:net that answers with the vetted addresses only, so the connection cannot be
 * steered elsewhere by a second, different DNS answer. Honours `all` (used by Happy Eyeballs) and
 * `family`.
 */
export function pinnedLookup(addresses: readonly ResolvedAddress[]): LookupFunction {
  return (_hostname, lookupOptions, callback) => {
    const family =
      lookupOptions.family === 4 || lookupOptions.family === 6 ? lookupOptions.family : undefined;
    const candidates = family === undefined ? addresses : addresses.filter((a) => a.family === family);
    const first = candidates[0];
    if (first === undefined) {
      const err: NodeJS.ErrnoException = new Error('no vetted address for this family');
      err.code = 'ENOTFOUND';
      callback(err, '', 0);
    } else if (lookupOptions.all) {
      callback(
        null,
        candidates.map(({ address, family }) => ({ address, family })),
      );
    } else {
      callback(null, first.address, first.family);
    }
  };
}

function get(
  url: URL,
  addresses: ResolvedAddress[],
  maxBytes: number,
  signal: AbortSignal,
  refuse: Refuse,
): Promise<FetchedDocument> {
  return new Promise((resolve, reject) => {
    const request = url.protocol === 'https:' ? httpsRequest : httpRequest;
    const req = request({
      protocol: url.protocol,
      hostname: url.hostname.replace(/^\[(.*)\]$/, '$1'),
      port: url.port === '' ? undefined : Number(url.port),
      path: `${url.pathname}${url.search}`,
      method: 'GET',
      // A fresh agent per fetch: no pooled socket from an earlier resolution is ever reused.
      agent: false,
      lookup: pinnedLookup(addresses),
      signal,
      headers: {
        host: url.host,
        accept: 'application/json',
        // Compressed bodies would defeat the size cap; nothing else (cookies, credentials) is sent.
        'accept-encoding': 'identity',
        'user-agent': USER_AGENT,
      },
    });
    const fail = (err: unknown) => {
      req.destroy();
      reject(err);
    };
    req.on('error', fail);
    req.on('response', (res) => {
      try {
        checkHead(res, maxBytes, refuse);
      } catch (err) {
        res.destroy();
        fail(err);
        return;
      }
      readBody(res, maxBytes, refuse)
        .then((body) => resolve({ json: parseJson(body, refuse), headers: res.headers }))
        .catch(fail);
    });
    req.end();
  });
}

/** Status, content type, encoding and declared length, before a byte of the body is read. */
function checkHead(res: IncomingMessage, maxBytes: number, refuse: Refuse): void {
  const status = res.statusCode ?? 0;
  // The draft forbids following redirects: a redirect could lead anywhere, including inside.
  if (status >= 300 && status < 400) throw refuse('URL answered with a redirect, which is not followed');
  if (status !== 200) throw refuse(`URL answered with HTTP status ${status}, not 200`);
  const mediaType = (res.headers['content-type'] ?? '').split(';', 1)[0]?.trim().toLowerCase() ?? '';
  if (!JSON_MEDIA_TYPE.test(mediaType)) throw refuse('is not served as application/json');
  const encoding = (res.headers['content-encoding'] ?? 'identity').trim().toLowerCase();
  if (encoding !== 'identity') throw refuse('must not be served with a content encoding');
  const declared = Number(res.headers['content-length']);
  if (Number.isFinite(declared) && declared > maxBytes) throw refuse(`exceeds ${maxBytes} bytes`);
}

/** Reads the body, giving up as soon as it passes `maxBytes` (a missing or false Content-Length). */
function readBody(res: IncomingMessage, maxBytes: number, refuse: Refuse): Promise<Buffer> {
  return new Promise((resolve, reject) => {
    const chunks: Buffer[] = [];
    let size = 0;
    let done = false;
    res.on('data', (chunk: Buffer) => {
      size += chunk.length;
      if (size > maxBytes) {
        done = true;
        res.destroy();
        reject(refuse(`exceeds ${maxBytes} bytes`));
        return;
      }
      chunks.push(chunk);
    });
    res.on('end', () => {
      done = true;
      resolve(Buffer.concat(chunks));
    });
    res.on('error', (err) => {
      done = true;
      reject(err);
    });
    res.on('close', () => {
      if (!done) reject(refuse('could not be retrieved'));
    });
  });
}

function parseJson(body: Buffer, refuse: Refuse): unknown {
  try {
    return JSON.parse(new TextDecoder('utf-8', { fatal: true }).decode(body));
  } catch {
    throw refuse('is not valid JSON');
  }
}

/** Settles with `promise`, or rejects as soon as `signal` aborts (a resolver cannot be cancelled). */
function untilAborted<T>(promise: Promise<T>, signal: AbortSignal): Promise<T> {
  if (signal.aborted) return Promise.reject(signal.reason);
  return new Promise<T>((resolve, reject) => {
    const onAbort = () => reject(signal.reason);
    signal.addEventListener('abort', onAbort, { once: true });
    promise.then(resolve, reject).finally(() => signal.removeEventListener('abort', onAbort));
  });
}
