// The published package in a fresh Node project: `npm pack` (with its prepack build), `npm install` of
// the tarball next to rxjs, then plain `node` runs an .mjs that imports 'iotpubsub' and talks to a private
// Mosquitto over mqtt://, a .cjs tries require(), and the installed TypeScript checks a consumer against
// the shipped .d.ts. Nothing here imports lib/: only what the tarball contains is used.
import { copyFile, readFile } from 'node:fs/promises'
import { join } from 'node:path'
import { afterAll, beforeAll, describe, expect, it } from 'vitest'
import { noMosquitto } from '../support/binaries.js'
import { Mosquitto } from '../support/mosquitto.js'
import { uniquePrefix } from '../support/wait.js'
import { expectScenario } from './expect-scenario.js'
import { allStarted, freshProject, pack, type Packed, repoVersion, run, runOk } from './package-kit.js'

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
    // Source maps are shipped; they embed their sources (inlineSources), since lib/ is not.
    expect(packed.files).toContain('dist/client/client.js.map')
    expect(packed.files).toEqual(expect.arrayContaining(['package.json', 'dist/browser.d.ts', 'dist/node.d.ts']))
    // Only dist/ and what npm always adds (package.json, README, LICENSE).
    expect(packed.files.filter((f) => !f.startsWith('dist/') && !/^(package\.json|README|LICEN[CS]E|CHANGELOG)/i.test(f))).toEqual([])
    expect(packed.files.filter((f) => /\.ts$/.test(f) && !f.endsWith('.d.ts'))).toEqual([])
    expect(packed.manifest.dependencies).toHaveProperty('mqtt')
    expect(packed.manifest.peerDependencies).toHaveProperty('rxjs')
  })

  it('publishes the public API only in its types: the client is an interface, no private members, no internals', async () => {
    const dist = join(packed.dir, 'source', 'dist')
    for (const entry of ['node.d.ts', 'browser.d.ts']) {
      const types = await readFile(join(dist, entry), 'utf8')
      expect(types).toMatch(/export interface MQTTClient extends/)
      expect(types).toMatch(/export declare const MQTTClient: new \(options: MQTTClientOptions\) => MQTTClient;/)
      expect(types).not.toMatch(/\bprivate\b|BaseClient|Platform|Link\b/)
    }
    // What the client's type is made of: its public members, documented, and nothing else.
    const api = await readFile(join(dist, 'client', 'api.d.ts'), 'utf8')
    expect(api).not.toMatch(/\bprivate\b|#private|protected/)
    for (const member of ['status$', 'errors$', 'subscriptions$', 'observe(', 'publish<', 'request(', 'serve<', 'route<', 'end(']) expect(api).toContain(member)
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
    expect(`${bundler.stdout}${bundler.stderr}`.trim()).toBe('')
    expect(bundler.code).toBe(0)
  }, 60_000)

  it('keeps the doc comments in the installed .d.ts', async () => {
    const dist = join(app, 'node_modules', 'iotpubsub', 'dist')
    const node = await readFile(join(dist, 'node.d.ts'), 'utf8')
    const browser = await readFile(join(dist, 'browser.d.ts'), 'utf8')
    for (const declarations of [node, browser]) {
      expect(declarations).toMatch(/\/\*\*(?:(?!\*\/)[\s\S])*@example(?:(?!\*\/)[\s\S])*\*\/\s*export declare function connect\(/)
    }
    const topics = await readFile(join(dist, 'topic.d.ts'), 'utf8')
    expect(topics).toMatch(/\/\*\*(?:(?!\*\/)[\s\S])*\*\/\s*export declare function topic\(/)
  })
})
