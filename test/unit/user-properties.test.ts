// mqttjsProperties: user properties given as pairs reach MQTT.js in the record form mqtt-packet writes.
import mqttPacket from 'mqtt-packet'
import { describe, expect, it } from 'vitest'
import { mqttjsProperties } from '../../lib/link/mqttjs/user-properties.js'
import { PacketReader } from '../../lib/wire/packet-reader.js'

describe('mqttjsProperties', () => {
  it('groups pairs by name, values in order; mqtt-packet then writes every one of them', () => {
    const props = mqttjsProperties({ contentType: 'c', userProperties: [['step', 'a'], ['owner', 'x'], ['step', 'b'], ['__proto__', 'p']] })
    expect(props).toEqual({ contentType: 'c', userProperties: { step: ['a', 'b'], owner: 'x', ['__proto__']: 'p' } })
    expect(Object.getPrototypeOf(props!.userProperties)).toBe(Object.prototype)
    const bytes = mqttPacket.generate({ cmd: 'publish', topic: 't', payload: Buffer.from('x'), qos: 0, retain: false, dup: false, properties: props } as never, { protocolVersion: 5 })
    const reader = new PacketReader({ maximumPacketSize: 1000 })
    reader.level = 5
    reader.push(new Uint8Array(bytes))
    expect(reader.next()).toMatchObject({ properties: { contentType: 'c', userProperties: { step: ['a', 'b'], owner: 'x' } } })
  })

  it('passes the record form and no properties through as they are', () => {
    const record = { userProperties: { a: '1' } }
    expect(mqttjsProperties(record)).toBe(record)
    expect(mqttjsProperties(undefined)).toBeUndefined()
  })

  it('leaves out names without a value and user properties with no entry (MQTT.js would never send the publish)', () => {
    expect(mqttjsProperties({ userProperties: {}, contentType: 't' })).toEqual({ contentType: 't' })
    expect(mqttjsProperties({ userProperties: [] })).toEqual({})
    expect(mqttjsProperties({ userProperties: { a: [], b: 'x' } })).toEqual({ userProperties: { b: 'x' } })
  })
})
