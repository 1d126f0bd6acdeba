// Issue 27: proxies in Node. Real proxies from Debian's packages on loopback (tinyproxy for HTTP CONNECT with
// Basic authentication, danted for SOCKS5 with username/password), each started here with its own config, in
// front of a private Mosquitto; the proxy's own log proves the traffic went through it. Over each link.
import { afterAll, afterEach, beforeAll, describe, expect, it } from 'vitest'
import { NotAuthorizedError, ProxyAuthenticationError, ProxyError, type MQTTClient } from '../../lib/node.js'
import { noMosquitto } from '../support/binaries.js'
import { TestCerts } from '../support/certs.js'
import { ClientPool, waitForStatus } from '../support/clients.js'
import { startSecureBroker } from '../support/secure-broker.js'
import { Mosquitto } from '../support/mosquitto.js'
import { freePort } from '../support/ports.js'
import { noProxies, type ProxyProcess, startDante, startTinyproxy } from '../support/proxies.js'
import { next, uniquePrefix } from '../support/wait.js'

/** A message published by the client comes back to it through the proxy: the connection carries MQTT. */
async function roundTrip(client: MQTTClient): Promise<void> {
  const topic = `${uniquePrefix('proxy')}/echo`
  const received = next(client.observe(topic, { codec: 'text' }), 'the echo', () => true, 20_000)
  await waitForStatus(client, 'connected', 20_000)
  await client.publish(topic, 'through the proxy', { qos: 1 })
  expect((await received).payload).toBe('through the proxy')
}

describe.skipIf(noMosquitto() || noProxies())('proxies in Node', () => {
  let broker: Mosquitto
  let http: ProxyProcess
  let socks: ProxyProcess
  const pool = new ClientPool('proxy')
  const tcp = () => broker.ports[1883] as number
  const ws = () => broker.ports[9001] as number
  const httpProxy = (password = 'pa55') => `http://alice:${password}@127.0.0.1:${http.port}`
  const socksProxy = (password = 's3cret') => `socks5://mqttuser:${password}@127.0.0.1:${socks.port}`
  const fast = { initialDelay: 50, maxDelay: 100 }

  beforeAll(async () => {
    broker = await Mosquitto.start({ persistence: false })
    // The broker's ports only: a CONNECT to any other port is refused with 403.
    http = await startTinyproxy({ user: 'alice', password: 'pa55', connectPorts: [tcp(), ws()] })
    socks = await startDante({ user: 'mqttuser', password: 's3cret' })
  })
  afterEach(() => pool.endAll())
  afterAll(async () => {
    await pool.endAll()
    await Promise.all([broker?.dispose(), http?.dispose(), socks?.dispose()])
  })

  const connects = (port: number) => new RegExp(`Request \\(file descriptor \\d+\\): CONNECT 127\\.0\\.0\\.1:${port} HTTP`)

  it.each(['mqtt', 'ws'] as const)('HTTP CONNECT with Basic authentication carries %s://', async (scheme) => {
    const port = scheme === 'mqtt' ? tcp() : ws()
    const before = (await http.log()).split('\n').filter((l) => connects(port).test(l)).length
    const client = pool.connect(`${scheme}://127.0.0.1:${port}`, { proxy: httpProxy() })
    await roundTrip(client)
    await http.waitForLines(connects(port), before + 1)
  })

  it.each(['mqtt', 'ws'] as const)('SOCKS5 with username/password carries %s://', async (scheme) => {
    const port = scheme === 'mqtt' ? tcp() : ws()
    const through = new RegExp(`username%mqttuser@127\\.0\\.0\\.1\\.\\d+ 127\\.0\\.0\\.1\\.${socks.port} -> \\d+, \\d+ -> 127\\.0\\.0\\.1\\.\\d+ 127\\.0\\.0\\.1\\.${port}`)
    const client = pool.connect(`${scheme}://127.0.0.1:${port}`, { proxy: socksProxy() })
    await roundTrip(client)
    // danted logs a session when it ends: end it, then read the log.
    await client.end()
    await socks.waitForLines(through)
  })

  it('the environment, read once at connect: ws:// takes HTTP_PROXY, and NO_PROXY can exempt loopback', async () => {
    const saved = { HTTP_PROXY: process.env.HTTP_PROXY, NO_PROXY: process.env.NO_PROXY, http_proxy: process.env.http_proxy, no_proxy: process.env.no_proxy }
    const before = (await http.log()).split('\n').filter((l) => connects(ws()).test(l)).length
    let proxied: MQTTClient
    let direct: MQTTClient
    try {
      delete process.env.http_proxy
      delete process.env.no_proxy
      delete process.env.NO_PROXY
      process.env.HTTP_PROXY = httpProxy()
      proxied = pool.connect(`ws://127.0.0.1:${ws()}`, { reconnect: fast })
      process.env.NO_PROXY = `localhost,127.0.0.1:${ws()}`
      direct = pool.connect(`ws://127.0.0.1:${ws()}`, { reconnect: false })
    } finally {
      for (const [name, value] of Object.entries(saved)) {
        if (value === undefined) delete process.env[name]
        else process.env[name] = value
      }
    }
    await roundTrip(proxied)
    await roundTrip(direct)
    // One CONNECT: the proxied client's. The exempted one went straight to the broker.
    expect(await http.waitForLines(connects(ws()), before + 1)).toBe(before + 1)
    // The variables are gone now, but they were read once, at connect: the reconnect goes through the proxy too.
    const lost = next(proxied.status$, 'the connection lost', (s) => s.type === 'reconnecting', 20_000)
    await broker.restart()
    await lost
    await waitForStatus(proxied, 'connected', 20_000)
    await http.waitForLines(connects(ws()), before + 2)
  })

  it('a wrong proxy password (407): ProxyAuthenticationError naming the proxy, final, one attempt', async () => {
    const refusedLine = /Request \(file descriptor \d+\): CONNECT 127\.0\.0\.1:\d+ HTTP/
    const before = (await http.log()).split('\n').filter((l) => refusedLine.test(l)).length
    const client = pool.connect(`mqtt://127.0.0.1:${tcp()}`, { proxy: httpProxy('wrong'), reconnect: fast })
    const closed = await waitForStatus(client, 'closed', 20_000)
    expect(closed.error).toBeInstanceOf(ProxyAuthenticationError)
    expect(closed.error).toBeInstanceOf(NotAuthorizedError)
    expect(closed.error?.message).toContain(`the proxy http://127.0.0.1:${http.port} refused the proxy credentials (HTTP/1.`)
    expect(closed.error?.message).not.toContain('wrong')
    // Another client through the proxy afterwards: still only the one refused attempt in the log.
    await roundTrip(pool.connect(`mqtt://127.0.0.1:${tcp()}`, { proxy: httpProxy() }))
    const lines = (await http.log()).split('\n').filter((l) => refusedLine.test(l)).length
    expect(lines - before).toBe(2)
  })

  it('a wrong SOCKS5 password: ProxyAuthenticationError, final', async () => {
    const client = pool.connect(`mqtt://127.0.0.1:${tcp()}`, { proxy: socksProxy('wrong'), reconnect: fast })
    const closed = await waitForStatus(client, 'closed', 20_000)
    expect(closed.error).toBeInstanceOf(ProxyAuthenticationError)
    expect(closed.error?.message).toBe(`the SOCKS5 proxy socks5://127.0.0.1:${socks.port} refused the proxy credentials (status 1)`)
  })

  it('a proxy that refuses the tunnel (403): ProxyError naming the proxy and the status, retried with backoff', async () => {
    const closedPort = await freePort()
    const client = pool.connect(`mqtt://127.0.0.1:${closedPort}`, { proxy: httpProxy(), reconnect: fast })
    const status = await next(client.status$, 'a reconnecting status', (s) => s.type === 'reconnecting', 20_000)
    const error = status.type === 'reconnecting' ? status.error : undefined
    expect(error).toBeInstanceOf(ProxyError)
    expect(error?.message).toMatch(new RegExp(`^the proxy http://127\\.0\\.0\\.1:${http.port} refused the tunnel to 127\\.0\\.0\\.1:${closedPort} \\(HTTP/1\\.[01] 403 `))
  })

  it('a proxy that cannot be reached: ProxyError naming it, retried with backoff', async () => {
    const nothing = await freePort()
    const client = pool.connect(`ws://127.0.0.1:${ws()}`, { proxy: `http://127.0.0.1:${nothing}`, reconnect: fast })
    const status = await next(client.status$, 'a reconnecting status', (s) => s.type === 'reconnecting', 20_000)
    const error = status.type === 'reconnecting' ? status.error : undefined
    expect(error).toBeInstanceOf(ProxyError)
    expect(error?.message).toBe(`the proxy http://127.0.0.1:${nothing} could not be reached (ECONNREFUSED)`)
  })
})

