// Preloaded into every server node by bench/soak.mjs (NODE_OPTIONS=--require ...), so that the soak reads what
// only the process itself knows (V8 heap, active handles, event-loop delay) without a line of src/ knowing about
// it. Every SOAK_PROBE_MS it appends one JSON line to SOAK_PROBE_DIR/<pid>.jsonl; the event-loop delay is a
// histogram over that interval alone. Its own timer is unref'd: it never keeps a stopping node alive, and it
// counts as one of the handles it reports, the same one in every line.
// Heap used at a sample includes whatever garbage V8 has not collected yet, and swings by tens of MB; right after a
// major (mark-compact) collection it is close to what is live, which is the figure a leak makes grow.
const { appendFileSync } = require('node:fs');
const path = require('node:path');
const { constants, monitorEventLoopDelay, PerformanceObserver } = require('node:perf_hooks');
const v8 = require('node:v8');

const dir = process.env.SOAK_PROBE_DIR;
if (dir) {
  const file = path.join(dir, `${process.pid}.jsonl`);
  const delay = monitorEventLoopDelay({ resolution: 10 });
  delay.enable();
  let heapAfterMajorGc = null;
  new PerformanceObserver((list) => {
    if (list.getEntries().some((entry) => entry.detail?.kind === constants.NODE_PERFORMANCE_GC_MAJOR)) {
      heapAfterMajorGc = v8.getHeapStatistics().used_heap_size;
    }
  }).observe({ entryTypes: ['gc'] });
  const timer = setInterval(() => {
    const memory = process.memoryUsage();
    const resources = process.getActiveResourcesInfo();
    const kinds = {};
    for (const kind of resources) kinds[kind] = (kinds[kind] ?? 0) + 1;
    const line = {
      at: Date.now(),
      rss: memory.rss,
      heapUsed: memory.heapUsed,
      heapTotal: memory.heapTotal,
      heapAfterMajorGc,
      external: memory.external,
      handles: resources.length,
      handleKinds: kinds,
      loopDelayP99Ms: delay.percentile(99) / 1e6,
      loopDelayMaxMs: delay.max / 1e6,
    };
    delay.reset();
    appendFileSync(file, JSON.stringify(line) + '\n');
  }, Number(process.env.SOAK_PROBE_MS || 15_000));
  timer.unref();
}
