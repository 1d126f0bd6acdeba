// The blocks of docs/ marked `<!-- docs:run -->` run as a user would run them: saved as a .mts file in a
// project where `iotpubsub` is this repository's Node entry (and `mqtt`, `rxjs` the repository's own), run
// with Node and tsx against a private Mosquitto that stands in for `mqtt://localhost:1883`. Each must exit by
// itself with code 0, write nothing to stderr, and print the lines of the `<!-- docs:output -->` block after it.
import { mkdir, mkdtemp, rm, symlink, writeFile } from 'node:fs/promises'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import { afterAll, beforeAll, describe, expect, it } from 'vitest'
import { noMosquitto } from '../support/binaries.js'
import { Mosquitto } from '../support/mosquitto.js'
import { linkNodeModules, nodeArgs, repoDir, start, stopAll, userEnv } from '../readme/readme-kit.js'
import { runnableBlocks } from './docs-kit.js'

const runnable = runnableBlocks()

describe.skipIf(noMosquitto())('the runnable blocks of docs/', () => {
  let broker: Mosquitto
  let dir: string

  beforeAll(async () => {
    broker = await Mosquitto.start({ persistence: false })
    dir = await mkdtemp(join(tmpdir(), 'iotpubsub-docs-run-'))
    await linkNodeModules(dir)
    const pkg = join(dir, 'node_modules', 'iotpubsub')
    await mkdir(pkg)
    await writeFile(join(pkg, 'package.json'), JSON.stringify({ name: 'iotpubsub', type: 'module', exports: { '.': { node: './lib/node.ts', default: './lib/browser.ts' } } }))
    await symlink(join(repoDir, 'lib'), join(pkg, 'lib'), 'dir')
    await writeFile(join(dir, 'package.json'), JSON.stringify({ name: 'docs-run', private: true, type: 'module' }))
  })

  afterAll(async () => {
    stopAll()
    await broker?.stop()
    if (dir) await rm(dir, { recursive: true, force: true })
  })

  it('has runnable blocks, each with the output it should print', () => {
    expect(runnable.length).toBeGreaterThanOrEqual(3)
    for (const block of runnable) expect(block.expected, `docs/${block.page}:${block.line}`).not.toEqual([])
  })

  for (const block of runnable) {
    it(`docs/${block.page}:${block.line} runs and prints what the page says`, async () => {
      expect(block.code).toContain("'mqtt://localhost:1883'")
      const file = join(dir, `${block.page.replace(/\W+/g, '-')}-${block.line}.mts`)
      await writeFile(file, block.code.replaceAll("'mqtt://localhost:1883'", JSON.stringify(broker.tcpUrl)))
      const script = start(process.execPath, [...nodeArgs, file], { cwd: dir, env: userEnv() })
      const code = await script.exit(20_000)
      expect({ code, stderr: script.stderr }).toEqual({ code: 0, stderr: [] })
      for (const line of block.expected) expect(script.stdout).toContain(line)
    })
  }
})
