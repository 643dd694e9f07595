import { Client, type ClientConfig } from 'pg';

/**
 * One channel per database; the payload names the schema, so deployments (and test runs) sharing
 * a database in different schemas ignore each other's revocations.
 */
const CHANNEL = 'gatehouse_revocations';

export interface RevocationSubscriptionOptions {
  /** How long to wait before reconnecting a lost listening connection. Default 1000 ms. */
  reconnectDelayMs?: number | undefined;
  /**
   * Told when the listening connection fails or a reconnection attempt does. Default: ignored,
   * since the authorization server's periodic sync still picks revocations up.
   */
  onError?: ((error: Error) => void) | undefined;
  /** Told the server process id of each (re)established listening connection, e.g. for logs. */
  onListening?: ((backendPid: number) => void) | undefined;
}

/** Queues a notification for listeners; PostgreSQL delivers it when the transaction commits. */
export async function notifyRevocation(tx: Pick<Client, 'query'>): Promise<void> {
  await tx.query('SELECT pg_notify($1, current_schema())', [CHANNEL]);
}

/**
 * Opens a dedicated connection (LISTEN needs one that stays open; a pooled one would be handed to
 * other queries) and calls `onChange` for every revocation committed in this schema.
 * Resolves once listening; rejects if the first connection fails.
 *
 * @see https://www.postgresql.org/docs/current/sql-listen.html
 */
export async function listenForRevocations(
  config: ClientConfig,
  onChange: () => void,
  options: RevocationSubscriptionOptions = {},
): Promise<() => Promise<void>> {
  const reconnectDelayMs = options.reconnectDelayMs ?? 1000;
  let stopped = false;
  let current: Client | undefined;
  let timer: NodeJS.Timeout | undefined;

  const report = (err: unknown) => options.onError?.(err instanceof Error ? err : new Error(String(err)));

  const scheduleReconnect = () => {
    if (stopped || timer) return;
    timer = setTimeout(() => {
      timer = undefined;
      if (stopped) return;
      connect().then(
        () => {
          // Whatever was revoked while we were away was not announced to us: catch up now.
          if (!stopped) onChange();
        },
        (err) => {
          report(err);
          scheduleReconnect();
        },
      );
    }, reconnectDelayMs);
    timer.unref();
  };

  const connect = async (): Promise<void> => {
    const client = new Client(config);
    let lost = false;
    let pid = 0;
    const onLost = (err?: Error) => {
      if (lost) return;
      lost = true;
      if (err) report(err);
      client.end().catch(() => {});
      if (current === client) {
        current = undefined;
        scheduleReconnect();
      }
    };
    client.on('error', onLost);
    client.on('end', () => onLost());
    try {
      await client.connect();
      const { rows } = await client.query('SELECT current_schema() AS schema, pg_backend_pid() AS pid');
      const schema = rows[0]?.schema as string | undefined;
      pid = Number(rows[0]?.pid);
      client.on('notification', (message) => {
        if (!stopped && message.channel === CHANNEL && message.payload === schema) onChange();
      });
      await client.query(`LISTEN ${CHANNEL}`);
    } catch (err) {
      lost = true;
      await client.end().catch(() => {});
      throw err;
    }
    if (stopped) {
      await client.end().catch(() => {});
      return;
    }
    if (lost) {
      // Dropped between LISTEN and here: try again rather than keep a dead connection.
      scheduleReconnect();
      return;
    }
    current = client;
    options.onListening?.(pid);
  };

  await connect();
  return async () => {
    stopped = true;
    if (timer) clearTimeout(timer);
    timer = undefined;
    const client = current;
    current = undefined;
    await client?.end().catch(() => {});
  };
}
