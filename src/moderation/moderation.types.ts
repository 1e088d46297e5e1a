import { Field, ID, Int, ObjectType, registerEnumType } from 'type-graphql';

/** What a word list does to a text that contains one of its words. */
export enum WordListActionEnum {
  MASK = 'MASK',
  REFUSE = 'REFUSE',
}
registerEnumType(WordListActionEnum, {
  name: 'WordListAction',
  description: 'MASK stores the text with each character of a listed word replaced by *; REFUSE answers BAD_USER_INPUT naming the field, with extensions.reason MODERATION.',
});

/** A list of sensitive words, as admins see it. */
@ObjectType('WordList', { description: 'A list of sensitive words matched, case-insensitively, in message text, nicknames, signatures, group names and notices. Admins only.' })
export class WordList {
  @Field(() => ID)
  id!: string;

  @Field({ description: "Unique; 'file' is the list seeded from MODERATION_WORDS_FILE at startup." })
  name!: string;

  @Field(() => WordListActionEnum)
  action!: WordListActionEnum;

  @Field(() => Int, { description: 'Grows with every change of the list; every node compiles the versions it sees.' })
  version!: number;

  @Field(() => [String], { description: 'The words, as matched (trimmed, lower case), sorted.' })
  words!: string[];

  @Field(() => Int)
  wordCount!: number;

  @Field()
  createdAt!: Date;

  @Field()
  updatedAt!: Date;
}
