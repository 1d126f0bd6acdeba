// Generates the API reference (docs/api/) from the doc comments of the .d.ts files the package publishes.
// The declarations are emitted as `npm run build` emits them (tsconfig.build.json), into a private folder so
// that a build racing with this one is not disturbed, then TypeDoc reads one entry per public import path:
// `iotpubsub` (browser and Node), `iotpubsub/shared`, `iotpubsub/react`, `iotpubsub/vue`. A symbol exported by
// several entries is documented once, where it is first exported; the others link to it.
//
// A public symbol without a doc comment fails the run (TypeDoc's `notDocumented` validation, as an error),
// and so does one of the entries' own functions, classes and variables (not their members) without an
// `@example`. A member that overrides or implements a documented one without a comment of its own (each
// error class's `name`) takes that comment: TypeDoc copies it, so it counts as documented.
import { execFile } from 'node:child_process'
import { mkdir, mkdtemp, rm, writeFile } from 'node:fs/promises'
import { tmpdir } from 'node:os'
import { dirname, join, relative, resolve } from 'node:path'
import { fileURLToPath } from 'node:url'
import { promisify } from 'node:util'
import { Application, LogLevel, ReflectionKind, type DeclarationReflection, type ProjectReflection } from 'typedoc'

const repoDir = resolve(dirname(fileURLToPath(import.meta.url)), '../..')
const docsDir = join(repoDir, 'docs')
export const apiDir = join(docsDir, 'api')

/** The package's public import paths and the emitted declaration file each one leads to. */
export const ENTRIES = [
  { name: 'iotpubsub', file: 'browser.d.ts', about: 'The main entry. Bundlers and browsers get the browser build (`ws://`, `wss://`); Node gets the Node build, with the same names and types (`connect` and `MQTTClient` also open `mqtt://` and `mqtts://` there, see `iotpubsub in Node`).' },
  { name: 'iotpubsub in Node', file: 'node.d.ts', about: 'What Node gets for `import ... from \'iotpubsub\'` (and for `iotpubsub/shared`): every name of the browser build, with `connect` and `MQTTClient` opening `mqtt://`, `mqtts://`, `ws://` and `wss://`.' },
  { name: 'iotpubsub/shared', file: 'shared/index.d.ts', about: 'The browser entry\'s API with one broker connection shared by the tabs of an origin. Switching is changing the import path.' },
  { name: 'iotpubsub/react', file: 'react/index.d.ts', about: 'React 18 and 19 hooks over a client.' },
  { name: 'iotpubsub/vue', file: 'vue/index.d.ts', about: 'Vue 3 composables over a client.' },
] as const

const run = promisify(execFile)

/** Kinds whose declarations must carry an `@example` (their members need a doc comment only). */
const NEEDS_EXAMPLE = ReflectionKind.Function | ReflectionKind.Class | ReflectionKind.Variable

export interface ApiResult {
  /** Symbols (entry, name) documented in the reference. */
  readonly symbols: readonly string[]
  /** TypeDoc's validation warnings and our own checks; the run failed when this is not empty. */
  readonly problems: readonly string[]
}

