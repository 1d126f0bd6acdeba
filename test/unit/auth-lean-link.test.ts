// MQTT 5 enhanced authentication in the lean link, over a fake transport with the real codec on both sides
// (the same link against Mosquitto and a SCRAM plugin: test/integration/enhanced-auth.test.ts): the exchange at
// connect, the broker's proof checked before anything is delivered, re-authentication on the live connection
// (client-initiated, and when a broker asks with AUTH 0x19), and its refusal. Then how a close is judged.
import { describe, expect, it } from 'vitest'
import type { AuthMethod } from '../../lib/auth/auth-method.js'
import { scramExchange } from '../../lib/auth/scram.js'
import { closeVerdict, type CloseContext, type CloseFacts } from '../../lib/connection/close-verdict.js'
import { AuthenticationError, NotAuthorizedError } from '../../lib/errors.js'
import { LeanLink } from '../../lib/link/lean/lean-link.js'
import type { LinkEvents, LinkFailure, LinkSettings } from '../../lib/link/link.js'
import type { Intervals } from '../../lib/link/sign-of-life.js'
import type { OpenTransport, TransportEvents } from '../../lib/transport/transport.js'
import { encode } from '../../lib/wire/encode.js'
import { PacketReader } from '../../lib/wire/packet-reader.js'
import type { AuthPacket, Packet } from '../../lib/wire/packets.js'

const text = new TextEncoder()
const str = (b: Uint8Array | undefined) => new TextDecoder().decode(b)
// RFC 7677 section 3.
const NONCE = 'rOprNGfwEbeRWgbNEkqO'
const SERVER_FIRST = 'r=rOprNGfwEbeRWgbNEkqO%hvYDpWUa2RaTCAfuxFIlj)hNlF$k0,s=W22ZaJ0SNY7soEsUEjb6gQ==,i=4096'
const CLIENT_FINAL = 'c=biws,r=rOprNGfwEbeRWgbNEkqO%hvYDpWUa2RaTCAfuxFIlj)hNlF$k0,p=dHzbZapWIk4jUhN+Ute9ytag9zjfMHgsqmmiz7AndVQ='
const SERVER_FINAL = 'v=6rriTRBi23WpRR/wtup+mMhUZUn/dB5nLTJRsjl95G4='
const SCRAM = 'SCRAM-SHA-256'

/** SCRAM with RFC 7677's nonce, so that the broker's side is the test vector; `starts` records each exchange's reason. */
function rfcScram(starts: string[] = [], renewIn?: number): AuthMethod {
  return { method: SCRAM, start: (reason) => (starts.push(reason), scramExchange('user', 'pencil', NONCE, renewIn)) }
}

const settings: LinkSettings = {
  clientId: 'auth-1', clean: true, keepalive: 10, connectTimeout: 30_000, sessionExpiryInterval: undefined, will: undefined, tls: {}, maxIncomingPacketSize: undefined, link: 'lean',
}
const endpoint = { url: 'mqtt://broker.test:1883', protocol: 'mqtt', hostname: 'broker.test', port: 1883, path: '' } as const
const noIntervals: Intervals = { set: () => 0, clear: () => undefined, dispose: () => undefined }

/** The broker's side of a fake transport: what the link wrote, decoded, and a way to answer. */
class FakeBroker {
  readonly written: Packet[] = []
  events: TransportEvents | undefined
  state: 'open' | 'closed' = 'open'
  readonly open: OpenTransport = (_endpoint, _tls, events) => {
    this.events = events
    this.state = 'open'
    const reader = new PacketReader({ maximumPacketSize: 268_435_460 })
    reader.level = 5
    queueMicrotask(() => events.open())
    const close = () => {
      if (this.events !== events) return
      this.state = 'closed'
      this.events = undefined
      queueMicrotask(() => events.closed())
    }
    return {
      write: (bytes) => {
        if (this.events !== events) return
        reader.push(bytes.slice())
        for (let p = reader.next(); p; p = reader.next()) this.written.push(p)
      },
      buffered: 0,
      pause: () => undefined,
      resume: () => undefined,
      end: close,
      destroy: close,
    }
  }

  send(packet: Packet): void {
    this.events?.data(encode(packet, 5))
  }

  of<T extends Packet['type']>(type: T): Array<Extract<Packet, { type: T }>> {
    return this.written.filter((p) => p.type === type) as Array<Extract<Packet, { type: T }>>
  }

  auth(reasonCode: number, data?: string, method = SCRAM): AuthPacket {
    return { type: 'auth', reasonCode, properties: { authenticationMethod: method, authenticationData: data === undefined ? undefined : text.encode(data) } }
  }
}

