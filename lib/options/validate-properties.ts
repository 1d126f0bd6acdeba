import { IotPubSubError, UnsupportedOptionError } from '../errors.js'
import type { PublishProperties } from './client-options.js'
import { checkMqttString, MAX_STRING_BYTES } from '../mqtt-string.js'
import { assertTopicName } from '../topic.js'
import { checkInteger, checkOneOf, refuse } from './validate.js'

/**
 * The MQTT 5 properties a client may put on a PUBLISH (§3.3.2.3), each with the kind of value it takes:
 * 0 a flag, 1 a 32-bit count of seconds, 2 a string, 3 a topic name, 4 bytes, 5 user properties.
 */
const PUBLISH_PROPERTIES: Readonly<Record<string, number>> = {
  payloadFormatIndicator: 0,
  messageExpiryInterval: 1,
  contentType: 2,
  responseTopic: 3,
  correlationData: 4,
  userProperties: 5,
}

/** A plain object (a class instance or a Map would lose its entries on the way to the encoder). */
function isRecord(value: unknown): value is Record<string, unknown> {
  const proto: unknown = value !== null && typeof value === 'object' && Object.getPrototypeOf(value)
  return proto === Object.prototype || proto === null
}

/**
 * Checks the MQTT 5 properties of a `publish()` before anything is queued or encoded, so that no value the
 * encoder cannot write (or the broker would close the connection on) gets past the user's call: each known
 * property's type and range, strings as {@link checkMqttString} wants them, `responseTopic` a topic name
 * without wildcards, `correlationData` up to 65,535 bytes, user properties as a record (a value or a list
 * of values per name) or as `[name, value]` pairs. Any other name, `subscriptionIdentifier` (which only the
 * broker sets) or a typo, is refused by name. Throws {@link UnsupportedOptionError}. Returns a copy of what it
 * checked (byte arrays and user properties copied too), which the publish keeps: what is sent later is what was
 * checked, whatever the app then does with its own object.
 *
 * @example
 * ```ts
 * checkPublishProperties({ contentType: 'application/json', userProperties: [['unit', '°C']] }) // a copy of it
 * checkPublishProperties({ messageExpiryInterval: -1 }) // throws: `properties.messageExpiryInterval` must be an integer from 0 to 4294967295 ...
 * checkPublishProperties({ contentTyp: 'text/plain' })  // throws: `properties.contentTyp` is not a property a publish sends ...
 * ```
 */
export function checkPublishProperties(properties: unknown): PublishProperties {
  if (!isRecord(properties)) refuse('properties', 'an object', properties)
  // Each property is read once, checked and copied: the publish keeps the copy, so that what is sent later
  // (after a reconnect, from the offline queue) is what was checked, whatever the app does with its object.
  const copy: Record<string, unknown> = {}
  for (const name in properties) {
    const option = `properties.${name}`
    const value = properties[name]
    const kind = Object.hasOwn(PUBLISH_PROPERTIES, name) ? PUBLISH_PROPERTIES[name] : -1
    if (kind === -1) throw new UnsupportedOptionError(`\`${option}\` is not a property a publish sends (${Object.keys(PUBLISH_PROPERTIES).join(', ')})`)
    if (value === undefined) continue
    if (kind === 0) checkOneOf(option, value, [true, false] as const)
    else if (kind === 1) checkInteger(option, value, 0, 0xffff_ffff, 'seconds')
    else if (kind === 2) checkMqttString(option, value)
    else if (kind === 3) {
      try {
        assertTopicName(value as string)
      } catch (error) {
        throw new UnsupportedOptionError(`\`${option}\`: ${(error as IotPubSubError).message}`, { cause: error })
      }
    } else if (kind === 4) {
      if (!(value instanceof Uint8Array) || value.length > MAX_STRING_BYTES) refuse(option, `a Uint8Array of at most ${MAX_STRING_BYTES} bytes`, value)
    } else checkUserProperties(option, value)
    copy[name] = kind === 4 ? (value as Uint8Array).slice() : kind === 5 ? copyUserProperties(value) : value
  }
  return copy as PublishProperties
}

/** A copy of checked user properties: pairs as new pairs, a record as a new record (values lists copied). */
function copyUserProperties(value: unknown): unknown {
  if (Array.isArray(value)) return value.map((pair: unknown) => (Array.isArray(pair) ? [pair[0], pair[1]] : pair))
  const record: Record<string, unknown> = {}
  for (const [name, v] of Object.entries(value as Record<string, unknown>)) {
    // defineProperty: a user property named __proto__ is data, not the object's prototype.
    Object.defineProperty(record, name, { value: Array.isArray(v) ? [...v] : v, writable: true, enumerable: true, configurable: true })
  }
  return record
}

/** User properties: `{ name: value | value[] }`, or `[name, value][]`, which keeps their order and repeats. */
function checkUserProperties(option: string, value: unknown): void {
  const list = Array.isArray(value)
  const pairs = list ? value : isRecord(value) ? Object.entries(value) : refuse(option, '{ name: value } or [name, value][]', value)
  pairs.forEach((pair: unknown, i) => {
    if (!Array.isArray(pair) || pair.length !== 2) refuse(`${option}[${i}]`, 'a [name, value] pair', pair)
    const [name, values] = pair as [unknown, unknown]
    // A record's entry is named by its name, cut short: the name itself may be the oversized string.
    const at = list ? `${option}[${i}]` : `${option}[${JSON.stringify(name).slice(0, 40)}]`
    checkMqttString(list ? `${at}[0]` : `${at} (the name)`, name)
    if (list || !Array.isArray(values)) checkMqttString(list ? `${at}[1]` : at, values)
    else values.forEach((v: unknown) => checkMqttString(at, v))
  })
}
