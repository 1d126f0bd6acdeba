// The fault matrix for MQTT 5 enhanced authentication: the connection cut before and after each AUTH packet of
// a SCRAM-SHA-256 login (the broker's challenge, the client's proof, the CONNACK with the broker's proof) and of
// a re-authentication on the live connection (the client's AUTH 0x19, the challenge, the proof, the broker's
// AUTH 0x00), through MqttFaultProxy in front of a Mosquitto running the test auth plugin
// (test/support/auth-plugin/). Each case asserts the invariants: one cut makes one reconnect (a network cut is
// no refusal: never NotAuthorizedError, never `closed`), the new connection authenticates and its
// subscription delivers, a publish made meanwhile settles, every error is the SDK's, nothing throws out of the
// client. Each cut runs again for a client whose session the broker keeps: resumed, the messages queued for
// it delivered, the publish confirmed. Then the method's own mistakes that the exchange must absorb. The lean
// link only: over MQTT.js `auth` is refused at connect().
import { afterAll, afterEach, beforeAll, describe, expect, it } from 'vitest'
import { AuthenticationError, IotPubSubError, NotAuthorizedError, UnsupportedOptionError, connect, scramSha256, type AuthMethod, type Status } from '../../lib/node.js'
import { authPluginMissing, buildAuthPlugin, type AuthPlugin } from '../support/auth-plugin/build.js'
import { noMosquitto } from '../support/binaries.js'
import { escapes } from '../support/escapes.js'
import { ClientPool, waitForStatus } from '../support/clients.js'
import { linkUnderTest } from '../support/link-under-test.js'
import { Mosquitto } from '../support/mosquitto.js'
import { MqttFaultProxy, type Direction, type SeenPacket } from '../support/mqtt-fault-proxy.js'
import { rawClient } from '../support/raw.js'
import { uniquePrefix, waitFor } from '../support/wait.js'
import type { MqttClient } from 'mqtt'

const USER = 'meter-7'
const PASSWORD = 'pencil-42'
const SECRET = 'token-secret'
/** How long any awaited event may take. */
const WAIT = 8_000
const lean = linkUnderTest() === 'lean'
const fast = { initialDelay: 20, maxDelay: 100 }

/** Where a case cuts: the nth packet of a kind in one direction, counted from the start of its phase. */
interface AuthCut {
  readonly label: string
  readonly phase: 'login' | 'reauth'
  readonly direction: Direction
  readonly type: 'AUTH' | 'CONNACK'
  readonly nth: number
  readonly action: 'cut-before' | 'cut-after'
}

const both = (label: string, phase: AuthCut['phase'], direction: Direction, type: AuthCut['type'], nth: number): AuthCut[] =>
  (['cut-before', 'cut-after'] as const).map((action) => ({ label: `${action === 'cut-before' ? 'before' : 'after'} ${label}`, phase, direction, type, nth, action }))

/** Every cut point of both exchanges, in the order their packets travel. */
const CUTS: readonly AuthCut[] = [
  ...both("the broker's challenge (AUTH 0x18) reaches the client", 'login', 'in', 'AUTH', 1),
  ...both("the client's proof (AUTH 0x18) reaches the broker", 'login', 'out', 'AUTH', 1),
  // Its CONNACK carries the broker's proof; after it the login is done, and a cut is a plain lost connection.
  { label: "before the CONNACK with the broker's proof reaches the client", phase: 'login', direction: 'in', type: 'CONNACK', nth: 1, action: 'cut-before' },
  ...both('the re-authentication request (AUTH 0x19) reaches the broker', 'reauth', 'out', 'AUTH', 1),
  ...both("the broker's challenge (AUTH 0x18) reaches the client", 'reauth', 'in', 'AUTH', 1),
  ...both("the client's proof (AUTH 0x18) reaches the broker", 'reauth', 'out', 'AUTH', 2),
  ...both("the broker's success with its proof (AUTH 0x00) reaches the client", 'reauth', 'in', 'AUTH', 2),
]

