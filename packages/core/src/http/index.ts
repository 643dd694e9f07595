export * from './app.ts';
export * from './body.ts';
export * from './cors.ts';
export * from './error-log.ts';
export * from './node.ts';
export * from './router.ts';
