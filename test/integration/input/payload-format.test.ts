// `payloadFormatIndicator: true` promises UTF-8. MQTT 5.0 §3.3.2.3.2: "1 (0x01) Indicates that
// the Payload is UTF-8 Encoded Character Data. The UTF-8 data in the Payload MUST be well-formed UTF-8 as
// defined by the Unicode specification and restated in RFC 3629"; a receiver MAY check and answer with
// PUBACK/PUBREC or DISCONNECT 0x99 (Payload format invalid) — a DISCONNECT for a QoS 0 publish would fail
// every other in-flight operation. The project's standard is to refuse such input where it is handed over,
// with a typed error, before anything is sent. Mosquitto does not check, so the bytes reaching a raw
// subscriber show what was sent.
import { describe, expect, it } from 'vitest'
import { sharedBed } from '../../support/bed.js'
import { noMosquitto } from '../../support/binaries.js'
import { outcome } from '../../support/clients.js'
import { rawClient } from '../../support/raw.js'
import { uniquePrefix, waitFor } from '../../support/wait.js'

describe.skipIf(noMosquitto())('input: payloadFormatIndicator with a payload that is not UTF-8', () => {
  const bed = sharedBed('input-pfi')

  for (const qos of [0, 1] as const) {
    it(`QoS ${qos}: is refused with a typed error before sending; a UTF-8 payload with the flag is sent`, async () => {
      const p = uniquePrefix('input-pfi')
      const client = await bed.pool.connected(bed.broker.tcpUrl, { protocolVersion: 5 })
      const raw = await rawClient(bed.broker.tcpUrl, { protocolVersion: 5 })
      try {
        const got: { topic: string; pfi: unknown; bytes: number[] }[] = []
        raw.on('message', (topic, payload, packet) => got.push({ topic, pfi: packet.properties?.payloadFormatIndicator, bytes: [...payload] }))
        await raw.subscribeAsync(`${p}/#`, { qos: 1 })
        const bad = await outcome(client.publish(`${p}/bad`, new Uint8Array([0x61, 0xff, 0xc0, 0x80]), { qos, properties: { payloadFormatIndicator: true } }))
        const bad2 = await outcome(client.publish(`${p}/bad`, new Uint8Array([0xed, 0xa0, 0x80]), { qos, properties: { payloadFormatIndicator: true } })) // an encoded surrogate
        await client.publish(`${p}/good`, 'é€😀', { qos: 1, properties: { payloadFormatIndicator: true } })
        await waitFor(() => got.some((m) => m.topic === `${p}/good`), 'the good publish', 8_000)
        expect(got.find((m) => m.topic === `${p}/good`)?.pfi).toBe(true)
        expect({ bad, bad2, sent: got.filter((m) => m.topic === `${p}/bad`) }).toEqual({ bad: 'UnsupportedOptionError', bad2: 'UnsupportedOptionError', sent: [] })
      } finally {
        raw.end(true)
      }
    })
  }
})
