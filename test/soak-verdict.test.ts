import { execFileSync } from 'node:child_process';
import path from 'node:path';

const root = path.resolve(__dirname, '..');

type Verdict = { verdict: string; middle?: number; last?: number };

/** `levelsOff` of bench/soak-verdict.mjs (an ES module, so run by node itself) over a 10-minute series of 40 samples. */
function levelsOff(values: number[], statistic: 'mean' | 'max', floor = 5): Verdict {
  const points = values.map((v, i) => [(i + 1) / 4, v]);
  const script = `import('./bench/soak-verdict.mjs').then(({ levelsOff }) => console.log(JSON.stringify(levelsOff(${JSON.stringify(points)}, { minutes: 10, floor: ${floor}, statistic: '${statistic}' }))))`;
  return JSON.parse(execFileSync(process.execPath, ['-e', script], { cwd: root, encoding: 'utf8' }));
}

/** RSS as the soak's push nodes showed it: climbs to a ceiling, gives memory back, climbs again. */
const sawtooth = (ceiling: (i: number) => number) => Array.from({ length: 40 }, (_, i) => ceiling(i) - [90, 60, 30, 0, 0, 0][i % 6]!);

describe('soak verdict', () => {
  it('should call an RSS that swings under a steady ceiling flat by its maximum, though its mean rises', () => {
    // The troughs fall in the middle third more often than in the last: the mean rule reads growth.
    const rss = sawtooth(() => 295).map((v, i) => (i >= 14 && i < 26 && i % 3 === 0 ? v - 80 : v));
    expect(levelsOff(rss, 'mean').verdict).toBe('grows');
    expect(levelsOff(rss, 'max').verdict).toBe('flat');
  });

  it('should call an RSS whose ceiling climbs 6 MB a minute growing by its maximum', () => {
    expect(levelsOff(sawtooth((i) => 250 + 1.5 * i), 'max').verdict).toBe('grows');
  });

  it('should call a live heap that gains 2 MB a minute growing, and one that wobbles by 2 MB flat', () => {
    expect(levelsOff(Array.from({ length: 40 }, (_, i) => 47 + 0.5 * i), 'mean').verdict).toBe('grows');
    expect(levelsOff(Array.from({ length: 40 }, (_, i) => 47 + (i % 2 ? 2 : 0)), 'mean').verdict).toBe('flat');
  });
});
