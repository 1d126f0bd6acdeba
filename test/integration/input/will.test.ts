// The last will at its limits, on the link of the project, MQTT 5 and 3.1.1.
import { describe, expect, it } from 'vitest'
import { testBed } from '../../support/bed.js'
import { noMosquitto } from '../../support/binaries.js'
import { waitForStatus } from '../../support/clients.js'
import { rawClient } from '../../support/raw.js'
import { uniquePrefix, waitFor } from '../../support/wait.js'
import type { Status } from '../../../lib/node.js'

describe.skipIf(noMosquitto())('input: will', () => {
  const bed = testBed('input-will')

  for (const protocolVersion of [5, 4] as const) {
    it(`MQTT ${protocolVersion}: a 65,535-byte retained will (multi-byte) reaches a subscriber intact after a lost connection; 65,536 is refused`, async () => {
      const broker = await bed.broker()
      const proxy = await bed.proxy(broker)
      const p = uniquePrefix('input-will')
      const payload = 'é'.repeat(32_767) + 'a' // 65,535 bytes
      expect(Buffer.byteLength(payload)).toBe(65_535)
      expect(() => bed.pool.connect(proxy.url, { protocolVersion, will: { topic: `${p}/w`, payload: payload + 'a' } })).toThrow()
      const client = await bed.pool.connected(proxy.url, { protocolVersion, reconnect: false, will: { topic: `${p}/w`, payload, qos: 1, retain: true } } as never)
      expect(client).toBeDefined()
      proxy.cut()
      // The retained will is there for a later subscriber.
      const raw = await rawClient(broker.tcpUrl, { protocolVersion })
      try {
        const got: { payload: Buffer; retain: boolean }[] = []
        raw.on('message', (t, b, packet) => t === `${p}/w` && got.push({ payload: b, retain: packet.retain }))
        await waitFor(async () => {
          if (got.length) return true
          await raw.unsubscribeAsync(`${p}/w`)
          await raw.subscribeAsync(`${p}/w`, { qos: 1 })
          return got.length > 0
        }, 'the retained will', 8_000, 100)
        expect(got[0]?.payload.toString()).toBe(payload)
        expect(got[0]?.retain).toBe(true)
      } finally {
        raw.end(true)
      }
    })

    it(`MQTT ${protocolVersion}: will QoS 2 against max_qos 1 ends in a typed error, not a silent hang`, async () => {
      const broker = await bed.broker({ extra: ['max_qos 1'] })
      const proxy = await bed.proxy(broker)
      const p = uniquePrefix('input-willqos')
      const raw = await rawClient(broker.tcpUrl, { protocolVersion })
      const wills: number[] = []
      raw.on('message', (t, _b, packet) => t === `${p}/w` && wills.push(packet.qos))
      await raw.subscribeAsync(`${p}/w`, { qos: 1 })
      const client = bed.pool.connect(proxy.url, { protocolVersion, reconnect: false, will: { topic: `${p}/w`, payload: 'x', qos: 2 } } as never)
      const statuses: Status[] = []
      const errors: unknown[] = []
      client.status$.subscribe((s) => statuses.push(s))
      client.errors$.subscribe((e) => errors.push(e))
      await waitFor(() => statuses.some((s) => s.type === 'connected' || s.type === 'closed' || s.type === 'reconnecting'), 'an outcome', 8_000)
      console.log(`will qos 2 / max_qos 1 / MQTT ${protocolVersion}:`, statuses.map((s) => s.type + ('error' in s && s.error ? `(${s.error.name}: ${s.error.message})` : '')).join(' → '))
      const last = statuses.at(-1) as Status
      // A refusal the client cannot get past by retrying is documented to close the client with its error.
      if (last.type === 'connected') {
        // Accepted (Mosquitto downgrades the will): it is still published when the connection is lost.
        proxy.cut()
        await waitFor(() => wills.length > 0, 'the will', 8_000)
        expect(wills[0]).toBeLessThanOrEqual(1)
        raw.end(true)
        return
      }
      raw.end(true)
      expect(last.type === 'closed' || last.type === 'reconnecting').toBe(true)
      const error = (last as { error?: Error }).error
      expect(error?.name).toMatch(/Error$/)
      expect(error?.name).not.toBe('Error')
    })
  }
})
