/**
 * MQTT's reason codes by name: the CONNACK return codes of 3.1.1 (1 to 5) and the MQTT 5 reason codes
 * (128 and up), which do not overlap. One table for every message that names a code.
 */
const NAMES: Readonly<Record<number, string>> = {
  1: 'Unacceptable protocol version',
  2: 'Identifier rejected',
  3: 'Server unavailable',
  4: 'Bad username or password',
  5: 'Not authorized',
  128: 'Unspecified error',
  129: 'Malformed Packet',
  130: 'Protocol Error',
  131: 'Implementation specific error',
  132: 'Unsupported Protocol Version',
  133: 'Client Identifier not valid',
  134: 'Bad User Name or Password',
  135: 'Not authorized',
  136: 'Server unavailable',
  137: 'Server busy',
  138: 'Banned',
  140: 'Bad authentication method',
  144: 'Topic Name invalid',
  149: 'Packet too large',
  151: 'Quota exceeded',
  153: 'Payload format invalid',
  154: 'Retain not supported',
  155: 'QoS not supported',
  156: 'Use another server',
  157: 'Server moved',
  159: 'Connection rate exceeded',
}

/** MQTT 5's code for a QoS above the broker's maximum; the SDK gives it to publishes it refuses for that. */
export const QOS_NOT_SUPPORTED = 155

/**
 * The name of a reason code, or `code N` for one this table does not know.
 *
 * @example
 * ```ts
 * reasonText(135) // 'Not authorized'
 * ```
 */
export function reasonText(code: number): string {
  return NAMES[code] ?? `code ${code}`
}
