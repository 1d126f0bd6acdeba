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
  memoryStore,
  type ClientOptions,
  type MQTTClient,
  type PublishOptions,
  type Status,
  UnsupportedOptionError,
  type UserProperties,
  type UserPropertyPairs,
} from '../../lib/node.js'
import { sharedBed } from '../support/bed.js'
import { noMosquitto } from '../support/binaries.js'
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
  const thrown: unknown[] = []
  const onThrown = (error: unknown): void => void thrown.push(error)
  const url = (): string => bed.broker.tcpUrl

  beforeAll(() => {
    process.on('uncaughtException', onThrown)
    process.on('unhandledRejection', onThrown)
  })
  afterAll(() => {
    process.off('uncaughtException', onThrown)
    process.off('unhandledRejection', onThrown)
  })

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

/** A small seeded generator (mulberry32): the same seed gives the same cases. */
function mulberry32(seed: number): () => number {
  let a = seed >>> 0
  return () => {
    a = (a + 0x6d2b79f5) >>> 0
    let t = a
    t = Math.imul(t ^ (t >>> 15), t | 1)
    t ^= t + Math.imul(t ^ (t >>> 7), t | 61)
    return ((t ^ (t >>> 14)) >>> 0) / 4_294_967_296
  }
}

/** A case as the failure message shows it (strings cut short, byte arrays by length). */
function shown(value: unknown): string {
  return JSON.stringify(value, (_, v: unknown) => {
    if (typeof v === 'string') return v.length > 40 ? `${v.slice(0, 40)}… (${v.length})` : v
    if (v instanceof Uint8Array) return `Uint8Array(${v.length})`
    if (typeof v === 'bigint') return `${v}n`
    if (typeof v === 'function') return 'a function'
    if (typeof v === 'number' && !Number.isFinite(v)) return String(v)
    return v
  })
}

/**
 * Random valid and invalid values of each kind the SDK is handed. Each field is valid most of the time and
 * now and then one of its invalid values, so that most cases are valid or wrong in one place, as mistakes are.
 */
class Generator {
  constructor(
    readonly random: () => number,
    readonly prefix: string,
    private readonly urls: { tcp: string; ws: string } = { tcp: '', ws: '' },
  ) {}

  pick<T>(list: readonly T[]): T {
    return list[Math.floor(this.random() * list.length)] as T
  }

  /** A valid value, or (with probability `p`) one of the invalid ones. */
  either(valid: () => unknown, invalid: readonly (() => unknown)[], p = 0.08): unknown {
    return this.random() < p ? this.pick(invalid)() : valid()
  }

  /** Text that is mostly fine: letters, accents, emoji, and seldom a character MQTT or Mosquitto refuses. */
  text(max = 12): string {
    const good = ['a', 'b', 'Z', '0', ' ', '-', 'é', '°', '€', '😀', '\u00a0', '\ufeff']
    const bad = ['\u0000', '\u0001', '\n', '\t', '\u007f', '\u009f', '\ud800', '\udc00', '\ufffe', '\ufdd0']
    let s = ''
    const length = Math.floor(this.random() * max)
    for (let i = 0; i < length; i++) s += this.random() < 0.005 ? this.pick(bad) : this.pick(good)
    return s
  }

