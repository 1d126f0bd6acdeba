// Typed topic routes: matching, building topics, and validated payloads on a real bed.broker.
import { describe, expect, it } from 'vitest'
import { DecodeError, InvalidTopicError, json, route } from '../../lib/node.js'
import { sharedBed } from '../support/bed.js'
import { noMosquitto } from '../support/binaries.js'
import { next, uniquePrefix } from '../support/wait.js'

describe('route()', () => {
  const telemetry = route('devices/{deviceId}/telemetry/{sensor}')

  it('turns the pattern into a filter and back into topics', () => {
    expect(telemetry.filter).toBe('devices/+/telemetry/+')
    expect(telemetry.topic({ deviceId: 'd1', sensor: 'temp' })).toBe('devices/d1/telemetry/temp')
  })

  it.each([
    ['devices/d1/telemetry/temp', { deviceId: 'd1', sensor: 'temp' }],
    ['devices/d1/telemetry', undefined],
    ['devices/d1/status/temp', undefined],
    ['devices/d1/telemetry/temp/extra', undefined],
    ['devices//telemetry/x', { deviceId: '', sensor: 'x' }],
  ])('matches %j → %j', (topicName, params) => {
    expect(telemetry.match(topicName)).toEqual(params)
  })

  it('matches $-topics when the pattern names their first level', () => {
    expect(route('$SYS/broker/{stat}').match('$SYS/broker/uptime')).toEqual({ stat: 'uptime' })
    expect(route('{root}/broker/{stat}').match('$SYS/broker/uptime')).toBeUndefined()
  })

  it('checks every parameter like topic() checks segments', () => {
    expect(() => telemetry.topic({ deviceId: 'd1/#', sensor: 'temp' })).toThrow(InvalidTopicError)
    expect(() => telemetry.topic({ deviceId: '+', sensor: 'temp' })).toThrow(InvalidTopicError)
    expect(() => telemetry.topic({ deviceId: '', sensor: 'temp' })).toThrow(InvalidTopicError)
  })

  it.each([['devices/{id}x/t'], ['devices/+/t'], ['a/#'], ['a/{id}/{id}'], ['']])('refuses the pattern %j', (pattern) => {
    expect(() => route(pattern)).toThrow(InvalidTopicError)
  })
})

describe.skipIf(noMosquitto())('client.route() on a real Mosquitto', () => {
  const bed = sharedBed('routes')
  const pool = bed.pool

  interface Reading {
    value: number
  }
  const isReading = (x: unknown): Reading => {
    if (typeof x === 'object' && x !== null && typeof (x as Reading).value === 'number') return x as Reading
    throw new TypeError('not a reading: value must be a number')
  }

  it('delivers messages with named params and validated payloads; invalid ones go to errors$', async () => {
    const p = uniquePrefix('route')
    const readings = route(`${p}/devices/{deviceId}/telemetry/{sensor}`)
    const client = await pool.connected(bed.broker.tcpUrl)
    const received = next(client.route(readings, { schema: isReading, qos: 1 }), 'a valid reading')
    const invalid = next(client.errors$, 'the invalid reading')
    await bed.broker.waitForSubscription(client.clientId, `${p}/devices/+/telemetry/+`, 1)
    await client.publish(readings.topic({ deviceId: 'd1', sensor: 'temp' }), { value: 'hot' }, { qos: 1 })
    await client.publish(readings.topic({ deviceId: 'd1', sensor: 'temp' }), { value: 21.5 }, { qos: 1 })
    const message = await received
    expect(message.params).toEqual({ deviceId: 'd1', sensor: 'temp' })
    expect(message.payload).toEqual({ value: 21.5 })
    const error = await invalid
    expect(error).toBeInstanceOf(DecodeError)
    expect((error as DecodeError).cause).toBeInstanceOf(TypeError)
  })

  it('takes a pattern string and a typed codec', async () => {
    const p = uniquePrefix('route-string')
    const client = await pool.connected(bed.broker.tcpUrl)
    const received = next(client.route(`${p}/rooms/{room}`, { codec: json<{ celsius: number }>() }), 'the message')
    await bed.broker.waitForSubscription(client.clientId, `${p}/rooms/+`, 0)
    await client.publish(`${p}/rooms/kitchen`, { celsius: 20 })
    const message = await received
    expect([message.params.room, message.payload.celsius]).toEqual(['kitchen', 20])
  })
})
