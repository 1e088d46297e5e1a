import type { ComplexityEstimatorArgs } from 'graphql-query-complexity';
import { ArgsType, Field, ID, Int } from 'type-graphql';
import { badInput } from './errors';
import { id as idArg } from './validate';

/** The largest page a list field answers: `first` may be 1 to this. */
export const PAGE_MAX = 500;

/**
 * The most items a list field answers when `first` is absent. A longer list is refused with BAD_USER_INPUT
 * telling the client to page, never cut short without a word.
 */
export const UNPAGED_MAX = 100;

/** The paging arguments of every list field that can grow. */
@ArgsType()
export class PageArgs {
  @Field(() => Int, { nullable: true, description: `How many items (1-${PAGE_MAX}); without it, all of them if there are at most ${UNPAGED_MAX}.` })
  first?: number | null;

  @Field(() => ID, { nullable: true, description: 'The id of the last item of the previous page (as the list names its items); absent for the first page.' })
  after?: string | null;
}

/** What a client asked of a list field: `first` items after the item whose id is `after`. */
export interface Page {
  /** The list's field name, for error messages. */
  field: string;
  /** null: everything, if there are at most {@link UNPAGED_MAX}. */
  first: number | null;
  /** The id of the last item of the previous page; null for the first page. */
  after: string | null;
}

/** Checks a list field's paging arguments; the errors name the argument. */
export function page(field: string, { first, after }: PageArgs): Page {
  if (first != null && (!Number.isInteger(first) || first < 1 || first > PAGE_MAX)) throw badInput('first', `must be from 1 to ${PAGE_MAX}`);
  return { field, first: first ?? null, after: after == null ? null : idArg('after', after) };
}

/** How many rows to read for a page: `first`, or one past {@link UNPAGED_MAX} to notice a list too long to answer unpaged. */
export const rowsToRead = (p: Page): number => p.first ?? UNPAGED_MAX + 1;

/** The rows read for a page (at most {@link rowsToRead}), or BAD_USER_INPUT when an unpaged list is too long. */
export function answer<T>(p: Page, rows: T[]): T[] {
  if (p.first === null && rows.length > UNPAGED_MAX) {
    throw badInput(p.field, `has more than ${UNPAGED_MAX} items: ask for pages with first (at most ${PAGE_MAX}) and after`);
  }
  return rows;
}

/** A page of a list held in memory, in its order; `after` must name one of its items. */
export function slice<T>(p: Page, items: readonly T[], idOf: (item: T) => string): T[] {
  let start = 0;
  if (p.after !== null) {
    const at = items.findIndex((item) => idOf(item) === p.after);
    if (at < 0) throw badInput('after', `is not in ${p.field} (any more): start again without after`);
    start = at + 1;
  }
  return answer(p, items.slice(start, start + rowsToRead(p)));
}

/**
 * The query cost of a list field whose size the argument `arg` asks for (`fallback` items without it, at most
 * `max`): one point for the field and its selection's cost for each item it may answer, so that a query costs
 * what it can return.
 */
export const sizedCost =
  (arg: string, fallback: number, max: number) =>
  ({ args, childComplexity }: ComplexityEstimatorArgs): number => {
    const size = typeof args[arg] === 'number' ? Math.min(Math.max(args[arg], 0), max) : fallback;
    return 1 + size * Math.max(childComplexity, 1);
  };

/** The query cost of a paged list field: its selection once per item `first` (or {@link UNPAGED_MAX}) asks for. */
export const pagedCost = sizedCost('first', UNPAGED_MAX, PAGE_MAX);

/** The description every paged field ends with. */
export const PAGED = `Paged: \`first\` 1-${PAGE_MAX} items after the item whose id is \`after\`; without \`first\`, all of them if there are at most ${UNPAGED_MAX}, else BAD_USER_INPUT. Costed at \`first\` (or ${UNPAGED_MAX}) items.`;
