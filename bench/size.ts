/**
 * `npm run size`: what a browser app ships, min+gzip, bundled the way a browser build does it (esbuild,
 * platform browser, minified, Vite's default browser targets, the package's browser entries lib/browser.ts and
 * lib/shared/index.ts; code split as a bundler splits it, so that what a dynamic `import()` loads on demand is
 * reported apart from what the page loads at start).
 *
 * The budgets, each reported with PASS or FAIL; it exits 1 when any fails:
 * - issue 15: an app that uses only `connect`, `observe` and `publish` (APP_SOURCE) ships at most 30 KB of
 *   JavaScript in total, rxjs and the link included, by both bundlers measured: esbuild as above, and a fresh
 *   Vite app (index.html and APP_SOURCE, `vite build` with no configuration: Rollup, which keeps modules
 *   shared with a lazy chunk in the entry where esbuild splits them into chunks of their own, and Vite's module
 *   preload helpers). Reported with its split: the SDK's own code, and each package it takes code from, measured
 *   alone.
 * - issue 14: the SDK's own code in that app is at most 6 KB: the app's total minus an app that keeps only what
 *   the SDK's code in that bundle imports from its dependencies (the names are read from those lib/ files).
 *
 * For information, the same difference for an app that re-exports the SDK's whole public API (against the
 * packages its code loaded at start imports: MQTT.js is a dynamic import's chunk, reported apart), and per
 * subpath: `iotpubsub/shared` beyond the main entry (the shared connection among tabs), `iotpubsub/react`
 * beyond react, `iotpubsub/vue` beyond vue. The framework subpaths take only types from the SDK, so their cost
 * is the same whatever else the app imports from 'iotpubsub'.
 */
import { readdir, readFile } from 'node:fs/promises'
import { join, resolve, sep } from 'node:path'
import { fileURLToPath } from 'node:url'
import { gzipSync } from 'node:zlib'
import { mkdir, writeFile } from 'node:fs/promises'
import { build, type Plugin } from 'esbuild'
import { build as viteBuild, type Rollup } from 'vite'
import { repoRoot } from './harness.js'

/** Issue 15: the connect/observe/publish app's JavaScript in total, min+gzip. */
export const APP_BUDGET_BYTES = 30 * 1024
/** Issue 14: the SDK's own code in that app, min+gzip. */
export const APP_OWN_BUDGET_BYTES = 6 * 1024
/** Vite 7's default `build.target` ('baseline-widely-available'). */
const TARGET = ['chrome107', 'edge107', 'firefox104', 'safari16']

/** Issue 15's app: it connects, observes one topic and publishes to it, and uses nothing else. */
export const APP_SOURCE = "import { connect } from 'iotpubsub'\nconst c = connect('ws://x/')\nc.observe('a/b').subscribe(() => {})\nvoid c.publish('a/b', 'x')\n"

export interface Budget {
  /** What is budgeted, as printed. */
  what: string
  bytes: number
  budget: number
  pass: boolean
}

export interface AppSize {
  source: string
  /** min+gzip of the JavaScript the page loads at start (each chunk gzipped as it is served). The budgeted total. */
  total: number
  /** Minified bytes of the same. */
  minified: number
  /** min+gzip of what only a dynamic `import()` loads (not in `total`), 0 when nothing is. */
  onDemand: number
  /** total − dependenciesTogether: the SDK's own code as shipped. Issue 14's figure. */
  own: number
  /** min+gzip of an app with only the names the SDK's code in this bundle imports from each package, per package. */
  dependencies: Record<string, { names: string[]; gzip: number }>
  /** min+gzip of an app with all of those names at once (what `own` is the difference to). */
  dependenciesTogether: number
  /** Minified bytes each package contributes at start, from esbuild's metafile: `iotpubsub` is lib/ and the app. */
  minifiedByPackage: Record<string, number>
  /** The same app as a fresh Vite app builds it: min+gzip of what loads at start, of what loads on demand, and minified. */
  vite: { total: number; onDemand: number; minified: number }
}

