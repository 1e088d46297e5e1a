#!/usr/bin/env node
// The capacity model (issue 11): from a bench run's measured per-message costs, what a deployment of 1 million
// online users sending 50,000 messages per second needs, written to docs/capacity.md.
//   npm run capacity -- [file] [--check]
// file: a bench results file (bench/results/<stamp>-<scenario>.json; its siblings of the same stamp are read too),
// or a capacity input file (docs/capacity-input.json). With no file, the newest private results in bench/results/.
// From results it first writes docs/capacity-input.json (only what the model reads), then renders the document from
// that file and docs/capacity.template.md, so rendering the committed input again gives the committed document.
// --check: write nothing; exit 1 when the document rendered from the input file differs from docs/capacity.md.
import { existsSync, readdirSync, readFileSync, writeFileSync } from 'node:fs';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import { parseArgs } from 'node:util';
import { extractInputs, INPUT_KIND } from './capacity-inputs.mjs';
import { model } from './capacity-model.mjs';

const ROOT = path.resolve(path.dirname(fileURLToPath(import.meta.url)), '..');
const INPUT = path.join(ROOT, 'docs/capacity-input.json');
const TEMPLATE = path.join(ROOT, 'docs/capacity.template.md');
const OUTPUT = path.join(ROOT, 'docs/capacity.md');

function newestPrivateResults() {
  const dir = path.join(ROOT, 'bench/results');
  const files = existsSync(dir) ? readdirSync(dir).filter((f) => f.endsWith('-private.json')).sort() : [];
  if (!files.length) throw new Error('no bench/results/*-private.json: run `npm run bench -- --scenario private,group,memory,ceiling` first');
  return path.join(dir, files.at(-1));
}

/**
 * Fills each `{{name}}` of the template (its leading comment, which is for its editors, left out); a name the model
 * does not give is an error, not a blank.
 */
function render(template, values) {
  return template.replace(/^<!--[\s\S]*?-->\n/, '').replace(/\{\{(\w+)\}\}/g, (_, name) => {
    if (!(name in values)) throw new Error(`template asks for {{${name}}}, which the model does not give`);
    return values[name];
  });
}

const { values: options, positionals } = parseArgs({ options: { check: { type: 'boolean', default: false } }, allowPositionals: true });
const file = path.resolve(positionals[0] ?? newestPrivateResults());
const data = JSON.parse(readFileSync(file, 'utf8'));
if (options.check && data.kind !== INPUT_KIND) throw new Error('--check takes a capacity input file (docs/capacity-input.json)');
let inputs = data;
if (data.kind !== INPUT_KIND) {
  inputs = extractInputs(file, data);
  writeFileSync(INPUT, JSON.stringify(inputs, null, 1) + '\n');
  console.log(`inputs: ${path.relative(ROOT, INPUT)} (from ${path.relative(ROOT, file)} and its siblings)`);
}
const document = render(readFileSync(TEMPLATE, 'utf8'), model(inputs));
if (options.check) {
  const same = existsSync(OUTPUT) && readFileSync(OUTPUT, 'utf8') === document;
  console.log(same ? 'docs/capacity.md is what the input renders to' : 'docs/capacity.md differs from what the input renders to: run `npm run capacity -- docs/capacity-input.json`');
  process.exitCode = same ? 0 : 1;
} else {
  writeFileSync(OUTPUT, document);
  console.log(`document: ${path.relative(ROOT, OUTPUT)}`);
}
