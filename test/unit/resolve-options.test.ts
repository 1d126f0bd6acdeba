import { describe, expect, it } from 'vitest'
import { InvalidTopicError, UnsupportedOptionError } from '../../lib/errors.js'
import { browserPlatform, endpoints, nodePlatform } from '../../lib/options/endpoints.js'
import { resolveOptions } from '../../lib/options/resolve-options.js'
import { checkQos } from '../../lib/options/validate.js'
import type { ClientOptions, MQTTClientOptions } from '../../lib/options/client-options.js'
import { connect as connectInBrowser, MQTTClient as BrowserClient } from '../../lib/browser.js'

const url = 'mqtt://broker.example'
/** Options as plain JavaScript could pass them, wrong types included. */
const resolve = (options: Record<string, unknown>, platform = nodePlatform) => resolveOptions(options as MQTTClientOptions, platform)

function deepFreeze<T>(value: T): T {
  if (value !== null && typeof value === 'object' && !ArrayBuffer.isView(value)) {
    for (const child of Object.values(value)) deepFreeze(child)
    Object.freeze(value)
  }
  return value
}

describe('resolveOptions: defaults', () => {
  it('fills in every default', () => {
    const resolved = resolve({ url })
    expect(resolved).toEqual({
      endpoints: [{ url, protocol: 'mqtt', hostname: 'broker.example', port: 1883, path: '' }],
      clientId: expect.stringMatching(/^iotpubsub_[0-9a-f]{12}$/),
      username: undefined,
      password: undefined,
      credentials: undefined,
      clean: true,
      sessionExpiryInterval: undefined,
      keepalive: 30,
      protocolVersion: 'auto',
      connectTimeout: 30_000,
      reconnect: { initialDelay: 1_000, maxDelay: 30_000 },
      pageLifecycle: true,
      will: undefined,
      offlineQueue: { maxMessages: 1_000, maxBytes: 1_048_576, qos0: 'queue' },
      maxPacketSize: undefined,
      link: undefined,
      maxIncomingPacketSize: undefined,
      maxQos: 2,
      replyTopicPrefix: 'iotpubsub/reply',
      retainedCacheSize: 1_000,
      tls: {},
    })
  })

  it('draws a new random client id for each client', () => {
    expect(resolve({ url }).clientId).not.toBe(resolve({ url }).clientId)
  })

  it('keeps a session forever with clean: false unless told otherwise', () => {
    expect(resolve({ url, clientId: 'c', clean: false }).sessionExpiryInterval).toBe(0xffff_ffff)
    expect(resolve({ url, clientId: 'c', clean: false, sessionExpiryInterval: 60 }).sessionExpiryInterval).toBe(60)
    expect(resolve({ url, sessionExpiryInterval: 0 }).sessionExpiryInterval).toBe(0)
  })

  it('merges partial reconnect and offline queue settings with the defaults; undefined means the default', () => {
    expect(resolve({ url, reconnect: { initialDelay: 10 } }).reconnect).toEqual({ initialDelay: 10, maxDelay: 30_000 })
    expect(resolve({ url, reconnect: { initialDelay: undefined, maxDelay: 5_000 } }).reconnect).toEqual({ initialDelay: 1_000, maxDelay: 5_000 })
    expect(resolve({ url, reconnect: false }).reconnect).toBe(false)
    expect(resolve({ url, offlineQueue: { qos0: 'reject', maxBytes: undefined } }).offlineQueue).toEqual({ maxMessages: 1_000, maxBytes: 1_048_576, qos0: 'reject' })
  })

  it('takes what is given, and accepts the edges of each range', () => {
    const credentials = () => ({ username: 'u' })
    const resolved = resolve({
      url, clientId: '', username: 'u', password: 'p', credentials, keepalive: 0, protocolVersion: 4, connectTimeout: 1,
      offlineQueue: { maxMessages: 0, maxBytes: Infinity }, maxPacketSize: 1, maxQos: 0, retainedCacheSize: 0, replyTopicPrefix: 'r',
      sessionExpiryInterval: 0xffff_ffff, reconnect: { initialDelay: 5, maxDelay: 5 },
    })
    expect(resolved).toMatchObject({
      clientId: '', username: 'u', password: 'p', credentials: expect.any(Function), keepalive: 0, protocolVersion: 4, connectTimeout: 1,
      offlineQueue: { maxMessages: 0, maxBytes: Infinity, qos0: 'queue' }, maxPacketSize: 1, maxQos: 0, retainedCacheSize: 0,
      replyTopicPrefix: 'r', sessionExpiryInterval: 0xffff_ffff, reconnect: { initialDelay: 5, maxDelay: 5 },
    })
    expect(resolve({ url, keepalive: 65_535, clientId: 'x'.repeat(65_535) }).keepalive).toBe(65_535)
    expect(resolve({ url, will: { topic: 't', payload: 'x'.repeat(65_535) } }).will?.payload).toHaveLength(65_535)
    expect(resolve({ url, username: 'u', password: 'p\u0000', protocolVersion: 4 }).password).toBe('p\u0000') // binary: any character
    expect(resolve({ url, password: 'p', protocolVersion: 5 }).password).toBe('p') // MQTT 5 allows a password alone
  })

  it("checks what the credentials provider returns at each attempt: a typed rejection, never a throw", async () => {
    const from = (returned: unknown, protocolVersion: unknown = 'auto') =>
      (resolve({ url, protocolVersion, credentials: () => returned }).credentials as () => Promise<unknown>)()
    await expect(from({ username: 'u', password: 'p' })).resolves.toEqual({ username: 'u', password: 'p' })
    await expect(from(Promise.resolve({ password: 'p' }), 5)).resolves.toEqual({ username: undefined, password: 'p' })
    for (const version of [4, 'auto']) {
      await expect(from({ password: 'p' }, version)).rejects.toThrow(/`credentials\(\).password` without a username needs `protocolVersion: 5`/)
    }
    await expect(from({ username: 42 })).rejects.toThrow(UnsupportedOptionError)
    await expect(from({ username: 'u', password: 42 })).rejects.toThrow(/`credentials\(\).password` must be a string, not 42/)
    await expect(from(undefined)).rejects.toThrow(/`credentials\(\)` must be a promise of \{ username, password \}, not undefined/)
    await expect(from({ username: 'a\u0000' })).rejects.toThrow(/`credentials\(\).username` must not contain NUL/)
  })

  it('resolves the will with QoS 0, not retained, by default', () => {
    expect(resolve({ url, will: { topic: 'status/a', payload: 'gone' } }).will).toEqual({ topic: 'status/a', payload: 'gone', qos: 0, retain: false })
    const payload = new Uint8Array([1, 2])
    expect(resolve({ url, will: { topic: 't', payload, qos: 2, retain: true } }).will).toEqual({ topic: 't', payload, qos: 2, retain: true })
  })

  it('passes only the TLS options that are set', () => {
    expect(resolve({ url, ca: 'CA', servername: 'name', rejectUnauthorized: false }).tls).toEqual({ ca: 'CA', servername: 'name', rejectUnauthorized: false })
    expect(resolve({ url, cert: 'C', key: 'K', passphrase: 'P' }).tls).toEqual({ cert: 'C', key: 'K', passphrase: 'P' })
  })
})