function setup(auth: AuthMethod) {
  const broker = new FakeBroker()
  const log: string[] = []
  const failures: LinkFailure[] = []
  const events: LinkEvents = {
    connected: () => log.push('connected'),
    drained: () => undefined,
    message: (_m, done) => done(),
    failed: (failure) => failures.push(failure),
    closed: () => log.push('closed'),
  }
  const link = new LeanLink({ ...settings, auth }, events, broker.open, noIntervals)
  link.open({ endpoint, protocolVersion: 5, username: undefined, password: undefined, epoch: 1 })
  return { link, broker, log, failures }
}

/** Waits for a condition the link reaches through promises (WebCrypto) and microtasks: bounded, never a sleep. */
async function until(condition: () => boolean, timeout = 15_000): Promise<void> {
  const end = Date.now() + timeout
  while (!condition()) {
    if (Date.now() > end) throw new Error('condition not reached')
    await new Promise((resolve) => setImmediate(resolve))
  }
}

/** Connects with the whole SCRAM exchange of the test vector. */
async function login(auth: AuthMethod) {
  const s = setup(auth)
  await until(() => s.broker.of('connect').length === 1)
  s.broker.send(s.broker.auth(0x18, SERVER_FIRST))
  await until(() => s.broker.of('auth').length === 1)
  s.broker.send({ type: 'connack', sessionPresent: false, reasonCode: 0, properties: { authenticationMethod: SCRAM, authenticationData: text.encode(SERVER_FINAL) } })
  return s
}

