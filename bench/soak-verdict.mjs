// Whether a series sampled over a soak levelled off.
//
// The rule: the run is cut in thirds by time. The first third is warm-up (V8 compiles and optimizes, pools, caches
// and MariaDB's buffer pool fill, every user has connected at most a couple of times) and is left out. A series
// GROWS when the mean of the last third exceeds the mean of the middle third by more than GROWTH_SHARE of the
// middle mean AND by more than the series' floor (the noise of garbage collection and of the allocator). The growth
// per minute is that difference over the time between the two thirds' midpoints (a third of the run). A soak fails
// when any series marked `fails` grows: RSS of a server process, Redis used_memory. What the rule cannot see: over
// 10 minutes, a leak slower than GROWTH_SHARE per third of the run (e.g. under ~2 MB/min on a 150 MB process).

/** How much the last third may exceed the middle third, as a share of the middle third's mean. */
export const GROWTH_SHARE = 0.05;
/** Fewer samples than this leave no two per third to compare: no verdict. */
export const MIN_SAMPLES = 6;

const mean = (xs) => xs.reduce((a, b) => a + b, 0) / xs.length;

/**
 * @param {[number, number][]} points [minutes since the start, value]
 * @param {{ minutes: number, floor: number }} options minutes: the run's length; floor: in the series' unit
 * @returns {{ verdict: 'flat' | 'grows' | 'falls' | 'too short', middle?: number, last?: number, perMinute?: number }}
 */
export function levelsOff(points, { minutes, floor }) {
  const finite = points.filter(([, v]) => Number.isFinite(v));
  if (finite.length < MIN_SAMPLES) return { verdict: 'too short' };
  const third = minutes / 3;
  const middle = mean(finite.filter(([t]) => t > third && t <= 2 * third).map(([, v]) => v));
  const last = mean(finite.filter(([t]) => t > 2 * third).map(([, v]) => v));
  const change = last - middle;
  const limit = Math.max(GROWTH_SHARE * Math.abs(middle), floor);
  const verdict = change > limit ? 'grows' : change < -limit ? 'falls' : 'flat';
  return { verdict, middle, last, perMinute: change / third };
}