export interface SizeResult {
  /** Issue 15's app (APP_SOURCE) with its split. */
  app: AppSize
  /** Issue 15 (`app.total` by esbuild, `app.vite.total` by Vite) and issue 14 (`app.own`). */
  budgets: { total: Budget; totalVite: Budget; own: Budget }
  /** Every budget met. */
  pass: boolean
  /** min+gzip of what an app that re-exports the SDK's whole public API loads at start (rxjs included). */
  sdkApp: number
  /** min+gzip of what only a dynamic `import()` of that app loads (MQTT.js and its link): not in `sdkApp`. */
  sdkAppOnDemand: number
  /** min+gzip of an app that only keeps what the lib/ files in `sdkApp` import from packages (`sdkAppImports`). */
  baseApp: number
  /** Those names, per package. */
  sdkAppImports: Record<string, string[]>
  /** sdkApp − baseApp: the SDK's own code as shipped at start, every feature of the main entry. */
  sdkOwn: number
  /** The same difference for an app that imports only `connect` (against what its own lib/ files import). */
  sdkOwnConnectOnly: number
  /** min+gzip of the SDK alone with mqtt and rxjs left external (a cross-check of sdkOwn). */
  sdkAlone: number
  minified: { sdkApp: number; baseApp: number }
  /** Minified bytes (before gzip) each lib/ file contributes to the whole-API app at start, largest first. */
  libFiles: Record<string, number>
  /** What any lib/ file imports from mqtt and rxjs (MQTT.js's names only in the chunk a dynamic import loads). */
  imports: { mqtt: string[]; rxjs: string[] }
  /** Per entry and subpath, min+gzip: the whole app, the dependencies' part and the package's own code. */
  subpaths: Record<'iotpubsub' | 'iotpubsub/shared' | 'iotpubsub/react' | 'iotpubsub/vue', SubpathSize>
}

export interface SubpathSize {
  /** The packages it takes code from, and the names it takes (`*`: everything the package exports). */
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

// `import … from 'module'` at the start of a line (not an example in a comment or a message), type-only
// imports left out; the clause and the module.
const importPattern = (module: string): RegExp => new RegExp(`^import\\s+(?!type\\s)([^'"]*?)\\s+from\\s+['"](${module})['"]`, 'gm')

/** The value (non-type) names an import clause takes: `default` for a default import, `*` for a namespace. */
function clauseNames(clause: string): string[] {
  const names: string[] = []
  const braces = /\{([^}]*)\}/.exec(clause)
  const before = clause.replace(/\{[^}]*\}/, '').replace(/,/g, '').trim()
  if (before.startsWith('* as')) names.push('*')
  else if (before) names.push('default')
  for (const part of braces?.[1]?.split(',') ?? []) {
    const name = part.trim()
    if (!name || name.startsWith('type ')) continue
    names.push(name.split(/\s+as\s+/)[0] as string)
  }
  return names
}

/** The value (non-type) names lib/ imports from `module`; `default` for a default import. */
export async function libImports(module: string): Promise<string[]> {
  const libDir = join(repoRoot, 'lib')
  const names = new Set<string>()
  // Every file below lib/: the parts live in folders (lib/link/ is where mqtt is imported).
  for (const file of await readdir(libDir, { recursive: true })) {
    if (!file.endsWith('.ts')) continue
    const source = await readFile(join(libDir, file), 'utf8')
    for (const match of source.matchAll(importPattern(module))) for (const name of clauseNames((match[1] ?? '').trim())) names.add(name)
  }
  return [...names].sort()
}

/** What the given lib/ files (repository-relative paths) import from packages: names per bare module. */
async function packageImports(files: string[]): Promise<Record<string, string[]>> {
  const byModule: Record<string, Set<string>> = {}
  for (const file of files) {
    const source = await readFile(join(repoRoot, file), 'utf8')
    for (const match of source.matchAll(importPattern(`[^'"./][^'"]*`))) {
      const names = (byModule[match[2] as string] ??= new Set())
      for (const name of clauseNames((match[1] ?? '').trim())) names.add(name)
    }
  }
  return Object.fromEntries(Object.entries(byModule).filter(([, names]) => names.size > 0).sort().map(([m, names]) => [m, [...names].sort()]))
}

