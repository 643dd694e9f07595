/** One problem in a configuration file: where (a key path such as `mcpServers.github.url`) and what is expected. */
export interface ConfigIssue {
  /** The key path, dot-separated, with `[i]` for array items and `["…"]` for keys that are not plain names; '' for the file itself. */
  path: string;
  /** What is expected there, e.g. `expected an https or loopback URL`. Never quotes the value (it may be a secret). */
  message: string;
}

/**
 * A configuration file Gatehouse cannot use. Its message has one line per problem,
 * `<file>: <path>: <what is expected>`, so `gatehouse config check` and `gatehouse serve` can
 * print it as it is; `path` is the first problem's key path and `issues` lists them all.
 *
 * @example
 * // gatehouse.json: mcpServers.github.url: expected an https or loopback URL
 */
export class ConfigError extends Error {
  override readonly name = 'ConfigError';
  readonly file: string;
  readonly path: string;
  readonly issues: readonly ConfigIssue[];

  constructor(file: string, issues: readonly ConfigIssue[]) {
    super(issues.map((issue) => formatIssue(file, issue)).join('\n'));
    this.file = file;
    this.issues = issues;
    this.path = issues[0]?.path ?? '';
  }
}

/** `<file>: <path>: <message>`, or `<file>: <message>` for the file as a whole. */
export function formatIssue(file: string, issue: ConfigIssue): string {
  return issue.path ? `${file}: ${issue.path}: ${issue.message}` : `${file}: ${issue.message}`;
}

/** A path as the user writes it: `mcpServers.github.args[0]`, `tools["repo.read"]`. */
export function formatPath(path: readonly PropertyKey[]): string {
  let out = '';
  for (const segment of path) {
    if (typeof segment === 'number') out += `[${segment}]`;
    else if (typeof segment === 'string' && /^[A-Za-z_$][\w$-]*$/.test(segment))
      out += out ? `.${segment}` : segment;
    else out += `[${JSON.stringify(String(segment))}]`;
  }
  return out;
}
