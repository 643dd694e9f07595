/** What the guard benchmark sends: one MCP `tools/call` of the demo's database tool, the same bytes everywhere. */
export const toolsCallBody = JSON.stringify({
  jsonrpc: '2.0',
  id: 1,
  method: 'tools/call',
  params: { name: 'query', arguments: { sql: 'SELECT title FROM notes' } },
});

/** A guard-benchmark server process says where its MCP endpoint is and which token to send. */
export interface GuardReady {
  type: 'ready';
  url: string;
  token: string;
}

/** The guard's in-process cost per `tools/call`, microseconds: first use of a token, then cached. */
export interface GuardColdReply {
  type: 'cold';
  id: number;
  cold: number[];
  cached: number[];
}