function reexports(module: string, names: string[]): string {
  const id = module.replace(/\W/g, '_')
  return names
    .map((name, i) =>
      name === 'default'
        ? `export { default as __${id}Default } from '${module}'`
        : name === '*'
          ? `export * as __${id}${i} from '${module}'`
          : `export { ${name} } from '${module}'`,
    )
    .join('\n')
}

interface Bundle {
  /** Minified and min+gzip bytes of what the page loads at start: the entry chunk and what it imports statically. */
  min: number
  gzip: number
  /** min+gzip of the chunks only a dynamic `import()` loads. */
  lazyGzip: number
  /** Minified bytes per input file in the chunks loaded at start. */
  inputs: Record<string, number>
}

/** The package an esbuild input path belongs to: `iotpubsub` for lib/ and the app itself. */
function packageOf(path: string): string {
  const at = path.lastIndexOf('node_modules/')
  if (at < 0) return 'iotpubsub'
  const [scope, name] = path.slice(at + 'node_modules/'.length).split('/')
  return scope?.startsWith('@') ? `${scope}/${name}` : (scope as string)
}

/** Leaves out (external) every import that leads outside `dir`: a part of lib/ measured on its own. */
function onlyWithin(dir: string): Plugin {
  return {
    name: 'only-within',
    setup(builder) {
      builder.onResolve({ filter: /.*/ }, (args) => {
        if (args.kind === 'entry-point' || !args.path.startsWith('.')) return undefined
        return resolve(args.resolveDir, args.path).startsWith(dir + sep) ? undefined : { path: args.path, external: true }
      })
    },
  }
}

