import type { Knex } from '@mikro-orm/knex';
import type { Database } from '../db/database';
import type { CompiledList, WordListAction } from './moderation.words';

/** A word list with its words, as the admin API shows it. */
export interface WordListRecord {
  id: string;
  name: string;
  action: WordListAction;
  version: number;
  /** Sorted. */
  words: string[];
  createdAt: number;
  updatedAt: number;
}

type ListRow = { id: string | number; name: string; action: WordListAction; version: number | string; created_at: number | string; updated_at: number | string };

/** The moderation module's SQL: word lists and their words (stored folded). */
export class ModerationStore {
  constructor(private readonly db: Database) {}

  /** Every list with its words, or only the one with this id; by id. */
  async lists(id?: string): Promise<WordListRecord[]> {
    const query = this.db.knex('word_lists').select<ListRow[]>('*').orderBy('id');
    if (id !== undefined) query.where({ id });
    const rows = await query;
    if (rows.length === 0) return [];
    const words: Array<{ list_id: string | number; word: string }> = await this.db
      .knex('words')
      .select('list_id', 'word')
      .whereIn('list_id', rows.map((r) => r.id))
      .orderBy('word');
    return rows.map((r) => ({
      id: String(r.id),
      name: r.name,
      action: r.action,
      version: Number(r.version),
      words: words.filter((w) => String(w.list_id) === String(r.id)).map((w) => w.word),
      createdAt: Number(r.created_at),
      updatedAt: Number(r.updated_at),
    }));
  }

  /** What the lists are now, in one small string: equal strings mean equal lists (ids never come back). */
  async fingerprint(): Promise<string> {
    const rows: Array<{ id: string | number; version: number | string }> = await this.db.knex('word_lists').select('id', 'version').orderBy('id');
    return rows.map((r) => `${r.id}:${r.version}`).join(',');
  }

  /** Every list's action and words, for the automaton. */
  async compiled(): Promise<CompiledList[]> {
    const rows: Array<{ id: string | number; action: WordListAction; word: string | null }> = await this.db
      .knex('word_lists as l')
      .leftJoin('words as w', 'w.list_id', 'l.id')
      .select('l.id', 'l.action', 'w.word');
    const lists = new Map<string, { action: WordListAction; words: string[] }>();
    for (const row of rows) {
      const list = lists.get(String(row.id)) ?? { action: row.action, words: [] };
      lists.set(String(row.id), list);
      if (row.word !== null) list.words.push(row.word);
    }
    return [...lists.values()];
  }

  /** Creates an empty list; throws a unique violation when the name is taken. */
  async create(name: string, action: WordListAction): Promise<string> {
    const now = Date.now();
    const [id] = await this.db.knex('word_lists').insert({ name, action, version: 1, created_at: now, updated_at: now });
    return String(id);
  }

  /** The list's id by name, if any. */
  async idOf(name: string): Promise<string | undefined> {
    const row = await this.db.knex('word_lists').where({ name }).first('id');
    return row ? String(row.id) : undefined;
  }

  /**
   * Changes a list under its lock and bumps its version; `change` returns whether anything changed (the version
   * stays otherwise). Resolves false when there is no such list.
   */
  async change(id: string, change: (trx: Knex.Transaction) => Promise<boolean>): Promise<boolean> {
    return this.db.knex.transaction(async (trx) => {
      const query = trx('word_lists').where({ id }).first('id');
      // SQLite has no row locks (its writers are serialized anyway) and knex warns on forUpdate there.
      const list = await (this.db.dialect === 'mysql' ? query.forUpdate() : query);
      if (!list) return false;
      if (await change(trx)) await trx('word_lists').where({ id }).update({ version: trx.raw('version + 1'), updated_at: Date.now() });
      return true;
    });
  }

  /** Sets the action (inside {@link change}). */
  async setAction(trx: Knex.Transaction, id: string, action: WordListAction): Promise<boolean> {
    return (await trx('word_lists').where({ id }).whereNot({ action }).update({ action })) > 0;
  }

  /** Adds words the list lacks (inside {@link change}); resolves with the list's size after. */
  async addWords(trx: Knex.Transaction, id: string, words: readonly string[]): Promise<{ added: number; size: number }> {
    const before = await this.size(trx, id);
    for (let i = 0; i < words.length; i += 500) {
      const rows = words.slice(i, i + 500).map((word) => ({ list_id: id, word }));
      await trx('words').insert(rows).onConflict(['list_id', 'word']).ignore();
    }
    const size = await this.size(trx, id);
    return { added: size - before, size };
  }

  /** Removes words (inside {@link change}); resolves with how many were there. */
  async removeWords(trx: Knex.Transaction, id: string, words: readonly string[]): Promise<number> {
    let removed = 0;
    for (let i = 0; i < words.length; i += 500) removed += await trx('words').where({ list_id: id }).whereIn('word', words.slice(i, i + 500)).delete();
    return removed;
  }

  /** Makes the list's words exactly `words` (inside {@link change}); resolves whether any changed. */
  async replaceWords(trx: Knex.Transaction, id: string, words: readonly string[]): Promise<boolean> {
    const current: Array<{ word: string }> = await trx('words').where({ list_id: id }).select('word');
    const wanted = new Set(words);
    const stale = current.map((r) => r.word).filter((w) => !wanted.has(w));
    const have = new Set(current.map((r) => r.word));
    const missing = [...wanted].filter((w) => !have.has(w));
    await this.removeWords(trx, id, stale);
    await this.addWords(trx, id, missing);
    return stale.length + missing.length > 0;
  }

  /** Deletes a list and its words; false when there was none. */
  async delete(id: string): Promise<boolean> {
    return this.db.knex.transaction(async (trx) => {
      await trx('words').where({ list_id: id }).delete();
      return (await trx('word_lists').where({ id }).delete()) > 0;
    });
  }

  private async size(trx: Knex.Transaction, id: string): Promise<number> {
    const row = (await trx('words').where({ list_id: id }).count({ n: '*' }).first()) as { n: number | string } | undefined;
    return Number(row?.n ?? 0);
  }
}