describe('enhanced authentication in the lean link', () => {
  it('runs the SCRAM exchange of RFC 7677 from CONNECT to CONNACK', async () => {
    const starts: string[] = []
    const { broker, log, failures } = await login(rfcScram(starts))
    const [connect] = broker.of('connect')
    expect(connect?.properties?.authenticationMethod).toBe(SCRAM)
    expect(str(connect?.properties?.authenticationData)).toBe(`n,,n=user,r=${NONCE}`)
    const [answer] = broker.of('auth')
    expect(answer?.reasonCode).toBe(0x18)
    expect(answer?.properties?.authenticationMethod).toBe(SCRAM)
    expect(str(answer?.properties?.authenticationData)).toBe(CLIENT_FINAL)
    expect(log).toEqual(['connected'])
    expect(failures).toEqual([])
    expect(starts).toEqual(['connect'])
  })

  it('does not take a connection whose broker fails to prove itself', async () => {
    const { broker, log, failures } = setup(rfcScram())
    await until(() => broker.of('connect').length === 1)
    broker.send(broker.auth(0x18, SERVER_FIRST))
    await until(() => broker.of('auth').length === 1)
    broker.send({ type: 'connack', sessionPresent: false, reasonCode: 0, properties: { authenticationData: text.encode('v=AAAATRBi23WpRR/wtup+mMhUZUn/dB5nLTJRsjl95G4=') } })
    await until(() => log.includes('closed'))
    expect(log).toEqual(['closed'])
    expect(failures).toEqual([{ type: 'auth', reauth: false, message: expect.stringContaining('server signature') }])
  })

  it('ends the attempt without a CONNECT when the method fails to start', async () => {
    const broken: AuthMethod = { method: 'token', start: () => Promise.reject(new Error('token service down')) }
    const { broker, log, failures } = setup(broken)
    await until(() => log.includes('closed'))
    expect(broker.of('connect')).toEqual([])
    expect(failures).toEqual([{ type: 'auth', reauth: false, message: 'token service down' }])
  })

  it('calls AUTH with another method, or AUTH success or re-authenticate before CONNACK, protocol errors', async () => {
    for (const wrong of [new FakeBroker().auth(0x18, SERVER_FIRST, 'OTHER'), new FakeBroker().auth(0), new FakeBroker().auth(0x19)]) {
      const { broker, log, failures } = setup(rfcScram())
      await until(() => broker.of('connect').length === 1)
      broker.send(wrong)
      await until(() => log.includes('closed'))
      expect(failures[0]).toMatchObject({ type: 'malformed', message: expect.stringContaining('AUTH') })
      expect(broker.of('disconnect')[0]?.reasonCode).toBe(0x82)
    }
  })

  it('re-authenticates on the live connection when the method asks, keeping the connection', async () => {
    const starts: string[] = []
    const { broker, log, failures } = await login(rfcScram(starts, 0)) // at once: the link waits its minimum of a second
    await until(() => broker.of('auth').length === 2)
    const [, reauth] = broker.of('auth')
    expect(reauth?.reasonCode).toBe(0x19)
    expect(str(reauth?.properties?.authenticationData)).toBe(`n,,n=user,r=${NONCE}`)
    broker.send(broker.auth(0x18, SERVER_FIRST))
    await until(() => broker.of('auth').length === 3)
    expect(str(broker.of('auth')[2]?.properties?.authenticationData)).toBe(CLIENT_FINAL)
    broker.send(broker.auth(0, SERVER_FINAL))
    // The next one is scheduled after this success, the same way.
    await until(() => broker.of('auth').length === 4)
    expect(broker.of('auth')[3]?.reasonCode).toBe(0x19)
    expect(starts).toEqual(['connect', 'reauthenticate', 'reauthenticate'])
    expect(log).toEqual(['connected'])
    expect(failures).toEqual([])
    expect(broker.state).toBe('open')
  })

  it('re-authenticates when the broker asks with AUTH 0x19, and reports a refusal of it as an authentication failure', async () => {
    const { broker, log, failures } = await login(rfcScram())
    broker.send(broker.auth(0x19))
    await until(() => broker.of('auth').length === 2)
    expect(broker.of('auth')[1]?.reasonCode).toBe(0x19)
    broker.send({ type: 'disconnect', reasonCode: 0x87, properties: { reasonString: 'token expired' } })
    await until(() => log.includes('closed'))
    expect(failures).toEqual([{ type: 'auth', reauth: true, message: expect.stringMatching(/re-authentication.*135.*token expired/) }])
  })

  it('takes a refusing CONNACK during a re-authentication as its refusal (Mosquitto 2.0), and any other second CONNACK as a protocol error', async () => {
    const refused = await login(rfcScram())
    refused.broker.send(refused.broker.auth(0x19))
    await until(() => refused.broker.of('auth').length === 2)
    refused.broker.send({ type: 'connack', sessionPresent: false, reasonCode: 0x87 })
    await until(() => refused.log.includes('closed'))
    expect(refused.failures).toEqual([{ type: 'auth', reauth: true, message: expect.stringMatching(/re-authentication \(CONNACK with reason code 135/) }])
    const stray = await login(rfcScram())
    stray.broker.send({ type: 'connack', sessionPresent: false, reasonCode: 0x87 })
    await until(() => stray.log.includes('closed'))
    expect(stray.failures[0]).toMatchObject({ type: 'malformed', message: expect.stringContaining('a second CONNACK') })
  })

  it('fails the connection when the re-authentication\'s proof does not hold', async () => {
    const { broker, log, failures } = await login(rfcScram())
    broker.send(broker.auth(0x19))
    await until(() => broker.of('auth').length === 2)
    broker.send(broker.auth(0x18, SERVER_FIRST))
    await until(() => broker.of('auth').length === 3)
    broker.send(broker.auth(0, 'v=AAAA'))
    await until(() => log.includes('closed'))
    expect(failures).toEqual([{ type: 'auth', reauth: true, message: expect.stringContaining('server signature') }])
  })
})

describe('the close verdict on enhanced authentication', () => {
  const facts = (failures: LinkFailure[], accepted = false): CloseFacts => ({
    failures, accepted, protocol: 5, lasted: accepted ? 100 : undefined, clientId: 'c', subscribesInFlight: [], blamedPublish: false,
  })
  const context: CloseContext = { autoProtocol: false, spoke5: true, silentCloses: 0, shortConnections: 0, credentialsMayChange: false }

  it('retries a failed exchange or re-authentication with the backoff, as AuthenticationError', () => {
    for (const reauth of [false, true]) {
      const d = closeVerdict(facts([{ type: 'auth', message: 'refused', reauth }, { type: 'socket', code: 'ECONNRESET', message: 'reset' }], reauth), context)
      expect(d.action).toBe('retry')
      expect(d.action === 'retry' && d.delay).toBe('backoff')
      expect(d.error).toBeInstanceOf(AuthenticationError)
    }
  })

  it('ends the client on CONNACK 0x8C (bad authentication method) and on refused credentials', () => {
    const bad = closeVerdict(facts([{ type: 'refused', code: 0x8c, message: 'Bad authentication method' }]), context)
    expect(bad).toMatchObject({ action: 'fatal', error: { reasonCode: 0x8c } })
    expect(bad.error).toBeInstanceOf(AuthenticationError)
    const denied = closeVerdict(facts([{ type: 'refused', code: 0x87, message: 'Not authorized' }]), context)
    expect(denied.action).toBe('fatal')
    expect(denied.error).toBeInstanceOf(NotAuthorizedError)
  })
})
