import { fileURLToPath } from 'node:url'
import { defineConfig } from 'vitest/config'

const here = (path: string) => fileURLToPath(new URL(path, import.meta.url))

// One config for the demo page (Vite serves and builds demo/) and for the test runner (vitest runs
// test/ from the project root). The demo imports the SDK as users do, `from 'iotpubsub'`: in the page that
// is the browser entry, in tests the Node entry.
export default defineConfig({
  root: here('./demo'),
  // Relative asset URLs: the built dashboard works from any folder, not only a web root.
  base: './',
  resolve: {
    alias: { iotpubsub: here('./lib/browser.ts') },
  },
  build: {
    outDir: here('./dist-demo'),
    emptyOutDir: true,
  },
  test: {
    root: here('.'),
    include: ['test/**/*.test.ts'],
    alias: { iotpubsub: here('./lib/node.ts') },
    testTimeout: 20_000,
    hookTimeout: 60_000,
    // Integration suites each start their own brokers; two workers match the two cores.
    maxWorkers: 2,
    typecheck: { enabled: true, include: ['test/**/*.test-d.ts'], tsconfig: './tsconfig.json' },
  },
})
