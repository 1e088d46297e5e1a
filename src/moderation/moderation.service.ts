import { readFile } from 'node:fs/promises';
import type { Knex } from '@mikro-orm/knex';
import type { AdminService } from '../admin/admin.service';
import type { RequestContext } from '../auth/context';
import { badInput, conflict, notFound } from '../common/errors';
import { id as idArg, text } from '../common/validate';
import { isUniqueViolation } from '../db/errors';
import type { ModerationStore, WordListRecord } from './moderation.store';
import type { WordListSync } from './moderation.sync';
import { foldWord, type WordListAction } from './moderation.words';

/** The longest word a list holds, in UTF-16 units. */
export const MAX_WORD_LENGTH = 100;
/** Words one addWords or removeWords may carry. */
export const MAX_WORDS_PER_CALL = 1000;
/** Words one list may hold. */
export const MAX_WORDS_PER_LIST = 10_000;
/** The list MODERATION_WORDS_FILE fills. */
export const FILE_LIST = 'file';

/**
 * The admin API over word lists. Every change is committed, recorded in the audit log, then applied on every node
 * by {@link WordListSync} (on this one before the mutation answers).
 */
export class ModerationService {
  constructor(
    private readonly store: ModerationStore,
    private readonly admin: AdminService,
    private readonly sync: WordListSync,
  ) {}

  /** Every list with its words; admins only. */
  async lists(ctx: RequestContext): Promise<WordListRecord[]> {
    await this.admin.requireAdmin(ctx);
    return this.store.lists();
  }

  /** Creates an empty list; CONFLICT when the name is taken. */
  async create(ctx: RequestContext, nameArg: string, action: WordListAction): Promise<WordListRecord> {
    const viewer = await this.admin.requireAdmin(ctx);
    const name = text('name', nameArg, 1, 64);
    let id: string;
    try {
      id = await this.store.create(name, action);
    } catch (error) {
      if (isUniqueViolation(error)) throw conflict(`name: a word list named ${name} exists`);
      throw error;
    }
    await this.admin.record({ actorId: viewer.userId, action: 'CREATE_WORD_LIST', subjectType: 'WORD_LIST', subjectId: id, reason: null, details: { name, action } });
    return this.applied(id);
  }

  /** Changes what the list does to a text containing one of its words. */
  async setAction(ctx: RequestContext, listId: string, action: WordListAction): Promise<WordListRecord> {
    return this.edit(ctx, listId, 'SET_WORD_LIST_ACTION', async (trx, id) => ({ changed: await this.store.setAction(trx, id, action), details: { action } }));
  }

  /** Adds words (trimmed, case folded; those already there are ignored). */
  async addWords(ctx: RequestContext, listId: string, wordsArg: readonly string[]): Promise<WordListRecord> {
    const words = checkWords(wordsArg);
    return this.edit(ctx, listId, 'ADD_WORDS', async (trx, id) => {
      const { added, size } = await this.store.addWords(trx, id, words);
      // Thrown inside the transaction: nothing of this call is kept.
      if (size > MAX_WORDS_PER_LIST) throw badInput('words', `a list holds at most ${MAX_WORDS_PER_LIST} words; this one would hold ${size}`);
      return { changed: added > 0, details: { added, words: words.length } };
    });
  }

  /** Removes words (matched as addWords stores them); absent ones are ignored. */
  async removeWords(ctx: RequestContext, listId: string, wordsArg: readonly string[]): Promise<WordListRecord> {
    const words = checkWords(wordsArg);
    return this.edit(ctx, listId, 'REMOVE_WORDS', async (trx, id) => {
      const removed = await this.store.removeWords(trx, id, words);
      return { changed: removed > 0, details: { removed, words: words.length } };
    });
  }

