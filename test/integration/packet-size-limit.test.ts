// A broker's Maximum Packet Size against the exact size of a PUBLISH (issue 23, defect 3), on a real Mosquitto
// with `max_packet_size 256`, over the link under test: a publish of exactly 256 bytes with every client-set
// property is sent and delivered, one byte more is refused by the client before it is sent. And user
// properties given as pairs arrive with every value, in order per name (MQTT 5 3.3.2.3.7).
import { describe, expect, it } from 'vitest'
import { PayloadTooLargeError } from '../../lib/errors.js'
import type { PublishProperties } from '../../lib/options/client-options.js'
import { publishPacketSize } from '../../lib/publish/packet-size.js'
import { testBed } from '../support/bed.js'
import { noMosquitto } from '../support/binaries.js'
import { next, uniquePrefix } from '../support/wait.js'

const PROPERTIES: PublishProperties = {
  payloadFormatIndicator: false,
  messageExpiryInterval: 3600,
  contentType: 'application/octet-stream',
  responseTopic: 'reply/here',
  correlationData: new Uint8Array(16).fill(7),
  userProperties: { source: 'sensor-7', unit: ['°C', 'celsius'] },
}

/** A payload that makes the publish exactly `size` bytes at `protocol`. */
function payloadFor(size: number, topic: string, qos: 0 | 1, protocol: 4 | 5): Uint8Array {
  for (let n = 0; n < size; n++) if (publishPacketSize(topic, new Uint8Array(n), qos, PROPERTIES, protocol) === size) return new Uint8Array(n).fill(0x61)
  throw new Error(`no payload gives ${size} bytes`)
}

describe.skipIf(noMosquitto())('maximum packet size, counted exactly', () => {
  const bed = testBed('packet-size')

  it('MQTT 5: the broker\'s 256 bytes: a 256-byte PUBLISH with properties is delivered, 257 is refused before sending', async () => {
    const broker = await bed.broker({ extra: ['max_packet_size 256', 'log_type all'] })
    const p = uniquePrefix('size')
    const observer = await bed.pool.connected(broker.tcpUrl, { protocolVersion: 5 })
    const publisher = await bed.pool.connected(broker.tcpUrl, { protocolVersion: 5 })
    const topic = `${p}/x`
    const exact = payloadFor(256, topic, 1, 5)
    const message = next(observer.observe(topic, { qos: 1 }), 'the 256-byte message')
    await broker.waitForSubscription(observer.clientId, topic, 1)
    await expect(publisher.publish(topic, new Uint8Array(exact.length + 1), { qos: 1, properties: PROPERTIES })).rejects.toBeInstanceOf(PayloadTooLargeError)
    await publisher.publish(topic, exact, { qos: 1, properties: PROPERTIES })
    const received = await message
    expect(received.raw.length).toBe(exact.length)
    expect(received.properties).toMatchObject({ contentType: 'application/octet-stream', userProperties: { source: 'sensor-7', unit: ['°C', 'celsius'] } })
  })

  it('MQTT 3.1.1: the client\'s own maxPacketSize of 256 counts no properties (3.1.1 has none)', async () => {
    const broker = await bed.broker({ extra: ['max_packet_size 256', 'log_type all'] })
    const p = uniquePrefix('size4')
    const observer = await bed.pool.connected(broker.tcpUrl, { protocolVersion: 4 })
    const publisher = await bed.pool.connected(broker.tcpUrl, { protocolVersion: 4, maxPacketSize: 256 })
    const topic = `${p}/x`
    const exact = payloadFor(256, topic, 1, 4)
    const message = next(observer.observe(topic, { qos: 1 }), 'the 256-byte message')
    await broker.waitForSubscription(observer.clientId, topic, 1)
    await expect(publisher.publish(topic, new Uint8Array(exact.length + 1), { qos: 1, properties: PROPERTIES })).rejects.toBeInstanceOf(PayloadTooLargeError)
    await publisher.publish(topic, exact, { qos: 1, properties: PROPERTIES })
    expect((await message).raw.length).toBe(exact.length)
  })

  it('user properties as pairs: every value arrives, in order per name', async () => {
    const broker = await bed.broker({ extra: ['log_type all'] })
    const p = uniquePrefix('pairs')
    const observer = await bed.pool.connected(broker.tcpUrl, { protocolVersion: 5 })
    const publisher = await bed.pool.connected(broker.tcpUrl, { protocolVersion: 5 })
    const topic = `${p}/x`
    const message = next(observer.observe(topic, { qos: 1 }), 'the message with user properties as pairs')
    await broker.waitForSubscription(observer.clientId, topic, 1)
    const userProperties = [
      ['step', 'a'],
      ['owner', 'x'],
      ['step', 'b'],
    ] as const
    await publisher.publish(topic, 'go', { qos: 1, properties: { userProperties } })
    expect((await message).properties?.userProperties).toEqual({ step: ['a', 'b'], owner: 'x' })
  })
})
