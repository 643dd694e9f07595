/** Default bound on a request body the guard reads (the MCP SDK's own default). */
export const DEFAULT_MAX_BODY_BYTES = 4 * 1024 * 1024;
