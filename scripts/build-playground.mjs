// Bundles the GraphQL playground (playground/index.tsx, GraphiQL 4) into dist/playground/:
// index.html plus app-<hash>.js and app-<hash>.css, served by src/transport/playground.ts.
// Run by `npm run build` after tsc, whose output it needs for the URL check below.
//
// Fails (exit 1, nothing written) when the bundle names an http(s) URL of a host other
// than this machine, outside the small allowlist in src/transport/playground.ts: the
// playground must work with no network, and the page's CSP would block such loads anyway.
import { createRequire } from 'node:module';
import { mkdir, rm, writeFile } from 'node:fs/promises';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import * as esbuild from 'esbuild';

const root = path.resolve(path.dirname(fileURLToPath(import.meta.url)), '..');
const outdir = path.join(root, 'dist', 'playground');
const checker = path.join(root, 'dist', 'src', 'transport', 'playground.js');

let findExternalUrls;
try {
  ({ findExternalUrls } = createRequire(import.meta.url)(checker));
} catch (err) {
  console.error(`build-playground: cannot load ${path.relative(root, checker)} (run tsc first, as npm run build does): ${err.message}`);
  process.exit(1);
}

const result = await esbuild.build({
  absWorkingDir: root,
  entryPoints: { app: 'playground/index.tsx' },
  bundle: true,
  platform: 'browser',
  format: 'iife',
  target: 'es2020',
  jsx: 'automatic',
  minify: true,
  legalComments: 'none',
  charset: 'utf8',
  define: { 'process.env.NODE_ENV': '"production"' },
  // graphiql/style.css already inlines its fonts and icons; any other asset is inlined too.
  loader: {
    '.css': 'css',
    '.woff2': 'dataurl',
    '.woff': 'dataurl',
    '.ttf': 'dataurl',
    '.svg': 'dataurl',
    '.png': 'dataurl',
    '.gif': 'dataurl',
  },
  // Content hashes in the names: the server caches these files for a year.
  entryNames: '[name]-[hash]',
  outdir,
  write: false,
  logLevel: 'warning',
});

const outputs = result.outputFiles.map((file) => ({ name: path.basename(file.path), contents: file.contents }));
const script = outputs.find((file) => file.name.endsWith('.js'));
const style = outputs.find((file) => file.name.endsWith('.css'));
if (!script || !style) {
  console.error(`build-playground: expected a .js and a .css output, got ${outputs.map((f) => f.name).join(', ')}`);
  process.exit(1);
}

const html = `<!doctype html>
<html lang="en">
  <head>
    <meta charset="utf-8">
    <meta name="viewport" content="width=device-width, initial-scale=1">
    <title>GraphQL playground</title>
    <link rel="icon" href="data:,">
    <link rel="stylesheet" href="/playground/${style.name}">
    <script defer src="/playground/${script.name}"></script>
  </head>
  <body>
    <div id="graphiql">Loading the GraphQL playground…</div>
  </body>
</html>
`;
outputs.push({ name: 'index.html', contents: Buffer.from(html) });

let failed = false;
for (const file of outputs) {
  const urls = findExternalUrls(Buffer.from(file.contents).toString('utf8'));
  for (const url of urls) console.error(`build-playground: ${file.name} names an outside URL: ${url}`);
  failed ||= urls.length > 0;
}
if (failed) {
  console.error('build-playground: failed; if such a URL is never loaded, add it to PLAYGROUND_URL_ALLOWLIST with the reason.');
  await rm(outdir, { recursive: true, force: true });
  process.exit(1);
}

await rm(outdir, { recursive: true, force: true });
await mkdir(outdir, { recursive: true });
for (const file of outputs) await writeFile(path.join(outdir, file.name), file.contents);
const sizes = outputs.map((file) => `${file.name} ${(file.contents.length / 1024).toFixed(0)} KiB`).join(', ');
console.log(`build-playground: wrote ${path.relative(root, outdir)}/ (${sizes})`);
