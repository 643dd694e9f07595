import { vaultContract } from '@gatehouse/server/vault/contract';
import { withTestDatabase } from './testing.ts';

await withTestDatabase((db) => {
  vaultContract('PostgreSQL', async () => {
    const schema = db.newSchema();
    const store = await db.open(schema);
    return {
      store,
      second: () => db.open(schema),
      // Every connection row as text, as anyone reading the database would see it.
      raw: async () => {
        const { rows } = await db.admin.query(
          `SELECT row_to_json(c)::text AS row FROM "${schema}".connections c`,
        );
        return rows.map((r) => r.row as string).join('\n');
      },
    };
  });
});
