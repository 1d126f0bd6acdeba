// The hooks and composables are typed by the codec exactly like client.observe(), in both call forms.
import { describe, expectTypeOf, it } from 'vitest'
import type { Ref } from 'vue'
import { json, type Codec, type Message, type MQTTClient, type Status } from '../../lib/node.js'
import * as react from '../../lib/react/index.js'
import * as vue from '../../lib/vue/index.js'

declare const client: MQTTClient
declare const celsius: Codec<number>

describe('iotpubsub/react types', () => {
  it('useTopic: the latest message or undefined, typed by the codec, with or without the client', () => {
    expectTypeOf(react.useTopic(client, 'a/#')).toEqualTypeOf<Message<Uint8Array> | undefined>()
    expectTypeOf(react.useTopic(client, 'a/#', { codec: 'bytes', qos: 1 })).toEqualTypeOf<Message<Uint8Array> | undefined>()
    expectTypeOf(react.useTopic(client, 'a/#', { codec: 'text' })).toEqualTypeOf<Message<string> | undefined>()
    expectTypeOf(react.useTopic(client, 'a/#', { codec: 'json' })).toEqualTypeOf<Message<unknown> | undefined>()
    expectTypeOf(react.useTopic<{ celsius: number }>(client, 'a/#', { codec: 'json' })).toEqualTypeOf<Message<{ celsius: number }> | undefined>()
    expectTypeOf(react.useTopic(client, 'a/#', { codec: celsius })).toEqualTypeOf<Message<number> | undefined>()
    expectTypeOf(react.useTopic(client, 'a/#', { codec: json<{ on: boolean }>() })).toEqualTypeOf<Message<{ on: boolean }> | undefined>()
    expectTypeOf(react.useTopic('a/#')).toEqualTypeOf<Message<Uint8Array> | undefined>()
    expectTypeOf(react.useTopic('a/#', { codec: 'text' })).toEqualTypeOf<Message<string> | undefined>()
    expectTypeOf(react.useTopic<{ celsius: number }>('a/#', { codec: 'json' })).toEqualTypeOf<Message<{ celsius: number }> | undefined>()
    expectTypeOf(react.useTopic('a/#', { codec: celsius })).toEqualTypeOf<Message<number> | undefined>()
    // @ts-expect-error manual acknowledgement is for services, not for a view
    react.useTopic(client, 'a/#', { ack: 'manual' })
    // @ts-expect-error a QoS is 0, 1 or 2
    react.useTopic('a/#', { qos: 3 })
  })

  it('useMessages: an immutable array typed by the codec; useStatus: the Status union; useClient: the client', () => {
    expectTypeOf(react.useMessages(client, 'a/#', { limit: 10 })).toEqualTypeOf<readonly Message<Uint8Array>[]>()
    expectTypeOf(react.useMessages('a/#', { codec: 'text', limit: 10 })).toEqualTypeOf<readonly Message<string>[]>()
    expectTypeOf(react.useMessages<{ v: number }>(client, 'a/#', { codec: 'json' })).toEqualTypeOf<readonly Message<{ v: number }>[]>()
    expectTypeOf(react.useStatus()).toEqualTypeOf<Status>()
    expectTypeOf(react.useStatus(client)).toEqualTypeOf<Status>()
    expectTypeOf(react.useClient()).toEqualTypeOf<MQTTClient>()
    expectTypeOf(react.MqttProvider).parameter(0).toEqualTypeOf<react.MqttProviderProps>()
  })
})

describe('iotpubsub/vue types', () => {
  it('useTopic: a read-only ref typed by the codec; the filter a string, a ref or a getter', () => {
    expectTypeOf(vue.useTopic(client, 'a/#')).toEqualTypeOf<Readonly<Ref<Message<Uint8Array> | undefined>>>()
    expectTypeOf(vue.useTopic(client, () => 'a/#', { codec: 'text' })).toEqualTypeOf<Readonly<Ref<Message<string> | undefined>>>()
    expectTypeOf(vue.useTopic<{ celsius: number }>('a/#', { codec: 'json' })).toEqualTypeOf<Readonly<Ref<Message<{ celsius: number }> | undefined>>>()
    expectTypeOf(vue.useTopic({} as Ref<string>, { codec: celsius })).toEqualTypeOf<Readonly<Ref<Message<number> | undefined>>>()
    expectTypeOf(vue.useMessages(client, 'a/#', { codec: 'text', limit: 5 })).toEqualTypeOf<Readonly<Ref<readonly Message<string>[]>>>()
    expectTypeOf(vue.useStatus(client)).toEqualTypeOf<Readonly<Ref<Status>>>()
    const topic = vue.useTopic(client, 'a/#')
    // @ts-expect-error the ref is read-only: it follows the topic
    topic.value = undefined
  })
})
