// The published package in a fresh Node project: `npm pack` (with its prepack build), `npm install` of
// the tarball next to rxjs, then plain `node` runs an .mjs that imports 'iotpubsub' and talks to a private
// Mosquitto over mqtt://, a .cjs tries require(), and the installed TypeScript checks a consumer against
// the shipped .d.ts. Nothing here imports lib/: only what the tarball contains is used.
import { copyFile, mkdir, readFile } from 'node:fs/promises'
import { createServer } from 'node:http'
import { join, posix } from 'node:path'
import { afterAll, beforeAll, describe, expect, it } from 'vitest'
import { noMosquitto } from '../support/binaries.js'
import { Mosquitto } from '../support/mosquitto.js'
import { uniquePrefix } from '../support/wait.js'
import { expectScenario } from './expect-scenario.js'
import { allStarted, cleanEnv, freshProject, listFiles, pack, type Packed, repoVersion, run, runOk } from './package-kit.js'

describe.skipIf(noMosquitto())('the npm package in a fresh Node project', () => {
  let packed: Packed
  let app: string
  let broker: Mosquitto

  beforeAll(async () => {
    // Assigned one by one and all settled, so that afterAll cleans up whatever started if one failed.
    await allStarted([pack().then((p) => (packed = p)), Mosquitto.start({ persistence: false }).then((b) => (broker = b))])
    app = await freshProject(join(packed.dir, 'node-app'), {
      fixtures: ['shared', 'node-app'],
      packages: [
        packed.tarball,
        `rxjs@${repoVersion('rxjs')}`,
        `typescript@${repoVersion('typescript')}`,
        `@types/node@${repoVersion('@types/node')}`,
      ],
    })
  }, 180_000)

  afterAll(async () => {
    await broker?.dispose()
    await packed?.dispose()
  })

  it('ships the built entries and their types, and no sources or tests', () => {
    const exported = (packed.manifest.exports as Record<string, Record<string, { types: string; default: string }>>)['.']!
    // Each platform gets its own JavaScript and its own types (browser types have no Node-only options).
    expect(exported).toEqual({
      browser: { types: './dist/browser.d.ts', default: './dist/browser.js' },
      node: { types: './dist/node.d.ts', default: './dist/node.js' },
      default: { types: './dist/browser.d.ts', default: './dist/browser.js' },
    })
    expect(packed.manifest.type).toBe('module')
    expect(packed.manifest.sideEffects).toBe(false)
    for (const target of Object.values(exported).flatMap((c) => [c.types, c.default])) expect(packed.files).toContain(target.replace(/^\.\//, ''))
    // `iotpubsub/shared`: the tabs' shared connection in browsers; in Node, where sharing means nothing, the Node entry.
    const shared = (packed.manifest.exports as Record<string, Record<string, { types: string; default: string }>>)['./shared']!
    expect(shared).toEqual({
      browser: { types: './dist/shared/index.d.ts', default: './dist/shared/index.js' },
      node: { types: './dist/node.d.ts', default: './dist/node.js' },
      default: { types: './dist/shared/index.d.ts', default: './dist/shared/index.js' },
    })
    for (const target of Object.values(shared).flatMap((c) => [c.types, c.default])) expect(packed.files).toContain(target.replace(/^\.\//, ''))
    // Source maps are shipped; they embed their sources (inlineSources), since lib/ is not.
    expect(packed.files).toContain('dist/client/client.js.map')
    expect(packed.files).toEqual(expect.arrayContaining(['package.json', 'dist/browser.d.ts', 'dist/node.d.ts']))
    // Only dist/ and what npm always adds (package.json, README, LICENSE).
    expect(packed.files.filter((f) => !f.startsWith('dist/') && !/^(package\.json|README|LICEN[CS]E|CHANGELOG)/i.test(f))).toEqual([])
    expect(packed.files.filter((f) => /\.ts$/.test(f) && !f.endsWith('.d.ts'))).toEqual([])
    expect(packed.manifest.dependencies).toHaveProperty('mqtt')
    expect(packed.manifest.peerDependencies).toHaveProperty('rxjs')
  })

  it('ships exactly package.json, README.md, LICENSE and, per lib/ module, its .js, .js.map and .d.ts', async () => {
    // Derived from the lib/ that was packed, so a new module needs no edit here, but any other file does.
    const modules = (await listFiles(join(packed.dir, 'source', 'lib'))).filter((f) => f.endsWith('.ts') && !f.endsWith('.d.ts')).map((f) => f.slice(0, -3))
    const expected = ['LICENSE', 'README.md', 'package.json', ...modules.flatMap((m) => [`dist/${m}.d.ts`, `dist/${m}.js`, `dist/${m}.js.map`])]
    expect(packed.files).toEqual(expected.sort())
  })

  it('has no source map that points at a file the tarball lacks: every source is shipped or inlined', async () => {
    const unpacked = join(packed.dir, 'unpacked')
    await mkdir(unpacked, { recursive: true })
    await runOk('tar', ['-xzf', packed.tarball, '-C', unpacked], { cwd: packed.dir })
    const shipped = new Set(packed.files)
    const read = (file: string) => readFile(join(unpacked, 'package', file), 'utf8')
    const problems: string[] = []
    for (const file of packed.files.filter((f) => f.endsWith('.js') || f.endsWith('.d.ts'))) {
      const url = /\/\/# sourceMappingURL=(\S+)\s*$/.exec(await read(file))?.[1]
      if (url === undefined) continue
      const map = posix.join(posix.dirname(file), url)
      if (!shipped.has(map)) problems.push(`${file} names ${url}, not shipped`)
    }
    for (const file of packed.files.filter((f) => f.endsWith('.map'))) {
      const map = JSON.parse(await read(file)) as { sources: string[]; sourceRoot?: string; sourcesContent?: (string | null)[] }
      map.sources.forEach((source, i) => {
        const inlined = typeof map.sourcesContent?.[i] === 'string' && map.sourcesContent[i] !== ''
        const resolved = posix.normalize(posix.join(posix.dirname(file), map.sourceRoot ?? '', source))
        if (!inlined && !shipped.has(resolved)) problems.push(`${file}: ${source} is neither shipped nor inlined`)
      })
    }
    expect(problems).toEqual([])
  })

  it('passes `npm publish --dry-run` with no warning, and uploads nothing (a stand-in registry on loopback)', async () => {
    // The stand-in answers 404 (a name never published) and records requests: npm 11 reads the packument
    // even for a dry run. The placeholder token only silences "requires you to be logged in (dry-run)".
    const requests: string[] = []
    const registry = createServer((req, res) => {
      requests.push(`${req.method} ${req.url}`)
      res.writeHead(404, { 'content-type': 'application/json' }).end('{"error":"Not found"}')
    })
    await new Promise<void>((resolve) => registry.listen(0, '127.0.0.1', resolve))
    try {
      const host = `127.0.0.1:${(registry.address() as { port: number }).port}`
      const result = await run(
        'npm',
        ['publish', packed.tarball, '--dry-run', '--registry', `http://${host}/`, `--//${host}/:_authToken=placeholder-for-dry-run`, '--fetch-retries', '0'],
        { cwd: packed.dir, env: cleanEnv(), timeoutMs: 30_000 },
      )
      expect(result.code, result.stderr).toBe(0)
      expect(result.stderr.split('\n').filter((line) => /^npm (warn|error|ERR)/i.test(line))).toEqual([])
      expect(result.stdout.trim()).toBe(`+ iotpubsub@${String(packed.manifest.version)}`)
      expect(requests.filter((r) => !r.startsWith('GET '))).toEqual([])
    } finally {
      await new Promise<void>((resolve) => registry.close(() => resolve()))
    }
  })

  it('publishes the public API only in its types: the client is an interface, no private members, no internals', async () => {
    const dist = join(packed.dir, 'source', 'dist')
    for (const entry of ['node.d.ts', 'browser.d.ts', 'shared/index.d.ts']) {
      const types = await readFile(join(dist, entry), 'utf8')
      expect(types).toMatch(/export interface MQTTClient extends/)
      expect(types).toMatch(/export declare const MQTTClient: new \(options: MQTTClientOptions\) => MQTTClient;/)
      expect(types).not.toMatch(/\bprivate\b|BaseClient|Platform|Link\b/)
    }
    // What the client's type is made of: its public members, documented, and nothing else.
    const api = await readFile(join(dist, 'client', 'api.d.ts'), 'utf8')
    expect(api).not.toMatch(/\bprivate\b|#private|protected/)
    for (const member of ['status$', 'errors$', 'subscriptions$', 'observe(', 'publish<', 'request(', 'serve<', 'route<', 'end(']) expect(api).toContain(member)

    // The framework subpaths, iotpubsub/react and iotpubsub/vue: in every declaration file of theirs, no
    // private or protected member and no `any`; each public name documented with an example.
    const publicNames = {
      react: ['MqttProvider', 'MqttProviderProps', 'useClient', 'useTopic', 'useMessages', 'useStatus', 'TopicOptions', 'MessagesOptions'],
      vue: ['MQTT_CLIENT', 'provideClient', 'useClient', 'useTopic', 'useMessages', 'useStatus', 'TopicOptions', 'MessagesOptions'],
    }
    for (const [sub, names] of Object.entries(publicNames)) {
      expect((packed.manifest.exports as Record<string, unknown>)[`./${sub}`]).toEqual({ types: `./dist/${sub}/index.d.ts`, default: `./dist/${sub}/index.js` })
      const files = (await listFiles(join(dist, sub))).filter((f) => f.endsWith('.d.ts'))
      const declarations = await Promise.all(files.map((f) => readFile(join(dist, sub, f), 'utf8')))
      declarations.forEach((types, i) => {
        const code = types.replace(/\/\*[\s\S]*?\*\//g, '').replace(/\/\/.*$/gm, '')
        expect(code, `${sub}/${files[i]}`).not.toMatch(/\bprivate\b|#private|\bprotected\b|\bany\b/)
      })
      const index = await readFile(join(dist, sub, 'index.d.ts'), 'utf8')
      for (const name of names) {
        expect(index, `${sub} exports ${name}`).toMatch(new RegExp(`export \\{[^}]*\\b${name}\\b[^}]*\\}`))
        const documented = new RegExp(`/\\*\\*(?:(?!\\*/)[\\s\\S])*@example(?:(?!\\*/)[\\s\\S])*\\*/\\s*export (?:declare )?(?:function|interface|const|type) ${name}\\b`)
        expect(declarations.some((types) => documented.test(types)), `${sub}: ${name} has a doc comment with an example`).toBe(true)
      }
      // Only types from the SDK's core: the subpath loads none of its JavaScript and nothing of the other
      // framework; its only other module is the bindings' shared re-render coalescing (lib/bindings).
      const code = await Promise.all(files.map((f) => readFile(join(dist, sub, f.replace(/\.d\.ts$/, '.js')), 'utf8')))
      const imports = code.flatMap((js) => [...js.matchAll(/^import [^'"]*['"]([^'"]+)['"]/gm)].map((m) => m[1]!))
      expect([...new Set(imports.filter((m) => !m.startsWith('./')))].sort()).toEqual(['../bindings/coalesced.js', sub])
      const shared = await readFile(join(dist, 'bindings', 'coalesced.js'), 'utf8')
      expect([...shared.matchAll(/^import [^'"]*['"]([^'"]+)['"]/gm)]).toEqual([])
    }
  })

  it('works from a plain .mjs: connects over mqtt://, observes, publishes, receives, ends, and exits', async () => {
    const prefix = uniquePrefix('package-node')
    const clientId = `package-node-${process.pid}`
    // The process must exit by itself: end() leaves no socket or timer behind.
    const { stdout } = await runOk('node', ['smoke.mjs', broker.tcpUrl, prefix, clientId], { cwd: app, timeoutMs: 30_000 })
    const result = JSON.parse(stdout.trim().split('\n').at(-1)!)
    expect(result.runtime.isBrowser).toBe(false)
    expectScenario(result, prefix)
    expect(result.refused.message).toContain('ftp://')
    // The broker saw this client: the script really went over TCP to the private Mosquitto.
    expect(await broker.log()).toContain(clientId)
  }, 45_000)

  it('is ESM-only: require() works only where Node can require an ES module, and is the same instance', async () => {
    const { stdout } = await runOk('node', ['require.cjs'], { cwd: app })
    const result = JSON.parse(stdout)
    if (result.requireModule) {
      // Node >= 20.19 / 22.12: require(esm) is on by default.
      expect(result.requireError).toBeUndefined()
      expect(result.required.exports).toEqual(expect.arrayContaining(['connect', 'MQTTClient', 'topic', 'InvalidTopicError', 'UnsupportedOptionError']))
      expect(result.sameInstance).toBe(true)
    } else {
      // Older Node 20 releases: a clear ERR_REQUIRE_ESM, not a half-loaded module.
      expect(result.requireError.code).toBe('ERR_REQUIRE_ESM')
    }
  })

  it('type-checks a TypeScript consumer against the shipped .d.ts (NodeNext and bundler, skipLibCheck off)', async () => {
    await copyFile(join(app, 'consumer.ts.txt'), join(app, 'consumer.ts'))
    const tsc = join(app, 'node_modules', 'typescript', 'bin', 'tsc')
    const [nodeNext, bundler] = await Promise.all([
      // --traceResolution shows that 'iotpubsub' resolved to the tarball's declarations.
      run('node', [tsc, '-p', 'tsconfig.nodenext.json', '--traceResolution'], { cwd: app, timeoutMs: 60_000 }),
      run('node', [tsc, '-p', 'tsconfig.bundler.json'], { cwd: app, timeoutMs: 60_000 }),
    ])
    const errors = (output: string) => output.split('\n').filter((line) => /error TS\d+/.test(line))
    expect(errors(nodeNext.stdout + nodeNext.stderr)).toEqual([])
    expect(nodeNext.code).toBe(0)
    expect(nodeNext.stdout).toMatch(/Module name 'iotpubsub' was successfully resolved to '[^']*node_modules\/iotpubsub\/dist\/node\.d\.ts'/)
    expect(nodeNext.stdout).toMatch(/Module name 'iotpubsub\/shared' was successfully resolved to '[^']*node_modules\/iotpubsub\/dist\/node\.d\.ts'/)
    expect(`${bundler.stdout}${bundler.stderr}`.trim()).toBe('')
    expect(bundler.code).toBe(0)
  }, 60_000)

  it('keeps the doc comments in the installed .d.ts', async () => {
    const dist = join(app, 'node_modules', 'iotpubsub', 'dist')
    const node = await readFile(join(dist, 'node.d.ts'), 'utf8')
    const browser = await readFile(join(dist, 'browser.d.ts'), 'utf8')
    const shared = await readFile(join(dist, 'shared', 'index.d.ts'), 'utf8')
    for (const declarations of [node, browser, shared]) {
      expect(declarations).toMatch(/\/\*\*(?:(?!\*\/)[\s\S])*@example(?:(?!\*\/)[\s\S])*\*\/\s*export declare function connect\(/)
    }
    const topics = await readFile(join(dist, 'topic.d.ts'), 'utf8')
    expect(topics).toMatch(/\/\*\*(?:(?!\*\/)[\s\S])*\*\/\s*export declare function topic\(/)
  })
})
