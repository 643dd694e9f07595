import assert from 'node:assert/strict';
import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { after, before, test } from 'node:test';
import { DemoDatabase } from './database.ts';

let dir: string;
let db: DemoDatabase;
before(async () => {
  dir = await mkdtemp(path.join(tmpdir(), 'gatehouse-db-'));
  db = new DemoDatabase(path.join(dir, 'demo.sqlite'));
});
after(async () => {
  db.close();
  await rm(dir, { recursive: true, force: true });
});

test('database: the query tool reads but cannot write', () => {
  assert.ok(db.query('SELECT title FROM notes').length >= 2);
  assert.throws(() => db.query("INSERT INTO notes (title) VALUES ('x')"));
  assert.throws(() => db.query('DELETE FROM notes'));
});

test('database: the write tool changes rows and reports the tables it touched', () => {
  const { changes, tables } = db.execute("UPDATE tasks SET done = 1 WHERE title LIKE 'Try%'");
  assert.equal(changes, 1);
  assert.deepEqual(tables, ['tasks']);
});

test('database: ATTACH (files anywhere), PRAGMA and schema changes are refused on both connections', () => {
  const outside = path.join(dir, 'elsewhere.sqlite');
  for (const sql of [
    `ATTACH DATABASE '${outside}' AS x`,
    'PRAGMA writable_schema = 1',
    'DROP TABLE notes',
    'CREATE TABLE t (a)',
  ]) {
    assert.throws(() => db.execute(sql), sql);
    assert.throws(() => db.query(sql), sql);
  }
  assert.deepEqual(db.tables(), ['notes', 'tasks']);
});
