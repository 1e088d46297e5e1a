import { defineConfig } from 'vite';

/** This directory, whatever the working directory of `vite build` is. */
const root = decodeURIComponent(new URL('.', import.meta.url).pathname);

/**
 * The web chat app's build (`npm run build:web`): client/web → dist/web, which the server serves at `/`
 * (src/transport/web-app.ts). Vite 8 compiles TSX itself with oxc; the automatic runtime matches
 * client/tsconfig.json's `jsx: react-jsx`, so no React plugin is needed.
 */
export default defineConfig({
  root,
  base: '/',
  oxc: { jsx: { runtime: 'automatic' } },
  build: {
    outDir: `${root}../../dist/web`,
    // The output directory is outside the root: Vite only empties it when told to.
    emptyOutDir: true,
    // Everything is bundled into files of this server: no font, script or image is fetched from elsewhere.
    assetsInlineLimit: 0,
  },
});
