import { execFileSync } from 'node:child_process';
import path from 'node:path';

const root = path.resolve(__dirname, '..');

describe('capacity model document', () => {
  it('docs/capacity.md is exactly what docs/capacity-input.json renders to, so the document cannot drift from the script', () => {
    // Exits non-zero (and execFileSync throws) when the rendered document differs from the committed one.
    const out = execFileSync(process.execPath, ['bench/capacity.mjs', 'docs/capacity-input.json', '--check'], { cwd: root, encoding: 'utf8' });
    expect(out).toContain('docs/capacity.md is what the input renders to');
  });
});
