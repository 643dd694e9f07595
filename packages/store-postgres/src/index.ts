export { migrate } from './migrate.ts';
export { postgresMigrations } from './migrations.ts';
export type { RevocationSubscriptionOptions } from './notify.ts';
export { type PostgresStoreOptions, redactConnectionString } from './options.ts';
export { openPostgresStore, PostgresStore } from './store.ts';
