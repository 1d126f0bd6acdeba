// Publishing to topic names that begin with $ ($SYS, $share, others). The connection must
// stay up (or the publish be refused with a typed error before sending) and every publish must settle.
import { describe, expect, it } from 'vitest'
import type { Status } from '../../../lib/node.js'
import { sharedBed } from '../../support/bed.js'
import { noMosquitto } from '../../support/binaries.js'
import { outcome } from '../../support/clients.js'
import { uniquePrefix, waitFor } from '../../support/wait.js'

describe.skipIf(noMosquitto())('input: $ topic names', () => {
  const bed = sharedBed('input-dollar')

  for (const protocolVersion of [5, 4] as const) {
    for (const qos of [0, 1, 2] as const) {
      it(`MQTT ${protocolVersion} QoS ${qos}: publishing to $share/g/t, $SYS/t and $x/t settles and keeps the connection`, async () => {
        const p = uniquePrefix('input-dl')
        const client = await bed.pool.connected(bed.broker.tcpUrl, { protocolVersion })
        const statuses: Status[] = []
        client.status$.subscribe((s) => statuses.push(s))
        const results: Record<string, string> = {}
        for (const t of [`$share/g/${p}`, `$SYS/${p}`, `$x/${p}`]) {
          results[t.split('/')[0] as string] = await outcome(client.publish(t, 'x', { qos, timeout: 5_000 }))
        }
        // A publish after them on the same connection still works.
        const got: string[] = []
        client.observe(`${p}/after`, { qos: 1 }).subscribe((m) => got.push(m.topic))
        await waitFor(async () => {
          if (got.length) return true
          await client.publish(`${p}/after`, 'x', { qos: 1 })
          return got.length > 0
        }, 'after', 8_000, 50)
        console.log(`MQTT ${protocolVersion} QoS ${qos}`, JSON.stringify(results), statuses.map((s) => s.type + ('error' in s && s.error ? `(${s.error.name}: ${s.error.message})` : '')).join(' → '))
        expect(statuses.map((s) => s.type)).toEqual(['connected'])
      })
    }
  }
})
