import { fileURLToPath } from 'node:url'
import { defineConfig } from 'vitest/config'
import type { TestSequencer, TestSpecification, Vitest } from 'vitest/node'

const here = (path: string) => fileURLToPath(new URL(path, import.meta.url))

/**
 * The suites that assert on timing: the latency of a paced stream, staying connected under a burst or while a
 * handler holds a message, the demo page drawing frames under a 2,000 msg/s flood, the tabs of a shared
 * connection within their waits.
 */
const QUIET = [
  'test/integration/latency.test.ts',
  'test/reliability/slow-consumer.test.ts',
  'test/reliability/held-message-keepalive.test.ts',
  'test/demo/dashboard.e2e.test.ts',
  'test/browser/shared-connection.test.ts',
  'test/browser/shared-tabs.test.ts',
  'test/browser/shared-end.test.ts',
  'test/browser/shared-store-handover.test.ts',
  'test/browser/shared-welcome-first.test.ts',
]

/**
 * The broker kit under a real Docker engine. They run last, one file at a time, while no other suite runs:
 * containers coming and going change the machine's network interfaces, and Chromium then cancels requests to
 * local sockets (ERR_NETWORK_CHANGED). Their global setup starts building the image when the run starts.
 */
const DOCKER = ['test/mosquitto/docker-*.test.ts']

/**
 * The longest files of the run (the bench's smoke run, the documentation site built and opened page by page).
 * Vitest starts the files of a group one project after the other (lean, then mqttjs) and, with no timings cached
 * from an earlier run (a fresh clone, CI), the larger files first: these two would start side by side past the
 * middle of the run, and could end it with one worker busy and the other idle. Started first, the many short
 * files fill in around them.
 */
const LONGEST = ['test/bench/bench.test.ts', 'test/docs/site.test.ts'].map(here)

/** Vitest's own order, with {@link LONGEST} moved to the front. */
class LongestFirst implements TestSequencer {
  readonly #base: Promise<TestSequencer>

  constructor(vitest: Vitest) {
    // Imported here, by the test runner only: Vite reads this config for the demo too.
    this.#base = import('vitest/node').then(({ BaseSequencer }) => new BaseSequencer(vitest))
  }

  async shard(files: TestSpecification[]): Promise<TestSpecification[]> {
    return (await this.#base).shard(files)
  }

  async sort(files: TestSpecification[]): Promise<TestSpecification[]> {
    const sorted = await (await this.#base).sort(files)
    const long = (file: TestSpecification): number => (LONGEST.includes(file.moduleId) ? 0 : 1)
    // Array.prototype.sort is stable: everything else keeps Vitest's order.
    return sorted.sort((a, b) => long(a) - long(b))
  }
}

// One config for the demo page (Vite serves and builds demo/) and for the test runner (vitest runs
// test/ from the project root). The demo imports the SDK as users do, `from 'iotpubsub'` and
// `from 'iotpubsub/shared'`: in the page those are the browser entries, in tests the Node entry (which is
// what the package's `exports` give Node for both). The subpath comes first: an alias also matches the
// paths below its key, and the first one that matches wins.
export default defineConfig({
  root: here('./demo'),
  // Relative asset URLs: the built dashboard works from any folder, not only a web root.
  base: './',
  resolve: {
    alias: { 'iotpubsub/shared': here('./lib/shared/index.ts'), iotpubsub: here('./lib/browser.ts') },
  },
  build: {
    outDir: here('./dist-demo'),
    emptyOutDir: true,
  },
  test: {
    root: here('.'),
    alias: { 'iotpubsub/shared': here('./lib/node.ts'), iotpubsub: here('./lib/node.ts') },
    testTimeout: 20_000,
    hookTimeout: 60_000,
    sequence: { sequencer: LongestFirst },
    // Integration suites each start their own brokers; two workers match the two cores.
    maxWorkers: 2,
    // One suite, two links: every test that opens a connection runs once over each (IOTPUBSUB_LINK is the
    // Node entry's default link; browser pages get it baked in, test/support/link-under-test.ts). Pure logic
    // (unit tests, types) runs once. The few suites whose assertions are about timing (QUIET) run after all
    // the others, one link after the other, so that the two cores are theirs: on a loaded machine a paced
    // 10,000 msg/s stream built a backlog that says nothing about the SDK.
    projects: [
      {
        extends: true,
        test: {
          name: 'mqttjs',
          include: ['test/**/*.test.ts'],
          exclude: [...QUIET, ...DOCKER],
          env: { IOTPUBSUB_LINK: 'mqttjs' },
          typecheck: { enabled: true, include: ['test/**/*.test-d.ts'], tsconfig: './tsconfig.json' },
        },
      },
      {
        extends: true,
        test: {
          name: 'lean',
          include: ['test/**/*.test.ts'],
          exclude: [...QUIET, ...DOCKER, 'test/unit/**', 'test/bench/**', 'test/engines/compatibility.test.ts', 'test/readme/structure.test.ts', 'test/package/lockfile.test.ts', 'test/demo/models.test.ts', 'test/demo/views.test.ts', 'test/demo/launcher.test.ts', 'test/mosquitto/kit-files.test.ts', 'test/mosquitto/users-script.test.ts', 'test/mosquitto/rebuild-script.test.ts', 'test/integration/harness.test.ts', 'test/docs/**', 'test/examples/**'],
          env: { IOTPUBSUB_LINK: 'lean' },
        },
      },
      { extends: true, test: { name: 'mqttjs-quiet', include: QUIET, env: { IOTPUBSUB_LINK: 'mqttjs' }, fileParallelism: false, sequence: { groupOrder: 1 } } },
      { extends: true, test: { name: 'lean-quiet', include: QUIET, env: { IOTPUBSUB_LINK: 'lean' }, fileParallelism: false, sequence: { groupOrder: 2 } } },
      { extends: true, test: { name: 'docker', include: DOCKER, env: { IOTPUBSUB_LINK: 'mqttjs' }, fileParallelism: false, globalSetup: ['test/support/docker-global-setup.ts'], testTimeout: 60_000, hookTimeout: 600_000, sequence: { groupOrder: 3 } } },
    ],
  },
})
