import { storeContract } from '@gatehouse/server/store/contract';
import { withTestDatabase } from './testing.ts';

await withTestDatabase((db) => {
  storeContract('PostgreSQL', () => db.open(db.newSchema()));
});
