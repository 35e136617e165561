// The console's build: TypeScript and Preact into a few hashed files under dist/, which the
// binary embeds and serves at /console/. Nothing is inlined, so the page runs under a strict
// Content-Security-Policy (no inline script or style).
import { defineConfig } from "vite";

export default defineConfig({
  root: import.meta.dirname,
  base: "/console/",
  // JSX through Preact's automatic runtime, as tsconfig.json declares it for tsc.
  oxc: { jsx: { runtime: "automatic", importSource: "preact" } },
  build: {
    outDir: "dist",
    emptyOutDir: true,
    assetsInlineLimit: 0,
    // Modern browsers only: no module-preload polyfill (it would be an inline script's worth of
    // code), and no legacy syntax lowering.
    modulePreload: { polyfill: false },
    target: "es2022",
    reportCompressedSize: true,
  },
});
