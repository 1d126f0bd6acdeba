// Issue 27: a per-attempt URL. The credentials provider signs the URL afresh before every attempt; a gateway in
// front of a private Mosquitto accepts only URLs signed with its key and younger than 2 s by its own clock,
// which the test moves forward past every earlier signature before it drops the connections: the client
// reconnects on a fresh URL each time, never on a stale one. A provider that returns a stale URL is refused:
// NotAuthorizedError, after one retry, not a storm. Over each link.
import { afterAll, afterEach, beforeAll, describe, expect, it } from 'vitest'
import WebSocket from 'ws'
import { NotAuthorizedError } from '../../lib/node.js'
import { noMosquitto } from '../support/binaries.js'
import { ClientPool, reconnected, waitForStatus } from '../support/clients.js'
import { type Handshake, SigningGateway, signUrl } from '../support/gateway.js'
import { Mosquitto } from '../support/mosquitto.js'
import { next, uniquePrefix } from '../support/wait.js'

const KEY = 'gateway-key'
const MAX_AGE_MS = 2_000

/** The next handshake the gateway takes or refuses. */
const handshake = (gateway: SigningGateway): Promise<Handshake> =>
  new Promise((done) => gateway.once('handshake', (h: Handshake) => done(h)))

describe.skipIf(noMosquitto())('a URL signed afresh for every attempt', () => {
  let broker: Mosquitto
  let gateway: SigningGateway
  const pool = new ClientPool('signed-url')
  const fast = { initialDelay: 20, maxDelay: 50 }

  beforeAll(async () => {
    broker = await Mosquitto.start({ persistence: false })
  })
  afterEach(async () => {
    await pool.endAll()
    await gateway?.close()
  })
  afterAll(() => broker?.dispose())

  it('reconnects on a fresh signature after each expiry; the stale URLs are refused by then', async () => {
    gateway = await SigningGateway.start({ brokerPort: broker.ports[1883] as number, key: KEY, maxAgeMs: MAX_AGE_MS })
    let signed = 0
    const client = pool.connect(gateway.url(), {
      reconnect: fast,
      credentials: () => {
        signed += 1
        return { url: signUrl(gateway.url(), KEY, gateway.now) }
      },
    })
    const first = await waitForStatus(client, 'connected', 20_000)
    // The status shows the URL without its query: the signature is a credential.
    expect(first.url).toBe(`${gateway.url()}?…`)
    for (let expiry = 1; expiry <= 3; expiry++) {
      gateway.advance(10 * MAX_AGE_MS) // every URL signed so far is stale now
      expect(gateway.closeAll()).toBe(1)
      await reconnected(client)
    }
    expect(gateway.refused).toEqual([])
    expect(gateway.accepted).toHaveLength(4)
    expect(new Set(gateway.accepted.map((h) => h.url)).size).toBe(4)
    expect(signed).toBe(4)
    // The last connection carries MQTT, and the URLs it no longer uses are refused now.
    const topic = `${uniquePrefix('signed')}/x`
    const echo = next(client.observe(topic, { codec: 'text' }), 'the echo', () => true, 20_000)
    await client.publish(topic, 'fresh', { qos: 1 })
    expect((await echo).payload).toBe('fresh')
    const stale = `ws://127.0.0.1:${gateway.port}${gateway.accepted[0]?.url}`
    const status = await new Promise<number>((done) => {
      const ws = new WebSocket(stale, 'mqtt')
      ws.on('unexpected-response', (_req, res) => {
        done(res.statusCode ?? 0)
        ws.terminate()
      })
      ws.on('error', () => undefined)
    })
    expect(status).toBe(401)
  })

  it('a provider that returns a stale URL: NotAuthorizedError after one retry of it, no storm', async () => {
    gateway = await SigningGateway.start({ brokerPort: broker.ports[1883] as number, key: KEY, maxAgeMs: MAX_AGE_MS })
    const once = signUrl(gateway.url(), KEY, gateway.now) // signed once, returned every time
    const client = pool.connect(gateway.url(), { reconnect: fast, credentials: () => ({ url: once }) })
    await waitForStatus(client, 'connected', 20_000)
    gateway.advance(10 * MAX_AGE_MS)
    const refused = handshake(gateway)
    gateway.closeAll()
    expect((await refused).reason).toBe('expired signature')
    const closed = await waitForStatus(client, 'closed', 20_000)
    expect(closed.error).toBeInstanceOf(NotAuthorizedError)
    expect(closed.error?.message).toContain(`the WebSocket handshake with ${gateway.url()}?… was refused with HTTP 401`)
    // The same refused URL is tried once more (the provider might have had a new one), then never again.
    expect(gateway.refused).toHaveLength(2)
  })
})
