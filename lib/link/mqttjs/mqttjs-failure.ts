import type { LinkFailure } from '../link.js'
import { findMalformedAck } from './malformed-ack.js'

/** What the MQTT.js link knows of its attempt when MQTT.js emits an error. */
export interface MqttJsErrorContext {
  /** The attempt had its CONNACK. */
  readonly accepted: boolean
  /** MQTT.js is about to give up on the keepalive (its PINGRESP did not come). */
  readonly keepaliveExpired: boolean
  /** The CONNACK's refusal, reported from the packet itself. */
  readonly refusedCode: number | undefined
  /** The latest chunk read from the socket, where a malformed acknowledgement's bytes can be looked up. */
  readonly lastChunk: Uint8Array | undefined
}

/**
 * What an error MQTT.js emits means for the engine: a socket error (its `code` a string), the keepalive, a
 * protocol error (a number code, or anything before the CONNACK), or else a packet mqtt-packet refused
 * (`malformed`: its parser is out of step, and MQTT says to close the connection). `undefined` for the
 * refusal already reported from the CONNACK.
 *
 * @example
 * ```ts
 * const failure = mqttJsFailure(error, { accepted, keepaliveExpired, refusedCode, lastChunk })
 * if (failure) events.failed(failure)
 * ```
 */
export function mqttJsFailure(error: Error, context: MqttJsErrorContext): LinkFailure | undefined {
  const code = (error as { code?: unknown } | null)?.code
  if (typeof code === 'number' && code === context.refusedCode) return undefined
  if (typeof code === 'string') return { type: 'socket', code, message: error.message }
  if (context.keepaliveExpired) return { type: 'keepalive' }
  if (!context.accepted || typeof code === 'number') return { type: 'protocol', message: error.message }
  return { type: 'malformed', message: error.message, ack: findMalformedAck(error.message, context.lastChunk) }
}
