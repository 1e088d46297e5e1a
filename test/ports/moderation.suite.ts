import type { Moderation } from '../../src/moderation/moderation';

/**
 * The contract of the Moderation port (see src/moderation/moderation.ts), for any adapter. `factory` gives an
 * adapter whose policy masks the word 'darn' (case-insensitively, a '*' per character) and refuses 'forbidden'.
 */
export function moderationSuite(name: string, factory: () => Moderation | Promise<Moderation>): void {
  describe(`Moderation contract: ${name}`, () => {
    const context = { userId: '42' };

    it('should allow a clean text and give it back unchanged', async () => {
      const moderation = await factory();
      expect(await moderation.check('content', 'have a nice day', context)).toEqual({ action: 'ALLOW', text: 'have a nice day' });
    });

    it('should mask a listed word in place, keeping the rest and the length of the text', async () => {
      const moderation = await factory();
      const verdict = await moderation.check('nickname', 'oh DARN it, darn', context);
      expect(verdict).toEqual({ action: 'MASK', text: 'oh **** it, ****' });
    });

    it('should refuse a text with a refused word, whatever else it holds', async () => {
      const moderation = await factory();
      expect((await moderation.check('notice', 'darn, this is Forbidden', { userId: null })).action).toBe('REFUSE');
    });

    it('should answer concurrent checks each for its own text', async () => {
      const moderation = await factory();
      const texts = Array.from({ length: 30 }, (_, i) => (i % 3 === 0 ? `darn ${i}` : i % 3 === 1 ? `forbidden ${i}` : `fine ${i}`));
      const verdicts = await Promise.all(texts.map((text) => moderation.check('content', text, context)));
      verdicts.forEach((verdict, i) => {
        if (i % 3 === 0) expect(verdict).toEqual({ action: 'MASK', text: `**** ${i}` });
        else if (i % 3 === 1) expect(verdict.action).toBe('REFUSE');
        else expect(verdict).toEqual({ action: 'ALLOW', text: `fine ${i}` });
      });
    });
  });
}
