import type { ConfigIssue } from './errors.ts';

/**
 * `${env:NAME}` references: secrets (API keys in headers, tokens in an upstream's environment, the
 * store's password) stay in the environment and the configuration file names them. Only this
 * form is replaced; `${user}` (per-user processes) and any other `${…}` pass through untouched.
 */
const REFERENCE = /\$\{env:([^}]*)\}/g;
const NAME = /^[A-Za-z_][A-Za-z0-9_]*$/;

/**
 * `value` with every `${env:NAME}` replaced from `env`. A reference to a variable that is unset or
 * empty, or a malformed name, is an issue at `path` (the value is never quoted).
 *
 * @example expandEnvRefs('Bearer ${env:GITHUB_TOKEN}', { GITHUB_TOKEN: 'ghp_…' }, 'mcpServers.github.headers.Authorization', issues)
 */
export function expandEnvRefs(
  value: string,
  env: NodeJS.ProcessEnv,
  path: string,
  issues: ConfigIssue[],
): string {
  return value.replace(REFERENCE, (reference, name: string) => {
    if (!NAME.test(name)) {
      // biome-ignore lint/suspicious/noTemplateCurlyInString: the literal syntax users write
      issues.push({ path, message: 'expected ${env:NAME} with NAME made of letters, digits and _' });
      return reference;
    }
    // Object.hasOwn: the name is user input and must not reach Object.prototype.
    const found = Object.hasOwn(env, name) ? env[name] : undefined;
    if (found === undefined || found === '') {
      issues.push({ path, message: `refers to the environment variable ${name}, which is not set` });
      return reference;
    }
    return found;
  });
}
