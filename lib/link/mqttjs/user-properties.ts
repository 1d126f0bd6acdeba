import type { MessageProperties, UserProperties, UserPropertyPairs } from '../../message.js'

/**
 * A publish's properties as MQTT.js takes them: user properties given as name-value pairs become the record
 * form (each name with its values in order), the only one mqtt-packet writes; given an array it would write
 * the array's indexes as names. The pairs' order across different names is lost there: only the lean link
 * writes pairs in their order. A name with no value, and user properties with no entry at all, are left out:
 * MQTT.js never sends (nor settles) a publish whose user properties hold nothing. Anything else passes through.
 *
 * @example
 * ```ts
 * mqttjsProperties({ userProperties: [['step', 'a'], ['owner', 'x'], ['step', 'b']] })
 * // { userProperties: { step: ['a', 'b'], owner: 'x' } }
 * ```
 */
export function mqttjsProperties(
  properties: (Omit<MessageProperties, 'userProperties'> & { userProperties?: UserProperties | UserPropertyPairs }) | undefined,
): MessageProperties | undefined {
  const users = properties?.userProperties
  if (!properties || users === undefined || (!Array.isArray(users) && writable(users as UserProperties))) return properties as MessageProperties | undefined
  const pairs: UserPropertyPairs = Array.isArray(users)
    ? (users as UserPropertyPairs)
    : Object.entries(users as UserProperties).flatMap(([name, value]) => (typeof value === 'string' ? [[name, value] as const] : value.map((v) => [name, v] as const)))
  const record: UserProperties = {}
  for (const [name, value] of pairs) {
    const seen = Object.hasOwn(record, name) ? record[name] : undefined
    // defineProperty: a user property named __proto__ is data, not the object's prototype.
    const next = seen === undefined ? value : typeof seen === 'string' ? [seen, value] : [...seen, value]
    Object.defineProperty(record, name, { value: next, writable: true, enumerable: true, configurable: true })
  }
  const { userProperties: _dropped, ...rest } = properties
  return pairs.length > 0 ? { ...rest, userProperties: record } : rest
}

/** A record MQTT.js sends as it is: at least one name, and a value for each. */
function writable(record: UserProperties): boolean {
  let any = false
  for (const name in record) {
    if (record[name]?.length === 0 && typeof record[name] !== 'string') return false
    any = true
  }
  return any
}
