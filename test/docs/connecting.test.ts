// The whole programs of docs/guide/connecting.md, marked `<!-- connecting:run NAME -->`, run as printed: each is
// saved as a user's .mts script (where `iotpubsub` is this repository's Node entry) and run by Node in a process
// of its own, its broker, gateway, proxy or token service given in the environment variables it reads, against
// the real parts on loopback: the signing WebSocket gateway (test/support/gateway.ts), tinyproxy, and Mosquitto
// with the test authentication plugin. Each must exit by itself with code 0, write nothing to stderr, print
// what it prints when it worked, and leave its trace in the part it used (a handshake, a CONNECT, a login).
import { readFileSync } from 'node:fs'
import { writeFile } from 'node:fs/promises'
import { createServer, type Server } from 'node:http'
import { join } from 'node:path'
import { afterAll, beforeAll, describe, expect, it } from 'vitest'
import { nodeArgs, start, stopAll, userEnv, userProject } from '../readme/readme-kit.js'
import { authPluginMissing, buildAuthPlugin, type AuthPlugin } from '../support/auth-plugin/build.js'
import { noMosquitto } from '../support/binaries.js'
import { SigningGateway, signUrl } from '../support/gateway.js'
import { Mosquitto } from '../support/mosquitto.js'
import { noProxies, type ProxyProcess, startTinyproxy } from '../support/proxies.js'
import { blocks, docsDir } from './docs-kit.js'

const PAGE = 'guide/connecting.md'
const KEY = 'shared-secret'
const TOKEN_SECRET = 'token-secret'
const MARKER = /^\s*<!--\s*connecting:run\s+([\w-]+)\s*-->\s*$/
/** Each program gets this long to exit (a failing one keeps retrying: its output is in the timeout's message). */
const EXIT_MS = 30_000
const TEST_MS = EXIT_MS + 15_000

/** The page's marked blocks, by name. */
function runnable(): Map<string, string> {
  const lines = readFileSync(join(docsDir, PAGE), 'utf8').split('\n')
  const found = new Map<string, string>()
  for (const block of blocks(PAGE)) {
    const name = MARKER.exec(lines[block.line - 2] ?? '')?.[1]
    if (name) found.set(name, block.code)
  }
  return found
}

const programs = runnable()
/** Locally, a machine without gcc or the headers skips the enhanced-auth programs, loudly; under CI they fail. */
const noPlugin = (): boolean => authPluginMissing().length > 0 && !process.env.CI

