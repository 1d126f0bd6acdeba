// Every TypeScript block of the guides compiles with tsc, strict, as a module of its own in a project where
// `iotpubsub` (and its subpaths) are this repository's sources: a renamed option or a wrong type in the docs
// fails here. Blocks are fragments of a user's app, so a few names they use without declaring them (`client`,
// `url`, `badge`, `render`, ...) are declared once, globally, below; a block that declares one itself shadows it.
// A block that cannot compile here (Angular, a library that is not a dependency) is marked
// `<!-- docs:skip reason -->`, and must give the reason.
import { mkdir, mkdtemp, rm, writeFile } from 'node:fs/promises'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import { afterAll, beforeAll, describe, expect, it } from 'vitest'
import { run } from '../package/package-kit.js'
import { linkNodeModules, repoDir, tsc } from '../readme/readme-kit.js'
import { blocks, guidePages, isTypeScript, type Block } from './docs-kit.js'

/** What the guides' fragments take as given: the app's own client, broker URL, elements and functions. */
const GLOBALS = `import type { MQTTClient } from 'iotpubsub'

declare global {
  /** The app's client, made with connect() elsewhere. */
  const client: MQTTClient
  /** The broker URL. */
  const url: string
  /** An element of the page that shows the status. */
  const badge: HTMLElement
  function render(...values: unknown[]): void
  function chart(...values: unknown[]): void
  /** The service's database. */
  const db: { insert(value: unknown): Promise<void> }
  interface Telemetry { readonly celsius: number; readonly at: number }
}
export {}
`

/** Single-file components are compiled by the framework's plugin, not tsc: a page imports one as a component. */
const SHIMS = `declare module '*.vue' {
  const component: import('vue').Component
  export default component
}
`

const lib = (path: string) => join(repoDir, 'lib', path)

const TSCONFIG = {
  compilerOptions: {
    strict: true,
    target: 'ES2022',
    module: 'NodeNext',
    moduleResolution: 'NodeNext',
    lib: ['ES2022', 'DOM', 'DOM.Iterable'],
    types: ['node'],
    jsx: 'react-jsx',
    skipLibCheck: true,
    noEmit: true,
    paths: {
      iotpubsub: [lib('browser.ts')],
      'iotpubsub/shared': [lib('shared/index.ts')],
      'iotpubsub/react': [lib('react/index.ts')],
      'iotpubsub/vue': [lib('vue/index.ts')],
    },
  },
  include: ['blocks', 'globals.d.ts', 'shims.d.ts'],
}

const typescriptBlocks = guidePages().flatMap((page) => blocks(page).filter(isTypeScript))

describe('the code blocks of docs/', () => {
  let dir: string
  const files = new Map<string, Block>()
  let output = ''

  beforeAll(async () => {
    dir = await mkdtemp(join(tmpdir(), 'iotpubsub-docs-blocks-'))
    await linkNodeModules(dir)
    await mkdir(join(dir, 'blocks'))
    await writeFile(join(dir, 'package.json'), JSON.stringify({ name: 'docs-blocks', private: true, type: 'module' }))
    await writeFile(join(dir, 'tsconfig.json'), JSON.stringify(TSCONFIG, null, 2))
    await writeFile(join(dir, 'globals.d.ts'), GLOBALS)
    await writeFile(join(dir, 'shims.d.ts'), SHIMS)
    for (const block of typescriptBlocks) {
      if (block.marker === 'skip') continue
      const name = `${block.page.replace(/\W+/g, '-')}-${block.line}.${block.lang === 'tsx' ? 'tsx' : 'ts'}`
      files.set(name, block)
      // `export {}` makes every block a module (top-level await, names of its own) even without an import.
      await writeFile(join(dir, 'blocks', name), `${block.code}\nexport {}\n`)
    }
    output = (await run(process.execPath, [tsc, '-p', join(dir, 'tsconfig.json'), '--pretty', 'false'], { cwd: dir, timeoutMs: 120_000 })).stdout
  }, 150_000)

  afterAll(async () => {
    if (dir) await rm(dir, { recursive: true, force: true })
  })

  it('has TypeScript blocks to check, and gives a reason for each one it skips', () => {
    expect(files.size).toBeGreaterThan(20)
    for (const block of typescriptBlocks.filter((b) => b.marker === 'skip')) {
      expect(block.reason, `${block.page}:${block.line} is skipped without a reason`).toMatch(/\w{3,}/)
    }
  })

  it('compiles every block with tsc, strict', () => {
    // `blocks/<file>(line,col): error TS...`, pointed back at the page and line of the guide.
    const errors = output
      .split('\n')
      .filter((l) => /error TS\d+/.test(l))
      .map((l) => {
        const where = /^blocks\/([^()]+)\((\d+),(\d+)\)/.exec(l)
        const block = where ? files.get(where[1]!) : undefined
        return block ? `docs/${block.page}:${block.line + Number(where![2])}: ${l.replace(/^[^:]+:\s*/, '')}` : l
      })
    expect(errors).toEqual([])
  })
})
