import type { McpScopeManifest } from '@gatehouse/resource';

/** What each tool, resource and prompt of the demo needs: the single source for the guard's policy. */
export const demoManifest = {
  tools: {
    list_files: 'tools:execute:filesystem',
    read_file: 'tools:execute:filesystem',
    write_file: 'tools:execute:filesystem',
    search_files: 'tools:execute:filesystem',
    query: 'tools:execute:database',
    execute: 'tools:execute:database',
  },
  resources: [{ uriTemplate: 'demo://tables/{table}', scope: 'resources:read' }],
  prompts: { summarize_table: 'prompts:execute', review_file: 'prompts:execute' },
} as const satisfies McpScopeManifest;

export type DemoToolName = keyof typeof demoManifest.tools;