describe('resolveOptions: frozen result, untouched input', () => {
  it('freezes the result deeply', () => {
    const resolved = resolve({ url: [url, 'ws://b:9001'], will: { topic: 't', payload: 'x' }, ca: ['A', 'B'] })
    const parts = [resolved, resolved.endpoints, ...resolved.endpoints, resolved.will, resolved.reconnect, resolved.offlineQueue, resolved.tls, resolved.tls.ca]
    for (const part of parts) expect(Object.isFrozen(part)).toBe(true)
    expect(() => {
      ;(resolved.offlineQueue as { maxMessages: number }).maxMessages = 5
    }).toThrow(TypeError)
  })

  it('accepts a deeply frozen options object', () => {
    const options = deepFreeze({ url: [url], clientId: 'c', reconnect: { initialDelay: 10 }, offlineQueue: { qos0: 'reject' }, will: { topic: 't', payload: 'x' }, ca: ['A'] })
    expect(resolve(options)).toMatchObject({ clientId: 'c', reconnect: { initialDelay: 10, maxDelay: 30_000 }, offlineQueue: { qos0: 'reject' } })
  })

  it('neither changes the user object nor shares its lists', () => {
    const options = { url: [url, 'ws://b'], reconnect: { initialDelay: 10 }, ca: ['A'], will: { topic: 't', payload: 'x' } }
    const copy = structuredClone(options)
    const resolved = resolve(options)
    expect(options).toEqual(copy)
    expect(Object.isFrozen(options.url) || Object.isFrozen(options.ca) || Object.isFrozen(options.reconnect)).toBe(false)
    expect(resolved.tls.ca).not.toBe(options.ca)
    expect(resolved.reconnect).not.toBe(options.reconnect)
  })
})

