// Issue 27: MQTT 5 enhanced authentication against a real Mosquitto 2.0, whose extended-auth plugin events run a
// test plugin compiled from C here (test/support/auth-plugin/): SCRAM-SHA-256 for one user, and a "token"
// method whose tokens expire. The plugin logs each exchange's start and outcome, which the tests count: one
// refused login is one exchange (no retry storm); a re-authentication is not a new connection. The lean link
// only: over MQTT.js, `auth` is refused at connect() with the reason.
import { afterAll, afterEach, beforeAll, describe, expect, it } from 'vitest'
import { AuthenticationError, NotAuthorizedError, UnsupportedOptionError, connect, scramSha256, type AuthMethod, type IotPubSubError, type MQTTClient } from '../../lib/node.js'
import { authPluginMissing, buildAuthPlugin, type AuthPlugin } from '../support/auth-plugin/build.js'
import { noMosquitto } from '../support/binaries.js'
import { ClientPool, countInLog, waitForStatus } from '../support/clients.js'
import { linkUnderTest } from '../support/link-under-test.js'
import { Mosquitto } from '../support/mosquitto.js'
import { next, uniquePrefix, waitFor } from '../support/wait.js'

const USER = 'meter-7'
const PASSWORD = 'pencil-42'
const SECRET = 'token-secret'
const lean = linkUnderTest() === 'lean'
/** Locally, a machine without gcc or the headers skips, loudly; under CI it fails (binaries.ts's rule). */
const noCompiler = (): boolean => {
  const missing = authPluginMissing()
  if (missing.length === 0 || process.env.CI) return false
  process.stderr.write(`\n!!! SKIPPING enhanced-auth tests: apt-get install ${missing.join(' ')}\n\n`)
  return true
}

/**
 * Lines of the plugin's log for `clientId`: `what` is the exchange ("authentication token", "re-authentication
 * SCRAM-SHA-256"), `outcome` ("accepted", "refused: wrong password") or, absent, its start.
 */
function pluginLines(log: string, clientId: string, what: string, outcome?: string): number {
  const line = `auth-plugin: ${what} for ${clientId}${outcome === undefined ? '' : ` ${outcome}`}`
  return log.split('\n').filter((l) => l.endsWith(line)).length
}

/** Resolves once the broker granted the client's subscription to `filter` (its SUBACK came). */
const subscribed = (client: MQTTClient, filter: string) =>
  next(client.subscriptions$, `the SUBACK for ${filter}`, (all) => all.some((s) => s.filter === filter && s.grantedQos !== undefined), 15_000)

/** A token of the plugin's "token" method, valid for `seconds` (negative: expired). */
const token = (seconds: number) => new TextEncoder().encode(`${SECRET}:${Math.floor(Date.now() / 1000) + seconds}`)