async function bundle(contents: string, options: { external?: string[]; plugins?: Plugin[] } = {}): Promise<Bundle> {
  const outdir = join(repoRoot, 'bench-results', 'size')
  const result = await build({
    stdin: { contents, resolveDir: repoRoot, loader: 'ts', sourcefile: 'app.ts' },
    absWorkingDir: repoRoot,
    bundle: true,
    write: false,
    // As a bundler does it: what a dynamic import() loads goes to a chunk of its own, fetched when it runs.
    splitting: true,
    outdir,
    minify: true,
    format: 'esm',
    platform: 'browser',
    target: TARGET,
    external: options.external ?? [],
    plugins: options.plugins ?? [],
    // 'iotpubsub' is the package's browser entry, as its `exports` give it to a browser build.
    alias: { iotpubsub: join(repoRoot, 'lib', 'browser.ts'), 'iotpubsub/shared': join(repoRoot, 'lib', 'shared', 'index.ts') },
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
  const code = new Map(result.outputFiles.map((file) => [file.path, file.contents]))
  const outputs = result.metafile.outputs
  const entry = Object.keys(outputs).find((path) => outputs[path]?.entryPoint !== undefined)
  if (entry === undefined) throw new Error('esbuild produced no entry chunk')
  // The chunks loaded at start: the entry and, transitively, what it imports statically.
  const eager = new Set<string>()
  const visit = (path: string): void => {
    if (eager.has(path)) return
    eager.add(path)
    for (const imported of outputs[path]?.imports ?? []) if (imported.kind === 'import-statement' && !imported.external) visit(imported.path)
  }
  visit(entry)
  const sized = { min: 0, gzip: 0, lazyGzip: 0 }
  const inputs: Record<string, number> = {}
  for (const [path, output] of Object.entries(outputs)) {
    const bytes = code.get(resolve(repoRoot, path))
    if (!bytes) throw new Error(`esbuild produced no code for ${path}`)
    const gzip = gzipSync(bytes, { level: 9 }).byteLength
    if (!eager.has(path)) {
      sized.lazyGzip += gzip
      continue
    }
    sized.min += bytes.byteLength
    sized.gzip += gzip
    for (const [input, { bytesInOutput }] of Object.entries(output.inputs)) inputs[input] = (inputs[input] ?? 0) + bytesInOutput
  }
  return { ...sized, inputs }
}

/** The size of one framework subpath (lib/<folder>/index.ts) beyond the framework it imports. */
async function measureSubpath(folder: string, framework: string): Promise<SubpathSize> {
  const entry = JSON.stringify(join(repoRoot, 'lib', folder, 'index.ts'))
  const names = await libImports(framework)
  const [app, base, alone] = await Promise.all([
    bundle(`export * from ${entry}\n`),
    bundle(`${reexports(framework, names)}\n`),
    bundle(`export * from ${entry}\n`, { external: [framework] }),
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

/**
 * `iotpubsub/shared` beyond the main entry: an app re-exporting the subpath's whole API against one that
 * re-exports the main entry's (the same names but for the sharing behind `connect` and `MQTTClient`).
 */
async function measureShared(main: Bundle): Promise<SubpathSize> {
  const entry = JSON.stringify(join(repoRoot, 'lib', 'shared', 'index.ts'))
  const [app, alone] = await Promise.all([
    bundle(`export * from ${entry}\n`),
    bundle(`export * from ${entry}\n`, { plugins: [onlyWithin(join(repoRoot, 'lib', 'shared'))] }),
  ])
  const own = Object.entries(app.inputs).reduce((sum, [path, bytes]) => (path.startsWith('lib/') && main.inputs[path] === undefined ? sum + bytes : sum), 0)
  return {
    dependencies: { iotpubsub: ['*'] },
    app: app.gzip,
    base: main.gzip,
    own: app.gzip - main.gzip,
    alone: alone.gzip,
    minified: { app: app.min, own },
  }
}

/**
 * What the lib/ files loaded at start import from packages (names per package), and an app of only those:
 * the base an app's own code is the difference to. A package that only a dynamic import's chunk imports
 * (mqtt, behind `link: 'mqttjs'`) is not in it, as it is not in the app's total.
 */
async function dependenciesOf(app: Bundle): Promise<{ imported: Record<string, string[]>; base: Bundle }> {
  const libFiles = Object.keys(app.inputs).filter((path) => path.startsWith('lib/'))
  const imported = await packageImports(libFiles)
  const base = await bundle(`${Object.entries(imported).map(([m, names]) => reexports(m, names)).join('\n')}\n`)
  return { imported, base }
}

/**
 * Issue 15's app as a fresh Vite app: an index.html loading APP_SOURCE, built by Vite's API with no config file
 * (what `vite build` does), 'iotpubsub' resolved to the browser entry. Each chunk gzipped as served; the ones
 * loaded at start are the entry's and what it imports statically.
 */
async function measureViteApp(): Promise<AppSize['vite']> {
  const root = join(repoRoot, 'bench-results', 'size', 'vite-app')
  await mkdir(root, { recursive: true })
  await writeFile(join(root, 'index.html'), '<!doctype html>\n<html><body><script type="module" src="/main.js"></script></body></html>\n')
  await writeFile(join(root, 'main.js'), APP_SOURCE)
  const result = await viteBuild({
    configFile: false,
    logLevel: 'silent',
    root,
    resolve: { alias: { iotpubsub: join(repoRoot, 'lib', 'browser.ts') } },
    build: { write: false },
  })
  const outputs = (Array.isArray(result) ? result : [result]) as Rollup.RollupOutput[]
  const chunks = new Map(outputs.flatMap((o) => o.output).filter((o): o is Rollup.OutputChunk => o.type === 'chunk').map((c) => [c.fileName, c]))
  const eager = new Set<string>()
  const visit = (name: string): void => {
    if (eager.has(name)) return
    eager.add(name)
    for (const imported of chunks.get(name)?.imports ?? []) visit(imported)
  }
  for (const chunk of chunks.values()) if (chunk.isEntry) visit(chunk.fileName)
  const sized = { total: 0, onDemand: 0, minified: 0 }
  for (const chunk of chunks.values()) {
    const gzip = gzipSync(chunk.code, { level: 9 }).byteLength
    if (!eager.has(chunk.fileName)) {
      sized.onDemand += gzip
      continue
    }
    sized.total += gzip
    sized.minified += Buffer.byteLength(chunk.code)
  }
  return sized
}

/** Issue 15's app, with the split of its total. */
async function measureApp(): Promise<AppSize> {
  const [app, vite] = await Promise.all([bundle(APP_SOURCE), measureViteApp()])
  const { imported, base: together } = await dependenciesOf(app)
  const modules = Object.keys(imported)
  const alone = await Promise.all(modules.map((m) => bundle(`${reexports(m, imported[m] as string[])}\n`)))
  const minifiedByPackage: Record<string, number> = {}
  for (const [path, bytes] of Object.entries(app.inputs)) minifiedByPackage[packageOf(path)] = (minifiedByPackage[packageOf(path)] ?? 0) + bytes
  return {
    source: APP_SOURCE,
    total: app.gzip,
    minified: app.min,
    onDemand: app.lazyGzip,
    own: app.gzip - together.gzip,
    dependencies: Object.fromEntries(modules.map((m, i) => [m, { names: imported[m] as string[], gzip: (alone[i] as Bundle).gzip }])),
    dependenciesTogether: together.gzip,
    minifiedByPackage: Object.fromEntries(Object.entries(minifiedByPackage).sort((a, b) => b[1] - a[1])),
    vite,
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
  const [app, sdkApp, connectApp, alone, react, vue] = await Promise.all([
    measureApp(),
    bundle(`export * from ${entry}\n`),
    bundle(`export { connect } from ${entry}\n`),
    bundle(`export * from ${entry}\n`, { external: ['mqtt', 'rxjs'] }),
    measureSubpath('react', 'react'),
    measureSubpath('vue', 'vue'),
  ])
  // Each against what its own code at start imports: the whole API takes more of rxjs than `connect` alone.
  const [sdkBase, connectBase, shared] = await Promise.all([dependenciesOf(sdkApp), dependenciesOf(connectApp), measureShared(sdkApp)])
  const baseApp = sdkBase.base
  const sdkOwn = sdkApp.gzip - baseApp.gzip
  const total: Budget = { what: 'issue 15: the app’s JavaScript in total (esbuild)', bytes: app.total, budget: APP_BUDGET_BYTES, pass: app.total <= APP_BUDGET_BYTES }
  const totalVite: Budget = { what: 'issue 15: the app’s JavaScript in total (a fresh Vite app)', bytes: app.vite.total, budget: APP_BUDGET_BYTES, pass: app.vite.total <= APP_BUDGET_BYTES }
  const own: Budget = { what: 'issue 14: the SDK’s own code in the app', bytes: app.own, budget: APP_OWN_BUDGET_BYTES, pass: app.own <= APP_OWN_BUDGET_BYTES }
  return {
    app,
    budgets: { total, totalVite, own },
    pass: total.pass && totalVite.pass && own.pass,
    sdkApp: sdkApp.gzip,
    sdkAppOnDemand: sdkApp.lazyGzip,
    baseApp: baseApp.gzip,
    sdkAppImports: sdkBase.imported,
    sdkOwn,
    sdkOwnConnectOnly: connectApp.gzip - connectBase.base.gzip,
    sdkAlone: alone.gzip,
    minified: { sdkApp: sdkApp.min, baseApp: baseApp.min },
    libFiles: Object.fromEntries(
      Object.entries(sdkApp.inputs)
        .filter(([path]) => path.startsWith('lib/'))
        .sort((a, b) => b[1] - a[1]),
    ),
    imports: { mqtt: mqttNames, rxjs: rxjsNames },
    subpaths: {
      iotpubsub: {
        dependencies: sdkBase.imported,
        app: sdkApp.gzip,
        base: baseApp.gzip,
        own: sdkOwn,
        alone: alone.gzip,
        minified: { app: sdkApp.min, own: ownBytes(sdkApp.inputs) },
      },
      'iotpubsub/shared': shared,
      'iotpubsub/react': react,
      'iotpubsub/vue': vue,
    },
  }
}

const kb = (bytes: number): string => `${(bytes / 1024).toFixed(2)} KB`
const verdict = (b: Budget): string => `budget ≤ ${kb(b.budget)}  ${b.pass ? 'PASS' : 'FAIL'}`

if (process.argv[1] === fileURLToPath(import.meta.url)) {
  const size = await measureSize()
  const { app } = size
  console.log(`browser bundle (esbuild, platform browser, minified, code split, gzip -9; targets ${TARGET.join(', ')})`)
  console.log(`app using connect, observe, publish: ${app.source.trim().split('\n').join('; ')}`)
  console.log(`  total JavaScript min+gzip (rxjs and the link included): ${kb(app.total)} (${kb(app.minified)} min)   ${verdict(size.budgets.total)}`)
  if (app.onDemand > 0) console.log(`    and ${kb(app.onDemand)} min+gzip that only a dynamic import() loads (not in the total)`)
  console.log(`  the same app as a fresh Vite app builds it: ${kb(app.vite.total)} (${kb(app.vite.minified)} min)   ${verdict(size.budgets.totalVite)}`)
  if (app.vite.onDemand > 0) console.log(`    and ${kb(app.vite.onDemand)} min+gzip that only a dynamic import() loads (not in the total)`)
  const parts = Object.entries(app.dependencies).map(([m, d]) => `${m} {${d.names.join(', ')}} ${kb(d.gzip)}`)
  console.log(`  split: SDK's own code ${kb(app.own)} (total − ${kb(app.dependenciesTogether)}, an app with only what it imports); ${parts.join('; ') || 'no dependencies'} (each alone)`)
  console.log(`  minified bytes by package: ${Object.entries(app.minifiedByPackage).map(([p, b]) => `${p} ${b}`).join(', ')}`)
  console.log(`  SDK's own code:                         ${kb(app.own)}   ${verdict(size.budgets.own)}`)
  console.log('app with the SDK (whole API of the main entry), for information:')
  console.log(`  app with the SDK (whole API):          ${kb(size.sdkApp)} gzip (${kb(size.minified.sdkApp)} min)`)
  if (size.sdkAppOnDemand > 0) console.log(`    and ${kb(size.sdkAppOnDemand)} min+gzip that only a dynamic import() loads (not in the figures here)`)
  const sdkDeps = Object.entries(size.sdkAppImports).map(([m, names]) => `${m} {${names.join(', ')}}`).join(' + ')
  console.log(`  app with only ${sdkDeps || 'no dependencies'}: ${kb(size.baseApp)} gzip (${kb(size.minified.baseApp)} min)`)
  console.log(`  SDK's own code (difference):           ${kb(size.sdkOwn)}`)
  console.log(`  SDK's own code, app importing connect: ${kb(size.sdkOwnConnectOnly)}`)
  console.log(`  SDK alone, mqtt + rxjs external:       ${kb(size.sdkAlone)}`)
  console.log(`  lib/ files, minified bytes in what loads at start: ${Object.entries(size.libFiles).map(([f, b]) => `${f.slice(4)} ${b}`).join(', ')}`)
  console.log('per entry and subpath (min+gzip; own code = app with the entry − app with only what it takes from its dependencies):')
  const pad = (text: string, width: number) => text.padEnd(width)
  console.log(`  ${pad('entry', 18)}${pad('own code', 12)}${pad('dependencies', 14)}${pad('whole app', 12)}own alone   own minified  dependencies' names`)
  for (const [name, entry] of Object.entries(size.subpaths)) {
    const deps = Object.entries(entry.dependencies).map(([pkg, names]) => (names.join() === '*' ? `${pkg} (its whole API)` : `${pkg} {${names.join(', ')}}`)).join(' + ')
    console.log(`  ${pad(name, 18)}${pad(kb(entry.own), 12)}${pad(kb(entry.base), 14)}${pad(kb(entry.app), 12)}${pad(kb(entry.alone), 12)}${pad(`${(entry.minified.own / 1024).toFixed(2)} KB`, 14)}${deps}`)
  }
  for (const budget of Object.values(size.budgets)) {
    if (!budget.pass) console.error(`${budget.what}: ${kb(budget.bytes)}, over its budget of ${kb(budget.budget)} by ${budget.bytes - budget.budget} bytes`)
  }
  if (!size.pass) process.exitCode = 1
}
