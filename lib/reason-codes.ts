/**
 * MQTT's reason codes by name: the CONNACK return codes of 3.1.1 (1 to 5) and the MQTT 5 reason codes
 * (128 and up), which do not overlap. One table for every message that names a code: in order of code, one
 * name a slot ('' where MQTT defines none), as a list costs a browser app less than a table keyed by number.
 */
/** The CONNACK return codes of 3.1.1, from 1. */
const NAMES_3 = ['Unacceptable protocol version', 'Identifier rejected', 'Server unavailable', 'Bad username or password', 'Not authorized']
/** The MQTT 5 reason codes, from 128. */
const NAMES_5 = [
  'Unspecified error', 'Malformed Packet', 'Protocol Error', 'Implementation specific error', 'Unsupported Protocol Version',
  'Client Identifier not valid', 'Bad User Name or Password', 'Not authorized', 'Server unavailable', 'Server busy', 'Banned', '',
  'Bad authentication method', '', '', '', 'Topic Name invalid', '', '', '', '', 'Packet too large', '', 'Quota exceeded', '',
  'Payload format invalid', 'Retain not supported', 'QoS not supported', 'Use another server', 'Server moved', '', 'Connection rate exceeded',
]

/** MQTT 5's code for a QoS above the broker's maximum; the SDK gives it to publishes it refuses for that. */
export const QOS_NOT_SUPPORTED = 155
/** MQTT 5's code for a retained message to a broker without them (Retain Available 0); the SDK refuses with it too. */
export const RETAIN_NOT_SUPPORTED = 154

/**
 * The name of a reason code, or `code N` for one this table does not know.
 *
 * @example
 * ```ts
 * reasonText(135) // 'Not authorized'
 * ```
 */
export function reasonText(code: number): string {
  return (code < 128 ? NAMES_3[code - 1] : NAMES_5[code - 128]) || `code ${code}`
}
