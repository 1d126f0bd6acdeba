// publishPacketSize is the exact size of the PUBLISH both links write (issue 23, defect 3): it equals the
// length of what lib/wire encodes and of what mqtt-packet (MQTT.js's codec) generates, and the publisher's
// maxPacketSize check uses it.
import mqttPacket from 'mqtt-packet'
import { afterEach, beforeEach, describe, expect, it, vi } from 'vitest'
import { PayloadTooLargeError } from '../../lib/errors.js'
import type { PublishProperties } from '../../lib/options/client-options.js'
import { nodePlatform } from '../../lib/options/endpoints.js'
import { resolveOptions } from '../../lib/options/resolve-options.js'
import { publishPacketSize } from '../../lib/publish/packet-size.js'
import { Publisher } from '../../lib/publish/publisher.js'
import { encodePublish } from '../../lib/wire/encode.js'
import type { Properties } from '../../lib/wire/packets.js'
import { FakeLink } from '../support/fake-link.js'

const EVERY: PublishProperties = {
  payloadFormatIndicator: true,
  messageExpiryInterval: 3600,
  contentType: 'application/json',
  responseTopic: 'rooms/1/reply',
  correlationData: new Uint8Array(16).fill(7),
  userProperties: { source: 'sensor-7', unit: ['°C', 'celsius'] },
}

const PROPERTY_SETS: (PublishProperties | undefined)[] = [
  undefined,
  {},
  EVERY,
  ...Object.entries(EVERY).map(([k, v]) => ({ [k]: v }) as PublishProperties),
  { payloadFormatIndicator: false, messageExpiryInterval: 0, correlationData: new Uint8Array(0) },
  { userProperties: [['b', '1'], ['a', '2'], ['b', '3']] },
  { userProperties: { 'ünï': 'çødé 🚀', '': '' } },
]

const TOPICS = ['t', 'rooms/1/temp', 'π/°C/🚀', 'x'.repeat(300)]
const PAYLOADS: (string | Uint8Array)[] = ['', 'hello', 'Grüße 🚀', new Uint8Array(100), new Uint8Array(127 - 10), new Uint8Array(16_400), 'é'.repeat(70_000)]

/** mqtt-packet takes user properties as a record only: the same pairs, grouped by name (the same bytes counted). */
function theirProperties(p: PublishProperties | undefined): Record<string, unknown> | undefined {
  if (!p) return undefined
  const out: Record<string, unknown> = { ...p }
  if (p.correlationData) out.correlationData = Buffer.from(p.correlationData)
  if (Array.isArray(p.userProperties)) {
    const record: Record<string, string[]> = {}
    for (const [name, value] of p.userProperties as readonly (readonly [string, string])[]) (record[name] ??= []).push(value)
    out.userProperties = record
  }
  return out
}

describe('publishPacketSize', () => {
  it('equals the bytes lib/wire encodes and mqtt-packet generates, for every property, QoS and level', () => {
    let cases = 0
    for (const level of [4, 5] as const) {
      for (const qos of [0, 1, 2] as const) {
        for (const topic of TOPICS) {
          for (const payload of PAYLOADS) {
            for (const properties of PROPERTY_SETS) {
              const size = publishPacketSize(topic, payload, qos, properties, level)
              const ours = encodePublish(topic, payload, qos, false, false, qos > 0 ? 1 : undefined, properties as Properties | undefined, level)
              const theirs = mqttPacket.generate(
                { cmd: 'publish', topic, payload: typeof payload === 'string' ? payload : Buffer.from(payload), qos, retain: false, dup: false, messageId: qos > 0 ? 1 : undefined, properties: theirProperties(properties) } as never,
                { protocolVersion: level },
              )
              expect([size, cases]).toEqual([ours.length, cases])
              expect([size, cases]).toEqual([theirs.length, cases])
              cases++
            }
          }
        }
      }
    }
    expect(cases).toBe(2 * 3 * TOPICS.length * PAYLOADS.length * PROPERTY_SETS.length)
  })

  it('3.1.1 carries no properties: they add nothing', () => {
    expect(publishPacketSize('a/b', 'hi', 1, EVERY, 4)).toBe(publishPacketSize('a/b', 'hi', 1, undefined, 4))
    expect(publishPacketSize('a/b', 'hi', 1, undefined, 4)).toBe(2 + 5 + 2 + 2)
    expect(publishPacketSize('a/b', 'hi', 1, undefined, 5)).toBe(2 + 5 + 2 + 1 + 2)
  })
})

describe('the publisher checks maxPacketSize against the exact size', () => {
  beforeEach(() => void vi.useFakeTimers())
  afterEach(() => void vi.useRealTimers())

  function setup(maxPacketSize: number) {
    const link = new FakeLink({ connected: () => undefined, drained: () => undefined, message: () => undefined, failed: () => undefined, closed: () => undefined })
    const connection = { writable: true, stopped: false, epoch: 1 }
    const publisher = new Publisher(resolveOptions({ url: 'mqtt://a', maxPacketSize }, nodePlatform), link, connection, () => Date.now())
    publisher.ready()
    return { publisher, link }
  }

  /** A payload that makes this MQTT 5 publish exactly `size` bytes. */
  function payloadFor(size: number, topic: string, properties: PublishProperties): Uint8Array {
    for (let n = 0; n < size; n++) if (publishPacketSize(topic, new Uint8Array(n), 1, properties, 5) === size) return new Uint8Array(n)
    throw new Error(`no payload gives ${size} bytes`)
  }

  it('the issue\'s case: a 153-byte MQTT 5 PUBLISH with properties passes a limit of 256 (the estimate said 272)', async () => {
    const { publisher, link } = setup(256)
    const topic = 'rooms/1/temp'
    const payload = payloadFor(153, topic, EVERY)
    expect(encodePublish(topic, payload, 1, false, false, 1, EVERY as Properties, 5).length).toBe(153)
    const settled = vi.fn()
    publisher.publish(topic, payload, { qos: 1, properties: EVERY }).then(settled, settled)
    await vi.advanceTimersByTimeAsync(0)
    expect(link.publishes.map((p) => p.topic)).toEqual([topic])
    expect(settled).not.toHaveBeenCalledWith(expect.any(PayloadTooLargeError))
  })

  it('a packet of exactly the limit passes; one byte more is refused with PayloadTooLargeError', async () => {
    const { publisher, link } = setup(256)
    const topic = 'a/b'
    const exact = payloadFor(256, topic, EVERY)
    const over = new Uint8Array(exact.length + 1)
    const outcomes: unknown[] = []
    publisher.publish(topic, exact, { qos: 1, properties: EVERY }).catch((e: unknown) => outcomes.push(e))
    publisher.publish(topic, over, { qos: 1, properties: EVERY }).catch((e: unknown) => outcomes.push(e))
    await vi.advanceTimersByTimeAsync(0)
    expect(link.publishes).toHaveLength(1)
    expect(outcomes).toHaveLength(1)
    expect(outcomes[0]).toBeInstanceOf(PayloadTooLargeError)
  })
})
