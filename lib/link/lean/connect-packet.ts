import type { ConnectPacket, Properties } from '../../wire/packets.js'
import { connectProperties } from '../connect-properties.js'
import type { Attempt, LinkSettings } from '../link.js'

const utf8 = new TextEncoder()

/**
 * The Receive Maximum an MQTT 5 CONNECT announces: QoS 1 and 2 messages the broker may have unacknowledged to
 * this client at once (none announced means 65,535). While the app handles a message the rest waits at the
 * broker instead of in the client, and the window is still wide enough that acknowledgements' round trips do
 * not limit a drain.
 */
export const RECEIVE_MAXIMUM = 256

/**
 * The CONNECT of one attempt: the session's settings, the attempt's protocol level and credentials. Under MQTT 5
 * it announces the lean link's receive maximum, and carries `auth`, the enhanced authentication's method and data.
 *
 * @example
 * ```ts
 * transport.write(encode(connectPacket(settings, attempt), attempt.protocolVersion))
 * ```
 */
export function connectPacket(settings: LinkSettings, attempt: Attempt, auth?: Properties): ConnectPacket {
  const will = settings.will
  return {
    type: 'connect',
    protocolVersion: attempt.protocolVersion,
    clientId: settings.clientId,
    clean: settings.clean,
    keepalive: settings.keepalive,
    username: attempt.username,
    password: attempt.password === undefined ? undefined : utf8.encode(attempt.password),
    will: will && {
      topic: will.topic,
      payload: typeof will.payload === 'string' ? utf8.encode(will.payload) : will.payload,
      qos: will.qos,
      retain: will.retain,
    },
    properties: attempt.protocolVersion === 5 ? { receiveMaximum: RECEIVE_MAXIMUM, ...connectProperties(settings), ...auth } : undefined,
  }
}
