// The README's quick starts, run word for word as a user would: each marked block (`<!-- quick-start:... -->`)
// is taken from README.md as printed and written into a throwaway ESM project, in which 'iotpubsub' is this
// repository's lib/ (see readme-kit.ts: the sources are TypeScript, so `node` runs with tsx's loader). The
// Node quick start runs as its own process against a private Mosquitto started from the `quick-start.conf`
// block of docs/guide/install.md (where the README sends users for a broker), and its output is compared with
// the output the README says the user sees. The getting-started pages of docs/ print the same quick starts
// (checked to be identical) with more around them: what a wrong password prints (docs/start/node.md), the
// troubleshooting list and the debug log (docs/guide/troubleshooting.md), the requirements
// (docs/guide/install.md); what those pages say is checked here against what the scripts do.
//
// What the tests change, and only this: the broker's ports. The Node example reads `MQTT_URL` (its default,
// mqtt://localhost:1883, is what the README's printed output shows), so the tests set `MQTT_URL` to the
// private broker's port and expect the README's lines with that port. The browser example has its URL in the
// code: `ws://localhost:9001` is replaced by the private broker's WebSocket port before bundling.
import { execFile } from 'node:child_process'
import { mkdir, readFile, writeFile } from 'node:fs/promises'
import { join, relative } from 'node:path'
import { build } from 'esbuild'
import type { Browser } from 'playwright-core'
import { afterAll, afterEach, beforeAll, describe, expect, it } from 'vitest'
import { connect } from '../../lib/node.js'
import { startBroker, type EmbeddedBroker } from '../../demo/broker.js'
import { findBinary, noMosquitto } from '../support/binaries.js'
import { TestCerts } from '../support/certs.js'
import { launchChromium, noChromium } from '../support/chromium.js'
import { kitDir, Mosquitto } from '../support/mosquitto.js'
import { freePort } from '../support/ports.js'
import { startSecureBroker } from '../support/secure-broker.js'
import { serveStatic } from '../package/package-kit.js'
import { block, lines, linkNodeModules, markdown, nodeArgs, readme, repoDir, start, stopAll, tsc, tsxCli, userEnv, userProject } from './readme-kit.js'

/** The pages that hold the quick starts' surroundings. */
const install = 'docs/guide/install.md'
const startNode = 'docs/start/node.md'
const troubleshooting = 'docs/guide/troubleshooting.md'

const node = block('quick-start:node')
const browser = block('quick-start:browser')
/** The broker the README links to: docs/guide/install.md's `quick-start.conf`. */
const brokerConf = block('quick-start:broker', install)

/** A README output line as a pattern: the readings' numbers vary, the port is the private broker's. */
function outputPattern(line: string, port: number): RegExp {
  const escape = (text: string) => text.replace(/[.*+?^${}()|[\]\\]/g, '\\$&')
  const parts = line.replaceAll('localhost:1883', `localhost:${port}`).split(/\{"celsius":[\d.]+\}/)
  return new RegExp(`^${parts.map(escape).join('\\{"celsius":\\d+(?:\\.\\d)?\\}')}$`)
}

/** The kinds of lines, in order, with runs of readings as one: what the README shows against what was printed. */
function shape(printed: string[], port: number): string[] {
  const kinds = lines('quick-start:node-output').map((l) => outputPattern(l, port))
  const names = printed.map((l) => {
    const kind = kinds.findIndex((k) => k.test(l))
    return kind < 0 ? `unexpected: ${l}` : lines('quick-start:node-output')[kind]!.replace(/\{"celsius":[\d.]+\}/, '{"celsius":N}')
  })
  return names.filter((n, i) => i === 0 || n !== names[i - 1])
}

function exec(command: string, args: string[], options: { cwd: string; env?: NodeJS.ProcessEnv }): Promise<{ code: number; output: string }> {
  return new Promise((resolve, reject) => {
    execFile(command, args, { ...options, timeout: 120_000, maxBuffer: 16 * 1024 * 1024 }, (error, stdout, stderr) => {
      if (error && typeof error.code !== 'number') return reject(error)
      resolve({ code: error ? Number(error.code) : 0, output: `${stdout}${stderr}` })
    })
  })
}