describe.skipIf(noMosquitto() || noCompiler())('MQTT 5 enhanced authentication against Mosquitto with an auth plugin', () => {
  let plugin: AuthPlugin
  let broker: Mosquitto
  const pool = new ClientPool('enhanced-auth')
  const fast = { initialDelay: 50, maxDelay: 200 }

  beforeAll(async () => {
    plugin = await buildAuthPlugin()
    broker = await Mosquitto.start({
      persistence: false,
      extra: ['log_type all'],
      plugins: [{ path: plugin.path, options: { username: USER, password: PASSWORD, token_secret: SECRET } }],
    })
  }, 60_000)
  afterEach(() => pool.endAll())
  afterAll(async () => {
    await broker?.dispose()
    await plugin?.dispose()
  })

  it.runIf(!lean)('is refused over the MQTT.js link, with the reason', () => {
    expect(() => connect(broker.tcpUrl, { auth: scramSha256({ username: USER, password: PASSWORD }) })).toThrow(UnsupportedOptionError)
    expect(() => connect(broker.tcpUrl, { auth: scramSha256({ username: USER, password: PASSWORD }) })).toThrow(/re-authenticate/)
  })

  describe.runIf(lean)('over the lean link', () => {
    it('logs in with SCRAM-SHA-256, the broker proving itself, and carries messages', async () => {
      const client = pool.connect(broker.tcpUrl, { auth: scramSha256({ username: USER, password: PASSWORD }) })
      const status = await waitForStatus(client, 'connected', 20_000)
      expect(status.protocolVersion).toBe(5)
      const topic = `${uniquePrefix('scram')}/t`
      const arrived = next(client.observe(topic, { codec: 'text' }), 'the message', () => true, 15_000)
      await subscribed(client, topic)
      await client.publish(topic, 'hello', { qos: 1 })
      expect((await arrived).payload).toBe('hello')
      expect(pluginLines(await broker.log(), client.clientId, 'authentication SCRAM-SHA-256', 'accepted')).toBe(1)
    })

    it('prepares the password with SASLprep: one typed in decomposed form logs in where the broker keeps it composed', async () => {
      // The broker's password is "pässwörd" in NFC; the user's keyboard gave "a" + U+0308 (NFD). Both are the same
      // password to a person, and SASLprep (NFKC) makes them the same bytes.
      const composed = 'p\u00e4ssw\u00f6rd'
      const other = await Mosquitto.start({
        persistence: false,
        extra: ['log_type all'],
        plugins: [{ path: plugin.path, options: { username: USER, password: composed, token_secret: SECRET } }],
      })
      try {
        const client = pool.connect(other.tcpUrl, { auth: scramSha256({ username: USER, password: composed.normalize('NFD') }), reconnect: false })
        await waitForStatus(client, 'connected', 20_000)
        expect(pluginLines(await other.log(), client.clientId, 'authentication SCRAM-SHA-256', 'accepted')).toBe(1)
        await client.end()
      } finally {
        await other.dispose()
      }
    })

    it('ends the client on a wrong password with NotAuthorizedError after one exchange, not a storm', async () => {
      const client = pool.connect(broker.tcpUrl, { auth: scramSha256({ username: USER, password: 'wrong' }), reconnect: fast })
      const closed = await waitForStatus(client, 'closed', 20_000)
      expect(closed.error).toBeInstanceOf(NotAuthorizedError)
      expect(closed.error?.reasonCode).toBe(0x87)
      const log = await broker.log()
      expect(pluginLines(log, client.clientId, 'authentication SCRAM-SHA-256', 'refused: wrong password')).toBe(1)
      expect(pluginLines(log, client.clientId, 'authentication SCRAM-SHA-256')).toBe(1)
    })

    it('ends the client on a method the broker does not know (CONNACK 0x8C) with AuthenticationError', async () => {
      const unknown: AuthMethod = { method: 'KERBEROS-V5', start: () => ({ data: new Uint8Array([1]) }) }
      const client = pool.connect(broker.tcpUrl, { auth: unknown, reconnect: fast })
      const closed = await waitForStatus(client, 'closed', 20_000)
      expect(closed.error).toBeInstanceOf(AuthenticationError)
      expect(closed.error?.reasonCode).toBe(0x8c)
    })

    it('re-authenticates on the live connection: no new connection, the subscription still delivers', async () => {
      const client = pool.connect(broker.tcpUrl, { auth: scramSha256({ username: USER, password: PASSWORD, renewIn: 0 }) })
      await waitForStatus(client, 'connected', 20_000)
      const statuses: string[] = []
      client.status$.subscribe((s) => statuses.push(s.type))
      const topic = `${uniquePrefix('reauth')}/t`
      const received: string[] = []
      const observer = client.observe(topic, { codec: 'text' }).subscribe((m) => received.push(m.payload))
      await subscribed(client, topic)
      await client.publish(topic, 'before', { qos: 1 })
      await waitFor(() => received.includes('before'), 'the message before', 15_000)
      // Twice: each success schedules the next one.
      await waitFor(async () => pluginLines(await broker.log(), client.clientId, 're-authentication SCRAM-SHA-256', 'accepted') >= 2, 'two re-authentications', 20_000)
      const publisher = await pool.connected(broker.tcpUrl, { auth: scramSha256({ username: USER, password: PASSWORD }) })
      await publisher.publish(topic, 'after', { qos: 1 })
      await waitFor(() => received.includes('after'), 'the message after the re-authentications', 15_000)
      observer.unsubscribe()
      const log = await broker.log()
      expect(log.split('\n').filter((line) => line.includes(` as ${client.clientId} (`)).length).toBe(1)
      expect(countInLog(log, 'SUBSCRIBE', client.clientId)).toBe(1)
      expect(pluginLines(log, client.clientId, 'authentication SCRAM-SHA-256')).toBe(1)
      expect(statuses).toEqual(['connected'])
    })

    it('reports a refused re-authentication on errors$ as AuthenticationError, then reconnects by its policy', async () => {
      let exchanges = 0
      // The first connection's token asks for a re-authentication, which presents an expired token.
      const expiring: AuthMethod = {
        method: 'token',
        start: (reason) => {
          exchanges += 1
          return reason === 'connect' ? { data: token(60), renewIn: exchanges === 1 ? 0 : undefined } : { data: token(-60) }
        },
      }
      const client = pool.connect(broker.tcpUrl, { auth: expiring, reconnect: fast })
      const errors: IotPubSubError[] = []
      client.errors$.subscribe((e) => errors.push(e))
      await waitForStatus(client, 'connected', 20_000)
      const reconnecting = await next(client.status$, 'reconnecting', (s) => s.type === 'reconnecting', 20_000)
      expect(reconnecting.type === 'reconnecting' && reconnecting.error).toBeInstanceOf(AuthenticationError)
      await next(client.status$, 'connected again', (s) => s.type === 'connected', 20_000)
      expect(errors).toHaveLength(1)
      expect(errors[0]).toBeInstanceOf(AuthenticationError)
      expect(errors[0]?.message).toMatch(/re-authentication.*135/)
      const log = await broker.log()
      expect(pluginLines(log, client.clientId, 're-authentication token', 'refused: token expired')).toBe(1)
      expect(pluginLines(log, client.clientId, 'authentication token', 'accepted')).toBe(2)
    })
  })
})
