// Issue 27: the WebSocket handshake's own options. In Node, headers (fixed ones from `webSocket.headers`, and a
// bearer token the credentials provider refreshes per attempt) and subprotocols reach a real gateway in front of
// a private Mosquitto, over each link. A browser cannot set headers: there they are a typed error, given as an
// option or returned by the provider, never silently dropped.
import { afterAll, afterEach, beforeAll, describe, expect, it } from 'vitest'
import { NotAuthorizedError, UnsupportedOptionError } from '../../lib/node.js'
import { browserPlatform } from '../../lib/options/endpoints.js'
import { resolveOptions } from '../../lib/options/resolve-options.js'
import { noMosquitto } from '../support/binaries.js'
import { ClientPool, reconnected, waitForStatus } from '../support/clients.js'
import { SigningGateway, signToken, signUrl } from '../support/gateway.js'
import { Mosquitto } from '../support/mosquitto.js'

const KEY = 'handshake-key'
const MAX_AGE_MS = 2_000

describe.skipIf(noMosquitto())('WebSocket handshake options in Node', () => {
  let broker: Mosquitto
  let gateway: SigningGateway
  const pool = new ClientPool('handshake')
  const fast = { initialDelay: 20, maxDelay: 50 }

  beforeAll(async () => {
    broker = await Mosquitto.start({ persistence: false })
  })
  afterEach(async () => {
    await pool.endAll()
    await gateway?.close()
  })
  afterAll(() => broker?.dispose())

  it('fixed headers and subprotocols on every handshake, and a bearer token refreshed per attempt', async () => {
    gateway = await SigningGateway.start({ brokerPort: broker.ports[1883] as number, key: KEY, maxAgeMs: MAX_AGE_MS, requireToken: true })
    const client = pool.connect(gateway.url(), {
      reconnect: fast,
      webSocket: { headers: { 'x-api-key': 'fleet-7' }, subprotocols: ['mqtt', 'token.abc'] },
      credentials: () => ({ url: signUrl(gateway.url(), KEY, gateway.now), headers: { authorization: `Bearer ${signToken(KEY, gateway.now)}` } }),
    })
    await waitForStatus(client, 'connected', 20_000)
    gateway.advance(10 * MAX_AGE_MS) // the first token has expired
    gateway.closeAll()
    await reconnected(client)
    expect(gateway.refused).toEqual([])
    const [first, second] = gateway.accepted
    expect(first?.headers['x-api-key']).toBe('fleet-7')
    expect(second?.headers['x-api-key']).toBe('fleet-7')
    expect(first?.headers.authorization).not.toBe(second?.headers.authorization)
    expect(first?.subprotocols).toEqual(['mqtt', 'token.abc'])
  })

  it('a token the gateway refuses (401): NotAuthorizedError once the provider has nothing new', async () => {
    gateway = await SigningGateway.start({ brokerPort: broker.ports[1883] as number, key: KEY, maxAgeMs: MAX_AGE_MS, requireToken: true })
    const client = pool.connect(gateway.url(), {
      reconnect: fast,
      credentials: () => ({ url: signUrl(gateway.url(), KEY, gateway.now), headers: { authorization: 'Bearer 1.forged' } }),
    })
    const closed = await waitForStatus(client, 'closed', 20_000)
    expect(closed.error).toBeInstanceOf(NotAuthorizedError)
    // The gateway's clock stands still, so the provider returns the same URL and token: refused, tried once
    // more (a provider may have had something new), refused again, final.
    expect(gateway.refused.map((h) => h.reason)).toEqual(['bad token', 'bad token'])
    expect(gateway.accepted).toEqual([])
  }, 30_000)

  it('a provider that returns what the attempt cannot use ends the client with UnsupportedOptionError, no retries', async () => {
    let asked = 0
    const client = pool.connect(`mqtt://127.0.0.1:${broker.ports[1883]}`, {
      reconnect: fast,
      credentials: () => {
        asked += 1
        return { headers: { authorization: 'Bearer t' } }
      },
    })
    const closed = await waitForStatus(client, 'closed', 20_000)
    expect(closed.error).toBeInstanceOf(UnsupportedOptionError)
    expect(closed.error?.message).toBe(`\`credentials().headers\` go with a WebSocket handshake, and mqtt://127.0.0.1:${broker.ports[1883]} is mqtt://`)
    expect(asked).toBe(1)
  })

  it('headers and handshake names the handshake sets itself are refused at connect', () => {
    expect(() => pool.connect('ws://127.0.0.1:1/', { webSocket: { headers: { 'Sec-WebSocket-Protocol': 'x' } } })).toThrow(
      /`webSocket.headers`: "Sec-WebSocket-Protocol" is set by the WebSocket handshake itself \(offer subprotocols with `webSocket.subprotocols`\)/,
    )
    expect(() => pool.connect('ws://127.0.0.1:1/', { webSocket: { headers: { 'x-a': 'b\r\nInjected: 1' } } })).toThrow(UnsupportedOptionError)
    expect(() => pool.connect('ws://127.0.0.1:1/', { webSocket: { subprotocols: ['a b'] } })).toThrow(UnsupportedOptionError)
  })
})

describe('WebSocket handshake options in a browser', () => {
  const url = 'wss://broker.example.com/mqtt'

  it('headers are a typed error, as an option or from the provider, pointing to the query string or a subprotocol', async () => {
    expect(() => resolveOptions({ url, webSocket: { headers: { authorization: 'Bearer t' } } }, browserPlatform)).toThrow(
      /`webSocket.headers`: a browser cannot set WebSocket handshake headers: put the token in the URL's query string .* or in a subprotocol \(`webSocket.subprotocols`\)/,
    )
    const resolved = resolveOptions({ url, credentials: () => ({ headers: { authorization: 'Bearer t' } }) }, browserPlatform)
    await expect(resolved.credentials?.()).rejects.toThrow(/`credentials\(\).headers`: a browser cannot set WebSocket handshake headers/)
    // Subprotocols are the browser's way: they stay.
    expect(resolveOptions({ url, webSocket: { subprotocols: ['token.abc'] } }, browserPlatform).endpoints[0]?.subprotocols).toEqual(['token.abc'])
  })

  it("`proxy` is a typed error: the browser's own proxy settings apply", () => {
    expect(() => resolveOptions({ url, proxy: 'http://proxy:3128' }, browserPlatform)).toThrow(
      new UnsupportedOptionError('`proxy` cannot be used in a browser: the browser reaches the broker through its own proxy settings'),
    )
  })
})
