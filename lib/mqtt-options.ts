import type { IClientOptions } from 'mqtt'
import { UnsupportedOptionError } from './errors.js'
import type { QoS } from './message.js'
import type { MQTTClientOptions } from './options.js'
import type { ProtocolVersion } from './status.js'

/** MQTT 5 session expiry for `clean: false` when none is given: as long as 3.1.1 keeps a session. */
const SESSION_NEVER_EXPIRES = 0xffff_ffff

export function checkQos(qos: unknown): QoS {
  if (qos !== 0 && qos !== 1 && qos !== 2) throw new UnsupportedOptionError(`qos must be 0, 1 or 2, not ${String(qos)}`)
  return qos
}

/** MQTT.js's options for the SDK's: a new object, the user's untouched. */
export function toMqttOptions(options: MQTTClientOptions, clientId: string, protocol: ProtocolVersion): IClientOptions {
  const result: IClientOptions = {
    clientId,
    protocolVersion: protocol,
    clean: options.clean ?? true,
    keepalive: options.keepalive ?? 30,
    connectTimeout: options.connectTimeout ?? 30_000,
    // Reconnects, resubscription and the retry policy are the SDK's job, so MQTT.js does none of them: its
    // own timer is set beyond any outage (the SDK's timer reconnects first, which clears it). Not 0: with 0,
    // MQTT.js rejects every in-flight publish on a keepalive timeout instead of resending it.
    reconnectPeriod: 2 ** 31 - 1,
    resubscribe: false,
    manualConnect: true,
  }
  if (options.username !== undefined) result.username = options.username
  if (options.password !== undefined) result.password = options.password
  // 'auto' starts at 5 too; on a fallback to 3.1.1 the client drops these properties.
  if (protocol === 5) {
    const expiry = options.sessionExpiryInterval ?? (options.clean === false ? SESSION_NEVER_EXPIRES : undefined)
    if (expiry !== undefined) result.properties = { sessionExpiryInterval: expiry }
  }
  if (options.will) {
    result.will = {
      topic: options.will.topic,
      payload: options.will.payload as string,
      qos: checkQos(options.will.qos ?? 0),
      retain: options.will.retain ?? false,
    }
  }
  for (const key of ['ca', 'cert', 'key', 'passphrase', 'servername', 'rejectUnauthorized'] as const) {
    if (options[key] !== undefined) (result as Record<string, unknown>)[key] = options[key]
  }
  return result
}