describe.skipIf(noMosquitto() || noProxies())('proxies in Node: TLS to the broker through the tunnel', () => {
  let certs: TestCerts
  let broker: Mosquitto
  let http: ProxyProcess
  const pool = new ClientPool('proxy-tls')

  beforeAll(async () => {
    certs = await TestCerts.make({ clients: ['sensor-7'] })
    broker = await startSecureBroker({ users: { dashboard: 'dashboard-secret' }, certs })
    http = await startTinyproxy({ user: 'bob', password: 'b0b', connectPorts: [broker.ports[8883] as number, broker.ports[9443] as number] })
  })
  afterAll(async () => {
    await pool.endAll()
    await Promise.all([broker?.dispose(), http?.dispose()])
    await certs?.dispose()
  })

  it('mqtts:// (a client certificate) and wss:// (a password) verify the broker through an HTTP CONNECT proxy', async () => {
    const proxy = `http://bob:b0b@127.0.0.1:${http.port}`
    const device = pool.connect(broker.url('mqtts', 8883), { protocolVersion: 5, ca: certs.ca, ...(await certs.client('sensor-7')), proxy })
    const dashboard = pool.connect(broker.url('wss', 9443), { username: 'dashboard', password: 'dashboard-secret', ca: certs.ca, proxy })
    await waitForStatus(device, 'connected', 20_000)
    await waitForStatus(dashboard, 'connected', 20_000)
    await http.waitForLines(new RegExp(`CONNECT 127\\.0\\.0\\.1:${broker.ports[8883]} HTTP`))
    await http.waitForLines(new RegExp(`CONNECT 127\\.0\\.0\\.1:${broker.ports[9443]} HTTP`))
  })

  it.each(['mqtts', 'wss'] as const)('a wrong proxy password under %s://: ProxyAuthenticationError, not a TLS or transport error', async (scheme) => {
    const url = broker.url(scheme, scheme === 'mqtts' ? 8883 : 9443)
    const client = pool.connect(url, { ca: certs.ca, username: 'dashboard', password: 'dashboard-secret', proxy: `http://bob:nope@127.0.0.1:${http.port}`, reconnect: { initialDelay: 50, maxDelay: 100 } })
    const closed = await waitForStatus(client, 'closed', 20_000)
    expect(closed.error).toBeInstanceOf(ProxyAuthenticationError)
    expect(closed.error?.message).toContain(`the proxy http://127.0.0.1:${http.port} refused the proxy credentials`)
  })
})
