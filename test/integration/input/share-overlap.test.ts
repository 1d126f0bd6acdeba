// A shared subscription and an ordinary one of the same client that both match a topic.
// Mosquitto sends a copy for each (the shared one is a separate subscription under both protocols); the
// documented promise is "Overlapping filters deliver exactly once per observer" (docs/guide/delivery.md).
import { describe, expect, it } from 'vitest'
import type { MqttClient } from 'mqtt'
import { sharedBed } from '../../support/bed.js'
import { noMosquitto } from '../../support/binaries.js'
import { rawClient } from '../../support/raw.js'
import { uniquePrefix, waitFor } from '../../support/wait.js'

function until(raw: MqttClient, topic: string, got: () => boolean): Promise<unknown> {
  return waitFor(async () => {
    if (got()) return true
    await raw.publishAsync(topic, 'marker', { qos: 1 })
    return got()
  }, `${topic} delivered`, 8_000, 50)
}

describe.skipIf(noMosquitto())('input: $share and ordinary filter overlapping on one client', () => {
  const bed = sharedBed('input-share-overlap')

  for (const protocolVersion of [5, 4] as const) {
    for (const [shared, plain] of [['x', 'x'], ['+', 'x'], ['+', '+'], ['#', '+']] as const) {
      it(`MQTT ${protocolVersion}: $share/g/P/${shared} and P/${plain} each get one copy`, async () => {
        const p = uniquePrefix('input-so')
        const client = await bed.pool.connected(bed.broker.tcpUrl, { protocolVersion })
        const r = await rawClient(bed.broker.tcpUrl, { protocolVersion })
        try {
          const a: string[] = []
          const b: string[] = []
          const sa = client.observe(`$share/g/${p}/${shared}`, { qos: 1, codec: 'text' }).subscribe((m) => a.push(m.payload))
          const sb = client.observe(`${p}/${plain}`, { qos: 1, codec: 'text' }).subscribe((m) => b.push(m.payload))
          await until(r, `${p}/x`, () => a.includes('marker') && b.includes('marker'))
          // Let stray markers drain: the end sentinel comes after them on the same connection.
          await r.publishAsync(`${p}/x`, 'drain', { qos: 1 })
          await waitFor(() => a.includes('drain') && b.includes('drain'), 'drain', 8_000)
          a.length = 0
          b.length = 0
          await r.publishAsync(`${p}/x`, 'real', { qos: 1 })
          await r.publishAsync(`${p}/x`, 'end', { qos: 1 })
          await waitFor(() => a.filter((x) => x === 'end').length >= 1 && b.filter((x) => x === 'end').length >= 1, 'end', 8_000)
          // Any duplicate of 'end' would have come right behind the first: one more round trip lets it in.
          await r.publishAsync(`${p}/x`, 'tail', { qos: 1 })
          await waitFor(() => a.includes('tail') && b.includes('tail'), 'tail', 8_000)
          expect({ shared: a.filter((x) => x === 'real').length, plain: b.filter((x) => x === 'real').length }).toEqual({ shared: 1, plain: 1 })
          sa.unsubscribe()
          sb.unsubscribe()
        } finally {
          r.end(true)
        }
      })
    }
  }
})
