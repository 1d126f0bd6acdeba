/**
 * `npm run size`: the SDK's own browser code, min+gzip, beyond mqtt + rxjs.
 *
 * Two apps are bundled the way a browser build does it (esbuild, platform browser, minified, Vite's
 * default browser targets, the package's browser entry lib/browser.ts): one re-exports the SDK's whole
 * public API, the other only what the SDK itself takes from mqtt and rxjs (the names are read from lib/'s
 * imports). The budget is the difference of their gzip sizes. Exits 1 when it is over budget.
 */
import { readdir, readFile } from 'node:fs/promises'
import { join } from 'node:path'
import { fileURLToPath } from 'node:url'
import { gzipSync } from 'node:zlib'
import { build } from 'esbuild'
import { repoRoot } from './harness.js'

export const SIZE_BUDGET_BYTES = 4 * 1024
/** Vite 7's default `build.target` ('baseline-widely-available'). */
const TARGET = ['chrome107', 'edge107', 'firefox104', 'safari16']

export interface SizeResult {
  /** min+gzip of an app that re-exports the SDK's whole public API (mqtt and rxjs included). */
  sdkApp: number
  /** min+gzip of an app that only keeps mqtt and the rxjs pieces the SDK imports. */
  baseApp: number
  /** sdkApp − baseApp: the SDK's own code as shipped. The budgeted figure. */
  sdkOwn: number
  /** The same difference for an app that imports only `connect`. */
  sdkOwnConnectOnly: number
  /** min+gzip of the SDK alone with mqtt and rxjs left external (a cross-check of sdkOwn). */
  sdkAlone: number
  minified: { sdkApp: number; baseApp: number }
  /** Minified bytes (before gzip) each lib/ file contributes to the whole-API app, largest first. */
  libFiles: Record<string, number>
  imports: { mqtt: string[]; rxjs: string[] }
  budget: number
  pass: boolean
}

/** The value (non-type) names lib/ imports from `module`; `default` for a default import. */
export async function libImports(module: string): Promise<string[]> {
  const libDir = join(repoRoot, 'lib')
  const names = new Set<string>()
  // Every file below lib/: the parts live in folders (lib/link/ is where mqtt is imported).
  for (const file of await readdir(libDir, { recursive: true })) {
    if (!file.endsWith('.ts')) continue
    const source = await readFile(join(libDir, file), 'utf8')
    const pattern = new RegExp(`import\\s+(?!type\\s)([^'"]*?)\\s+from\\s+['"]${module}['"]`, 'g')
    for (const match of source.matchAll(pattern)) {
      const clause = (match[1] ?? '').trim()
      const braces = /\{([^}]*)\}/.exec(clause)
      const before = clause.replace(/\{[^}]*\}/, '').replace(/,/g, '').trim()
      if (before.startsWith('* as')) names.add('*')
      else if (before) names.add('default')
      for (const part of braces?.[1]?.split(',') ?? []) {
        const name = part.trim()
        if (!name || name.startsWith('type ')) continue
        names.add(name.split(/\s+as\s+/)[0] as string)
      }
    }
  }
  return [...names].sort()
}

function reexports(module: string, names: string[]): string {
  return names
    .map((name, i) =>
      name === 'default'
        ? `export { default as __${module}Default } from '${module}'`
        : name === '*'
          ? `export * as __${module}${i} from '${module}'`
          : `export { ${name} } from '${module}'`,
    )
    .join('\n')
}

async function bundle(contents: string, external: string[] = []): Promise<{ min: number; gzip: number; inputs: Record<string, number> }> {
  const result = await build({
    stdin: { contents, resolveDir: repoRoot, loader: 'ts', sourcefile: 'app.ts' },
    bundle: true,
    write: false,
    minify: true,
    format: 'esm',
    platform: 'browser',
    target: TARGET,
    external,
    logLevel: 'silent',
    metafile: true,
    define: { 'process.env.NODE_ENV': '"production"' },
  })
  const code = result.outputFiles[0]?.contents
  if (!code) throw new Error('esbuild produced no output')
  const inputs: Record<string, number> = {}
  for (const output of Object.values(result.metafile.outputs)) {
    for (const [path, input] of Object.entries(output.inputs)) inputs[path] = (inputs[path] ?? 0) + input.bytesInOutput
  }
  return { min: code.byteLength, gzip: gzipSync(code, { level: 9 }).byteLength, inputs }
}

export async function measureSize(): Promise<SizeResult> {
  const entry = JSON.stringify(join(repoRoot, 'lib', 'browser.ts'))
  const mqttNames = await libImports('mqtt')
  const rxjsNames = await libImports('rxjs')
  const base = `${reexports('mqtt', mqttNames)}\n${reexports('rxjs', rxjsNames)}\n`
  const [sdkApp, connectApp, baseApp, alone] = await Promise.all([
    bundle(`export * from ${entry}\n`),
    bundle(`export { connect } from ${entry}\n`),
    bundle(base),
    bundle(`export * from ${entry}\n`, ['mqtt', 'rxjs']),
  ])
  const sdkOwn = sdkApp.gzip - baseApp.gzip
  return {
    sdkApp: sdkApp.gzip,
    baseApp: baseApp.gzip,
    sdkOwn,
    sdkOwnConnectOnly: connectApp.gzip - baseApp.gzip,
    sdkAlone: alone.gzip,
    minified: { sdkApp: sdkApp.min, baseApp: baseApp.min },
    libFiles: Object.fromEntries(
      Object.entries(sdkApp.inputs)
        .filter(([path]) => path.startsWith('lib/'))
        .sort((a, b) => b[1] - a[1]),
    ),
    imports: { mqtt: mqttNames, rxjs: rxjsNames },
    budget: SIZE_BUDGET_BYTES,
    pass: sdkOwn <= SIZE_BUDGET_BYTES,
  }
}

const kb = (bytes: number): string => `${(bytes / 1024).toFixed(2)} KB`

if (process.argv[1] === fileURLToPath(import.meta.url)) {
  const size = await measureSize()
  console.log(`browser bundle (esbuild, platform browser, minified, gzip -9; targets ${TARGET.join(', ')})`)
  console.log(`  app with the SDK (whole API):          ${kb(size.sdkApp)} gzip (${kb(size.minified.sdkApp)} min)`)
  console.log(`  app with mqtt + rxjs {${size.imports.rxjs.join(', ')}}: ${kb(size.baseApp)} gzip (${kb(size.minified.baseApp)} min)`)
  console.log(`  SDK's own code (difference):           ${kb(size.sdkOwn)}   budget ≤ ${kb(size.budget)}  ${size.pass ? 'PASS' : 'FAIL'}`)
  console.log(`  SDK's own code, app importing connect: ${kb(size.sdkOwnConnectOnly)}`)
  console.log(`  SDK alone, mqtt + rxjs external:       ${kb(size.sdkAlone)}`)
  console.log(`  lib/ files, minified bytes in the bundle: ${Object.entries(size.libFiles).map(([f, b]) => `${f.slice(4)} ${b}`).join(', ')}`)
  if (!size.pass) {
    console.error(`size budget exceeded by ${size.sdkOwn - size.budget} bytes`)
    process.exitCode = 1
  }
}
