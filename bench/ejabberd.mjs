// --compare ejabberd: runs ../shared/anchors/ejabberd-sql/run.sh (ejabberd archiving every message in its own
// MariaDB on port 3307; BENCH_EJABBERD_RUN names another run.sh) at the rates and step length of our private run, once every process of ours has stopped.
import { execFileSync, spawn } from 'node:child_process';
import { existsSync } from 'node:fs';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import { ms, table } from './lib.mjs';

/** ../shared of the project root: of this checkout, else of the main checkout when this is a git worktree. */
function anchorPath() {
  const root = path.resolve(path.dirname(fileURLToPath(import.meta.url)), '..');
  const roots = [root];
  try {
    const common = execFileSync('git', ['rev-parse', '--path-format=absolute', '--git-common-dir'], { cwd: root }).toString().trim();
    roots.push(path.dirname(common));
  } catch {
    // not a git checkout
  }
  const candidates = roots.map((r) => path.resolve(r, '../shared/anchors/ejabberd-sql/run.sh'));
  return candidates.find((c) => existsSync(c)) ?? candidates[0];
}
const RUN_SH = process.env.BENCH_EJABBERD_RUN ?? anchorPath();

/** Runs the anchor; resolves { steps, highestHeld } or { error } (never throws: our own figures stay printed). */
export async function runEjabberd(rates, seconds) {
  if (!existsSync(RUN_SH)) return { error: `${RUN_SH} not found` };
  if (process.getuid?.() !== 0) return { error: 'run.sh needs root (it apt-installs ejabberd and runs it as user ejabberd)' };
  const args = ['--rates', rates.join(','), '--dur', String(seconds)];
  console.log(`\n== ejabberd + SQL: ${RUN_SH} ${args.join(' ')} (setup ~30 s, then ${seconds} s + ~8 s per step)`);
  const child = spawn(RUN_SH, args, { stdio: ['ignore', 'pipe', 'pipe'] });
  const steps = [];
  const stderrTail = [];
  let out = '';
  child.stdout.on('data', (chunk) => {
    out += chunk;
    let nl;
    while ((nl = out.indexOf('\n')) >= 0) {
      const line = out.slice(0, nl);
      out = out.slice(nl + 1);
      if (!line.startsWith('{')) continue;
      const step = JSON.parse(line);
      steps.push(step);
      console.log(`  .. ejabberd ${step.target}/s: delivered ${step.deliveredPerS}/s, p50 ${step.p50Ms} / p99 ${step.p99Ms} ms, lost ${step.lost}, held ${step.pass ? 'yes' : 'no'}`);
    }
  });
  child.stderr.on('data', (chunk) => {
    for (const line of String(chunk).split('\n').filter(Boolean)) {
      console.log(`  .. ejabberd ${line.replace(/^# /, '')}`);
      stderrTail.push(line);
      if (stderrTail.length > 20) stderrTail.shift();
    }
  });
  const code = await new Promise((resolve) => child.once('exit', (c, signal) => resolve(c ?? signal)));
  const held = steps.filter((s) => s.pass).map((s) => s.target);
  const result = { command: `${RUN_SH} ${args.join(' ')}`, exitCode: code, steps, highestHeld: held.length ? Math.max(...held) : 0 };
  if (code !== 0) result.error = `run.sh exited with ${code}: ${stderrTail.slice(-3).join(' / ')}`;
  return result;
}

/** Side by side per rate, and the ratio of the highest rates held. */
export function compareTable(ours, theirs) {
  const rates = [...new Set([...ours.steps.map((s) => s.rate), ...theirs.steps.map((s) => s.target)])].sort((a, b) => a - b);
  table(
    `private messages, ${ours.mode} mode, ${ours.pushNodes} push nodes vs ejabberd + SQL (held: p99 <= 50 ms, nothing lost, >= 97% of target)`,
    ['target/s', 'ours achieved/s', 'ours p50', 'ours p99', 'ours held', 'ejabberd delivered/s', 'ejabberd p50', 'ejabberd p99', 'ejabberd held'],
    rates.map((rate) => {
      const o = ours.steps.find((s) => s.rate === rate);
      const e = theirs.steps.find((s) => s.target === rate);
      return [rate, o ? o.achieved : '-', o ? ms(o.p50) : '-', o ? ms(o.p99) : '-', o ? (o.holds ? 'yes' : 'no') : 'not run', e ? e.deliveredPerS : '-', e ? ms(e.p50Ms) : '-', e ? ms(e.p99Ms) : '-', e ? (e.pass ? 'yes' : 'no') : 'not run'];
    }),
  );
  const ratio = theirs.highestHeld ? ours.highestHeld / theirs.highestHeld : NaN;
  const topRate = Math.max(...theirs.steps.map((s) => s.target));
  console.log(
    `highest rate held: ours ${ours.highestHeld}/s, ejabberd ${theirs.highestHeld}/s -> ratio ${Number.isFinite(ratio) ? ratio.toFixed(2) : 'n/a (ejabberd held none)'}` +
      (theirs.highestHeld === topRate ? ' (ejabberd held the top step: its ceiling and the ratio are bounds only)' : ''),
  );
  return ratio;
}
