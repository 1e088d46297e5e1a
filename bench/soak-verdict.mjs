// Whether a series sampled over a soak levelled off.
//
// The rule: the run is cut in thirds by time. The first third is warm-up (V8 compiles and optimizes, pools, caches
// and MariaDB's buffer pool fill, every user has connected at most a couple of times) and is left out. A series
// GROWS when its statistic over the last third exceeds that over the middle third by more than GROWTH_SHARE of the
// middle one AND by more than the series' floor (the noise of garbage collection and of the allocator). The growth
// per minute is that difference over a third of the run. The statistic is the mean, except for RSS, where it is the
// maximum: a node's RSS follows V8's heap, which under steady load climbs to a ceiling, gives memory back and
// climbs again (by 100 MB at the soak's rate), so where the troughs fall decides a mean, while a leak lifts the
// ceiling. A soak fails when any series marked `fails` grows: RSS and live heap of a server process, Redis
// used_memory. What the rule cannot see: over 10 minutes, a leak slower than GROWTH_SHARE per third of the run
// (e.g. under ~2 MB/min on a 150 MB process).

/** How much the last third may exceed the middle third, as a share of the middle third's mean. */
export const GROWTH_SHARE = 0.05;
/** Fewer samples than this leave no two per third to compare: no verdict. */
export const MIN_SAMPLES = 6;

const mean = (xs) => xs.reduce((a, b) => a + b, 0) / xs.length;
const STATISTICS = { mean, max: (xs) => Math.max(...xs) };

/**
 * @param {[number, number][]} points [minutes since the start, value]
 * @param {{ minutes: number, floor: number, statistic?: 'mean' | 'max' }} options minutes: the run's length; floor: in
 *   the series' unit; statistic: what is compared of each third @default 'mean'
 * @returns {{ verdict: 'flat' | 'grows' | 'falls' | 'too short', middle?: number, last?: number, perMinute?: number }}
 */
export function levelsOff(points, { minutes, floor, statistic = 'mean' }) {
  const finite = points.filter(([, v]) => Number.isFinite(v));
  if (finite.length < MIN_SAMPLES) return { verdict: 'too short' };
  const third = minutes / 3;
  const of = STATISTICS[statistic];
  const middle = of(finite.filter(([t]) => t > third && t <= 2 * third).map(([, v]) => v));
  const last = of(finite.filter(([t]) => t > 2 * third).map(([, v]) => v));
  const change = last - middle;
  const limit = Math.max(GROWTH_SHARE * Math.abs(middle), floor);
  const verdict = change > limit ? 'grows' : change < -limit ? 'falls' : 'flat';
  return { verdict, middle, last, perMinute: change / third };
}
