import { Arg, Ctx, ID, Mutation, Query, Resolver } from 'type-graphql';
import type { RequestContext } from '../auth/context';
import type { ModerationService } from './moderation.service';
import type { WordListRecord } from './moderation.store';
import { WordList, WordListActionEnum } from './moderation.types';

const toWordList = (list: WordListRecord): WordList => ({
  ...list,
  action: list.action as WordListActionEnum,
  wordCount: list.words.length,
  createdAt: new Date(list.createdAt),
  updatedAt: new Date(list.updatedAt),
});

/** The word lists' admin API: every field answers FORBIDDEN unless the viewer holds the ADMIN role. */
@Resolver()
export class ModerationResolver {
  constructor(private readonly service: ModerationService) {}

  @Query(() => [WordList], { description: 'Admins only: every word list with its words.' })
  async wordLists(@Ctx() ctx: RequestContext): Promise<WordList[]> {
    return (await this.service.lists(ctx)).map(toWordList);
  }

  @Mutation(() => WordList, { description: 'Admins only: an empty list; CONFLICT when the name (1-64 characters) is taken.' })
  async createWordList(@Ctx() ctx: RequestContext, @Arg('name') name: string, @Arg('action', () => WordListActionEnum) action: WordListActionEnum): Promise<WordList> {
    return toWordList(await this.service.create(ctx, name, action));
  }

  @Mutation(() => WordList, { description: 'Admins only: changes what the list does; in force on every node at once.' })
  async setWordListAction(@Ctx() ctx: RequestContext, @Arg('id', () => ID) id: string, @Arg('action', () => WordListActionEnum) action: WordListActionEnum): Promise<WordList> {
    return toWordList(await this.service.setAction(ctx, id, action));
  }

  @Mutation(() => WordList, { description: 'Admins only: adds 1-1000 words of 1-100 characters (a list holds at most 10000); known ones are ignored.' })
  async addWords(@Ctx() ctx: RequestContext, @Arg('listId', () => ID) listId: string, @Arg('words', () => [String]) words: string[]): Promise<WordList> {
    return toWordList(await this.service.addWords(ctx, listId, words));
  }

  @Mutation(() => WordList, { description: 'Admins only: removes 1-1000 words; unknown ones are ignored.' })
  async removeWords(@Ctx() ctx: RequestContext, @Arg('listId', () => ID) listId: string, @Arg('words', () => [String]) words: string[]): Promise<WordList> {
    return toWordList(await this.service.removeWords(ctx, listId, words));
  }

  @Mutation(() => Boolean, { description: 'Admins only: deletes the list and its words.' })
  deleteWordList(@Ctx() ctx: RequestContext, @Arg('id', () => ID) id: string): Promise<boolean> {
    return this.service.delete(ctx, id);
  }
}
