/**
 * `npm run size`: the SDK's own browser code, min+gzip, beyond mqtt + rxjs, and the same split for each
 * framework subpath (`iotpubsub/react` beyond react, `iotpubsub/vue` beyond vue).
 *
 * Two apps are bundled the way a browser build does it (esbuild, platform browser, minified, Vite's
 * default browser targets, the package's browser entry lib/browser.ts): one re-exports the SDK's whole
 * public API, the other only what the SDK itself takes from mqtt and rxjs (the names are read from lib/'s
 * imports). The budget is the difference of their gzip sizes. Exits 1 when it is over budget.
 *
 * The subpaths are measured the same way: an app re-exporting the subpath's whole API (lib/react/index.ts,
 * lib/vue/index.ts) against one that keeps only what the subpath takes from its framework; the difference is
 * the subpath's own code. They take only types from the SDK, so the cost is the same whatever else the app
 * imports from 'iotpubsub'. No budget applies to them.
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
  /** Per entry and subpath, min+gzip: the whole app, the dependencies' part and the package's own code. */
  subpaths: Record<'iotpubsub' | 'iotpubsub/react' | 'iotpubsub/vue', SubpathSize>
}

export interface SubpathSize {
  /** The packages it takes code from, and the names it takes. */
  dependencies: Record<string, string[]>
  /** min+gzip of an app re-exporting the whole entry, dependencies included. */
  app: number
  /** min+gzip of an app with only the dependencies' names the entry imports. */
  base: number
  /** app − base: the entry's own code as shipped. */
  own: number
  /** min+gzip of the entry alone, its dependencies left external (a cross-check of own). */
  alone: number
  /** Minified bytes (before gzip) of the app and of its own lib/ files. */
  minified: { app: number; own: number }
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
    // What a production build defines: React's production code, Vue's feature flags as Vite sets them.
    define: {
      'process.env.NODE_ENV': '"production"',
      __VUE_OPTIONS_API__: 'true',
      __VUE_PROD_DEVTOOLS__: 'false',
      __VUE_PROD_HYDRATION_MISMATCH_DETAILS__: 'false',
    },
  })
  const code = result.outputFiles[0]?.contents
  if (!code) throw new Error('esbuild produced no output')
  const inputs: Record<string, number> = {}
  for (const output of Object.values(result.metafile.outputs)) {
    for (const [path, input] of Object.entries(output.inputs)) inputs[path] = (inputs[path] ?? 0) + input.bytesInOutput
  }
  return { min: code.byteLength, gzip: gzipSync(code, { level: 9 }).byteLength, inputs }
}

/** The size of one framework subpath (lib/<folder>/index.ts) beyond the framework it imports. */
async function measureSubpath(folder: string, framework: string): Promise<SubpathSize> {
  const entry = JSON.stringify(join(repoRoot, 'lib', folder, 'index.ts'))
  const names = await libImports(framework)
  const [app, base, alone] = await Promise.all([
    bundle(`export * from ${entry}\n`),
    bundle(`${reexports(framework, names)}\n`),
    bundle(`export * from ${entry}\n`, [framework]),
  ])
  return {
    dependencies: { [framework]: names },
    app: app.gzip,
    base: base.gzip,
    own: app.gzip - base.gzip,
    alone: alone.gzip,
    minified: { app: app.min, own: ownBytes(app.inputs) },
  }
}

/** Minified bytes the repository's lib/ files contribute to a bundle. */
function ownBytes(inputs: Record<string, number>): number {
  return Object.entries(inputs).reduce((sum, [path, bytes]) => (path.startsWith('lib/') ? sum + bytes : sum), 0)
}

export async function measureSize(): Promise<SizeResult> {
  const entry = JSON.stringify(join(repoRoot, 'lib', 'browser.ts'))
  const mqttNames = await libImports('mqtt')
  const rxjsNames = await libImports('rxjs')
  const base = `${reexports('mqtt', mqttNames)}\n${reexports('rxjs', rxjsNames)}\n`
  const [sdkApp, connectApp, baseApp, alone, react, vue] = await Promise.all([
    bundle(`export * from ${entry}\n`),
    bundle(`export { connect } from ${entry}\n`),
    bundle(base),
    bundle(`export * from ${entry}\n`, ['mqtt', 'rxjs']),
    measureSubpath('react', 'react'),
    measureSubpath('vue', 'vue'),
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
    subpaths: {
      iotpubsub: {
        dependencies: { mqtt: mqttNames, rxjs: rxjsNames },
        app: sdkApp.gzip,
        base: baseApp.gzip,
        own: sdkOwn,
        alone: alone.gzip,
        minified: { app: sdkApp.min, own: ownBytes(sdkApp.inputs) },
      },
      'iotpubsub/react': react,
      'iotpubsub/vue': vue,
    },
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
  console.log('per entry and subpath (min+gzip; own code = app with the entry − app with only what it takes from its dependencies):')
  const pad = (text: string, width: number) => text.padEnd(width)
  console.log(`  ${pad('entry', 18)}${pad('own code', 12)}${pad('dependencies', 14)}${pad('whole app', 12)}own alone   own minified  dependencies' names`)
  for (const [name, entry] of Object.entries(size.subpaths)) {
    const deps = Object.entries(entry.dependencies).map(([pkg, names]) => `${pkg} {${names.join(', ')}}`).join(' + ')
    console.log(`  ${pad(name, 18)}${pad(kb(entry.own), 12)}${pad(kb(entry.base), 14)}${pad(kb(entry.app), 12)}${pad(kb(entry.alone), 12)}${pad(`${(entry.minified.own / 1024).toFixed(2)} KB`, 14)}${deps}`)
  }
  if (!size.pass) {
    console.error(`size budget exceeded by ${size.sdkOwn - size.budget} bytes`)
    process.exitCode = 1
  }
}
