// MQTT.js's outgoing store held to the SDK's session rules. MQTT.js resends its whole store on every
// CONNACK (its `_onConnect`), whatever the session: with no session, a PUBREC'd QoS 2 gets its PUBREL
// resent, the broker answers PUBCOMP for a message it discarded, and the publish resolves. And it frees a
// removed publish's identifier at once, though the broker may still hold it. This applies the lean link's
// rules (lean/outgoing-store.ts) to MQTT.js's in-flight table and store, from the `packetreceive` event of the
// CONNACK, which MQTT.js emits before it handles the packet, so before it reads the store to resend it.
import type { LinkAckError, RestoredPublish } from '../link.js'
import { mqttjsProperties } from './user-properties.js'

/** The parts of MqttClient this uses (`outgoing` is typed private in MQTT.js). */
interface MqttInternals {
  readonly outgoing: Record<number, { volatile?: boolean; cb: (error?: Error | null, packet?: unknown) => void } | undefined>
  readonly outgoingStore: {
    get(packet: { messageId: number }, cb: (error?: Error, packet?: unknown) => void): unknown
    del(packet: { messageId: number }, cb: (error?: Error, packet?: unknown) => void): unknown
    put(packet: StoredPacket, cb: () => void): unknown
  }
}

/** What the store holds under an identifier: the PUBLISH, or the PUBREL of a QoS 2 the broker has received. */
interface StoredPacket {
  readonly cmd: string
  readonly [field: string]: unknown
  readonly qos?: number
  readonly messageId: number
  readonly dup?: boolean
}

/**
 * Withdrawn publishes and the session rule for the MQTT.js link. Session kept: MQTT.js resends as it does
 * (exactly once holds), PUBLISHes with DUP set, withdrawn ones too (MQTT-4.4.0-1: their flow ends and frees
 * the identifier). Session lost: a QoS 1 goes again as a new message (DUP clear), a QoS 2 is taken out and
 * answered `outcomeUnknown`, withdrawn ones are freed.
 *
 * @example
 * ```ts
 * const session = new OutgoingSession()
 * client.on('packetreceive', (p) => p.cmd === 'connack' && session.connack(client, p.sessionPresent))
 * session.withdraw(client, 7)
 * ```
 */
export class OutgoingSession {
  /** Withdrawn publishes still in MQTT.js's table: their flow goes on, and nobody waits for its answer. */
  readonly #withdrawn = new Set<number>()

  /**
   * Gives a publish up. MQTT.js wrote it already (it writes at once while connected), so it stays in its
   * table: a late PUBACK, or PUBREC (answered with PUBREL) and PUBCOMP, ends its flow and frees the identifier.
   * Its callback still runs then (the caller has settled the publish and ignores it).
   */
  withdraw(mqttClient: object, packetId: number): void {
    const entry = (mqttClient as MqttInternals).outgoing[packetId]
    if (!entry || this.#withdrawn.has(packetId)) return
    this.#withdrawn.add(packetId)
    const cb = entry.cb
    entry.cb = (error, packet) => {
      this.#withdrawn.delete(packetId)
      cb(error, packet)
    }
  }

  /**
   * An earlier client's publishes, put in MQTT.js's table and store under their identifiers before its first
   * connection, as written ones (DUP set; a released QoS 2 as its PUBREL): `connack` then applies the session's
   * rule to them as to MQTT.js's own, and MQTT.js resends them first.
   */
  resume(mqttClient: object, restored: readonly RestoredPublish[]): void {
    const client = mqttClient as MqttInternals
    for (const { packetId: messageId, topic, payload, options, released, done } of restored) {
      client.outgoing[messageId] = { volatile: false, cb: done as (error?: Error | null) => void }
      const { qos, retain, properties } = options
      const packet = released && qos === 2 ? { cmd: 'pubrel', qos: 1, messageId } : { cmd: 'publish', topic, payload, qos, retain, messageId, dup: true, ...(properties ? { properties: mqttjsProperties(properties) } : {}) }
      client.outgoingStore.put(packet, () => undefined)
    }
  }

  /** A CONNACK accepted the connection; MQTT.js resends its store right after this. */
  connack(mqttClient: object, sessionPresent: boolean): void {
    const client = mqttClient as MqttInternals
    for (const key of Object.keys(client.outgoing)) {
      const packetId = Number(key)
      const entry = client.outgoing[packetId]
      let stored: StoredPacket | undefined
      client.outgoingStore.get({ messageId: packetId }, (_error, packet) => (stored = packet as StoredPacket | undefined))
      if (!entry || !stored) continue
      const withdrawn = this.#withdrawn.has(packetId)
      if (sessionPresent) {
        // A re-delivery must carry DUP (MQTT-3.3.1-1); MQTT.js resends its stored packet as it was written.
        dup(client, stored, true)
        continue
      } else if (stored.cmd === 'publish' && stored.qos === 1 && !withdrawn) {
        // The new session holds nothing of it: it goes as a new message, DUP clear (an earlier resend set it).
        dup(client, stored, false)
        continue
      }
      delete client.outgoing[packetId]
      client.outgoingStore.del({ messageId: packetId }, () => undefined)
      this.#withdrawn.delete(packetId)
      if (!withdrawn) entry.cb(outcomeUnknown(stored.cmd === 'pubrel'))
    }
  }
}

/**
 * Sets a stored PUBLISH's DUP flag for MQTT.js's resend. Every stored PUBLISH was written: the link hands
 * MQTT.js publishes only while it is connected, and MQTT.js writes one as it stores it. The store holds MQTT.js's
 * own copy (it clones the packet it stores); a copy replaces it under the same identifier, in the same place.
 */
function dup(client: MqttInternals, stored: StoredPacket, value: boolean): void {
  if (stored.cmd === 'publish' && (stored.dup === true) !== value) client.outgoingStore.put({ ...stored, dup: value }, () => undefined)
}

/** What the publish's callback gets (MQTT.js's callbacks take an Error). */
function outcomeUnknown(received: boolean): Error & LinkAckError {
  return Object.assign(new Error('session lost'), { outcomeUnknown: true, received })
}
