export * from './deadline.ts';
export * from './encoding.ts';
export * from './errors.ts';
export * from './pkce.ts';
export * from './revocation.ts';
export * from './scope.ts';
export type * from './wire.ts';
export * from './www-authenticate.ts';
