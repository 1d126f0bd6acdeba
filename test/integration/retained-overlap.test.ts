// Overlapping filters and retained messages: each SUBSCRIBE makes the broker send its stored messages, so a
// topic matched by two filters is sent twice; each observer must still get the retained state once.
import { firstValueFrom, takeWhile, timeout, toArray } from 'rxjs'
import { describe, expect, it } from 'vitest'
import { sharedBed } from '../support/bed.js'
import { noMosquitto } from '../support/binaries.js'
import { uniquePrefix } from '../support/wait.js'

describe.skipIf(noMosquitto())('retained messages and overlapping filters', () => {
  const bed = sharedBed('retained-overlap')
  const pool = bed.pool

  it.each([4, 5] as const)('MQTT %s: each observer gets the retained state once', async (protocolVersion) => {
    const p = uniquePrefix(`overlap-retained-v${protocolVersion}`)
    const publisher = await pool.connected(bed.broker.tcpUrl)
    await publisher.publish(`${p}/d1/meta`, 'model-x', { qos: 1, retain: true })
    const client = await pool.connected(bed.broker.tcpUrl, { protocolVersion })
    const until = (filter: string) =>
      firstValueFrom(
        client.observe(filter, { codec: 'text', qos: 1 }).pipe(
          takeWhile((m) => m.payload !== 'end', true),
          toArray(),
          timeout(10_000),
        ),
      ).then((messages) => messages.map((m) => `${m.payload}${m.retain ? ' (retained)' : ''}`))
    const everything = until(`${p}/#`)
    await bed.broker.waitForSubscription(client.clientId, `${p}/#`, 1)
    const metas = until(`${p}/+/meta`)
    await bed.broker.waitForSubscription(client.clientId, `${p}/+/meta`, 1)
    await publisher.publish(`${p}/d1/meta`, 'end', { qos: 1 })
    expect(await everything).toEqual(['model-x (retained)', 'end'])
    expect(await metas).toEqual(['model-x (retained)', 'end'])
    await publisher.publish(`${p}/d1/meta`, '', { qos: 1, retain: true })
  })
})
