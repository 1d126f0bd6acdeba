import type { Observable } from 'rxjs'
import { describe, expectTypeOf, it } from 'vitest'
import { json, type MQTTClient, route, type RouteMessage, type RouteParams } from '../../lib/node.js'

declare const client: MQTTClient
interface Telemetry {
  value: number
}

describe('typed routes', () => {
  it('derives the params object from the pattern', () => {
    expectTypeOf<RouteParams<'devices/{deviceId}/telemetry/{sensor}'>>().toEqualTypeOf<{ readonly deviceId: string; readonly sensor: string }>()
    expectTypeOf<RouteParams<'static/topic'>>().toEqualTypeOf<{}>()
  })

  it('types route() topics and matches', () => {
    const r = route('devices/{deviceId}/telemetry/{sensor}')
    expectTypeOf(r.topic).parameter(0).toEqualTypeOf<RouteParams<'devices/{deviceId}/telemetry/{sensor}'>>()
    // @ts-expect-error sensor is missing
    r.topic({ deviceId: 'd1' })
    // @ts-expect-error room is not a parameter of this route
    r.topic({ deviceId: 'd1', sensor: 'temp', room: 'x' })
    expectTypeOf(r.match('x')).toEqualTypeOf<RouteParams<'devices/{deviceId}/telemetry/{sensor}'> | undefined>()
  })

  it('types client.route() messages by pattern and codec or schema', () => {
    const typed = client.route('devices/{deviceId}/telemetry/{sensor}', { codec: json<Telemetry>() })
    expectTypeOf(typed).toEqualTypeOf<Observable<RouteMessage<Telemetry, { readonly deviceId: string; readonly sensor: string }>>>()
    const validated = client.route('rooms/{room}', { schema: (x: unknown) => x as Telemetry })
    expectTypeOf(validated).toEqualTypeOf<Observable<RouteMessage<Telemetry, { readonly room: string }>>>()
    typed.subscribe((m) => {
      expectTypeOf(m.params.deviceId).toEqualTypeOf<string>()
      expectTypeOf(m.payload.value).toEqualTypeOf<number>()
      // @ts-expect-error not a parameter
      void m.params.room
    })
  })

  it('types request() replies by codec', () => {
    expectTypeOf(client.request('a', 'x', { codec: json<Telemetry>() })).resolves.toHaveProperty('payload').toEqualTypeOf<Telemetry>()
  })
})
