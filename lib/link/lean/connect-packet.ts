import type { ConnectPacket } from '../../wire/packets.js'
import { connectProperties } from '../connect-properties.js'
import type { Attempt, LinkSettings } from '../link.js'

const utf8 = new TextEncoder()

/**
 * The CONNECT of one attempt: the session's settings, the attempt's protocol level and credentials.
 *
 * @example
 * ```ts
 * transport.write(encode(connectPacket(settings, attempt), attempt.protocolVersion))
 * ```
 */
export function connectPacket(settings: LinkSettings, attempt: Attempt): ConnectPacket {
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
    properties: attempt.protocolVersion === 5 ? connectProperties(settings) : undefined,
  }
}