  topic(): unknown {
    const level = (): string => this.text(6).replace(/[/+#]/g, '') || 'l'
    return this.either(
      () => `${this.prefix}/${Array.from({ length: 1 + Math.floor(this.random() * 3) }, level).join('/')}`,
      [() => '', () => `${this.prefix}/+/x`, () => `${this.prefix}/#`, () => `${this.prefix}/\u0000`, () => `${this.prefix}/\u0007`, () => 42, () => null, () => 'é'.repeat(33_000)],
    )
  }

  payload(): unknown {
    return this.either(
      () => this.pick<() => unknown>([
        () => this.text(40),
        () => new Uint8Array(Math.floor(this.random() * 512)),
        () => ({ reading: this.random(), unit: this.text(4) }),
        () => [1, 'two', null],
        () => '',
        () => new ArrayBuffer(8),
        () => `lone \ud800 surrogates are bytes here`,
        () => new Uint8Array(this.random() < 0.1 ? 70_000 : 1_000),
      ])(),
      [() => undefined, () => 10n, () => Symbol('s')],
    )
  }

  userProperties(): unknown {
    // Never empty here: the test 'no user property in its user properties' covers that case.
    const pairs = Array.from({ length: 1 + Math.floor(this.random() * 3) }, () => [this.text(6), this.text(8)] as const)
    return this.either(
      () => this.pick<() => unknown>([() => Object.fromEntries(pairs), () => pairs, () => ({ [this.text(4)]: [this.text(4), this.text(4)] })])(),
      [() => ({ k: 5 }), () => [['k']], () => 'k=v', () => new Map([['k', 'v']]), () => ({ k: 'v'.repeat(65_536) }), () => ({ k: 'v\u0000' }), () => [['k\n', 'v']]],
    )
  }

  properties(): unknown {
    const values: Record<string, () => unknown> = {
      payloadFormatIndicator: () => this.either(() => this.pick([true, false]), [() => 1, () => 'yes', () => null]),
      messageExpiryInterval: () => this.either(() => this.pick([0, 60, 0xffff_ffff]), [() => -1, () => 2 ** 32, () => 1.5, () => NaN, () => '60', () => Infinity]),
      contentType: () => this.either(() => this.pick(['application/json', this.text()]), [() => 5, () => 'c'.repeat(65_536), () => 'text\u0000']),
      responseTopic: () => this.topic(),
      correlationData: () => this.either(() => new Uint8Array(Math.floor(this.random() * 32)), [() => 'id', () => new Uint8Array(65_536)]),
      userProperties: () => this.userProperties(),
    }
    const properties: Record<string, unknown> = {}
    for (const [name, value] of Object.entries(values)) if (this.random() < 0.3) properties[name] = value()
    // What no publish may carry: a broker-only property, a typo, a property of another packet.
    if (this.random() < 0.03) properties[this.pick(['subscriptionIdentifier', 'contentTyp', 'topicAlias'])] = 1
    return this.either(() => properties, [() => 'x', () => null, () => [], () => 5], 0.02)
  }

  publish(): [unknown, unknown, PublishOptions<unknown>] {
    const aborted = new AbortController()
    aborted.abort()
    const options: Record<string, unknown> = {}
    const set = (key: string, p: number, value: () => unknown): void => {
      if (this.random() < p) options[key] = value()
    }
    set('qos', 0.8, () => this.either(() => this.pick([0, 1, 2]), [() => 3, () => '1', () => -1]))
    set('retain', 0.2, () => this.either(() => this.pick([true, false]), [() => 'yes', () => 1]))
    set('timeout', 0.1, () => this.either(() => 5_000, [() => -1, () => 0, () => NaN, () => 2 ** 31]))
    set('signal', 0.1, () => this.either(() => this.pick([new AbortController().signal, aborted.signal]), [() => 'stop', () => ({})]))
    set('codec', 0.2, () => this.either(() => this.pick(['json', 'text', 'bytes']), [() => 'JSON', () => ({}), () => ({ encode: () => { throw new Error('codec') }, decode: () => null })]))
    set('properties', 0.5, () => this.properties())
    // An id seen before is the held message again (its promise settles with that one's), or a new one once it left.
    set('id', 0.2, () => this.either(() => this.pick([`m-${Math.floor(this.random() * 1e9)}`, 'same-id', 'é'.repeat(256), '😀']), [() => '', () => 'x'.repeat(257), () => 5, () => null, () => ({})]))
    set('expiry', 0.15, () => this.either(() => this.pick([1, 60, 0.5, 0xffff_ffff]), [() => 0, () => -1, () => NaN, () => Infinity, () => 2 ** 32, () => '60']))
    set('collapse', 0.15, () => this.either(() => this.pick([true, false]), [() => 'yes', () => 1, () => null]))
    return [this.topic(), this.payload(), this.either(() => options, [() => null, () => 'qos 1'], 0.01) as PublishOptions<unknown>]
  }

  observe(): [unknown, Record<string, unknown>] {
    const filter = this.either(() => `${this.prefix}/+/${this.text(4).replace(/[/+#]/g, '') || 'x'}`, [() => `${this.prefix}/#/x`, () => `${this.prefix}/a+`, () => '', () => 7])
    return [filter, { qos: this.either(() => this.pick([0, 1, 2, undefined]), [() => 3]), ack: this.either(() => this.pick(['auto', 'manual', undefined]), [() => 'Manual', () => true]), codec: this.pick(['json', 'text', undefined]) }]
  }

  /**
   * One client's options, and what the case needs to know of them: whether it goes to the WebSocket listener,
   * and whether something in it never settles (a credentials provider), so that its status may stay `connecting`.
   */
  connectCase(n: number): { options: ClientOptions; ws: boolean; hangs: boolean } {
    const id = `${this.prefix}-${process.pid}-${n}`
    const ws = this.random() < 0.3
    let hangs = false
    // A function that never settles; drawing one marks the case.
    const never = (): (() => Promise<never>) => ((hangs = true), () => new Promise<never>(() => undefined))
    const options: Record<string, unknown> = {}
    const set = (key: string, p: number, value: () => unknown): void => {
      if (this.random() < p) options[key] = value()
    }
    set('clientId', 0.9, () => this.either(() => this.pick([id, id, '', undefined]), [() => 'a\u0000', () => 5, () => `${id}\n`, () => 'é'.repeat(33_000)]))
    set('clean', 0.5, () => this.either(() => this.pick([true, false]), [() => 'no', () => 0]))
    set('username', 0.3, () => this.either(() => this.pick(['u', '', 'é😀']), [() => 'a\u0000', () => 7, () => 'a\ud800']))
    set('password', 0.3, () => this.either(() => this.pick(['p', '\u0000bytes', '']), [() => '\ud800', () => 5, () => 'p'.repeat(65_536)]))
    set('protocolVersion', 0.7, () => this.either(() => this.pick([4, 5, 'auto']), [() => 3, () => '5']))
    set('keepalive', 0.3, () => this.either(() => this.pick([0, 10, 300]), [() => -1, () => 70_000, () => 1.5]))
    set('connectTimeout', 0.2, () => this.either(() => 2_000, [() => 0, () => -5]))
    set('reconnect', 1, () => this.either(() => this.pick([{ initialDelay: 20, maxDelay: 40 }, false]), [() => ({ initialDelay: 40, maxDelay: 20 }), () => true]))
    set('sessionExpiryInterval', 0.2, () => this.either(() => this.pick([0, 60]), [() => -1, () => 2 ** 32]))
    set('will', 0.3, () =>
      this.either(
        () => ({ topic: `${this.prefix}/will/${n}`, payload: this.pick<unknown>([this.text(), new Uint8Array(this.pick([0, 10, 65_535]))]), qos: this.pick([0, 1, 2]), retain: this.pick([false, true]) }),
        [
          () => ({ topic: this.topic(), payload: 'x', qos: 3 }),
          () => ({ topic: `${this.prefix}/will`, payload: new Uint8Array(70_000) }),
          () => ({ topic: `${this.prefix}/will`, payload: 'x', properties: {} }),
          () => ({ topic: `${this.prefix}/will/+`, payload: 'x' }),
          () => 'will',
        ],
        0.3,
      ))
    set('credentials', 0.25, () =>
      this.either(
        () => this.pick<() => unknown>([() => ({ username: 'u', password: 'p' }), async () => ({ url: this.url(ws) }), () => ({ headers: { 'x-token': 't' } })]),
        [
          () => async () => ({ password: 'p' }),
          () => () => 42,
          () => async () => ({ username: 'a\u0000' }),
          () => () => ({ username: 'u', password: 5 }),
          () => () => {
            throw new Error('vault down')
          },
          () => () => Promise.reject('not an Error'),
          () => never(),
          () => 'token',
          // A URL that is not one, of another scheme, or with no port to reach.
          () => () => ({ url: this.pick<unknown>([5, 'ftp://x', ':::', 'mqtt://127.0.0.1:0', 'ws://[::1', '', 'mqtt://127.0.0.1:99999']) }),
          // Headers that are no headers, the handshake's own, not on one line, not Latin-1, or for an mqtt:// URL.
          () => () => ({ headers: this.pick<unknown>(['h', ['x'], { Host: 'x' }, { 'x a': 'v' }, { x: 5 }, { x: 'a\nb' }, { x: '€' }, null]) }),
          () => () => ({ url: this.url(false), headers: { x: 'v' } }),
        ],
        0.6,
      ))
    set('store', 0.15, () =>
      this.either(
        () => memoryStore(),
        [
          () => this.pick<unknown>([{}, 'store', null, { open: 5, write: () => undefined, close: () => undefined }]),
          // The app's own store, failing in each way it can: a throw, a rejection, an answer that is no session.
          () => this.badStore(),
        ],
        0.6,
      ))
    set('proxy', 0.15, () => this.either(() => this.pick<unknown>([false, 'http://127.0.0.1:1', 'socks5://127.0.0.1:1']), [() => 5, () => 'ftp://proxy', () => '', () => true, () => 'http://']))
    set('webSocket', 0.2, () =>
      this.either(
        () => this.pick<unknown>([{}, { headers: { 'x-api-key': 'k' } }, { subprotocols: ['mqttv3.1', 'mqtt'] }, { subprotocols: [] }]),
        [
          () => this.pick<unknown>([null, [], 'mqtt', { protocols: ['mqtt'] }]),
          () => ({ headers: this.pick<unknown>(['h', { Host: 'x' }, { 'Sec-WebSocket-Protocol': 'x' }, { 'x a': 'v' }, { x: 5 }, { x: 'a\r\nb' }, { x: '€' }, { x: 'a\u0001' }]) }),
          () => ({ subprotocols: this.pick<unknown>(['mqtt', ['a b'], ['a,b'], [5], [''], null]) }),
        ],
        0.5,
      ))
    set('auth', 0.15, () => this.either(() => ({ method: 'token', start: () => ({ data: new Uint8Array([1]) }) }), this.badAuth(never), 0.8))
    // What never settles is bounded by connectTimeout where the client applies it (the auth method's start).
    if (options.auth !== undefined || hangs) options.connectTimeout = 500
    return { options: options as ClientOptions, ws, hangs }
  }

  url(ws: boolean): string {
    return ws ? this.urls.ws : this.urls.tcp
  }

  /** Stores that fail: open throwing, rejecting, never a session, or write and close failing. */
  badStore(): unknown {
    const session = { messages: [], incoming: [], problems: [] }
    const ok = { open: async () => session, write: async () => undefined, close: async () => undefined }
    return this.pick<() => unknown>([
      () => ({ ...ok, open: () => { throw new Error('disk gone') } }),
      () => ({ ...ok, open: () => Promise.reject(new Error('disk gone')) }),
      () => ({ ...ok, open: async () => null }),
      () => ({ ...ok, open: async () => ({ messages: 5 }) }),
      () => ({ ...ok, open: async () => ({ messages: [{ id: 5 }], incoming: ['x'], problems: [] }) }),
      () => ({ ...ok, write: () => { throw new Error('disk full') } }),
      () => ({ ...ok, write: () => Promise.reject(new Error('disk full')) }),
      () => ({ ...ok, close: () => Promise.reject(new Error('close')) }),
    ])()
  }

  /** `auth` methods of bad shapes, and methods that fail each step or answer with what no AUTH can carry. */
  badAuth(never: () => () => Promise<never>): (() => unknown)[] {
    const start = (exchange: () => unknown) => ({ method: 'token', start: exchange })
    return [
      () => this.pick<unknown>([{}, 'scram', null, { method: 'x' }, { start: () => ({}) }, { method: '', start: () => ({}) }, { method: 5, start: () => ({}) }, { method: 'a\u0000', start: () => ({}) }, { method: 'x', start: 'go' }]),
      () => start(() => { throw new Error('no token') }),
      () => start(() => Promise.reject('not an Error')),
      () => start(never()),
      () => start(() => null),
      () => start(() => 5),
      () => start(() => ({ data: this.pick<unknown>(['token', 5, new Uint8Array(70_000), [1, 2], new ArrayBuffer(2)]) })),
      () => start(() => ({ data: new Uint8Array([1]), renewIn: this.pick<unknown>([NaN, -1, Infinity, 2 ** 40, '10']), done: this.pick<unknown>([5, () => { throw new Error('unproven') }]) })),
      () => start(() => ({ next: () => this.pick<unknown>(['x', new Uint8Array(70_000)]) })),
    ]
  }
}
