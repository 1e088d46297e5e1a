import { BigIntType } from '@mikro-orm/core';

/** Ids are 64-bit integers in the database and decimal strings in code and on the wire. */
export const idType = () => new BigIntType('string');

/**
 * Times are stored as epoch milliseconds: the same bytes on SQLite and MySQL, no time-zone or
 * precision surprises, and raw SQL on the hot path can write them without a driver-specific format.
 */
export const epochMs = () => new BigIntType('number');
