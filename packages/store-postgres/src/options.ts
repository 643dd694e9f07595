import type { PoolConfig } from 'pg';

/** How to reach the database and which schema holds Gatehouse's tables. */
export interface PostgresStoreOptions {
  /**
   * A libpq-style URL, e.g. `postgres://gatehouse@db.internal:5432/gatehouse`. A `schema` query
   * parameter (`…/gatehouse?schema=auth`) is taken as `schema` below and not sent to the server.
   */
  connectionString: string;
  /**
   * The schema holding the tables, created on first start. Default: the server's search path
   * (usually `public`). Lower-case letters, digits and underscores only.
   */
  schema?: string | undefined;
  /** Connections in this instance's pool. Default 10. */
  maxConnections?: number | undefined;
}

const SCHEMA_NAME = /^[a-z_][a-z0-9_]{0,62}$/;

/** The pool settings, and the schema (if one was named) with the `schema` parameter taken out of the URL. */
export function resolvePoolConfig(options: PostgresStoreOptions): { pool: PoolConfig; schema?: string } {
  let url: URL;
  try {
    url = new URL(options.connectionString);
  } catch {
    throw new Error('the PostgreSQL connection string is not a URL; use e.g. postgres://user@host:5432/db');
  }
  if (url.protocol !== 'postgres:' && url.protocol !== 'postgresql:') {
    throw new Error(`the PostgreSQL connection string must start with postgres://, not ${url.protocol}//`);
  }
  const fromUrl = url.searchParams.get('schema') ?? undefined;
  url.searchParams.delete('schema');
  const schema = options.schema ?? fromUrl;
  if (schema !== undefined && !SCHEMA_NAME.test(schema)) {
    throw new Error(
      `schema "${schema}" must be lower-case letters, digits and underscores (at most 63), e.g. gatehouse`,
    );
  }
  const pool: PoolConfig = {
    connectionString: url.toString(),
    max: options.maxConnections ?? 10,
    // Every connection of the pool resolves unqualified table names in the chosen schema, so one
    // database can hold several Gatehouse deployments (and every test run its own schema).
    ...(schema ? { options: `-c search_path=${schema}` } : {}),
    application_name: 'gatehouse',
  };
  return schema ? { pool, schema } : { pool };
}

/** The connection string without its password, for messages. */
export function redactConnectionString(connectionString: string): string {
  try {
    const url = new URL(connectionString);
    if (url.password) url.password = '***';
    return url.toString();
  } catch {
    return '(unparseable connection string)';
  }
}
