// The services' chunk (request, serve, route: lib/services/on-demand.ts, loaded by the first call that needs them)
// imports nothing at run time from outside lib/services/, nor any package: what it uses of the client's code comes
// as the kit it is handed (lib/services/services-kit.ts). A module it imported from the rest of lib/ would be one
// the entry shares with it, which esbuild moves, with rxjs and what else they share, into a chunk of its own that
// every page loads at start; `npm run size` measures the cost, this keeps the layout that avoids it.
import { readFileSync } from 'node:fs'
import { dirname, join, relative, resolve } from 'node:path'
import { fileURLToPath } from 'node:url'
import { describe, expect, it } from 'vitest'

const root = resolve(dirname(fileURLToPath(import.meta.url)), '../..')

/** The modules a file imports or re-exports at run time (type-only imports and names left out). */
function runtimeImports(file: string): string[] {
  const source = readFileSync(file, 'utf8')
  const modules: string[] = []
  for (const match of source.matchAll(/^(?:import|export)\s+(?!type\s)([^'";]*?)\s*from\s+['"]([^'"]+)['"]/gm)) {
    const clause = match[1] ?? ''
    const names = /\{([^}]*)\}/.exec(clause)?.[1]?.split(',').map((n) => n.trim()).filter(Boolean) ?? []
    const outside = clause.replace(/\{[^}]*\}/, '').replace(/,/g, '').trim()
    if (!outside && names.length > 0 && names.every((n) => n.startsWith('type '))) continue
    modules.push(match[2] as string)
  }
  return modules
}

describe("the services' chunk", () => {
  it('reaches only lib/services/ at run time, and no package', () => {
    const seen = new Set<string>()
    const outside: string[] = []
    const visit = (file: string): void => {
      if (seen.has(file)) return
      seen.add(file)
      for (const module of runtimeImports(file)) {
        if (!module.startsWith('.')) {
          outside.push(`${relative(root, file)} imports ${module}`)
          continue
        }
        const target = resolve(dirname(file), module.replace(/\.js$/, '.ts'))
        if (!target.startsWith(join(root, 'lib', 'services'))) outside.push(`${relative(root, file)} imports ${relative(root, target)}`)
        else visit(target)
      }
    }
    visit(join(root, 'lib', 'services', 'on-demand.ts'))
    expect(outside).toEqual([])
    // The walk did follow the chunk's modules.
    expect([...seen].map((f) => relative(root, f)).sort()).toEqual(
      expect.arrayContaining(['lib/services/on-demand.ts', 'lib/services/requester.ts', 'lib/services/route-pattern.ts', 'lib/services/serve.ts']),
    )
  })
})
