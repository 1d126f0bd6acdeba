// Bad input at every hand-over (connect options, credentials, publish topics, payloads, options and MQTT 5
// properties, observe options) is refused there with the SDK's typed errors: nothing reaches an encoder that
// would throw inside a socket callback, publish() never throws, and everything settles. The reproduced crashes
// first, then a seeded generator of random valid and invalid input over the link under test
// (IOTPUBSUB_SEED=<n> replays a run; the seed is printed).
import { afterAll, beforeAll, describe, expect, it } from 'vitest'
import {
  AuthenticationError,
  ConnectionRefusedError,
  IotPubSubError,
  type ClientOptions,
  type MQTTClient,
  type PublishOptions,
  type Status,
  UnsupportedOptionError,
  type UserProperties,
  type UserPropertyPairs,
} from '../../lib/node.js'
import { Generator, shown } from '../support/bad-input-generator.js'
import { mulberry32 } from '../support/mulberry32.js'
import { sharedBed } from '../support/bed.js'
import { noMosquitto } from '../support/binaries.js'
import { escapes } from '../support/escapes.js'
import { waitForStatus } from '../support/clients.js'
import { linkUnderTest } from '../support/link-under-test.js'
import { next, uniquePrefix } from '../support/wait.js'

/** How long any promise of the SDK may take to settle here (a bound for the assertion, not a wait). */
const SETTLE_MS = 15_000
/** The generator's time budget per phase; the cases run until it is spent. */
const CONNECT_BUDGET_MS = 3_000
/** How long a case holding something that never settles (a credentials provider) is watched before end(). */
const HANG_MS = 700
const PUBLISH_BUDGET_MS = 3_000

type Outcome = { type: 'resolved' } | { type: 'rejected'; error: unknown } | { type: 'pending' }

/** What `promise` came to within `ms`; `pending` when it had not settled by then. */
function settled(promise: Promise<unknown>, ms = SETTLE_MS): Promise<Outcome> {
  return new Promise((resolve) => {
    const timer = setTimeout(() => resolve({ type: 'pending' }), ms)
    promise.then(
      () => (clearTimeout(timer), resolve({ type: 'resolved' })),
      (error: unknown) => (clearTimeout(timer), resolve({ type: 'rejected', error })),
    )
  })
}

/** The client's first status past `connecting` (connected, reconnecting or closed). */
function firstVerdict(client: MQTTClient): Promise<Status> {
  return next(client.status$, 'a status past connecting', (s) => s.type !== 'connecting', SETTLE_MS)
}

/** Once the SUBACK has come (what is published from then on reaches it), the first text payload on `topic`. */
async function subscribed(client: MQTTClient, topic: string): Promise<{ received: Promise<string> }> {
  const received = next(client.observe(topic, { qos: 1, codec: 'text' }), `a message on ${topic}`, () => true, SETTLE_MS).then((m) => m.payload)
  received.catch(() => undefined) // awaited by the test; a test failing before must not leave it unhandled
  await next(client.subscriptions$, `the SUBACK of ${topic}`, (list) => list.some((s) => s.filter === topic && s.grantedQos !== undefined))
  return { received }
}

