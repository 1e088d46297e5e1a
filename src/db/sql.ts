/** `n` copies of `fragment`, joined by `separator`: the placeholders of a statement for `n` items. */
export const repeat = (fragment: string, n: number, separator: string): string => Array.from({ length: n }, () => fragment).join(separator);

/**
 * `build`, remembering the text it gives for each count: a hot statement's text is built once per number of
 * items it takes (at most a batch size of them), not once per call.
 */
export function perCount(build: (n: number) => string): (n: number) => string {
  const texts = new Map<number, string>();
  return (n) => {
    let text = texts.get(n);
    if (text === undefined) texts.set(n, (text = build(n)));
    return text;
  };
}
