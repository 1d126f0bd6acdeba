// The lean link loads its enhanced-authentication flow (lib/auth/auth-flow.ts) on demand, the first time a client
// with `auth` connects, so that apps without `auth` do not ship it. A run-time import from it to the rest of lib/
// would be a module the entry shares with that chunk, which esbuild moves into a chunk of its own that every page
// loads at start: it takes types only. And SCRAM is imported by nothing the client itself loads.
import { readFileSync, readdirSync } from 'node:fs'
import { dirname, join, resolve } from 'node:path'
import { fileURLToPath } from 'node:url'
import { describe, expect, it } from 'vitest'

const root = resolve(dirname(fileURLToPath(import.meta.url)), '../..')
const read = (path: string) => readFileSync(join(root, path), 'utf8')

/** The `import ... from` statements of a source that are not `import type`. */
const runtimeImports = (source: string) => [...source.matchAll(/^import\s+(?!type\s)[^;]*?from\s+['"]([^'"]+)['"]/gm)].map((m) => m[1])

function filesUnder(dir: string): string[] {
  return readdirSync(join(root, dir), { withFileTypes: true }).flatMap((e) => (e.isDirectory() ? filesUnder(join(dir, e.name)) : e.name.endsWith('.ts') ? [join(dir, e.name)] : []))
}

describe("the enhanced-authentication flow's chunk", () => {
  it('imports nothing at run time', () => {
    expect(runtimeImports(read('lib/auth/auth-flow.ts'))).toEqual([])
  })

  it('is loaded by a dynamic import() in the lean link, never a static one', () => {
    const link = read('lib/link/lean/lean-link.ts')
    expect(runtimeImports(link).filter((m) => m?.includes('auth/'))).toEqual([])
    expect(link).toContain("import('../../auth/auth-flow.js')")
  })

  it('SCRAM is imported only by the public exports', () => {
    const importers = filesUnder('lib').filter((f) => f !== 'lib/exports.ts' && /from '[./]*auth\/scram\.js'/.test(read(f)))
    expect(importers).toEqual([])
  })
})