describe('resolveOptions: validation', () => {
  it.each<[string, Record<string, unknown>, RegExp]>([
    ['port 0 in a URL', { url: 'mqtt://h:0' }, /port of `url` "mqtt:\/\/h:0".*not 0/],
    ['a URL port above 65535', { url: 'ws://h:65536/mqtt' }, /port of `url` "ws:\/\/h:65536\/mqtt".*not 65536/],
    ['brokerPort 0', { brokerIp: 'h', brokerPort: 0 }, /`brokerPort`.*1 to 65535.*not 0/],
    ['brokerPort above 65535', { brokerIp: 'h', brokerPort: 65_536 }, /`brokerPort`.*not 65536/],
    ['a fractional brokerPort', { brokerIp: 'h', brokerPort: 1883.5 }, /`brokerPort`.*not 1883.5/],
    ['brokerPort as a string', { brokerIp: 'h', brokerPort: '1883' }, /`brokerPort`.*not "1883"/],
    ['a negative keepalive', { keepalive: -1 }, /`keepalive`.*0 to 65535.*not -1/],
    ['keepalive NaN', { keepalive: NaN }, /`keepalive`.*not NaN/],
    ['a fractional keepalive', { keepalive: 1.5 }, /`keepalive`.*not 1.5/],
    ['keepalive beyond 16 bits', { keepalive: 65_536 }, /`keepalive`.*not 65536/],
    ['connectTimeout 0', { connectTimeout: 0 }, /`connectTimeout`.*not 0/],
    ['connectTimeout NaN', { connectTimeout: NaN }, /`connectTimeout`.*not NaN/],
    ['connectTimeout beyond a timer', { connectTimeout: 2 ** 31 }, /`connectTimeout`.*at most 2147483647.*not 2147483648/],
    ['reconnect.initialDelay 0', { reconnect: { initialDelay: 0 } }, /`reconnect.initialDelay`.*not 0/],
    ['reconnect.initialDelay NaN', { reconnect: { initialDelay: NaN } }, /`reconnect.initialDelay`.*not NaN/],
    ['reconnect.initialDelay Infinity', { reconnect: { initialDelay: Infinity } }, /`reconnect.initialDelay`.*not Infinity/],
    ['reconnect.maxDelay negative', { reconnect: { maxDelay: -1 } }, /`reconnect.maxDelay`.*not -1/],
    ['reconnect.maxDelay NaN', { reconnect: { maxDelay: NaN } }, /`reconnect.maxDelay`.*not NaN/],
    ['reconnect.maxDelay Infinity', { reconnect: { maxDelay: Infinity } }, /`reconnect.maxDelay`.*not Infinity/],
    ['maxDelay below initialDelay', { reconnect: { initialDelay: 500, maxDelay: 100 } }, /`reconnect.maxDelay` \(100\).*below `reconnect.initialDelay` \(500\)/],
    ['initialDelay above the default maxDelay', { reconnect: { initialDelay: 60_000 } }, /`reconnect.maxDelay` \(30000\).*\(60000\)/],
    ['reconnect true', { reconnect: true }, /`reconnect` must be false or.*not true/],
    ['a negative sessionExpiryInterval', { sessionExpiryInterval: -1 }, /`sessionExpiryInterval`.*0 to 4294967295.*not -1/],
    ['sessionExpiryInterval beyond 32 bits', { sessionExpiryInterval: 2 ** 32 }, /`sessionExpiryInterval`.*not 4294967296/],
    ['offlineQueue.maxMessages negative', { offlineQueue: { maxMessages: -1 } }, /`offlineQueue.maxMessages`.*not -1/],
    ['offlineQueue.maxMessages NaN', { offlineQueue: { maxMessages: NaN } }, /`offlineQueue.maxMessages`.*not NaN/],
    ['offlineQueue.maxBytes negative', { offlineQueue: { maxBytes: -1 } }, /`offlineQueue.maxBytes`.*not -1/],
    ['offlineQueue.maxBytes NaN', { offlineQueue: { maxBytes: NaN } }, /`offlineQueue.maxBytes`.*not NaN/],
    ['an unknown qos0 policy', { offlineQueue: { qos0: 'drop' } }, /`offlineQueue.qos0` must be "queue" or "reject", not "drop"/],
    ['maxPacketSize 0', { maxPacketSize: 0 }, /`maxPacketSize`.*not 0/],
    ['maxPacketSize NaN', { maxPacketSize: NaN }, /`maxPacketSize`.*not NaN/],
    ['maxIncomingPacketSize 0', { maxIncomingPacketSize: 0 }, /`maxIncomingPacketSize`.*not 0/],
    ['maxIncomingPacketSize over MQTT\'s own limit', { maxIncomingPacketSize: 2 ** 29 }, /`maxIncomingPacketSize` must be a number above 0 and at most 268435460/],
    ['link paho', { link: 'paho' }, /`link` must be 'lean' or 'mqttjs', not "paho"/],
    ['maxQos 3', { maxQos: 3 }, /`maxQos` must be 0, 1 or 2, not 3/],
    ['maxQos as a string', { maxQos: '1' }, /`maxQos` must be 0, 1 or 2, not "1"/],
    ['will.qos 3', { will: { topic: 't', payload: 'x', qos: 3 } }, /`will.qos` must be 0, 1 or 2, not 3/],
    ['a will payload that is neither text nor bytes', { will: { topic: 't', payload: 42 } }, /`will.payload`.*not 42/],
    ['retainedCacheSize negative', { retainedCacheSize: -1 }, /`retainedCacheSize`.*not -1/],
    ['retainedCacheSize NaN', { retainedCacheSize: NaN }, /`retainedCacheSize`.*not NaN/],
    ['protocolVersion 3', { protocolVersion: 3 }, /`protocolVersion` must be 4, 5 or "auto", not 3/],
    ['protocolVersion as a string', { protocolVersion: '5' }, /`protocolVersion`.*not "5"/],
    ['a numeric clientId', { clientId: 42 }, /`clientId` must be a string, not 42/],
    ['a clientId over 65535 bytes', { clientId: 'x'.repeat(65_536) }, /`clientId` is 65536 UTF-8 bytes/],
    ['a clientId over 65535 UTF-8 bytes in fewer characters', { clientId: '€'.repeat(21_846) }, /`clientId` is 65538 UTF-8 bytes/],
    ['credentials that are not a function', { credentials: 'token' }, /`credentials` must be a function.*not "token"/],
    ['clean as a string', { clean: 'false' }, /`clean` must be true or false, not "false"/],
    ['clean: false without a clientId', { clean: false }, /`clean: false` needs a `clientId`, the same at every start/],
    ['clean: false with an empty clientId', { clean: false, clientId: '' }, /`clean: false` needs a `clientId`, the same at every start/],
    ['clean: false with an empty clientId under MQTT 5', { clean: false, clientId: '', protocolVersion: 5 }, /`clean: false` needs a `clientId`/],
    ['a NUL in the clientId', { clientId: 'a\u0000' }, /`clientId` must not contain NUL \(U\+0000\)/],
    ['a control character in the clientId', { clientId: 'a\n' }, /`clientId` must not contain the control character U\+000A/],
    ['a lone surrogate in the clientId', { clientId: 'a\ud800' }, /`clientId` must not contain the lone surrogate U\+D800/],
    ['a numeric username', { username: 7 }, /`username` must be a string, not 7/],
    ['a control character in the username', { username: 'a\tb' }, /`username` must not contain the control character U\+0009/],
    ['a username over 65535 bytes', { username: 'é'.repeat(40_000) }, /`username` is 80000 UTF-8 bytes long; MQTT allows 65535/],
    ['a password that is not a string', { username: 'u', password: new Uint8Array(2) }, /`password` must be a string, not an object/],
    ['a password over 65535 bytes', { username: 'u', password: 'p'.repeat(65_536) }, /`password` is 65536 UTF-8 bytes long/],
    ['a lone surrogate in the password', { username: 'u', password: '\udc00' }, /`password` must not contain the lone surrogate U\+DC00/],
    ['a password without a username under MQTT 3.1.1', { password: 'p', protocolVersion: 4 }, /`password` without a username needs `protocolVersion: 5` \(MQTT 3.1.1 cannot send it\)/],
    ['a password without a username under auto', { password: 'p' }, /`password` without a username needs `protocolVersion: 5`/],
    ['a 70 kB will payload', { will: { topic: 't', payload: new Uint8Array(70_000) } }, /`will.payload` must be a string or a Uint8Array of at most 65535 bytes, not 70000/],
    ['a will payload string over 65535 UTF-8 bytes', { will: { topic: 't', payload: '°'.repeat(32_768) } }, /`will.payload` must be .* not 65536/],
    ['will.retain as a string', { will: { topic: 't', payload: 'x', retain: 'yes' } }, /`will.retain` must be true or false, not "yes"/],
    ['an unknown key in the will', { will: { topic: 't', payload: 'x', QoS: 1 } }, /`will.QoS` is not an option \(topic, payload, qos, retain\)/],
    ['will properties, which no link sends', { will: { topic: 't', payload: 'x', properties: {} } }, /`will.properties` is not an option/],
    ['a numeric brokerIp', { url: undefined, brokerIp: 10 }, /`brokerIp` must be a host name or an IP address, not 10/],
    ['a path that is not a string', { url: undefined, brokerIp: 'h', protocol: 'ws', path: 9 }, /`path` must be a string, not 9/],
    ['ca as a number', { ca: 5 }, /`ca` must be PEM as a string or a Uint8Array, or a list of them, not 5/],
    ['a list of ca with a number', { ca: ['A', 5] }, /`ca` must be PEM.*not an array/],
    ['cert as an object', { cert: {} }, /`cert` must be PEM as a string or a Uint8Array, not an object/],
    ['servername as a number', { servername: 1 }, /`servername` must be a string, not 1/],
    ['rejectUnauthorized as a string', { rejectUnauthorized: 'false' }, /`rejectUnauthorized` must be true or false, not "false"/],
  ])('refuses %s', (_, options, message) => {
    expect(() => resolve({ url, ...options })).toThrow(UnsupportedOptionError)
    expect(() => resolve({ url, ...options })).toThrow(message)
  })

  it.each<[string, Record<string, unknown>, RegExp]>([
    ['a wildcard in replyTopicPrefix', { replyTopicPrefix: 'replies/+' }, /wildcards/],
    ['an empty replyTopicPrefix', { replyTopicPrefix: '' }, /empty/],
    ['a wildcard in will.topic', { will: { topic: 'status/#', payload: 'x' } }, /wildcards/],
    ['a control character in will.topic', { will: { topic: 'status/\u0007', payload: 'x' } }, /U\+0007/],
  ])('refuses %s as an invalid topic', (_, options, message) => {
    expect(() => resolve({ url, ...options })).toThrow(InvalidTopicError)
    expect(() => resolve({ url, ...options })).toThrow(message)
  })

  it('refuses the former `sharedConnection` option, naming the import that shares: iotpubsub/shared', () => {
    // Sharing one connection among the tabs is `connect` from 'iotpubsub/shared' now; the option, gone from the
    // type, would otherwise leave a plain-JavaScript caller's tabs silently unshared.
    for (const [value, shown] of [[true, 'true'], ['yes', '"yes"'], [1, '1']] as const) {
      for (const platform of [browserPlatform, nodePlatform]) {
        expect(() => resolve({ url: 'ws://h/', sharedConnection: value }, platform)).toThrow(UnsupportedOptionError)
        expect(() => resolve({ url: 'ws://h/', sharedConnection: value }, platform)).toThrow(
          `\`sharedConnection: ${shown}\` is no longer an option: to share one connection among a browser's tabs, import { connect } from 'iotpubsub/shared' (the same options, without this one)`,
        )
      }
    }
    // `false` asked for what every client of 'iotpubsub' is: accepted, and not in the result.
    expect(resolve({ url, sharedConnection: false })).not.toHaveProperty('sharedConnection')
  })

  it("the browser entry's connect() throws it at once, before connecting; the object is not modified", () => {
    const options = deepFreeze({ clientId: 'tab', sharedConnection: true }) as ClientOptions
    expect(() => connectInBrowser('ws://127.0.0.1:9/', options)).toThrow(UnsupportedOptionError)
    expect(() => new BrowserClient({ url: 'ws://127.0.0.1:9/', ...options })).toThrow(/import \{ connect \} from 'iotpubsub\/shared'/)
  })

  it('refuses options that are not an object', () => {
    for (const options of [null, 'mqtt://h', 5]) expect(() => resolveOptions(options as unknown as MQTTClientOptions, nodePlatform)).toThrow(/`options` must be an object/)
  })

  it('checkQos names the option and the value', () => {
    expect(checkQos(1)).toBe(1)
    expect(() => checkQos(4)).toThrow(/`qos` must be 0, 1 or 2, not 4/)
  })
})

