export { DemoDatabase, type DemoDatabaseOptions } from './database.ts';
export type { DemoToolName } from './manifest.ts';
export { demoManifest } from './manifest.ts';
export { type ProtectDemoOptions, protectDemo } from './protect.ts';
export { isInside, resolveInSandbox, SandboxEscapeError } from './sandbox.ts';
export { createDemoMcpServer, type DemoMcpServer } from './server.ts';
export { SqlError, type SqlErrorCode } from './sql-error.ts';
