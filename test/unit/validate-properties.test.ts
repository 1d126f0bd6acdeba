// What publish() checks before anything is queued or encoded: MQTT 5 properties (one table), the other options,
// and that a bad one comes back as a typed error value, never a throw.
import { describe, expect, it } from 'vitest'
import { InvalidTopicError, IotPubSubError, PublishError, UnsupportedOptionError } from '../../lib/errors.js'
import { checkMqttString } from '../../lib/mqtt-string.js'
import type { PublishOptions } from '../../lib/options/client-options.js'
import { checkPublishProperties } from '../../lib/options/validate-properties.js'
import { preparePublish } from '../../lib/publish/prepare-publish.js'

const check = (properties: unknown) => () => checkPublishProperties(properties)

describe('checkPublishProperties', () => {
  it('accepts every PUBLISH property at the edges of its range, in both user property forms', () => {
    const edges = {
      payloadFormatIndicator: true,
      messageExpiryInterval: 0xffff_ffff,
      contentType: 'c'.repeat(65_535),
      responseTopic: 'replies/é/😀',
      correlationData: new Uint8Array(65_535),
      userProperties: { k: 'v', empty: '', many: ['a', 'b'], ['n'.repeat(65_535)]: 'v'.repeat(65_535), __proto__x: 'x' },
    }
    expect(check(edges)).not.toThrow()
    expect(check({ messageExpiryInterval: 0, payloadFormatIndicator: false, userProperties: [['a', '1'], ['a', '2'], ['', '']] })).not.toThrow()
    expect(check({ contentType: undefined, userProperties: [] })).not.toThrow()
    expect(check({})).not.toThrow()
    expect(check(Object.create(null))).not.toThrow()
    // The properties of a received message (MQTT 5 decoding gives plain objects) less the broker's own.
    expect(check({ correlationData: Buffer.from('id'), userProperties: { a: ['1', '2'] } })).not.toThrow()
  })

  it.each<[string, unknown, RegExp]>([
    ['properties that are not an object', 'x', /`properties` must be an object, not "x"/],
    ['properties as an array', [], /`properties` must be an object, not an array/],
    ['properties as null', null, /`properties` must be an object, not null/],
    ['a Map of properties', new Map(), /`properties` must be an object, not an object/],
    ['an unknown property (a typo)', { contentTyp: 'text/plain' }, /`properties.contentTyp` is not a property a publish sends \(payloadFormatIndicator, messageExpiryInterval, contentType, responseTopic, correlationData, userProperties\)/],
    ['an unknown property even when undefined', { topicAlias: undefined }, /`properties.topicAlias` is not a property a publish sends/],
    ['subscriptionIdentifier', { subscriptionIdentifier: 1 }, /`properties.subscriptionIdentifier` is not a property a publish sends/],
    ['messageExpiryInterval -1', { messageExpiryInterval: -1 }, /`properties.messageExpiryInterval` must be an integer from 0 to 4294967295 \(seconds\), not -1/],
    ['messageExpiryInterval beyond 32 bits', { messageExpiryInterval: 2 ** 32 }, /not 4294967296/],
    ['messageExpiryInterval 1.5', { messageExpiryInterval: 1.5 }, /not 1.5/],
    ['messageExpiryInterval NaN', { messageExpiryInterval: NaN }, /not NaN/],
    ['messageExpiryInterval as a string', { messageExpiryInterval: '60' }, /not "60"/],
    ['payloadFormatIndicator 1', { payloadFormatIndicator: 1 }, /`properties.payloadFormatIndicator` must be true or false, not 1/],
    ['a numeric contentType', { contentType: 5 }, /`properties.contentType` must be a string, not 5/],
    ['a NUL in contentType', { contentType: 'text\u0000' }, /`properties.contentType` must not contain NUL \(U\+0000\)/],
    ['a control character in contentType', { contentType: 'a\u0001' }, /the control character U\+0001/],
    ['a lone surrogate in contentType', { contentType: 'a\ud83d' }, /the lone surrogate U\+D83D \(not valid UTF-8\)/],
    ['a non-character in contentType', { contentType: '\ufffe' }, /the Unicode non-character U\+FFFE/],
    ['a contentType over 65535 bytes', { contentType: '€'.repeat(21_846) }, /`properties.contentType` is 65538 UTF-8 bytes long; MQTT allows 65535/],
    ['a wildcard in responseTopic', { responseTopic: 'replies/+' }, /`properties.responseTopic`: Invalid topic .*wildcards/],
    ['an empty responseTopic', { responseTopic: '' }, /`properties.responseTopic`: Invalid topic .*empty/],
    ['a control character in responseTopic', { responseTopic: 'r/\u0007' }, /U\+0007/],
    ['a numeric responseTopic', { responseTopic: 1 }, /`properties.responseTopic`: Invalid topic .*must be a string/],
    ['correlationData as a string', { correlationData: 'id' }, /`properties.correlationData` must be a Uint8Array of at most 65535 bytes, not "id"/],
    ['correlationData over 65535 bytes', { correlationData: new Uint8Array(65_536) }, /`properties.correlationData` must be a Uint8Array of at most 65535 bytes, not an object/],
    ['a NUL in a user property value', { userProperties: { k: 'v\u0000' } }, /`properties.userProperties\["k"\]` must not contain NUL/],
    ['a NUL in a user property name', { userProperties: { 'k\u0000': 'v' } }, /`properties.userProperties\["k\\u0000"\] \(the name\)` must not contain NUL/],
    ['a newline in a user property value', { userProperties: { k: 'a\nb' } }, /the control character U\+000A/],
    ['a numeric user property value', { userProperties: { k: 1 } }, /`properties.userProperties\["k"\]` must be a string, not 1/],
    ['a bad value in a list', { userProperties: { k: ['a', null] } }, /`properties.userProperties\["k"\]` must be a string, not null/],
    ['a user property value over 65535 bytes', { userProperties: { k: 'v'.repeat(65_536) } }, /`properties.userProperties\["k"\]` is 65536 UTF-8 bytes long/],
    ['a user property name over 65535 bytes', { userProperties: { ['n'.repeat(65_536)]: 'v' } }, /\(the name\)` is 65536 UTF-8 bytes long/],
    ['user properties as a string', { userProperties: 'k=v' }, /`properties.userProperties` must be \{ name: value \} or \[name, value\]\[\], not "k=v"/],
    ['user properties as a Map', { userProperties: new Map([['k', 'v']]) }, /`properties.userProperties` must be \{ name: value \}/],
    ['a pair with one element', { userProperties: [['k']] }, /`properties.userProperties\[0\]` must be a \[name, value\] pair, not an array/],
    ['a pair that is not an array', { userProperties: ['k'] }, /`properties.userProperties\[0\]` must be a \[name, value\] pair, not "k"/],
    ['a pair with a NUL in its value', { userProperties: [['a', 'b'], ['k', 'v\u0000']] }, /`properties.userProperties\[1\]\[1\]` must not contain NUL/],
    ['a pair with a numeric name', { userProperties: [[1, 'v']] }, /`properties.userProperties\[0\]\[0\]` must be a string, not 1/],
  ])('refuses %s', (_, properties, message) => {
    expect(check(properties)).toThrow(UnsupportedOptionError)
    expect(check(properties)).toThrow(message)
  })
})

describe('checkMqttString', () => {
  it('passes emoji and every character MQTT allows, refuses the rest by code point', () => {
    expect(checkMqttString('o', 'a😀é\u00a0\ufeff')).toBe('a😀é\u00a0\ufeff')
    for (const [bad, name] of [['\u007f', 'U+007F'], ['\u009f', 'U+009F'], ['\ufdd0', 'U+FDD0'], ['\u{1fffe}', 'U+1FFFE'], ['\udfff', 'U+DFFF']]) {
      expect(() => checkMqttString('o', `x${bad}`)).toThrow(name as string)
    }
    // A password is bytes: NUL and controls are data; only a lone surrogate has no UTF-8 form.
    expect(checkMqttString('password', '\u0000\u0001', true)).toBe('\u0000\u0001')
    expect(() => checkMqttString('password', '\ud800', true)).toThrow(/lone surrogate/)
  })
})

describe('preparePublish: a bad option or property is an error value, never a throw', () => {
  const prepare = (options: unknown, topic: unknown = 't/a', payload: unknown = 'x') => {
    let result: ReturnType<typeof preparePublish> | undefined
    expect(() => (result = preparePublish(topic as string, payload, options as PublishOptions))).not.toThrow()
    return result as ReturnType<typeof preparePublish>
  }
  const errorOf = (options: unknown, topic?: unknown, payload?: unknown): IotPubSubError => {
    const result = prepare(options, topic, payload)
    if (!('error' in result)) throw new Error('expected an error')
    return result.error
  }

  it('passes valid options through: bytes, QoS, and a copy of the properties checked', () => {
    const properties = { userProperties: [['a', 'b']] as [string, string][] }
    const prepared = prepare({ qos: 1, retain: true, timeout: 1_000, signal: new AbortController().signal, properties })
    expect(prepared).toEqual({ bytes: 'x', qos: 1, properties: { userProperties: [['a', 'b']] } })
    expect((prepared as { properties: unknown }).properties).not.toBe(properties)
    expect(prepare({ codec: 'json' }, 't', { a: 1 })).toEqual({ bytes: '{"a":1}', qos: 0, properties: undefined })
  })

  it.each<[string, unknown, RegExp]>([
    ['messageExpiryInterval -1 (threw synchronously before)', { properties: { messageExpiryInterval: -1 } }, /`properties.messageExpiryInterval`.*not -1/],
    ['a NUL in a user property', { qos: 1, properties: { userProperties: { k: 'v\u0000' } } }, /must not contain NUL/],
    ['options that are not an object', null, /`options` must be an object, not null/],
    ['retain as a string', { retain: 'yes' }, /`retain` must be true or false, not "yes"/],
    ['a negative timeout', { timeout: -5 }, /`timeout` must be a number above 0.*not -5/],
    ['a timeout beyond a timer', { timeout: 2 ** 31 }, /`timeout`.*at most 2147483647/],
    ['a signal that is not an AbortSignal', { signal: 'stop' }, /`signal` must be an AbortSignal, not "stop"/],
    ['a null signal', { signal: null }, /`signal` must be an AbortSignal, not null/],
    ['an unknown codec name', { codec: 'JSON' }, /`codec` must be "bytes", "text" or "json", not "JSON"/],
    ['qos 3', { qos: 3 }, /`qos` must be 0, 1 or 2, not 3/],
  ])('%s: UnsupportedOptionError', (_, options, message) => {
    const error = errorOf(options)
    expect(error).toBeInstanceOf(UnsupportedOptionError)
    expect(error.message).toMatch(message)
  })

  it('a bad topic is an InvalidTopicError; a payload the codec cannot encode a PublishError', () => {
    expect(errorOf({}, 't/+')).toBeInstanceOf(InvalidTopicError)
    expect(errorOf({}, 42)).toBeInstanceOf(InvalidTopicError)
    expect(errorOf({}, 't', 10n)).toBeInstanceOf(PublishError)
    const odd = errorOf({ codec: { encode: () => 5, decode: () => 5 } })
    expect(odd).toBeInstanceOf(PublishError)
    expect((odd.cause as Error).message).toMatch(/the codec gave number, not bytes or a string/)
  })
})
