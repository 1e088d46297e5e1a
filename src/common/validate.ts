import { badInput } from './errors';

/** Trims and checks a required string's length; the error names the field. */
export function text(field: string, value: string, min: number, max: number): string {
  const trimmed = value.trim();
  if (trimmed.length < min || trimmed.length > max) {
    throw badInput(field, min === max ? `must be ${min} characters` : `must be ${min}-${max} characters`);
  }
  return trimmed;
}

/** Like {@link text} for an optional value; empty means "clear it" and gives null. */
export function optionalText(field: string, value: string | null | undefined, max: number): string | null | undefined {
  if (value === undefined) return undefined;
  if (value === null || value.trim() === '') return null;
  return text(field, value, 1, max);
}

/** An http(s) URL of bounded length, or null to clear. */
export function optionalUrl(field: string, value: string | null | undefined): string | null | undefined {
  const v = optionalText(field, value, 1024);
  if (v == null) return v;
  if (!/^https?:\/\/[^\s]+$/i.test(v) && !v.startsWith('/')) throw badInput(field, 'must be an http(s) URL or a path');
  return v;
}

/** A whole number within bounds, or the fallback when absent. */
export function intIn(field: string, value: number | null | undefined, min: number, max: number, fallback: number): number {
  if (value === null || value === undefined) return fallback;
  if (!Number.isInteger(value) || value < min || value > max) throw badInput(field, `must be from ${min} to ${max}`);
  return value;
}

/** An ID argument: our ids are positive decimal integers rendered as strings. */
export function id(field: string, value: string): string {
  if (!/^[1-9][0-9]{0,18}$/.test(value)) throw badInput(field, 'is not a valid id');
  return value;
}

/** A list of ids (each valid, naming `field` otherwise), without repeats. */
export function idList(field: string, values: readonly string[]): string[] {
  return [...new Set(values.map((value) => id(field, value)))];
}
