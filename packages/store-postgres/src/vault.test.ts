import { vaultContract } from '@gatehouse/server/vault/contract';
import { withTestDatabase } from './testing.ts';

await withTestDatabase((db) => {
  vaultContract('PostgreSQL', async () => {
    const schema = db.newSchema();
    const store = await db.open(schema);
    return {
      store,
      second: () => db.open(schema),
      // Every row of every table in the schema as text, as anyone reading the database would see it.
      raw: async () => {
        const { rows: tables } = await db.admin.query(
          'SELECT table_name FROM information_schema.tables WHERE table_schema = $1',
          [schema],
        );
        const dump: string[] = [];
        for (const { table_name } of tables as Array<{ table_name: string }>) {
          const { rows } = await db.admin.query(
            `SELECT row_to_json(t)::text AS row FROM "${schema}"."${table_name}" t`,
          );
          dump.push(...rows.map((r) => r.row as string));
        }
        return dump.join('\n');
      },
    };
  });
});
