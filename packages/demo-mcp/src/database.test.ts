import assert from 'node:assert/strict';
import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { DatabaseSync } from 'node:sqlite';
import { after, before, test } from 'node:test';
import { DemoDatabase } from './database.ts';
import type { SqlError } from './sql-error.ts';

let dir: string;
let file: string;
let db: DemoDatabase;
before(async () => {
  dir = await mkdtemp(path.join(tmpdir(), 'gatehouse-db-'));
  file = path.join(dir, 'demo.sqlite');
  db = new DemoDatabase(file);
});
after(async () => {
  db.close();
  await rm(dir, { recursive: true, force: true });
});

/** What another process sees in the file: only committed rows. */
function committedTitles(table: 'notes' | 'tasks'): string[] {
  const reader = new DatabaseSync(file, { readOnly: true });
  try {
    return reader
      .prepare(`SELECT title FROM ${table} ORDER BY id`)
      .all()
      .map((r) => String(r.title));
  } finally {
    reader.close();
  }
}

const refused = (code: SqlError['code']) => (err: unknown) => (err as SqlError).code === code;

/** A count over a 32-way cross join of two rows: 2^32 rows, minutes of work for SQLite. */
const CROSS_JOIN = `SELECT count(*) AS n FROM ${Array.from({ length: 32 }, (_, i) => `notes t${i}`).join(', ')}`;

test('database: the query tool reads but cannot write', async () => {
  assert.ok((await db.query('SELECT title FROM notes')).length >= 2);
  await assert.rejects(db.query("INSERT INTO notes (title) VALUES ('x')"));
  await assert.rejects(db.query('DELETE FROM notes'));
});

test('database: the write tool changes rows and reports the tables it touched', async () => {
  const { changes, tables } = await db.execute("UPDATE tasks SET done = 1 WHERE title LIKE 'Try%'");
  assert.equal(changes, 1);
  assert.deepEqual(tables, ['tasks']);
});

test('database: ATTACH (files anywhere), PRAGMA and schema changes are refused on both connections', async () => {
  const outside = path.join(dir, 'elsewhere.sqlite');
  for (const sql of [
    `ATTACH DATABASE '${outside}' AS x`,
    'PRAGMA writable_schema = 1',
    'DROP TABLE notes',
    'CREATE TABLE t (a)',
    `VACUUM INTO '${outside}'`,
  ]) {
    await assert.rejects(db.execute(sql), sql);
    await assert.rejects(db.query(sql), sql);
  }
  assert.deepEqual(await db.tables(), ['notes', 'tasks']);
});

test('database: BEGIN and other transaction control are refused, so the next caller’s write commits', async () => {
  for (const sql of [
    'BEGIN',
    'BEGIN IMMEDIATE',
    '/* hidden */ begin exclusive transaction',
    'SAVEPOINT mine',
    'COMMIT',
    'ROLLBACK',
    'VACUUM',
  ]) {
    await assert.rejects(db.execute(sql), refused('statement_refused'), sql);
  }
  await db.execute("INSERT INTO notes (title) VALUES ('after BEGIN')");
  assert.ok(committedTitles('notes').includes('after BEGIN'), 'the write is committed for everyone');
});

test('database: a text with two statements is refused whole, not half run', async () => {
  const before = committedTitles('notes');
  for (const sql of [
    "INSERT INTO notes (title) VALUES ('half'); DELETE FROM notes",
    "INSERT INTO notes (title) VALUES ('half'); BEGIN",
  ]) {
    await assert.rejects(db.execute(sql), refused('statement_refused'), sql);
  }
  await assert.rejects(db.query('SELECT 1; SELECT 2'), refused('statement_refused'));
  assert.deepEqual(committedTitles('notes'), before);
  // A trailing semicolon or comment, or a semicolon inside a string, is still one statement.
  assert.equal((await db.query('SELECT 1 AS one; -- done')).length, 1);
  assert.deepEqual(await db.query("SELECT ';' AS semi;"), [{ semi: ';' }]);
});

test('database: a runaway query is stopped at the deadline while another query is answered meanwhile', async () => {
  const fast = new DemoDatabase(file, { deadlineMs: 5000, processes: 2 });
  try {
    await Promise.all([fast.query('SELECT 1'), fast.query('SELECT 1')]); // both processes started
    const settled: string[] = [];
    const runaway = fast.query(CROSS_JOIN).then(
      () => settled.push('cross join answered'),
      (err: SqlError) => settled.push(`cross join ${err.code}`),
    );
    const other = fast.query('SELECT title FROM notes').then(() => settled.push('other query answered'));
    await Promise.all([runaway, other]);
    assert.deepEqual(settled, ['other query answered', 'cross join timeout']);
    // The killed process was replaced: the database still answers.
    assert.ok((await fast.query('SELECT title FROM notes')).length >= 2);
  } finally {
    fast.close();
  }
});

test('database: a write stopped at the deadline leaves nothing behind and no lock held', async () => {
  const fast = new DemoDatabase(file, { deadlineMs: 5000, processes: 2 });
  try {
    const before = committedTitles('tasks');
    await assert.rejects(fast.execute(`UPDATE tasks SET title = (${CROSS_JOIN})`), refused('timeout'));
    assert.deepEqual(committedTitles('tasks'), before, 'the killed write was rolled back');
    await fast.execute("INSERT INTO tasks (title) VALUES ('after the timeout')");
    assert.ok(committedTitles('tasks').includes('after the timeout'));
  } finally {
    fast.close();
  }
});