describe('the README marks its quick starts', () => {
  it('a Node quick start in plain JavaScript, a browser one in TypeScript, a broker config, and the output they print', () => {
    expect(node.lang).toBe('js')
    expect(browser.lang).toBe('ts')
    // `ini`: the highlighting VitePress has for a Mosquitto config.
    expect(brokerConf.lang).toBe('ini')
    expect(readme).toContain('[`quick-start.conf`](docs/guide/install.md#a-broker-on-your-machine)')
    expect(lines('quick-start:node-output').length).toBeGreaterThanOrEqual(3)
    expect(lines('quick-start:node-refused', startNode).length).toBe(2)
    // What the brief of the quick start asks of both: status, errors on every subscribe, errors$, a publish
    // whose failure is handled, and shutdown.
    for (const code of [node.code, browser.code]) {
      expect(code).toContain('status$.subscribe')
      expect(code).toMatch(/\.subscribe\(\{\n\s+next:[\s\S]+?\n\s+error:/)
      expect(code).toContain('errors$.subscribe')
      expect(code).toMatch(/\.catch\(|try \{[\s\S]*await client\.publish/)
      expect(code).toContain('client.end()')
    }
    expect(node.code).toContain("process.on('SIGINT'")
  })

  it.each([
    ['quick-start:node', startNode],
    ['quick-start:node-output', startNode],
    ['quick-start:browser', 'docs/start/browser.md'],
    ['dashboards:react', 'docs/start/react.md'],
  ])('%s is printed the same in the README and in %s', (name, page) => {
    expect(block(name, page)).toEqual(block(name))
  })
})

describe.skipIf(noMosquitto())('the Node quick start, run as `node service.mjs`', () => {
  let project: Awaited<ReturnType<typeof userProject>>
  let broker: Mosquitto
  let port: number

  beforeAll(async () => {
    project = await userProject()
    await writeFile(join(project.dir, 'service.mjs'), node.code)
    // The quick-start.conf the README links to, as printed; the harness moves its listeners to free loopback ports and
    // adds a log file (it waits for the broker's start line there).
    const conf = join(project.dir, 'quick-start.conf')
    await writeFile(conf, brokerConf.code)
    broker = await Mosquitto.start({ profile: relative(kitDir, conf), extra: ['log_dest file /mosquitto/log/mosquitto.log', 'log_type all'] })
    port = broker.ports[1883]!
  })
  afterEach(stopAll)
  afterAll(async () => {
    await broker?.dispose()
    await project?.dispose()
  })

  const run = (env: Record<string, string>, script = 'service.mjs') =>
    start(process.execPath, [...nodeArgs, script], { cwd: project.dir, env: userEnv(env) })

  it('prints what the README shows: connected, the readings it receives back, a DecodeError on errors$, and `closed` after Ctrl-C, exit code 0', async () => {
    const service = run({ MQTT_URL: `mqtt://localhost:${port}` })
    await service.line(/^connected to /, 'stdout')
    const reading = /^kitchen: \{"celsius":\d+(?:\.\d)?\}$/
    await service.line(reading, 'stdout')
    // The README's `mosquitto_pub -t quick-start/hall/temp -m oops`, on the private broker's port.
    const mosquittoPub = findBinary('mosquitto_pub')
    if (mosquittoPub) {
      await exec(mosquittoPub, ['-h', '127.0.0.1', '-p', String(port), '-t', 'quick-start/hall/temp', '-m', 'oops'], { cwd: project.dir })
    } else {
      const other = connect(broker.tcpUrl)
      await other.publish('quick-start/hall/temp', 'oops')
      await other.end()
    }
    const decodeError = await service.line(/^DecodeError: /, 'stderr')
    expect(markdown(startNode)).toContain('`DecodeError: Could not decode the payload of "quick-start/hall/temp": ...`')
    expect(decodeError).toMatch(/^DecodeError: Could not decode the payload of "quick-start\/hall\/temp": .*oops/)
    // A reading after the bad payload: the stream goes on.
    await service.line(reading, 'stdout', 15_000, service.stdout.length)
    service.child.kill('SIGINT')
    expect(await service.exit()).toBe(0)
    expect(shape(service.stdout, port)).toEqual(shape(lines('quick-start:node-output'), 1883))
    expect(service.stdout[0]).toBe(`connected to mqtt://localhost:${port} (MQTT 5)`)
    expect(service.stdout.at(-1)).toBe('closed')
    expect(service.stderr).toEqual([decodeError])
    // The client really subscribed on this broker (SUBSCRIBE at QoS 1 in its log).
    expect(await broker.log()).toMatch(/ 1 quick-start\/\+\/temp$/m)
  })

  it('against `mosquitto -p PORT` with no config file (the first broker of docs/guide/install.md): connects, receives, exits 0 on Ctrl-C', async () => {
    expect(markdown(install)).toContain('\nmosquitto -p 1883\n')
    const mosquitto = findBinary('mosquitto')!
    const own = await freePort()
    // Without a config file Mosquitto 2 starts in "local only mode": loopback only, anonymous; it logs to stderr.
    const bare = start(mosquitto, ['-p', String(own)], { cwd: project.dir, env: userEnv() })
    try {
      await bare.line(/mosquitto version \S+ running/, 'stderr')
      expect(bare.stderr.join('\n')).toMatch(/local only mode/)
      const service = run({ MQTT_URL: `mqtt://localhost:${own}` })
      expect(await service.line(/^connected to /, 'stdout')).toBe(`connected to mqtt://localhost:${own} (MQTT 5)`)
      await service.line(/^kitchen: \{"celsius":/, 'stdout')
      service.child.kill('SIGINT')
      expect(await service.exit()).toBe(0)
      expect(service.stdout.at(-1)).toBe('closed')
    } finally {
      bare.child.kill('SIGTERM')
      await bare.exit().catch(() => undefined)
    }
  })

  it('with no broker on the port: `reconnecting in N ms: connect ECONNREFUSED ...` as the troubleshooting list says, and SIGTERM ends it with code 0', async () => {
    const nobody = await freePort()
    const service = run({ MQTT_URL: `mqtt://localhost:${nobody}` })
    const line = await service.line(/^reconnecting in /, 'stdout')
    expect(line).toMatch(new RegExp(`^reconnecting in \\d+ ms: connect ECONNREFUSED 127\\.0\\.0\\.1:${nobody}$`))
    expect(markdown(troubleshooting)).toMatch(/`reconnecting in \d+ ms: connect ECONNREFUSED 127\.0\.0\.1:1883`/)
    service.child.kill('SIGTERM')
    expect(await service.exit()).toBe(0)
    expect(service.stdout.at(-1)).toBe('closed')
    expect(service.stderr).toEqual([])
  })

  it('IOTPUBSUB_DEBUG=1 turns the debug log on to the console, as the troubleshooting list says', async () => {
    expect(markdown(troubleshooting)).toContain('`IOTPUBSUB_DEBUG=1 node service.mjs`')
    const service = run({ MQTT_URL: `mqtt://localhost:${port}`, IOTPUBSUB_DEBUG: '1' })
    await service.line(/^connected to /, 'stdout')
    // The SUBACK comes after "connected": waited for, not raced by the Ctrl-C.
    await service.line(/^\s*event: 'suback'/, 'stdout')
    service.child.kill('SIGINT')
    expect(await service.exit()).toBe(0)
    const output = service.stdout.join('\n')
    expect(output).toContain(`} iotpubsub: connecting to mqtt://localhost:${port} (MQTT 5)`)
    expect(output).toContain(`} iotpubsub: connected to mqtt://localhost:${port} (MQTT 5, session new)`)
    expect(output).toContain('} iotpubsub: SUBSCRIBE quick-start/+/temp (QoS 1)')
    expect(output).toContain("event: 'suback'")
    expect(output).toContain('iotpubsub: ended')
  })

  it('the debug log section of the troubleshooting page prints what it shows: fields first, then the one-line message', async () => {
    // The page's logger example, with an end once connected; the port is the broker's.
    const script = [
      block('example:logger', troubleshooting).code.replace('mqtt://localhost:1883', `mqtt://localhost:${port}`),
      "client.status$.subscribe((s) => { if (s.type === 'connected') void client.end() })",
    ].join('\n')
    await writeFile(join(project.dir, 'logger.mjs'), script)
    const run1 = run({}, 'logger.mjs')
    expect(await run1.exit()).toBe(0)
    const shown = /```text\n(\{\n {2}event: 'attempt',[\s\S]*?)\n```/.exec(markdown(troubleshooting))?.[1]
    expect(shown).toBeDefined()
    expect(run1.stdout.join('\n')).toContain(shown!.replaceAll('localhost:1883', `localhost:${port}`))
  })

  it('against `npm run demo`\'s embedded broker (aedes) it says MQTT 3.1.1, and runs as service.mts under tsx too', async () => {
    let aedes: EmbeddedBroker | undefined
    try {
      aedes = await startBroker({ tcpPort: 0, wsPort: 0 })
      await writeFile(join(project.dir, 'service.mts'), node.code)
      expect(markdown(startNode)).toContain('`service.mts` with `npx tsx service.mts`')
      // The tsx CLI, as `npx tsx service.mts` runs it (it relays Ctrl-C to the script).
      const service = start(process.execPath, [tsxCli, 'service.mts'], { cwd: project.dir, env: userEnv({ MQTT_URL: `mqtt://localhost:${aedes.tcpPort}` }) })
      expect(await service.line(/^connected to /, 'stdout')).toBe(`connected to mqtt://localhost:${aedes.tcpPort} (MQTT 3.1.1)`)
      await service.line(/^kitchen: \{"celsius":/, 'stdout')
      service.child.kill('SIGINT')
      expect(await service.exit()).toBe(0)
      expect(service.stdout.at(-1)).toBe('closed')
      expect(service.stderr).toEqual([])
    } finally {
      await aedes?.close()
    }
  })

  it('fails as the requirements (docs/guide/install.md) and the troubleshooting list say in a CommonJS project: node on a .js file, and tsx on a .ts file with top-level await', async () => {
    const cjs = join(project.dir, 'cjs')
    await mkdir(cjs)
    await writeFile(join(cjs, 'package.json'), `${JSON.stringify({ name: 'cjs', version: '1.0.0', type: 'commonjs' }, null, 2)}\n`)
    await writeFile(join(cjs, 'service.js'), node.code)
    await writeFile(join(cjs, 'service.ts'), `${node.code}await client.end()\n`)
    const plain = await exec(process.execPath, ['service.js'], { cwd: cjs, env: userEnv() })
    expect(plain.code).toBe(1)
    expect(plain.output).toContain('SyntaxError: Cannot use import statement outside a module')
    const tsx = await exec(process.execPath, [tsxCli, 'service.ts'], { cwd: cjs, env: userEnv() })
    expect(tsx.code).toBe(1)
    expect(tsx.output).toContain('Top-level await is currently not supported with the "cjs" output format')
    for (const page of [install, troubleshooting]) {
      const prose = markdown(page).replace(/\s+/g, ' ')
      expect(prose, page).toContain('`SyntaxError: Cannot use import statement outside a module`')
      expect(prose, page).toContain('`Top-level await is currently not supported with the "cjs" output format`')
    }
  })
})

describe.skipIf(noMosquitto())('the Node quick start against a broker with passwords (the kit\'s secured profile)', () => {
  let certs: TestCerts
  let broker: Mosquitto
  let project: Awaited<ReturnType<typeof userProject>>
  const password = 'alice-secret-8d1f'

  beforeAll(async () => {
    project = await userProject()
    await writeFile(join(project.dir, 'service.mjs'), node.code)
    certs = await TestCerts.make({ clients: [] })
    broker = await startSecureBroker({ users: { alice: password }, certs })
  })
  afterEach(stopAll)
  afterAll(async () => {
    await broker?.dispose()
    await certs?.dispose()
    await project?.dispose()
  })

  const url = () => `mqtt://localhost:${broker.ports[1883]}`
  const run = (env: Record<string, string>, script = 'service.mjs') =>
    start(process.execPath, [...nodeArgs, script], { cwd: project.dir, env: userEnv({ MQTT_URL: url(), ...env }) })

  it('a wrong password does not crash it: the handlers print the NotAuthorizedError docs/start/node.md shows, and it exits by itself with 0', async () => {
    expect(markdown(startNode)).toContain('`MQTT_USERNAME=alice MQTT_PASSWORD=wrong node service.mjs`')
    const service = run({ MQTT_USERNAME: 'alice', MQTT_PASSWORD: 'wrong' })
    const code = await service.exit()
    expect({ code, stdout: service.stdout, stderr: service.stderr }).toEqual({
      code: 0,
      stdout: [lines('quick-start:node-refused', startNode)[1]],
      stderr: [lines('quick-start:node-refused', startNode)[0]],
    })
  })

  it('the same script without the error callback on subscribe() is the crash docs/start/node.md warns about: exit code 1', async () => {
    const without = node.code.replace(/\n\s+error: \(error\) => console\.error\(`subscription failed: [^\n]+/, '')
    expect(without).not.toBe(node.code)
    await writeFile(join(project.dir, 'no-error-callback.mjs'), without)
    const service = run({ MQTT_USERNAME: 'alice', MQTT_PASSWORD: 'wrong' }, 'no-error-callback.mjs')
    expect(await service.exit()).toBe(1)
    expect(service.stderr.join('\n')).toMatch(/NotAuthorizedError/)
    expect(markdown(startNode)).toContain('RxJS rethrows the error and the process crashes with exit code 1')
  })

  it('the right password connects; the debug log of a refused login names the refusal and never the password', async () => {
    const good = run({ MQTT_USERNAME: 'alice', MQTT_PASSWORD: password })
    expect(await good.line(/^connected to /, 'stdout')).toBe(`connected to ${url()} (MQTT 5)`)
    good.child.kill('SIGINT')
    expect(await good.exit()).toBe(0)

    const wrong = 'wrong-password-5c2e'
    const logged = run({ MQTT_USERNAME: 'alice', MQTT_PASSWORD: wrong, IOTPUBSUB_DEBUG: '1' })
    expect(await logged.exit()).toBe(0)
    const output = [...logged.stdout, ...logged.stderr].join('\n')
    expect(output).toContain("event: 'refused'")
    expect(output).toMatch(/code: 135/)
    expect(output).toContain("username: 'alice'")
    expect(output).toMatch(/iotpubsub: stopped for good: .*Not authorized/)
    expect(output).not.toContain(wrong)
  })
})

describe('the quick starts type-check, against the package\'s published types', () => {
  it('the Node quick start as service.mts (NodeNext) and the browser quick start as a Vite app\'s src/main.ts', async () => {
    const { dir, dispose } = await userProject()
    try {
      // The package as published: its package.json exports, and dist/ holding the declarations tsc emits
      // from lib/ with the build config (declarations only, into this folder, not the repository's dist/).
      const pkg = join(dir, 'typed', 'node_modules', 'iotpubsub')
      await mkdir(pkg, { recursive: true })
      const manifest = JSON.parse(await readFile(join(repoDir, 'package.json'), 'utf8')) as Record<string, unknown>
      await writeFile(join(pkg, 'package.json'), JSON.stringify({ name: 'iotpubsub', type: 'module', exports: manifest.exports, types: manifest.types }))
      const emitted = await exec(process.execPath, [tsc, '-p', join(repoDir, 'tsconfig.build.json'), '--emitDeclarationOnly', '--declarationMap', 'false', '--outDir', join(pkg, 'dist')], { cwd: repoDir })
      expect(emitted.output).toBe('')
      await linkNodeModules(join(dir, 'typed'))

      const nodeApp = join(dir, 'typed', 'node-app')
      await mkdir(nodeApp)
      await writeFile(join(nodeApp, 'service.mts'), node.code)
      // The other complete Node examples: client certificates (the broker kit's page), and the debug log's logger.
      await writeFile(join(nodeApp, 'tls.mts'), block('example:tls', 'docs/guide/broker-kit.md').code)
      await writeFile(join(nodeApp, 'logger.mts'), `${block('example:logger', troubleshooting).code}void client\n`)
      await writeFile(
        join(nodeApp, 'tsconfig.json'),
        JSON.stringify({ compilerOptions: { target: 'ES2022', module: 'NodeNext', moduleResolution: 'NodeNext', strict: true, noUncheckedIndexedAccess: true, noEmit: true, types: ['node'], skipLibCheck: true }, include: ['*.mts'] }),
      )

      // A Vite vanilla-ts app's tsconfig (create-vite 9), with its src/main.ts replaced by the quick start.
      const viteApp = join(dir, 'typed', 'vite-app')
      await mkdir(join(viteApp, 'src'), { recursive: true })
      await writeFile(join(viteApp, 'src', 'main.ts'), browser.code)
      await writeFile(
        join(viteApp, 'tsconfig.json'),
        JSON.stringify({
          compilerOptions: {
            target: 'es2023', module: 'esnext', lib: ['ES2023', 'DOM'], types: ['vite/client'], skipLibCheck: true,
            moduleResolution: 'bundler', allowImportingTsExtensions: true, verbatimModuleSyntax: true, moduleDetection: 'force', noEmit: true,
            noUnusedLocals: true, noUnusedParameters: true, erasableSyntaxOnly: true, noFallthroughCasesInSwitch: true,
            // Not in the template; stricter than it, as many apps are.
            strict: true,
          },
          include: ['src'],
        }),
      )
      const [nodeCheck, viteCheck] = await Promise.all([
        exec(process.execPath, [tsc, '-p', nodeApp, '--traceResolution'], { cwd: nodeApp }),
        exec(process.execPath, [tsc, '-p', viteApp, '--traceResolution'], { cwd: viteApp }),
      ])
      const errors = (output: string) => output.split('\n').filter((l) => /error TS\d+/.test(l))
      expect(errors(nodeCheck.output)).toEqual([])
      expect(errors(viteCheck.output)).toEqual([])
      expect(nodeCheck.code).toBe(0)
      expect(viteCheck.code).toBe(0)
      // Each resolved 'iotpubsub' to its own entry's declarations, as a user's project would.
      expect(nodeCheck.output).toMatch(/Module name 'iotpubsub' was successfully resolved to '[^']*node_modules\/iotpubsub\/dist\/node\.d\.ts'/)
      expect(viteCheck.output).toMatch(/Module name 'iotpubsub' was successfully resolved to '[^']*node_modules\/iotpubsub\/dist\/browser\.d\.ts'/)
    } finally {
      await dispose()
    }
  }, 120_000)
})

describe.skipIf(noMosquitto() || noChromium())('the browser quick start, bundled and run in Chromium', () => {
  let project: Awaited<ReturnType<typeof userProject>>
  let broker: Mosquitto
  let chromium: Browser
  let site: { url: string; close(): Promise<void> }

  beforeAll(async () => {
    project = await userProject()
    const conf = join(project.dir, 'quick-start.conf')
    await writeFile(conf, brokerConf.code)
    ;[broker, chromium] = await Promise.all([
      Mosquitto.start({ profile: relative(kitDir, conf), extra: ['log_dest file /mosquitto/log/mosquitto.log', 'log_type all'] }),
      launchChromium(),
    ])
    // The example as printed, but for the WebSocket port; bundled for a browser as a bundler does it: the
    // package's `browser`/default export condition, mqtt's browser build.
    const code = browser.code.replace("'ws://localhost:9001'", `'ws://localhost:${broker.ports[9001]}'`)
    expect(code).not.toBe(browser.code)
    const site$ = join(project.dir, 'site')
    await mkdir(site$)
    await writeFile(join(project.dir, 'main.ts'), code)
    await build({
      entryPoints: [join(project.dir, 'main.ts')],
      absWorkingDir: project.dir,
      bundle: true,
      format: 'esm',
      platform: 'browser',
      target: ['chrome107', 'edge107', 'firefox104', 'safari16'],
      outfile: join(site$, 'main.js'),
      logLevel: 'silent',
      define: { 'process.env.NODE_ENV': '"production"' },
    })
    await writeFile(join(site$, 'index.html'), '<!doctype html>\n<html><head><meta charset="utf-8"><link rel="icon" href="data:,"><title>quick start</title></head>\n<body><script type="module" src="./main.js"></script></body></html>\n')
    site = await serveStatic(site$)
  }, 60_000)
  afterAll(async () => {
    await site?.close()
    await chromium?.close()
    await broker?.dispose()
    await project?.dispose()
  })

  it('shows `connected to ws://localhost:9001 (MQTT 5)`, adds `browser: 21.5 °C` on a click and the Node readings as they come; the localStorage switch logs to the console', async () => {
    const page = await chromium.newPage()
    const problems: string[] = []
    const consoleLines: string[] = []
    page.on('pageerror', (error) => problems.push(`pageerror: ${error.message}`))
    page.on('console', (message) => {
      consoleLines.push(message.text())
      if (message.type() === 'error') problems.push(`console.error: ${message.text()}`)
    })
    // `localStorage.setItem('iotpubsub:debug', '1')` before the page's own scripts, as if typed in devtools
    // and then reloaded.
    await page.addInitScript(() => localStorage.setItem('iotpubsub:debug', '1'))
    try {
      await page.goto(site.url)
      const ws = `ws://localhost:${broker.ports[9001]}`
      await page.getByText(`connected to ${ws} (MQTT 5)`).waitFor({ timeout: 15_000 })
      expect(readme).toContain('The page says `connected to ws://localhost:9001 (MQTT 5)`')
      await page.getByRole('button', { name: 'Publish 21.5 °C' }).click()
      await page.getByText('browser: 21.5 °C').waitFor({ timeout: 10_000 })
      // What the Node quick start publishes, from another client.
      const service = connect(broker.tcpUrl)
      await service.publish('quick-start/kitchen/temp', { celsius: 22.4 }, { qos: 1 })
      await service.end()
      await page.getByText('kitchen: 22.4 °C').waitFor({ timeout: 10_000 })
      expect(await page.locator('li').allTextContents()).toEqual(['kitchen: 22.4 °C', 'browser: 21.5 °C'])
      expect(consoleLines.some((l) => l.includes(`iotpubsub: connecting to ${ws} (MQTT 5)`))).toBe(true)
      expect(problems).toEqual([])
    } finally {
      await page.close()
    }
  }, 45_000)
})