describe('endpoints', () => {
  it.each<[string, string, string, number, string]>([
    ['mqtt://broker', 'mqtt', 'broker', 1883, ''],
    ['mqtts://broker', 'mqtts', 'broker', 8883, ''],
    ['ws://broker', 'ws', 'broker', 80, '/'],
    ['wss://broker', 'wss', 'broker', 443, '/'],
    ['mqtt://broker:1884', 'mqtt', 'broker', 1884, ''],
    ['mqtts://broker:18883', 'mqtts', 'broker', 18883, ''],
    ['ws://broker:9001', 'ws', 'broker', 9001, '/'],
    ['ws://broker:80/mqtt', 'ws', 'broker', 80, '/mqtt'], // WHATWG drops a default port: it must come back
    ['wss://broker:443/mqtt?token=t', 'wss', 'broker', 443, '/mqtt?token=t'],
    ['wss://broker:8443/', 'wss', 'broker', 8443, '/'],
    ['mqtt://[::1]:1883', 'mqtt', '::1', 1883, ''],
    ['mqtts://[2001:db8::5]', 'mqtts', '2001:db8::5', 8883, ''],
    ['wss://[2001:db8::5]/mqtt', 'wss', '2001:db8::5', 443, '/mqtt'],
    ['mqtt://10.0.0.5:1883/ignored', 'mqtt', '10.0.0.5', 1883, ''],
    ['mqtt://user:secret@broker', 'mqtt', 'broker', 1883, ''],
    // MQTT.js's other names: the URL is kept as given (status$, urls), the protocol is one MQTT.js connects.
    ['tcp://broker', 'mqtt', 'broker', 1883, ''],
    ['TCP://broker:1884', 'mqtt', 'broker', 1884, ''],
    ['ssl://broker', 'mqtts', 'broker', 8883, ''],
    ['tls://[::1]:18883', 'mqtts', '::1', 18883, ''],
  ])('%s → %s %s:%i %j', (given, protocol, hostname, port, path) => {
    expect(endpoints({ url: given }, nodePlatform)).toEqual([{ url: given, protocol, hostname, port, path }])
  })

  it.each<[string, MQTTClientOptions, string, number]>([
    ['mqtt by default', { brokerIp: '10.0.0.5' }, 'mqtt://10.0.0.5:1883', 1883],
    ['mqtts', { brokerIp: '10.0.0.5', protocol: 'mqtts' }, 'mqtts://10.0.0.5:8883', 8883],
    ['ws on the websockets listener, not 80', { brokerIp: '10.0.0.5', protocol: 'ws' }, 'ws://10.0.0.5:9001/', 9001],
    ['wss', { brokerIp: '10.0.0.5', protocol: 'wss', path: '/mqtt' }, 'wss://10.0.0.5:443/mqtt', 443],
    ['a path without its slash', { brokerIp: 'b', protocol: 'ws', path: 'mqtt' }, 'ws://b:9001/mqtt', 9001],
    ['an explicit port', { brokerIp: 'b', brokerPort: 1884 }, 'mqtt://b:1884', 1884],
    ['IPv6', { brokerIp: '::1', protocol: 'mqtts' }, 'mqtts://[::1]:8883', 8883],
    ['IPv6 already in brackets', { brokerIp: '[::1]' }, 'mqtt://[::1]:1883', 1883],
  ])('brokerIp form: %s', (_, options, expectedUrl, port) => {
    const [endpoint] = endpoints(options, nodePlatform)
    expect(endpoint).toMatchObject({ url: expectedUrl, port })
    expect(endpoint?.hostname).not.toMatch(/[[\]]/)
  })

  it('brokerIp defaults to ws on 9001 in a browser, where a bare ws:// URL means port 80', () => {
    expect(endpoints({ brokerIp: 'b' }, browserPlatform)).toEqual([{ url: 'ws://b:9001/', protocol: 'ws', hostname: 'b', port: 9001, path: '/' }])
    expect(endpoints({ url: 'ws://b' }, browserPlatform)[0]?.port).toBe(80)
  })

  it('takes a list of cluster nodes in order, each checked, the list frozen', () => {
    const list = endpoints({ url: ['mqtt://a', 'wss://b/mqtt', 'ws://[::1]:9001'] }, nodePlatform)
    expect(list.map((e) => `${e.protocol} ${e.hostname} ${e.port}`)).toEqual(['mqtt a 1883', 'wss b 443', 'ws ::1 9001'])
    expect(Object.isFrozen(list)).toBe(true)
    expect(() => endpoints({ url: ['ws://a', 'mqtt://b'] }, browserPlatform)).toThrow(/ws:\/\/ or wss:\/\//)
    expect(() => endpoints({ url: ['mqtt://a', 'mqtt://b:0'] }, nodePlatform)).toThrow(/"mqtt:\/\/b:0".*not 0/)
    expect(() => endpoints({ url: [] }, nodePlatform)).toThrow(/empty list/)
  })

  it.each<[string, Record<string, unknown>, typeof browserPlatform, RegExp]>([
    ['no broker at all', {}, nodePlatform, /brokerIp/],
    ['not a URL', { url: 'not a url' }, nodePlatform, /Not a URL: "not a url"/],
    ['a URL that is not a string', { url: ['mqtt://a', 42] }, nodePlatform, /Not a URL: 42/],
    ['a URL without a host', { url: 'mqtt:///x' }, nodePlatform, /"mqtt:\/\/\/x" names no broker host/],
    ['http in Node', { url: 'http://h' }, nodePlatform, /http:\/\/ is not supported in Node: use one of mqtt:\/\//],
    ['mqtt in a browser', { url: 'mqtt://h' }, browserPlatform, /mqtt:\/\/ is not supported in a browser.*ws:\/\/ or wss:\/\//],
    ['protocol mqtts with brokerIp in a browser', { brokerIp: 'h', protocol: 'mqtts' }, browserPlatform, /mqtts:\/\/ is not supported in a browser/],
    ['an unknown protocol with brokerIp', { brokerIp: 'h', protocol: 'tcp' }, nodePlatform, /tcp:\/\/ is not supported in Node/],
    ['tcp in a browser', { url: 'tcp://h' }, browserPlatform, /tcp:\/\/ is not supported in a browser.*ws:\/\/ or wss:\/\//],
    ['a scheme named like an object property', { url: 'constructor://h' }, nodePlatform, /constructor:\/\/ is not supported in Node/],
    ['a CA in a browser', { url: 'wss://h', ca: 'PEM' }, browserPlatform, /`ca` cannot be used in a browser.*certificate store/],
    ['a passphrase in a browser', { url: 'wss://h', passphrase: 'p' }, browserPlatform, /`passphrase` cannot be used in a browser/],
  ])('refuses %s', (_, options, platform, message) => {
    expect(() => endpoints(options as MQTTClientOptions, platform)).toThrow(UnsupportedOptionError)
    expect(() => endpoints(options as MQTTClientOptions, platform)).toThrow(message)
  })

  it('wraps the URL parser error for an out-of-range port as the cause', () => {
    const error = (() => {
      try {
        endpoints({ url: 'mqtt://h:70000' }, nodePlatform)
      } catch (e) {
        return e
      }
    })()
    expect(error).toBeInstanceOf(UnsupportedOptionError)
    expect((error as Error).cause).toBeInstanceOf(TypeError)
  })
})
