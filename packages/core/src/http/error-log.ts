import type { ErrorContext } from './app.ts';

/**
 * Anything that looks like a credential: long runs of token characters (refresh tokens, JWTs,
 * client secrets, hashes). Error messages can quote input (JSON.parse does), so they are
 * redacted before they are written anywhere.
 */
const CREDENTIAL_LIKE = /[A-Za-z0-9_\-~+=]{24,}/g;

/** `text` with anything credential-like replaced. */
export function redact(text: string): string {
  return text.replace(CREDENTIAL_LIKE, '[redacted]');
}

/** An error's name, code and message, with anything credential-like removed; never a stack. */
export function describeError(error: unknown): string {
  if (!(error instanceof Error)) return 'non-error thrown';
  const code = (error as { code?: unknown }).code;
  const text = `${error.name}${typeof code === 'string' ? ` [${code}]` : ''}: ${error.message}`;
  return redact(text).slice(0, 500);
}

/** The default `onError`: one JSON line on stderr an operator can search by request id. */
export function logUnexpectedError(error: unknown, context: ErrorContext): void {
  process.stderr.write(
    `${JSON.stringify({
      time: new Date().toISOString(),
      level: 'error',
      msg: 'unexpected error; answered server_error',
      request_id: context.requestId,
      method: context.method,
      path: redact(context.path),
      error: describeError(error),
    })}\n`,
  );
}