/** An AUTH packet's reason code (none written: 0x00, success). */
function authReason(seen: SeenPacket): number {
  let at = 1
  while (((seen.bytes[at] as number) & 0x80) !== 0) at += 1
  return at + 1 < seen.bytes.length ? (seen.bytes[at + 1] as number) : 0
}

/** Locally, a machine without gcc or the headers skips, loudly; under CI it fails (binaries.ts's rule). */
const noCompiler = (): boolean => {
  const missing = authPluginMissing()
  if (missing.length === 0 || process.env.CI) return false
  process.stderr.write(`\n!!! SKIPPING fault-auth tests: apt-get install ${missing.join(' ')}\n\n`)
  return true
}

/** A token of the plugin's "token" method, valid for `seconds`. */
const token = (seconds: number): Uint8Array => new TextEncoder().encode(`${SECRET}:${Math.floor(Date.now() / 1000) + seconds}`)

describe.skipIf(noMosquitto() || noCompiler())(`enhanced authentication under connection cuts over the ${linkUnderTest()} link`, () => {
  let plugin: AuthPlugin
  let broker: Mosquitto
  /** Straight to the broker (anonymous): publishes what the observers must receive. */
  let direct: MqttClient
  const pool = new ClientPool('fault-auth')
  const proxies: MqttFaultProxy[] = []
  const { thrown, onThrown } = escapes()
  const outcomes: string[] = []

  beforeAll(async () => {
    plugin = await buildAuthPlugin()
    broker = await Mosquitto.start({
      persistence: false,
      extra: ['log_type all'],
      plugins: [{ path: plugin.path, options: { username: USER, password: PASSWORD, token_secret: SECRET } }],
    })
    direct = await rawClient(broker.tcpUrl, { protocolVersion: 5, clientId: `fault-auth-direct-${process.pid}` })
  }, 60_000)
  afterEach(async () => {
    await pool.endAll()
    await Promise.all(proxies.splice(0).map((p) => p.close()))
  })
  afterAll(async () => {
    await direct?.endAsync()
    await broker?.dispose()
    await plugin?.dispose()
    if (outcomes.length > 0) console.log(`fault-auth, ${linkUnderTest()} link: ${outcomes.length} cases\n${outcomes.join('\n')}`)
  })

  it.runIf(!lean)('over the MQTT.js link, `auth` is refused by connect()', () => {
    expect(() => connect(broker.tcpUrl, { auth: scramSha256({ username: USER, password: PASSWORD }) })).toThrow(UnsupportedOptionError)
  })

  describe.runIf(lean)('cut points of the SCRAM-SHA-256 exchanges', () => {
    it.each(CUTS.map((cut) => [`${cut.phase}: ${cut.label}`, cut] as const))('%s: one reconnect, authenticated again, the subscription delivers, everything settles', async (_, cut) => {
      const proxy = await MqttFaultProxy.start(broker.ports[1883] as number)
      proxies.push(proxy)
      const rule = { direction: cut.direction, type: cut.type, nth: cut.nth, where: (s: SeenPacket) => s.connection === 1, action: { kind: cut.action } }
      if (cut.phase === 'login') proxy.inject(rule)
      const p = uniquePrefix('fault-auth')
      const topic = `${p}/t`
      const client = pool.connect(proxy.url, { auth: scramSha256({ username: USER, password: PASSWORD, ...(cut.phase === 'reauth' ? { renewIn: 0 } : {}) }), reconnect: fast, connectTimeout: 3_000 })
      const statuses: Status[] = []
      client.status$.subscribe((s) => statuses.push(s))
      const received: string[] = []
      client.observe(topic, { qos: 1, codec: 'text' }).subscribe({ next: (m) => received.push(m.payload), error: onThrown })
      const subscribedOn = (connection: number) =>
        proxy.waitForPacket((s) => s.connection === connection && s.type === 'SUBACK', `the SUBACK on connection ${connection}`, WAIT)
      if (cut.phase === 'reauth') {
        await subscribedOn(1)
        // Counted from here: the packets of the re-authentication the method asks for a second after the login.
        proxy.inject(rule)
      }
      const started = Date.now()
      const published = client.publish(`${p}/out`, 'm', { qos: 1 }).then(() => 'resolved', (error: unknown) => error)
      await new Promise<void>((resolve, reject) => {
        const timer = setTimeout(() => reject(new Error(`no cut within ${WAIT} ms`)), WAIT)
        proxy.once('cut', () => (clearTimeout(timer), resolve()))
      })
      await waitFor(() => statuses.some((s) => s.type === 'reconnecting') && statuses.at(-1)?.type === 'connected', 'connected again after the cut', WAIT)
      await subscribedOn(2)
      await direct.publishAsync(topic, 'after', { qos: 1 })
      await waitFor(() => received.includes('after'), 'the message after the reconnect', WAIT)
      const outcome = await Promise.race([published, new Promise((resolve) => setTimeout(() => resolve('never settled'), WAIT))])

      const reconnects = statuses.filter((s): s is Extract<Status, { type: 'reconnecting' }> => s.type === 'reconnecting')
      const problems: string[] = []
      if (reconnects.length !== 1) problems.push(`${reconnects.length} reconnects`)
      if (statuses.some((s) => s.type === 'closed')) problems.push('closed')
      for (const r of reconnects) {
        if (!(r.error instanceof IotPubSubError)) problems.push(`reconnecting with ${String(r.error)}`)
        if (r.error instanceof NotAuthorizedError) problems.push('a cut taken for a refusal (NotAuthorizedError)')
      }
      if (outcome !== 'resolved' && !(outcome instanceof IotPubSubError)) problems.push(`the publish made meanwhile: ${String(outcome)}`)
      // The new connection authenticated (its CONNACK went through the plugin), and nothing more was needed.
      if (proxy.connections !== 2) problems.push(`${proxy.connections} connections`)
      const error = reconnects[0]?.error
      outcomes.push(`${cut.phase}: ${cut.label}: reconnected once (${error?.name}: ${error?.message}) in ${Date.now() - started} ms; publish ${outcome instanceof Error ? outcome.name : String(outcome)}`)
      expect(problems).toEqual([])
      expect(thrown).toEqual([])
    })

    // The same cuts for a client whose session the broker keeps (clean: false, made by an earlier connection
    // that subscribed): the new connection resumes it, what was published to it meanwhile arrives, and the
    // publish made across the cut is confirmed, not left unknown.
    it.each(CUTS.map((cut) => [`${cut.phase}: ${cut.label}`, cut] as const))('%s, session kept: resumed, the messages queued for it arrive, the publish is confirmed', async (_, cut) => {
      const proxy = await MqttFaultProxy.start(broker.ports[1883] as number)
      proxies.push(proxy)
      const p = uniquePrefix('fault-auth-kept')
      const topic = `${p}/t`
      const options = { clientId: `fault-auth-kept-${process.pid}-${CUTS.indexOf(cut)}`, clean: false, sessionExpiryInterval: 60, reconnect: fast, connectTimeout: 3_000 }
      const auth = () => scramSha256({ username: USER, password: PASSWORD, ...(cut.phase === 'reauth' ? { renewIn: 0 } : {}) })
      // The session: made by a first connection (its own, not counted by the rule), which subscribes and leaves.
      // It ends still observing: no UNSUBSCRIBE, the subscription stays in the session.
      const first = pool.connect(proxy.url, { ...options, auth: auth() })
      const primed: string[] = []
      first.observe(topic, { qos: 1, codec: 'text' }).subscribe({ next: (m) => primed.push(m.payload), error: onThrown })
      await proxy.waitForPacket((s) => s.connection === 1 && s.type === 'SUBACK', 'the SUBACK of the first connection', WAIT)
      await direct.publishAsync(topic, 'primed', { qos: 1 })
      await waitFor(() => primed.includes('primed'), 'the first connection subscribed', WAIT)
      await first.end()
      const rule = { direction: cut.direction, type: cut.type, nth: cut.nth, where: (s: SeenPacket) => s.connection === 2, action: { kind: cut.action } }
      if (cut.phase === 'login') proxy.inject(rule)
      const client = pool.connect(proxy.url, { ...options, auth: auth() })
      const statuses: Status[] = []
      client.status$.subscribe((s) => statuses.push(s))
      const received: string[] = []
      client.observe(topic, { qos: 1, codec: 'text' }).subscribe({ next: (m) => received.push(m.payload), error: onThrown })
      if (cut.phase === 'reauth') {
        await waitForStatus(client, 'connected', WAIT)
        proxy.inject(rule)
      }
      const published = client.publish(`${p}/out`, 'm', { qos: 1 }).then(() => 'resolved', (error: unknown) => error)
      await new Promise<void>((resolve, reject) => {
        const timer = setTimeout(() => reject(new Error(`no cut within ${WAIT} ms`)), WAIT)
        proxy.once('cut', () => (clearTimeout(timer), resolve()))
      })
      // Queued by the broker in the session while the client is away (or delivered live if it is back already).
      await direct.publishAsync(topic, 'meanwhile', { qos: 1 })
      await waitFor(() => statuses.some((s) => s.type === 'reconnecting') && statuses.at(-1)?.type === 'connected', 'connected again after the cut', WAIT)
      await waitFor(() => received.includes('meanwhile'), 'the message published meanwhile', WAIT)
      const outcome = await Promise.race([published, new Promise((resolve) => setTimeout(() => resolve('never settled'), WAIT))])
      const connected = statuses.filter((s): s is Extract<Status, { type: 'connected' }> => s.type === 'connected')
      expect(connected.map((s) => s.sessionPresent)).toEqual(connected.map(() => true))
      expect(statuses.filter((s) => s.type === 'reconnecting')).toHaveLength(1)
      expect(statuses.some((s) => s.type === 'closed')).toBe(false)
      expect(outcome).toBe('resolved')
      expect(proxy.connections).toBe(3)
      outcomes.push(`${cut.phase}: ${cut.label}, session kept: resumed, the queued message arrived; publish ${String(outcome)}`)
      expect(thrown).toEqual([])
    })

    it.each(['login', 'reauth'] as const)("%s: the method's answer to a challenge, ready only after the cut, is not sent on the next connection", async (phase) => {
      const proxy = await MqttFaultProxy.start(broker.ports[1883] as number)
      proxies.push(proxy)
      const rule = { direction: 'in' as const, type: 'AUTH' as const, where: (s: SeenPacket) => s.connection === 1, action: { kind: 'cut-after' as const } }
      if (phase === 'login') proxy.inject(rule)
      const scram = scramSha256({ username: USER, password: PASSWORD, ...(phase === 'reauth' ? { renewIn: 0 } : {}) })
      let slow = true
      // As a method that asks a remote signer: its answer for the first connection comes once the second has sent its CONNECT.
      const method: AuthMethod = {
        method: scram.method,
        start: async (reason) => {
          const exchange = await scram.start(reason)
          return {
            ...exchange,
            next: async (challenge) => {
              const answer = await exchange.next?.(challenge)
              if (slow && reason === (phase === 'login' ? 'connect' : 'reauthenticate')) {
                slow = false
                await proxy.waitForPacket((s) => s.connection === 2 && s.type === 'CONNECT', 'the CONNECT of the next connection', WAIT)
              }
              return answer
            },
          }
        },
      }
      const client = pool.connect(proxy.url, { auth: method, reconnect: fast, connectTimeout: 3_000 })
      const statuses: Status[] = []
      client.status$.subscribe((s) => statuses.push(s))
      if (phase === 'reauth') {
        await waitForStatus(client, 'connected', WAIT)
        proxy.inject(rule)
      }
      await waitFor(() => statuses.some((s) => s.type === 'reconnecting') && statuses.at(-1)?.type === 'connected', 'connected again after the cut', WAIT)
      // The second login's own proof goes out, and nothing else of the first exchange.
      await client.publish(`${uniquePrefix('stale')}/x`, 'x', { qos: 1 })
      const proofs = proxy.packets((s) => s.connection === 2 && s.direction === 'out' && s.type === 'AUTH')
      expect(proofs.length).toBe(1)
      expect(statuses.filter((s) => s.type === 'reconnecting')).toHaveLength(1)
      expect(thrown).toEqual([])
    })

    it("a cut in the login's exchange is reported as such, not as a broker that may speak only 3.1.1 (which `auth` cannot use)", async () => {
      const proxy = await MqttFaultProxy.start(broker.ports[1883] as number)
      proxies.push(proxy)
      proxy.inject({ direction: 'in', type: 'AUTH', action: { kind: 'cut-after' } })
      const client = pool.connect(proxy.url, { auth: scramSha256({ username: USER, password: PASSWORD }), reconnect: fast })
      const reconnecting = await waitForStatus(client, 'reconnecting', WAIT)
      expect(reconnecting.error.message).not.toMatch(/3\.1\.1|protocolVersion/)
    })

    it('the cut cases are the exchanges as Mosquitto runs them (the packets counted are the ones named)', async () => {
      const proxy = await MqttFaultProxy.start(broker.ports[1883] as number)
      proxies.push(proxy)
      const client = pool.connect(proxy.url, { auth: scramSha256({ username: USER, password: PASSWORD, renewIn: 0 }) })
      await waitForStatus(client, 'connected', WAIT)
      await proxy.waitForPacket((s) => s.direction === 'in' && s.type === 'AUTH' && authReason(s) === 0, "the re-authentication's AUTH 0x00", WAIT)
      const exchange = proxy.packets((s) => s.type === 'AUTH' || s.type === 'CONNECT' || s.type === 'CONNACK').map((s) => `${s.direction} ${s.type}${s.type === 'AUTH' ? ` 0x${authReason(s).toString(16).padStart(2, '0')}` : ''}`)
      expect(exchange.slice(0, 8)).toEqual(['out CONNECT', 'in AUTH 0x18', 'out AUTH 0x18', 'in CONNACK', 'out AUTH 0x19', 'in AUTH 0x18', 'out AUTH 0x18', 'in AUTH 0x00'])
    })
  })

  describe.runIf(lean)("the method's own mistakes", () => {
    /** Re-authentications the plugin logged for `clientId`. */
    const reauthentications = async (clientId: string): Promise<number> =>
      (await broker.log()).split('\n').filter((line) => line.endsWith(`auth-plugin: re-authentication token for ${clientId}`)).length

    it.each([NaN, Infinity, 2 ** 40])('renewIn %s: never a re-authentication (a timer would fire at once, again and again)', async (renewIn) => {
      const warnings: string[] = []
      const onWarning = (warning: Error): void => void warnings.push(warning.name)
      process.on('warning', onWarning)
      try {
        const method: AuthMethod = { method: 'token', start: () => ({ data: token(60), renewIn }) }
        const client = pool.connect(broker.tcpUrl, { auth: method })
        await waitForStatus(client, 'connected', WAIT)
        // Round trips to the broker: a renewal due "at once" would have started within the first.
        for (let i = 0; i < 5; i++) await client.publish(`${uniquePrefix('renew')}/x`, 'x', { qos: 1 })
        expect(await reauthentications(client.clientId)).toBe(0)
        expect(warnings).toEqual([])
      } finally {
        process.off('warning', onWarning)
      }
    })

    it("an answer to the broker's challenge that no AUTH can carry fails the exchange with AuthenticationError, not the broker's refusal", async () => {
      const nonce = 'fyko+d2lbbFgONRv9qkxdawL'
      for (const answer of ['client-final', new Uint8Array(70_000)]) {
        const method: AuthMethod = {
          method: 'SCRAM-SHA-256',
          start: () => ({ data: new TextEncoder().encode(`n,,n=${USER},r=${nonce}`), next: () => answer as Uint8Array }),
        }
        const client = pool.connect(broker.tcpUrl, { auth: method, reconnect: false })
        const closed = await waitForStatus(client, 'closed', WAIT)
        expect(closed.error).toBeInstanceOf(AuthenticationError)
        expect(closed.error?.message).toMatch(/a Uint8Array of at most 65535 bytes/)
      }
      expect(thrown).toEqual([])
    })
  })
})
