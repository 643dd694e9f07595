import { parseArgs } from 'node:util';
import { randomToken, redirectUriProblem } from '@gatehouse/core';
import { CLIENT_SECRET_PREFIX, type ClientRecord, createOpaqueToken } from '@gatehouse/server';
import { auditAdmin, nowSeconds, revokeGrantAsAdmin } from '../admin.ts';
import { openDataFolder } from '../data.ts';
import { DATA_OPTIONS, printJson, UsageError } from '../output.ts';

export const USAGE = `Usage: gatehouse clients add --name NAME --redirect-uri URI [--redirect-uri URI …] [--confidential [--resource-server]] [--scope "…"] [--json]
       gatehouse clients list [--json]
       gatehouse clients remove CLIENT_ID
       (each also takes --data DIR and --store URL)

Pre-registered clients. A confidential client's secret is shown once; removing a client revokes
every grant it holds.

  --name NAME         the name users see on the consent screen
  --redirect-uri URI  where authorization responses go (repeatable; a public client needs one)
  --confidential      give the client a secret (client_secret_basic) and client_credentials
  --resource-server   a protected resource (MCP server) allowed to introspect tokens (RFC 7662);
                      needs --confidential
  --scope "…"         the scopes the client may be granted, space-separated
  --json              print JSON
${DATA_OPTIONS}`;

/** A random client id that never starts with '-', so that it can be passed to commands as is. */
function newClientId(): string {
  for (;;) {
    const id = randomToken(16);
    if (!id.startsWith('-')) return id;
  }
}

/** `gatehouse clients …`: pre-registered clients. A confidential client's secret is shown once. */
export async function run(args: string[]): Promise<number> {
  const { positionals, values } = parseArgs({
    args,
    allowPositionals: true,
    options: {
      data: { type: 'string' },
      store: { type: 'string' },
      name: { type: 'string' },
      'redirect-uri': { type: 'string', multiple: true },
      confidential: { type: 'boolean' },
      'resource-server': { type: 'boolean' },
      scope: { type: 'string' },
      json: { type: 'boolean' },
    },
  });
  const [verb, id] = positionals;
  const data = await openDataFolder(values);
  try {
    if (verb === 'list') {
      const clients = await data.store.listClients();
      if (values.json) printJson(clients.map(({ secret_hash: _, ...c }) => c));
      else for (const c of clients) console.log(`${c.client_id}\t${c.kind}\t${c.client_name}`);
      return 0;
    }
    if (verb === 'remove') {
      if (!id) throw new UsageError(USAGE);
      // Removed first, so it can obtain no new grant; then every grant it holds is revoked.
      if (!(await data.store.deleteClient(id)))
        throw new UsageError(`No client "${id}". See: gatehouse clients list`);
      const grants = await data.store.listGrants({ client_id: id });
      for (const grant of grants) await revokeGrantAsAdmin(data.store, grant.id, 'client removed');
      await auditAdmin(data.store, { type: 'admin.client_removed', client_id: id });
      console.log(`Removed client ${id} and revoked its ${grants.length} grant(s).`);
      return 0;
    }
    if (verb !== 'add') throw new UsageError(USAGE);
    const name = values.name;
    const redirectUris = values['redirect-uri'] ?? [];
    if (!name) throw new UsageError('Give the application a name: --name "My MCP client"');
    if (!values.confidential && redirectUris.length === 0) {
      throw new UsageError(
        'A public client needs at least one --redirect-uri (e.g. http://127.0.0.1/callback).',
      );
    }
    if (values['resource-server'] && !values.confidential) {
      throw new UsageError('A --resource-server authenticates with a secret: add --confidential.');
    }
    for (const uri of redirectUris) {
      const problem = redirectUriProblem(uri);
      if (problem) throw new UsageError(`--redirect-uri ${uri}: ${problem}.`);
    }
    const secret = values.confidential ? createOpaqueToken(CLIENT_SECRET_PREFIX) : undefined;
    const grantTypes = redirectUris.length ? ['authorization_code', 'refresh_token'] : [];
    if (values.confidential) grantTypes.push('client_credentials');
    const client: ClientRecord = {
      client_id: newClientId(),
      kind: 'preregistered',
      client_name: name,
      redirect_uris: redirectUris,
      token_endpoint_auth_method: secret ? 'client_secret_basic' : 'none',
      grant_types: grantTypes,
      scope: values.scope,
      secret_hash: secret && data.secrets.hash(secret),
      // Only here: no registration (DCR, CIMD) can make a client a resource server.
      resource_server: values['resource-server'] === true ? true : undefined,
      created_at: nowSeconds(),
    };
    await data.store.createClient(client);
    await auditAdmin(data.store, { type: 'admin.client_added', client_id: client.client_id });
    if (values.json) printJson({ client_id: client.client_id, ...(secret ? { client_secret: secret } : {}) });
    else {
      console.log(`client_id:     ${client.client_id}`);
      if (secret)
        console.log(`client_secret: ${secret}\n(Shown once; Gatehouse keeps only a keyed hash of it.)`);
    }
    return 0;
  } finally {
    await data.store.close();
  }
}