  /** Deletes a list and its words; NOT_FOUND when there is none. */
  async delete(ctx: RequestContext, listIdArg: string): Promise<boolean> {
    const viewer = await this.admin.requireAdmin(ctx);
    const listId = idArg('id', listIdArg);
    const [list] = await this.store.lists(listId);
    if (!list || !(await this.store.delete(listId))) throw notFound('word list');
    await this.admin.record({ actorId: viewer.userId, action: 'DELETE_WORD_LIST', subjectType: 'WORD_LIST', subjectId: listId, reason: null, details: { name: list.name, words: list.words.length } });
    await this.sync.changed();
    return true;
  }

  /**
   * Makes the list named 'file' hold exactly the words of `file` (one a line; blank lines and lines starting with
   * '#' skipped) with `action`, creating it when missing; logged with no actor when anything changed. Nodes starting
   * together may race to create it: the loser finds it made. Resolves whether anything changed.
   */
  async seedFromFile(file: string, action: WordListAction): Promise<boolean> {
    const lines = (await readFile(file, 'utf8')).split(/\r?\n/);
    const words = [...new Set(lines.filter((l) => l.trim() && !l.trimStart().startsWith('#')).map(foldWord))];
    const tooLong = words.find((w) => w.length > MAX_WORD_LENGTH);
    if (tooLong) throw new Error(`MODERATION_WORDS_FILE: "${tooLong.slice(0, 20)}..." is longer than ${MAX_WORD_LENGTH} characters`);
    if (words.length > MAX_WORDS_PER_LIST) throw new Error(`MODERATION_WORDS_FILE: ${words.length} words, more than the ${MAX_WORDS_PER_LIST} a list holds`);
    const id = (await this.store.idOf(FILE_LIST)) ?? (await this.store.create(FILE_LIST, action).catch(async (error: unknown) => {
      if (isUniqueViolation(error)) return (await this.store.idOf(FILE_LIST))!;
      throw error;
    }));
    let changed = false;
    await this.store.change(id, async (trx) => {
      const actionChanged = await this.store.setAction(trx, id, action);
      changed = (await this.store.replaceWords(trx, id, words)) || actionChanged;
      return changed;
    });
    if (changed) await this.admin.record({ actorId: null, action: 'SEED_WORD_LIST', subjectType: 'WORD_LIST', subjectId: id, reason: null, details: { file, words: words.length, action } });
    return changed;
  }

  /** One change of one list under its lock: validated, committed, recorded, applied. */
  private async edit(
    ctx: RequestContext,
    listIdArg: string,
    action: string,
    change: (trx: Knex.Transaction, listId: string) => Promise<{ changed: boolean; details: Record<string, unknown> }>,
  ): Promise<WordListRecord> {
    const viewer = await this.admin.requireAdmin(ctx);
    const listId = idArg('listId', listIdArg);
    let details: Record<string, unknown> = {};
    const found = await this.store.change(listId, async (trx) => {
      const result = await change(trx, listId);
      details = result.details;
      return result.changed;
    });
    if (!found) throw notFound('word list');
    await this.admin.record({ actorId: viewer.userId, action, subjectType: 'WORD_LIST', subjectId: listId, reason: null, details });
    return this.applied(listId);
  }

  /** Applies the change on every node, then answers the list as it is now. */
  private async applied(listId: string): Promise<WordListRecord> {
    await this.sync.changed();
    const [list] = await this.store.lists(listId);
    if (!list) throw notFound('word list');
    return list;
  }
}

/** Folded, distinct words within the limits; BAD_USER_INPUT naming `words` otherwise. */
function checkWords(words: readonly string[]): string[] {
  if (words.length === 0 || words.length > MAX_WORDS_PER_CALL) throw badInput('words', `give 1-${MAX_WORDS_PER_CALL} words`);
  const folded = words.map(foldWord);
  const bad = folded.findIndex((w) => w.length === 0 || w.length > MAX_WORD_LENGTH);
  if (bad >= 0) throw badInput('words', `word ${bad + 1} must be 1-${MAX_WORD_LENGTH} characters`);
  return [...new Set(folded)];
}
