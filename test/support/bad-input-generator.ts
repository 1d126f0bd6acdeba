// The seeded generator of test/reliability/bad-input.test.ts: random valid and invalid values of each kind the
// SDK is handed (connect options, credentials providers, stores, auth methods, topics, payloads, publish options
// and MQTT 5 properties), each valid most of the time and now and then wrong in one place.
import { memoryStore, type ClientOptions, type PublishOptions } from '../../lib/node.js'

/** A case as the failure message shows it (strings cut short, byte arrays by length). */
export function shown(value: unknown): string {
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
export class Generator {
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
