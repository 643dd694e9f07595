import { connect, type Socket } from 'node:net';

/**
 * A raw HTTP/1.1 connection for the fuzz suite. node:http's client refuses to send most of what
 * the suite needs (odd method tokens, malformed targets, lying Content-Length), and hides whether
 * the server kept the connection usable; this one writes bytes as given and reads responses
 * itself (RFC 9112 §6: message body length), so a follow-up request can travel the same socket.
 */

export interface RawResponse {
  status: number;
  /** Header names lower-cased; repeated headers keep every value. */
  headers: Map<string, string[]>;
  body: Buffer;
  /** The status line and header block as received, for the secret and path checks. */
  head: string;
}

/** Why no (complete) response arrived. */
export type NoResponse = 'closed' | 'timeout';

/** Larger bodies are not fuzz answers but floods; stop reading them. */
const MAX_RESPONSE_BYTES = 4 * 1024 * 1024;

export class RawConnection {
  readonly socket: Socket;
  private buffer = Buffer.alloc(0);
  private ended = false;
  private wake: (() => void) | undefined;

  private constructor(socket: Socket) {
    this.socket = socket;
    socket.on('data', (chunk: Buffer) => {
      this.buffer = Buffer.concat([this.buffer, chunk]);
      this.wake?.();
    });
    // A reset is just another way for the server to end the connection.
    const end = () => {
      this.ended = true;
      this.wake?.();
    };
    socket.on('end', end);
    socket.on('close', end);
    socket.on('error', end);
  }

  /** Opens a connection to 127.0.0.1:`port` (loopback only, as every test here). */
  static open(port: number, deadlineMs: number): Promise<RawConnection> {
    return new Promise((resolve, reject) => {
      // allowHalfOpen: after `endWrite()` the server's answer can still be read.
      const socket = connect({ host: '127.0.0.1', port, allowHalfOpen: true });
      socket.setNoDelay(true);
      const timer = setTimeout(() => {
        socket.destroy();
        reject(new Error(`no connection to 127.0.0.1:${port} within ${deadlineMs} ms`));
      }, deadlineMs);
      socket.once('connect', () => {
        clearTimeout(timer);
        resolve(new RawConnection(socket));
      });
      socket.once('error', (err) => {
        clearTimeout(timer);
        reject(err);
      });
    });
  }

  write(bytes: Buffer): void {
    if (!this.socket.destroyed) this.socket.write(bytes);
  }

  /** Half-closes: the server sees the end of the request stream but can still answer. */
  endWrite(): void {
    if (!this.socket.destroyed) this.socket.end();
  }

  close(): void {
    this.socket.destroy();
  }

  /** Whether the server has ended its side of the connection. */
  get closedByServer(): boolean {
    return this.ended;
  }

  /**
   * Reads the next final response (1xx interim responses are skipped). `forHead`: the request was
   * HEAD, so the response has no body whatever its headers say (RFC 9112 §6.3 rule 1).
   */
  async readResponse(forHead: boolean, deadlineMs: number): Promise<RawResponse | NoResponse> {
    const deadline = Date.now() + deadlineMs;
    for (;;) {
      const response = await this.readOne(forHead, deadline);
      if (typeof response === 'string' || response.status >= 200) return response;
    }
  }

  private async readOne(forHead: boolean, deadline: number): Promise<RawResponse | NoResponse> {
    let headEnd = this.buffer.indexOf('\r\n\r\n');
    while (headEnd < 0) {
      const waited = await this.more(deadline);
      if (waited !== 'data') return waited;
      headEnd = this.buffer.indexOf('\r\n\r\n');
    }
    const head = this.buffer.subarray(0, headEnd).toString('latin1');
    this.buffer = this.buffer.subarray(headEnd + 4);
    const [statusLine = '', ...lines] = head.split('\r\n');
    const status = Number(/^HTTP\/1\.[01] (\d{3})/.exec(statusLine)?.[1] ?? 0);
    const headers = new Map<string, string[]>();
    for (const line of lines) {
      const colon = line.indexOf(':');
      const name = line.slice(0, colon).trim().toLowerCase();
      headers.set(name, [...(headers.get(name) ?? []), line.slice(colon + 1).trim()]);
    }
    const noBody = forHead || status < 200 || status === 204 || status === 304;
    if (noBody) return { status, headers, body: Buffer.alloc(0), head };
    const chunked = /\bchunked\b/i.test(headers.get('transfer-encoding')?.join(',') ?? '');
    const length = headers.get('content-length')?.[0];
    const body = chunked
      ? await this.readChunked(deadline)
      : length !== undefined
        ? await this.readExactly(Number(length), deadline)
        : await this.readToEnd(deadline);
    if (typeof body === 'string') return body;
    return { status, headers, body, head };
  }

  private async readExactly(length: number, deadline: number): Promise<Buffer | NoResponse> {
    while (this.buffer.length < length) {
      const waited = await this.more(deadline);
      if (waited !== 'data') return waited;
    }
    const body = this.buffer.subarray(0, length);
    this.buffer = this.buffer.subarray(length);
    return body;
  }

  /** RFC 9112 §7.1: chunk-size [ext] CRLF data CRLF … last-chunk trailers CRLF. */
  private async readChunked(deadline: number): Promise<Buffer | NoResponse> {
    const parts: Buffer[] = [];
    let total = 0;
    for (;;) {
      let lineEnd = this.buffer.indexOf('\r\n');
      while (lineEnd < 0) {
        const waited = await this.more(deadline);
        if (waited !== 'data') return waited;
        lineEnd = this.buffer.indexOf('\r\n');
      }
      const size = Number.parseInt(this.buffer.subarray(0, lineEnd).toString('latin1'), 16);
      this.buffer = this.buffer.subarray(lineEnd + 2);
      if (!(size > 0)) {
        // The last chunk: skip trailer fields up to the empty line.
        let end = this.buffer.indexOf('\r\n');
        while (end !== 0) {
          if (end > 0) {
            this.buffer = this.buffer.subarray(end + 2);
          } else {
            const waited = await this.more(deadline);
            if (waited !== 'data') return waited;
          }
          end = this.buffer.indexOf('\r\n');
        }
        this.buffer = this.buffer.subarray(2);
        return Buffer.concat(parts);
      }
      const data = await this.readExactly(size + 2, deadline);
      if (typeof data === 'string') return data;
      parts.push(data.subarray(0, size));
      total += size;
      if (total > MAX_RESPONSE_BYTES) return Buffer.concat(parts);
    }
  }

  private async readToEnd(deadline: number): Promise<Buffer | NoResponse> {
    while (!this.ended && this.buffer.length <= MAX_RESPONSE_BYTES) {
      const waited = await this.more(deadline);
      if (waited === 'timeout') return waited;
    }
    const body = this.buffer;
    this.buffer = Buffer.alloc(0);
    return body;
  }

  /** Waits for more bytes, the end of the connection, or the deadline. */
  private more(deadline: number): Promise<'data' | NoResponse> {
    if (this.ended) return Promise.resolve('closed');
    const remaining = deadline - Date.now();
    if (remaining <= 0) return Promise.resolve('timeout');
    return new Promise((resolve) => {
      const timer = setTimeout(() => {
        this.wake = undefined;
        resolve('timeout');
      }, remaining);
      this.wake = () => {
        clearTimeout(timer);
        this.wake = undefined;
        resolve(this.ended ? 'closed' : 'data');
      };
    });
  }
}