/** Emits the declarations, runs TypeDoc into `out` (default docs/api). */
export async function generateApi(out = apiDir): Promise<ApiResult> {
  const work = await mkdtemp(join(tmpdir(), 'iotpubsub-api-'))
  try {
    const dts = join(work, 'dist')
    await run(process.execPath, [join(repoDir, 'node_modules/typescript/bin/tsc'), '-p', join(repoDir, 'tsconfig.build.json'), '--emitDeclarationOnly', '--declarationMap', 'false', '--outDir', dts], { cwd: repoDir, maxBuffer: 16 << 20 })
    // One module file per import path, named for it (TypeDoc takes a module's name from its `@module` tag).
    const entryPoints: string[] = []
    for (const [i, entry] of ENTRIES.entries()) {
      const file = join(dts, `entry-${i}.d.ts`)
      const target = `./${entry.file.replace(/\.d\.ts$/, '.js')}`
      await writeFile(file, `/**\n * ${entry.about}\n *\n * @module ${entry.name}\n */\nexport * from '${target}'\n`)
      entryPoints.push(file)
    }
    await writeFile(join(dts, 'tsconfig.json'), JSON.stringify({ compilerOptions: { module: 'NodeNext', moduleResolution: 'NodeNext', target: 'ES2022', lib: ['ES2022', 'DOM', 'DOM.Iterable'], types: [], strict: true, skipLibCheck: true, noEmit: true, typeRoots: [join(repoDir, 'node_modules/@types')], baseUrl: '.', paths: { '*': [join(repoDir, 'node_modules/*'), join(repoDir, 'node_modules/@types/*')] } }, include: ['./**/*.d.ts'] }))
    const problems: string[] = []
    const app = await Application.bootstrapWithPlugins({
      entryPoints,
      name: 'iotpubsub API',
      tsconfig: join(dts, 'tsconfig.json'),
      plugin: ['typedoc-plugin-markdown', 'typedoc-vitepress-theme'],
      out,
      // @ts-expect-error options of the two plugins, unknown to TypeDoc's own types
      docsRoot: docsDir,
      readme: 'none',
      entryFileName: 'index',
      outputFileStrategy: 'members',
      hideBreadcrumbs: true,
      hidePageHeader: true,
      useCodeBlocks: true,
      parametersFormat: 'table',
      interfacePropertiesFormat: 'list',
      classPropertiesFormat: 'list',
      typeDeclarationFormat: 'table',
      excludePrivate: true,
      excludeInternal: true,
      excludeExternals: true,
      disableSources: true,
      githubPages: false,
      sort: ['kind', 'alphabetical'],
      validation: { notExported: false, invalidLink: true, rewrittenLink: true, notDocumented: true, unusedMergeModuleWith: true },
      logLevel: LogLevel.Warn,
      sidebar: { autoConfiguration: true, format: 'vitepress', pretty: true, collapsed: true },
    })
    app.logger.log = (message: string, level: LogLevel) => {
      if (level >= LogLevel.Warn) problems.push(normalise(String(message)))
    }
    const project = await app.convert()
    if (!project) return { symbols: [], problems: [...problems, 'TypeDoc could not convert the declarations'] }
    app.validate(project)
    problems.push(...missingExamples(project))
    await rm(out, { recursive: true, force: true })
    await mkdir(out, { recursive: true })
    await app.generateOutputs(project)
    return { symbols: listSymbols(project), problems: [...new Set(problems)].sort() }
  } finally {
    await rm(work, { recursive: true, force: true })
  }
}

function ownDeclarations(project: ProjectReflection): Array<{ module: string; decl: DeclarationReflection }> {
  const found: Array<{ module: string; decl: DeclarationReflection }> = []
  for (const mod of project.children ?? []) {
    for (const child of mod.children ?? []) {
      if (child.kindOf(ReflectionKind.Reference)) continue
      found.push({ module: mod.name, decl: child })
    }
  }
  return found
}

function listSymbols(project: ProjectReflection): string[] {
  return ownDeclarations(project).map(({ module, decl }) => `${module}: ${decl.name}`)
}

/**
 * The entries' own functions, classes and variables without an `@example`. A name declared twice (the
 * `MQTTClient` interface and its constructor) needs it on one of the two.
 */
function missingExamples(project: ProjectReflection): string[] {
  const withExample = new Set<string>()
  const needing = new Set<string>()
  for (const { module, decl } of ownDeclarations(project)) {
    const key = `${module}: ${decl.name}`
    const comments = [decl.comment, ...(decl.signatures ?? []).map((s) => s.comment)]
    if (comments.some((c) => c?.blockTags.some((t) => t.tag === '@example'))) withExample.add(key)
    else if (decl.kindOf(NEEDS_EXAMPLE)) needing.add(key)
  }
  return [...needing].filter((key) => !withExample.has(key)).map((key) => `${key.replace(/^[^:]*: /, '')} has no @example`)
}

/**
 * One line per gap, whichever entry it was found through: `MQTTClient.observe (CallSignature) has no doc
 * comment`. TypeDoc's own lines carry colours and temporary paths.
 */
function normalise(message: string): string {
  // eslint-disable-next-line no-control-regex
  const plain = message.replace(/\u001b\[[0-9;]*m/g, '').replace(/^\[warning\]\s*/, '')
  const undocumented = /^(.+?) \((\w+)\), defined in .* does not have any documentation$/.exec(plain)
  if (!undocumented) return plain
  const path = undocumented[1]!.replace(/^iotpubsub(?: in Node|\/shared|\/react|\/vue)?\./, '')
  return `${path} (${undocumented[2]}) has no doc comment`
}

// `tsx docs/scripts/api.ts`: generate, print every gap, exit 1 if there is one. There is no allow-list: a public
// symbol comes with its doc comment (and its example) in the change that adds it.
if (process.argv[1] && resolve(process.argv[1]) === fileURLToPath(import.meta.url)) {
  const result = await generateApi()
  for (const problem of result.problems) console.error(`api: ${problem}`)
  console.log(`api: ${result.symbols.length} symbols in ${relative(repoDir, apiDir)}/`)
  if (result.problems.length) process.exitCode = 1
}
