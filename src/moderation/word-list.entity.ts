import { Entity, ManyToOne, PrimaryKey, Property, Unique } from '@mikro-orm/core';
import { epochMs, idType } from '../db/columns';

/**
 * A list of sensitive words with what to do when a text contains one. `version` grows with every change of the
 * list or its words, so that a node compares (id, version) pairs to know whether its automaton is current.
 */
@Entity({ tableName: 'word_lists' })
export class WordListEntity {
  @PrimaryKey({ type: idType(), autoincrement: true })
  id!: string;

  /** Unique; 'file' is the list seeded from MODERATION_WORDS_FILE. */
  @Property({ length: 64, unique: true })
  name!: string;

  @Property({ length: 8 })
  action!: 'MASK' | 'REFUSE';

  @Property({ type: 'integer' })
  version!: number;

  @Property({ type: epochMs() })
  createdAt!: number;

  @Property({ type: epochMs() })
  updatedAt!: number;
}

/** One word of a list, stored folded (trimmed, lower case) as the matcher compares it. */
@Entity({ tableName: 'words' })
@Unique({ properties: ['list', 'word'] })
export class WordEntity {
  @PrimaryKey({ type: idType(), autoincrement: true })
  id!: string;

  @ManyToOne({ entity: () => WordListEntity, mapToPk: true, deleteRule: 'cascade' })
  list!: string;

  @Property({ length: 100 })
  word!: string;
}
