import type { ToolInfo } from '../scopes.ts';

/**
 * What the gateway has learned of one upstream's tools from its `tools/list` answers: their
 * annotations (for the read-only scope) and names (for consent). Every listing that passes through
 * the bridge updates it; a tool may move to the broader scope (it stopped saying readOnlyHint),
 * never back to the narrower one.
 */
export class ToolCatalogue {
  readonly #tools = new Map<string, ToolInfo>();
  #loaded = false;
  #loading: Promise<void> | undefined;

  /** True once a complete listing (every page) has been seen. */
  get loaded(): boolean {
    return this.#loaded;
  }

  get(name: string): ToolInfo | undefined {
    return this.#tools.get(name);
  }

  /** Every tool seen, in the order first listed. */
  list(): ToolInfo[] {
    return [...this.#tools.values()];
  }

  /** Records one page of a `tools/list` result; `lastPage` when it had no `nextCursor`. */
  learn(tools: readonly ToolInfo[], lastPage: boolean): void {
    for (const tool of tools) {
      if (typeof tool?.name !== 'string') continue;
      // A tool once listed as not read-only stays so: one process (in per-user mode, one user's)
      // must not lower the scope that every user's call of it needs.
      const known = this.#tools.get(tool.name);
      const wrote = known !== undefined && known.annotations?.readOnlyHint !== true;
      const readOnlyHint = wrote ? false : tool.annotations?.readOnlyHint;
      this.#tools.set(tool.name, {
        name: tool.name,
        ...(tool.annotations || wrote ? { annotations: { readOnlyHint } } : {}),
      });
    }
    if (lastPage) this.#loaded = true;
  }

  /**
   * Lists every page with `listPage` unless already loaded; concurrent callers share one
   * listing. A failure leaves the catalogue as it was, for the next caller to retry.
   */
  load(
    listPage: (cursor?: string) => Promise<{ tools: ToolInfo[]; nextCursor?: string | undefined }>,
  ): Promise<void> {
    if (this.#loaded) return Promise.resolve();
    this.#loading ??= (async () => {
      let cursor: string | undefined;
      // A bound on pages: an upstream that hands out cursors forever must not hold us.
      for (let page = 0; page < 100; page++) {
        const result = await listPage(cursor);
        cursor = result.nextCursor;
        this.learn(result.tools, cursor === undefined);
        if (cursor === undefined) return;
      }
    })().finally(() => {
      this.#loading = undefined;
    });
    return this.#loading;
  }
}