describe.skipIf(noMosquitto())(`the whole programs of docs/${PAGE}`, () => {
  let project: Awaited<ReturnType<typeof userProject>>
  let plugin: AuthPlugin | undefined
  let broker: Mosquitto
  let signing: SigningGateway
  let plain: SigningGateway
  let tinyproxy: ProxyProcess | undefined
  let tokens: Server
  let tokensIssued = 0

  /** Runs the page's program `name` with `env`; resolves with its output once it has exited by itself. */
  async function run(name: string, env: Record<string, string>): Promise<string[]> {
    const code = programs.get(name)
    if (code === undefined) throw new Error(`docs/${PAGE} has no block marked connecting:run ${name}`)
    const file = join(project.dir, `connecting-${name}.mts`)
    await writeFile(file, code)
    const script = start(process.execPath, [...nodeArgs, file], { cwd: project.dir, env: userEnv(env) })
    const exit = await script.exit(EXIT_MS)
    expect({ exit, stderr: script.stderr }).toEqual({ exit: 0, stderr: [] })
    return script.stdout
  }

  /** How many lines of the broker's log match `pattern`. */
  const logLines = async (pattern: RegExp) => (await broker.log()).split('\n').filter((line) => pattern.test(line)).length

  beforeAll(async () => {
    project = await userProject()
    plugin = noPlugin() ? undefined : await buildAuthPlugin()
    broker = await Mosquitto.start({
      persistence: false,
      extra: ['log_type all'],
      plugins: plugin ? [{ path: plugin.path, options: { username: 'meter-7', password: 'pencil-42', token_secret: TOKEN_SECRET } }] : [],
    })
    const brokerPort = broker.ports[1883] as number
    signing = await SigningGateway.start({ brokerPort, key: KEY, maxAgeMs: 120_000, requireToken: true })
    plain = await SigningGateway.start({ brokerPort, key: KEY, maxAgeMs: 120_000 })
    // The gateways' clocks a minute ahead of the real one: what the programs sign in the next minute is young.
    for (const gateway of [signing, plain]) gateway.now = Date.now() + 60_000
    if (!noProxies()) tinyproxy = await startTinyproxy({ user: 'alice', password: 'pa55', connectPorts: [brokerPort] })
    // A token service: POST gives a token of the plugin's "token" method, valid for an hour.
    tokens = createServer((req, res) => {
      const expiry = Math.floor(Date.now() / 1000) + 3600
      tokensIssued++
      res.writeHead(req.method === 'POST' ? 200 : 405, { 'content-type': 'application/json' })
      res.end(JSON.stringify({ token: `${TOKEN_SECRET}:${expiry}`, expiresAt: expiry * 1000 }))
    })
    await new Promise<void>((done) => tokens.listen(0, '127.0.0.1', done))
  }, 90_000)

  afterAll(async () => {
    stopAll()
    await Promise.all([signing?.close(), plain?.close(), tinyproxy?.dispose(), new Promise((done) => (tokens ? tokens.close(done) : done(undefined)))])
    await broker?.dispose()
    await plugin?.dispose()
    await project?.dispose()
  })

  it('has a whole program for each part of the page: signed URL, WebSocket options, proxy, SCRAM, token', () => {
    expect([...programs.keys()].sort()).toEqual(['proxy', 'scram', 'signed-url', 'token', 'websocket-options'])
  })

  it('signed-url: signs the URL and the bearer token for the attempt, which the gateway accepts', async () => {
    const before = signing.accepted.length
    const stdout = await run('signed-url', { GATEWAY_URL: signing.url('/mqtt'), GATEWAY_KEY: KEY })
    expect(stdout).toEqual([expect.stringMatching(/^connected to ws:\/\/127\.0\.0\.1:\d+\/mqtt\?…$/)])
    const handshake = signing.accepted[before]
    expect(handshake?.url).toMatch(/^\/mqtt\?ts=\d+&sig=[0-9a-f]{64}$/)
    expect(handshake?.headers.authorization).toMatch(/^Bearer \d+\.[0-9a-f]{64}$/)
    expect(signing.refused).toEqual([])
  }, TEST_MS)

  it('websocket-options: the handshake carries the header and offers the subprotocol after mqtt', async () => {
    const before = plain.accepted.length
    // The gateway wants a signed URL: the program's URL is one, as a presigned URL given to the app would be.
    const stdout = await run('websocket-options', { GATEWAY_URL: signUrl(plain.url('/mqtt'), KEY, Date.now()) })
    expect(stdout).toEqual(['connected with the API key header and the token subprotocol'])
    const handshake = plain.accepted[before]
    expect(handshake?.headers['x-api-key']).toBe('fleet-7')
    expect(handshake?.subprotocols).toEqual(['mqtt', 'token.abc123'])
  }, TEST_MS)

  it.skipIf(noProxies())('proxy: reaches the broker through tinyproxy with Basic authentication', async () => {
    const port = broker.ports[1883] as number
    const stdout = await run('proxy', { MQTT_URL: broker.tcpUrl, PROXY_URL: `http://alice:pa55@127.0.0.1:${tinyproxy?.port}` })
    expect(stdout).toEqual([`connected to mqtt://127.0.0.1:${port} through the proxy`])
    await tinyproxy?.waitForLines(new RegExp(`CONNECT 127\\.0\\.0\\.1:${port} HTTP`))
  }, TEST_MS)

  it.skipIf(noPlugin())('scram: logs in with SCRAM-SHA-256, which the broker`s plugin accepts', async () => {
    const accepted = /auth-plugin: authentication SCRAM-SHA-256 for \S+ accepted$/
    const before = await logLines(accepted)
    const stdout = await run('scram', { MQTT_URL: broker.tcpUrl })
    expect(stdout).toEqual(['logged in with SCRAM-SHA-256 (MQTT 5)'])
    expect(await logLines(accepted)).toBe(before + 1)
  }, TEST_MS)

  it.skipIf(noPlugin())('token: logs in with a token from the token service, which the broker`s plugin accepts', async () => {
    const accepted = /auth-plugin: authentication token for \S+ accepted$/
    const logged = await logLines(accepted)
    const before = tokensIssued
    const address = tokens.address()
    const port = typeof address === 'object' && address ? address.port : 0
    const stdout = await run('token', { MQTT_URL: broker.tcpUrl, TOKEN_URL: `http://127.0.0.1:${port}/mqtt-token` })
    expect(stdout).toEqual(['logged in with a token'])
    expect(tokensIssued - before).toBe(1)
    expect(await logLines(accepted)).toBe(logged + 1)
  }, TEST_MS)
})