describe.skipIf(noMosquitto())(`bad input over the ${linkUnderTest()} link`, () => {
  const bed = sharedBed('bad-input')
  const { pool } = bed
  const { thrown, onThrown } = escapes()
  const url = (): string => bed.broker.tcpUrl

  describe('the reproduced crashes', () => {
    it('a QoS 1 publish made before CONNACK with a NUL in a user property rejects; the publish behind it goes out', async () => {
      const topic = `${uniquePrefix('nul')}/x`
      const { received } = await subscribed(await pool.connected(url()), topic)
      const client = pool.connect(url(), { protocolVersion: 5 })
      let bad: Promise<void> | undefined
      expect(() => (bad = client.publish(topic, 'bad', { qos: 1, properties: { userProperties: { k: 'v\u0000' } } }))).not.toThrow()
      const good = client.publish(topic, 'good', { qos: 1 })
      const outcome = await settled(bad as Promise<void>)
      expect(outcome.type === 'rejected' && outcome.error).toBeInstanceOf(UnsupportedOptionError)
      expect(outcome.type === 'rejected' && (outcome.error as Error).message).toMatch(/`properties.userProperties\["k"\]` must not contain NUL/)
      expect(await settled(good)).toEqual({ type: 'resolved' })
      expect(await received).toBe('good')
      await expect(client.publish(topic, 'x', { properties: { userProperties: [['k', 'v\u0000']] } })).rejects.toBeInstanceOf(UnsupportedOptionError)
      expect(thrown).toEqual([])
    })

    it('a password without a user name: refused by connect() under protocolVersion 4 and auto (which may fall back to 3.1.1)', () => {
      for (const protocolVersion of [4, 'auto', undefined] as const) {
        expect(() => pool.connect(url(), { password: 'p', protocolVersion })).toThrow(UnsupportedOptionError)
        expect(() => pool.connect(url(), { password: 'p', protocolVersion })).toThrow(/`password` without a username needs `protocolVersion: 5`/)
      }
    })

    it.each<[string, ClientOptions['credentials'], ClientOptions['protocolVersion']]>([
      ['a password without a user name under 3.1.1', () => ({ password: 'p' }), 4],
      ['a password without a user name under auto', async () => ({ password: 'p' }), 'auto'],
      ['values that are not strings', () => ({ username: 42 as unknown as string, password: {} as unknown as string }), 5],
      ['no object at all', () => undefined as unknown as { username: string }, 5],
      ['a NUL in the user name', async () => ({ username: 'u\u0000' }), 4],
    ])('a credentials provider returning %s: a failed attempt with a typed error, then a retry; end() settles', async (_, credentials, protocolVersion) => {
      let asked = 0
      const client = pool.connect(url(), {
        protocolVersion,
        reconnect: { initialDelay: 20, maxDelay: 40 },
        credentials: () => (asked++, (credentials as () => ReturnType<NonNullable<ClientOptions['credentials']>>)()),
      })
      const status = await firstVerdict(client)
      expect(status.type).toBe('reconnecting')
      const error = status.type === 'reconnecting' ? status.error : undefined
      expect(error).toBeInstanceOf(ConnectionRefusedError)
      expect(error?.cause).toBeInstanceOf(UnsupportedOptionError)
      await next(client.status$, 'a second attempt', (s) => s.type === 'reconnecting' && s.attempt >= 2)
      expect(asked).toBeGreaterThanOrEqual(2)
      expect(await settled(client.end())).toEqual({ type: 'resolved' })
      expect(thrown).toEqual([])
    })

    it('a will payload over 65,535 bytes, a bad will topic or an unknown will key: refused by connect()', () => {
      const topic = `${uniquePrefix('will')}/status`
      expect(() => pool.connect(url(), { will: { topic, payload: new Uint8Array(70_000) } })).toThrow(/`will.payload` must be a string or a Uint8Array of at most 65535 bytes, not 70000/)
      expect(() => pool.connect(url(), { will: { topic, payload: 'x'.repeat(70_000) } })).toThrow(UnsupportedOptionError)
      expect(() => pool.connect(url(), { will: { topic: `${topic}/\u0001`, payload: 'x' } })).toThrow(IotPubSubError)
      expect(() => pool.connect(url(), { will: { topic, payload: 'x', properties: { messageExpiryInterval: 1 } } as never })).toThrow(/`will.properties` is not an option/)
    })

    it('publish() with messageExpiryInterval -1 returns a rejected promise, leaves nothing pending, and end() is prompt', async () => {
      const client = await pool.connected(url())
      let publish: Promise<void> | undefined
      expect(() => (publish = client.publish(`${uniquePrefix('expiry')}/x`, 'x', { qos: 1, properties: { messageExpiryInterval: -1 } }))).not.toThrow()
      const outcome = await settled(publish as Promise<void>)
      expect(outcome.type === 'rejected' && outcome.error).toBeInstanceOf(UnsupportedOptionError)
      const started = Date.now()
      expect(await settled(client.end())).toEqual({ type: 'resolved' })
      // Nothing waited for an acknowledgement: a graceful end is a DISCONNECT away, not end()'s 5 s timeout.
      expect(Date.now() - started).toBeLessThan(2_000)
      expect(thrown).toEqual([])
    })
  })

  it('a valid publish with no user property in its user properties is sent and resolves (MQTT.js alone never sends one)', async () => {
    const topic = `${uniquePrefix('empty-user-properties')}/x`
    const client = await pool.connected(url(), { protocolVersion: 5 })
    const empties: (UserProperties | UserPropertyPairs)[] = [{}, [], { name: [] }]
    for (const userProperties of empties) {
      expect(await settled(client.publish(topic, 'x', { qos: 1, properties: { userProperties } }), 5_000)).toEqual({ type: 'resolved' })
    }
  })

  describe('options whose meaning would surprise (issue 23, defect 9)', () => {
    it("observe() refuses an `ack` other than 'auto' or 'manual' (`'Manual'` meant automatic acks)", async () => {
      const client = await pool.connected(url())
      const topic = `${uniquePrefix('ack')}/x`
      for (const ack of ['Manual', 'MANUAL', true, 1, ''])  {
        expect(() => client.observe(topic, { ack: ack as never })).toThrow(UnsupportedOptionError)
      }
      expect(() => client.observe(topic, { ack: 'Manual' as never })).toThrow(/`ack` must be "auto" or "manual", not "Manual"/)
      expect(() => client.observe(topic, { ack: 'manual' }).subscribe().unsubscribe()).not.toThrow()
      expect(() => client.observe(topic, { ack: undefined }).subscribe().unsubscribe()).not.toThrow()
    })

    it('`clean: false` needs a client id of its own: none, or an empty one, is refused naming the fix', () => {
      // ClientPool gives every client an id: `clientId: undefined` takes it away.
      expect(() => pool.connect(url(), { clean: false, clientId: undefined })).toThrow(/`clean: false` needs a `clientId`, the same at every start/)
      for (const protocolVersion of [4, 5, 'auto'] as const) {
        expect(() => pool.connect(url(), { clean: false, clientId: '', protocolVersion })).toThrow(/`clean: false` needs a `clientId`/)
      }
      expect(() => pool.connect(url(), { clean: true, clientId: '' })).not.toThrow()
    })
  })

  describe('options added since (issue 23: the gaps of this file)', () => {
    const lean = linkUnderTest() === 'lean'

    it.runIf(lean)("an auth method's data that no CONNECT can carry fails the exchange with AuthenticationError, at once", async () => {
      for (const data of [new Uint8Array(70_000), 5, 'token']) {
        const client = pool.connect(url(), { auth: { method: 'token', start: () => ({ data: data as Uint8Array }) }, reconnect: false })
        const closed = await waitForStatus(client, 'closed', SETTLE_MS)
        expect(closed.error).toBeInstanceOf(AuthenticationError)
        expect(closed.error?.message).toMatch(/a Uint8Array of at most 65535 bytes/)
      }
      expect(thrown).toEqual([])
    })

    it.runIf(!lean)('over the MQTT.js link `auth` is refused by connect(), whatever its shape', () => {
      for (const auth of [{ method: 'token', start: () => ({}) }, { method: 'token', start: () => ({ data: new Uint8Array(70_000) }) }]) {
        expect(() => pool.connect(url(), { auth })).toThrow(/`auth` needs link 'lean'/)
      }
    })

    it('a credentials provider that never settles fails the attempt within connectTimeout', async () => {
      const client = pool.connect(url(), { connectTimeout: 300, reconnect: false, credentials: () => new Promise<never>(() => undefined) })
      const status = firstVerdict(client)
      const verdict = await settled(status, 1_500)
      await client.end({ force: true })
      expect(verdict.type).toBe('resolved')
      const closed = await status
      expect(closed.type === 'closed' && closed.error?.message).toMatch(/the credentials provider did not answer within connectTimeout \(300 ms\)/)
    })

    it('a handshake header value outside printable Latin-1 is refused by connect(), not by every attempt', async () => {
      for (const webSocket of [{ headers: { 'x-token': '€' } }, { headers: { 'x-token': 'a\u0001' } }]) {
        let client: MQTTClient | undefined
        try {
          expect(() => (client = pool.connect(bed.broker.wsUrl, { webSocket, reconnect: false }))).toThrow(UnsupportedOptionError)
        } finally {
          await client?.end({ force: true })
        }
      }
    })

    it("end() keeps to its timeout while the app's store.close() never answers", async () => {
      const session = { messages: [], incoming: [], problems: [] }
      let release = (): void => undefined
      // Released after the assertion, so that the file's clean-up can end the client.
      const store = { open: async () => session, write: async () => undefined, close: () => new Promise<void>((resolve) => (release = resolve)) }
      const client = await pool.connected(url(), { store })
      const ended = await settled(client.end({ force: true, timeout: 300 }), 2_000)
      release()
      expect(ended).toEqual({ type: 'resolved' })
    })
  })

  describe('random input (seeded)', () => {
    const seed = Number(process.env.IOTPUBSUB_SEED ?? Math.floor(Math.random() * 2 ** 31))
    const log: string[] = []
    beforeAll(() => {
      console.log(`bad-input (${linkUnderTest()} link): seed ${seed}; replay with IOTPUBSUB_SEED=${seed}`)
    })
    afterAll(() => {
      console.log(`bad-input (${linkUnderTest()} link), seed ${seed}:\n${log.join('\n')}`)
    })

    it('connect options (store, proxy, webSocket, auth, credentials providers among them): each is refused by connect() with a typed error, or makes a client that settles and ends', async () => {
      const g = new Generator(mulberry32(seed), uniquePrefix('random-connect'), { tcp: url(), ws: bed.broker.wsUrl })
      const tally = { refused: 0, connected: 0, failed: 0, hung: 0 }
      const wrong: string[] = []
      const deadline = Date.now() + CONNECT_BUDGET_MS
      for (let n = 0; Date.now() < deadline; n++) {
        const { options, ws, hangs } = g.connectCase(n)
        let client: MQTTClient
        try {
          client = pool.connect(g.url(ws), options)
        } catch (error) {
          tally.refused += 1
          if (!(error instanceof IotPubSubError)) wrong.push(`case ${n}: connect() threw ${String(error)} for ${shown(options)}`)
          continue
        }
        // A publish made at once goes through the store, the first attempt and end(): it settles too.
        const published = settled(client.publish(`${g.prefix}/${n}`, 'x', { qos: 1, id: `c-${n}` }))
        let status: Status | undefined
        // A provider that never settles holds the attempt (nothing bounds it yet): a short deadline, then end().
        const verdict = await settled(firstVerdict(client).then((s) => void (status = s)), hangs ? HANG_MS : SETTLE_MS)
        if (verdict.type !== 'resolved' && !hangs) wrong.push(`case ${n}: no status past connecting for ${shown(options)}`)
        if (status?.type === 'connected') tally.connected += 1
        else if (status === undefined) tally.hung += 1
        else {
          tally.failed += 1
          const error = status.type === 'reconnecting' || status.type === 'closed' ? status.error : undefined
          if (!(error instanceof IotPubSubError)) wrong.push(`case ${n}: status ${status.type} with ${String(error)} for ${shown(options)}`)
        }
        const ended = await settled(client.end({ force: g.random() < 0.5 }))
        if (ended.type !== 'resolved') wrong.push(`case ${n}: end() ${ended.type} for ${shown(options)}`)
        const outcome = await published
        if (outcome.type === 'pending') wrong.push(`case ${n}: a publish made at connect() never settled for ${shown(options)}`)
        if (outcome.type === 'rejected' && !(outcome.error instanceof IotPubSubError)) wrong.push(`case ${n}: a publish rejected with ${String(outcome.error)} for ${shown(options)}`)
      }
      log.push(`connect: ${JSON.stringify(tally)}`)
      expect(wrong).toEqual([])
      expect(thrown).toEqual([])
      expect(tally.refused).toBeGreaterThan(0)
      expect(tally.connected).toBeGreaterThan(0)
    })

    it('publish input (topics, payloads, options, MQTT 5 properties), some before CONNACK: publish() never throws, every promise settles typed, the connection stays usable', async () => {
      const prefix = uniquePrefix('random-publish')
      // A stream of its own, so that a replay gives the same cases whatever the connect phase drew.
      const g = new Generator(mulberry32(seed + 1), prefix)
      const protocolVersion = g.pick([4, 5, 'auto'] as const)
      const check = `${prefix}/check`
      const { received } = await subscribed(await pool.connected(url()), check)
      // Not awaited: the first publishes wait for the CONNACK, where an encoder error used to escape.
      const client = pool.connect(url(), { protocolVersion, reconnect: { initialDelay: 20, maxDelay: 100 } })
      const cases: { n: number; input: string; outcome: Promise<Outcome> }[] = []
      const wrong: string[] = []
      const deadline = Date.now() + PUBLISH_BUDGET_MS
      for (let n = 0; Date.now() < deadline && n < 3_000; n++) {
        const [topic, payload, options] = g.publish()
        try {
          cases.push({ n, input: shown([topic, payload, options]), outcome: settled(client.publish(topic as string, payload, options)) })
        } catch (error) {
          wrong.push(`case ${n}: publish() threw ${String(error)} for ${shown([topic, payload, options])}`)
        }
        if (g.random() < 0.05) {
          const [filter, observeOptions] = g.observe()
          try {
            client.observe(filter as string, observeOptions).subscribe({ error: () => undefined }).unsubscribe()
          } catch (error) {
            if (!(error instanceof IotPubSubError)) wrong.push(`case ${n}: observe() threw ${String(error)} for ${shown([filter, observeOptions])}`)
          }
        }
        // Let the socket and the broker have their turn now and then, as an app's event loop would.
        if (n % 25 === 0) await new Promise((resolve) => setImmediate(resolve))
      }
      const tally: Record<string, number> = {}
      for (const c of cases) {
        const outcome = await c.outcome
        // Timeouts by cause (a `signal` aborted, or no acknowledgement within `timeout`): the second is worth watching.
        const error = outcome.type === 'rejected' ? (outcome.error as Error | undefined) : undefined
        const kind = outcome.type === 'rejected' ? `${error?.name ?? String(outcome.error)}${error?.name === 'PublishTimeoutError' ? ` (${error.message.includes('abort') ? 'aborted' : 'timeout'})` : ''}` : outcome.type
        tally[kind] = (tally[kind] ?? 0) + 1
        if (outcome.type === 'pending') wrong.push(`case ${c.n}: not settled within ${SETTLE_MS} ms: ${c.input}`)
        if (outcome.type === 'rejected' && !(outcome.error instanceof IotPubSubError)) wrong.push(`case ${c.n}: rejected with ${String(outcome.error)}: ${c.input}`)
      }
      log.push(`publish (MQTT ${String(protocolVersion)}): ${cases.length} publishes: ${JSON.stringify(tally)}`)
      expect(wrong).toEqual([])
      expect(thrown).toEqual([])
      // Still usable: a valid publish after all that reaches a subscriber.
      await waitForStatus(client, 'connected', SETTLE_MS)
      expect(await settled(client.publish(check, 'alive', { qos: 1 }))).toEqual({ type: 'resolved' })
      expect(await received).toBe('alive')
    })
  })
})
