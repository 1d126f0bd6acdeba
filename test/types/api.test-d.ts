import type { Observable } from 'rxjs'
import { describe, expectTypeOf, it } from 'vitest'
import {
  connect,
  type ClearedMessage,
  type Codec,
  type IotPubSubError,
  type Message,
  MQTTClient,
  NotAuthorizedError,
  ConnectionRefusedError,
  type Status,
  topic,
} from '../../lib/node.js'
import * as browser from '../../lib/browser.js'
import * as node from '../../lib/node.js'

declare const client: MQTTClient

describe('public API types', () => {
  it('connect() and new MQTTClient() give the same client', () => {
    expectTypeOf(connect('ws://localhost:9001', { clientId: 'dash-1', username: 'u', password: 'p' })).toEqualTypeOf<MQTTClient>()
    expectTypeOf(new MQTTClient({ clientId: 'test_client', brokerIp: '192.168.1.103', brokerPort: 1883, username: 'u', password: 'p' })).toEqualTypeOf<MQTTClient>()
    // @ts-expect-error brokerPort is a number
    new MQTTClient({ brokerIp: 'h', brokerPort: '1883' })
  })

  it('observe() types the payload by codec', () => {
    expectTypeOf(client.observe('a/#')).toEqualTypeOf<Observable<Message<Uint8Array>>>()
    expectTypeOf(client.observe('a/#', { codec: 'bytes' })).toEqualTypeOf<Observable<Message<Uint8Array>>>()
    expectTypeOf(client.observe('a/#', { codec: 'text' })).toEqualTypeOf<Observable<Message<string>>>()
    expectTypeOf(client.observe('a/#', { codec: 'json' })).toEqualTypeOf<Observable<Message<unknown>>>()
    expectTypeOf(client.observe<{ celsius: number }>('a/#', { qos: 1, codec: 'json' })).toEqualTypeOf<Observable<Message<{ celsius: number }>>>()
    const celsius: Codec<number> = { encode: String, decode: (raw) => raw.length }
    expectTypeOf(client.observe('a/#', { codec: celsius })).toEqualTypeOf<Observable<Message<number>>>()
    // @ts-expect-error qos is 0, 1 or 2
    client.observe('a/#', { qos: 3 })
    // @ts-expect-error unknown codec name
    client.observe('a/#', { codec: 'xml' })
  })

  it('observe() with cleared: true adds ClearedMessage, which `if (m.cleared)` tells apart', () => {
    expectTypeOf(client.observe('a/#', { cleared: false })).toEqualTypeOf<Observable<Message<Uint8Array>>>()
    expectTypeOf(client.observe('a/#', { cleared: true })).toEqualTypeOf<Observable<Message<Uint8Array> | ClearedMessage>>()
    expectTypeOf(client.observe('a/#', { codec: 'text', cleared: true })).toEqualTypeOf<Observable<Message<string> | ClearedMessage>>()
    expectTypeOf(client.observe<{ on: boolean }>('a/#', { codec: 'json', cleared: true })).toEqualTypeOf<Observable<Message<{ on: boolean }> | ClearedMessage>>()
    const celsius: Codec<number> = { encode: String, decode: (raw) => raw.length }
    expectTypeOf(client.observe('a/#', { codec: celsius, cleared: true })).toEqualTypeOf<Observable<Message<number> | ClearedMessage>>()
    // A flag known only at run time: the union, to be safe.
    const maybe: boolean = Math.random() > 0.5
    expectTypeOf(client.observe('a/#', { codec: 'text', cleared: maybe })).toEqualTypeOf<Observable<Message<string> | ClearedMessage>>()
    client.observe<{ on: boolean }>('a/#', { codec: 'json', cleared: true }).subscribe((m) => {
      if (m.cleared) {
        expectTypeOf(m).toEqualTypeOf<ClearedMessage>()
        expectTypeOf(m.payload).toEqualTypeOf<undefined>()
        expectTypeOf(m.raw).toEqualTypeOf<Uint8Array>()
      } else {
        expectTypeOf(m.payload).toEqualTypeOf<{ on: boolean }>()
      }
    })
    // @ts-expect-error cleared is a boolean
    client.observe('a/#', { cleared: 'yes' })
  })

  it('messages carry topic, payload, raw, qos, retain, params and optional properties', () => {
    expectTypeOf<Message<string>>().toHaveProperty('params').toEqualTypeOf<readonly string[]>()
    expectTypeOf<Message<string>>().toHaveProperty('raw').toEqualTypeOf<Uint8Array>()
    expectTypeOf<Message<string>>().toHaveProperty('qos').toEqualTypeOf<0 | 1 | 2>()
    expectTypeOf<Message<string>['properties']>().toMatchTypeOf<{ contentType?: string } | undefined>()
  })

  it('status$ is a union tagged by type that narrows', () => {
    expectTypeOf(client.status$).toEqualTypeOf<Observable<Status>>()
    expectTypeOf<Status['type']>().toEqualTypeOf<'connecting' | 'connected' | 'reconnecting' | 'closed'>()
    const show = (s: Status): string => {
      switch (s.type) {
        case 'connected':
          expectTypeOf(s.sessionPresent).toEqualTypeOf<boolean>()
          return 'up'
        case 'reconnecting':
          expectTypeOf(s.attempt).toEqualTypeOf<number>()
          expectTypeOf(s.error).toEqualTypeOf<IotPubSubError>()
          return 'retry'
        case 'closed':
          expectTypeOf(s.error).toEqualTypeOf<IotPubSubError | undefined>()
          return 'down'
        default:
          return 'connecting'
      }
    }
    expectTypeOf(show).returns.toEqualTypeOf<string>()
  })

  it('publish returns a promise; end too', () => {
    expectTypeOf(client.publish('a', { celsius: 21.5 }, { qos: 1, retain: true })).toEqualTypeOf<Promise<void>>()
    expectTypeOf(client.end()).toEqualTypeOf<Promise<void>>()
    // @ts-expect-error qos is 0, 1 or 2
    void client.publish('a', 'x', { qos: 5 })
  })

  it('errors are classes with name, reasonCode and cause', () => {
    expectTypeOf(new NotAuthorizedError('x')).toMatchTypeOf<ConnectionRefusedError>()
    expectTypeOf<IotPubSubError['reasonCode']>().toEqualTypeOf<number | undefined>()
    expectTypeOf<IotPubSubError>().toHaveProperty('cause')
    expectTypeOf<IotPubSubError>().toHaveProperty('name').toEqualTypeOf<string>()
    expectTypeOf(topic).toBeCallableWith('rooms', 42, 'temp')
    expectTypeOf(topic).returns.toEqualTypeOf<string>()
  })

  it('both entries export the same names', () => {
    expectTypeOf<keyof typeof browser>().toEqualTypeOf<keyof typeof node>()
  })
})
