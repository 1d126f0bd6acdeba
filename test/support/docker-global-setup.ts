// globalSetup of the `docker` vitest project: it runs when the test run starts, long before the project's
// turn (its group comes after every other), so the stand-in image is built (about 80 s the first time) or
// loaded from its cache while the other suites run. The build's outcome goes to a file the test files wait for.
import { spawnSync } from 'node:child_process'
import { renameSync, rmSync, writeFileSync } from 'node:fs'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import type { TestProject } from 'vitest/node'
import { ensureImage } from './docker-image.js'
import { removeLeftovers, RUN_LABEL_PREFIX } from './docker-cleanup.js'

declare module 'vitest' {
  export interface ProvidedContext {
    /** Whether a Docker engine answered when the run started. */
    dockerEngine: boolean
    /** The file the image build writes its outcome to (`ImageStatus`). */
    dockerImageStatus: string
    /** The prefix of every compose project name of this run (cleaned up at the end whatever happens). */
    dockerRunPrefix: string
  }
}

export default function setup(project: TestProject): () => Promise<void> {
  const runPrefix = `${RUN_LABEL_PREFIX}${process.pid}-`
  const statusFile = join(tmpdir(), `iotpubsub-docker-image-${process.pid}.json`)
  rmSync(statusFile, { force: true })
  const engine = spawnSync('docker', ['info', '--format', '{{.ServerVersion}}'], { encoding: 'utf8', timeout: 20_000 }).status === 0
  project.provide('dockerEngine', engine)
  project.provide('dockerImageStatus', statusFile)
  project.provide('dockerRunPrefix', runPrefix)
  if (!engine) {
    if (!process.env.CI) {
      process.stderr.write(
        '\n!!! SKIPPING the broker kit\'s Docker tests (test/mosquitto/docker-*.test.ts): no Docker engine answers `docker info`. ' +
          'Start one as root (apt-get install docker.io debootstrap; dockerd --iptables=false --ip-forward=false &; .ci/run shows the rest). ' +
          'With CI=true they run and fail instead of skipping.\n\n',
      )
    }
    return async () => undefined
  }
  // Written whole, then renamed: a test file never reads half of it.
  const report = (status: object) => {
    writeFileSync(`${statusFile}.part`, JSON.stringify(status))
    renameSync(`${statusFile}.part`, statusFile)
  }
  const started = Date.now()
  // Earlier runs' leftovers are removed when the docker project starts (imageReady), not here: removing a network
  // changes the machine's interfaces, which Chromium tests running now would take for a network change.
  const build = ensureImage().then(
    (made) => {
      const how = made.source === 'built' ? 'built' : made.source === 'cache' ? 'loaded from the cache' : 'present'
      process.stderr.write(`docker: ${made.image} ${how} in ${((Date.now() - started) / 1000).toFixed(1)} s${made.mirror ? `, served by the mirror ${made.mirror}` : ''}\n`)
      report({ ok: true, report: made })
    },
    (error: unknown) => {
      report({ ok: false, error: String((error as Error)?.stack ?? error) })
    },
  )
  return async () => {
    await build
    await removeLeftovers(runPrefix)
    rmSync(statusFile, { force: true })
  }
}
