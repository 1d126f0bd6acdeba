// Filters, long topics, MQTT 5 publish properties and codecs, end to end against a private
// Mosquitto, on the link of the project (IOTPUBSUB_LINK) and under MQTT 5 and 3.1.1 where it matters.
import { describe, expect, it } from 'vitest'
import type { MqttClient } from 'mqtt'
import { InvalidTopicError, type Message, type MQTTClient } from '../../../lib/node.js'
import { sharedBed } from '../../support/bed.js'
import { noMosquitto } from '../../support/binaries.js'
import { outcome } from '../../support/clients.js'
import { rawClient } from '../../support/raw.js'
import { next, uniquePrefix, waitFor } from '../../support/wait.js'

/** Publishes a marker until `got()` says it arrived (SUBSCRIBE may not be in place yet). */
function until(raw: MqttClient, topic: string, got: () => boolean): Promise<unknown> {
  return waitFor(async () => {
    if (got()) return true
    await raw.publishAsync(topic, 'marker', { qos: 1 })
    return got()
  }, `${topic} delivered`, 8_000, 50)
}

describe.skipIf(noMosquitto())('input: filters, properties, codecs', () => {
  const bed = sharedBed('input-input')
  async function raw(protocolVersion: 4 | 5 = 5): Promise<MqttClient> {
    const r = await rawClient(bed.broker.tcpUrl, { protocolVersion })
    return r
  }

  for (const protocolVersion of [5, 4] as const) {
    describe(`MQTT ${protocolVersion}`, () => {
      it('a topic matching two observed filters of one client reaches each observer once', async () => {
        const p = uniquePrefix('input-two')
        const client = await bed.pool.connected(bed.broker.tcpUrl, { protocolVersion })
        const r = await raw(protocolVersion)
        try {
          const a: string[] = []
          const b: string[] = []
          const sa = client.observe(`${p}/+/c`, { qos: 1, codec: 'text' }).subscribe((m) => a.push(m.payload))
          const sb = client.observe(`${p}/b/#`, { qos: 1, codec: 'text' }).subscribe((m) => b.push(m.payload))
          await until(r, `${p}/b/c`, () => a.includes('marker') && b.includes('marker'))
          a.length = 0
          b.length = 0
          await r.publishAsync(`${p}/b/c`, 'real', { qos: 1 })
          await r.publishAsync(`${p}/b/c`, 'end', { qos: 1 })
          await waitFor(() => a.includes('end') && b.includes('end'), 'end', 8_000)
          expect(a.filter((x) => x === 'real')).toEqual(['real'])
          expect(b.filter((x) => x === 'real')).toEqual(['real'])
          sa.unsubscribe()
          sb.unsubscribe()
        } finally {
          r.end(true)
        }
      })

      it('$share/group/filter is delivered with the real topic and params; an invalid share name throws InvalidTopicError', async () => {
        const p = uniquePrefix('input-share')
        const client = await bed.pool.connected(bed.broker.tcpUrl, { protocolVersion })
        const r = await raw(protocolVersion)
        try {
          const got: Message<string>[] = []
          const s = client.observe(`$share/g1/${p}/+`, { qos: 1, codec: 'text' }).subscribe((m) => got.push(m))
          await until(r, `${p}/x`, () => got.length > 0)
          expect(got[0]?.topic).toBe(`${p}/x`)
          expect(got[0]?.params).toEqual(['x'])
          s.unsubscribe()
          for (const bad of ['$share//a', '$share/g+/a', '$share/g#/a', '$share/g', '$share/g/']) {
            expect(() => client.observe(bad).subscribe(), bad).toThrow(InvalidTopicError)
          }
        } finally {
          r.end(true)
        }
      })

      it('# alone gets no $SYS topic, $SYS/# does; empty levels a//b and /a are matched as their own levels', async () => {
        const p = uniquePrefix('input-levels')
        const client = await bed.pool.connected(bed.broker.tcpUrl, { protocolVersion })
        const r = await raw(protocolVersion)
        try {
          const sys = await next(client.observe('$SYS/#', { codec: 'text' }), '$SYS message', () => true, 15_000)
          expect(sys.topic.startsWith('$SYS/')).toBe(true)
          const all: string[] = []
          const sAll = client.observe('#').subscribe((m) => all.push(m.topic))
          const empty: Message<string>[] = []
          const sEmpty = client.observe(`${p}//+`, { codec: 'text' }).subscribe((m) => empty.push(m))
          const lead: Message<string>[] = []
          const sLead = client.observe(`/${p}/+/#`, { codec: 'text' }).subscribe((m) => lead.push(m))
          await until(r, `${p}//x`, () => empty.length > 0)
          await until(r, `/${p}/y/z`, () => lead.length > 0)
          expect(empty[0]?.params).toEqual(['x'])
          expect(lead[0]?.params).toEqual(['y', 'z'])
          expect(all.some((t) => t.startsWith('$'))).toBe(false)
          sAll.unsubscribe()
          sEmpty.unsubscribe()
          sLead.unsubscribe()
        } finally {
          r.end(true)
        }
      })

      it('a topic of exactly 65,535 UTF-8 bytes (multi-byte characters) is published and delivered; one byte more is refused', async () => {
        const p = uniquePrefix('input-long')
        const client = await bed.pool.connected(bed.broker.tcpUrl, { protocolVersion })
        const head = `${p}/`
        const headBytes = Buffer.byteLength(head)
        // '€' is 3 bytes, 'é' 2, 'a' 1: fill up to exactly 65,535 bytes.
        let rest = 65_535 - headBytes
        let tail = '€'.repeat(Math.floor((rest - 2) / 3))
        rest -= Buffer.byteLength(tail)
        tail += rest % 2 === 0 ? 'é'.repeat(rest / 2) : 'a' + 'é'.repeat((rest - 1) / 2)
        const topic = head + tail
        expect(Buffer.byteLength(topic)).toBe(65_535)
        const got: Message<string>[] = []
        const s = client.observe(`${p}/#`, { qos: 1, codec: 'text' }).subscribe((m) => got.push(m))
        await waitFor(async () => {
          if (got.length > 0) return true
          await client.publish(topic, 'long', { qos: 1 })
          return got.length > 0
        }, 'the long topic delivered', 8_000, 50)
        expect(got[0]?.topic).toBe(topic)
        expect(await outcome(client.publish(`${topic}é`.slice(0, topic.length) + 'a', 'x'))).toBe('InvalidTopicError')
        expect(await outcome(client.publish(`${topic.slice(0, -1)}€`, 'x'))).toBe('InvalidTopicError')
        // The same 65,535-byte name is also a valid filter: observed and delivered.
        const exact: string[] = []
        const s2 = client.observe(topic, { qos: 1, codec: 'text' }).subscribe((m) => exact.push(m.payload))
        await waitFor(async () => {
          if (exact.length > 0) return true
          await client.publish(topic, 'exact', { qos: 1 })
          return exact.length > 0
        }, 'the long filter delivered', 8_000, 50)
        expect(() => client.observe(`${topic}é`)).toThrow(InvalidTopicError)
        s.unsubscribe()
        s2.unsubscribe()
      })
    })
  }

  it('non-characters, controls and lone surrogates in topics and filters are refused with InvalidTopicError, the connection stays up', async () => {
    const p = uniquePrefix('input-chars')
    const client = await bed.pool.connected(bed.broker.tcpUrl)
    for (const bad of ['\u0000', '\u0001', '\u007f', '\u0085', '\ufdd0', '\ufffe', '\u{1fffe}', '\u{10ffff}', '\ud800', '\udc00x']) {
      expect(await outcome(client.publish(`${p}/${bad}`, 'x')), JSON.stringify(bad)).toBe('InvalidTopicError')
      expect(() => client.observe(`${p}/${bad}`), JSON.stringify(bad)).toThrow(InvalidTopicError)
    }
    // Allowed: an emoji (a surrogate pair), U+00A0, U+FFFD, U+FDCF.
    const got: string[] = []
    const s = client.observe(`${p}/+`, { qos: 1 }).subscribe((m) => got.push(m.topic))
    for (const ok of ['😀', '\u00a0', '\ufffd', '\ufdcf']) {
      await waitFor(async () => {
        if (got.includes(`${p}/${ok}`)) return true
        await client.publish(`${p}/${ok}`, 'x', { qos: 1 })
        return got.includes(`${p}/${ok}`)
      }, JSON.stringify(ok), 8_000, 50)
    }
    s.unsubscribe()
  })

  describe('MQTT 5 publish properties', () => {
    async function pair(name: string): Promise<{ p: string; client: MQTTClient; got: Message<Uint8Array>[]; r: MqttClient; rawGot: { topic: string; packet: any }[] }> {
      const p = uniquePrefix(name)
      const client = await bed.pool.connected(bed.broker.tcpUrl, { protocolVersion: 5 })
      const got: Message<Uint8Array>[] = []
      client.observe(`${p}/#`, { qos: 1 }).subscribe((m) => got.push(m))
      const r = await raw(5)
      const rawGot: { topic: string; packet: any }[] = []
      r.on('message', (topic, _payload, packet) => rawGot.push({ topic, packet }))
      await r.subscribeAsync(`${p}/#`, { qos: 1 })
      await waitFor(async () => {
        if (got.some((m) => m.topic === `${p}/ready`)) return true
        await client.publish(`${p}/ready`, 'x', { qos: 1 })
        return got.some((m) => m.topic === `${p}/ready`)
      }, 'ready', 8_000, 50)
      return { p, client, got, r, rawGot }
    }

    it('userProperties as pairs keep order and repeats on the wire; as a record with lists too', async () => {
      const { p, client, got, r, rawGot } = await pair('input-up')
      try {
        await client.publish(`${p}/pairs`, 'x', { qos: 1, properties: { userProperties: [['s', '1'], ['o', 'x'], ['s', '2'], ['s', '1'], ['', '']] } })
        await client.publish(`${p}/rec`, 'x', { qos: 1, properties: { userProperties: { s: ['1', '2'], o: 'x', e: [] as string[] } } })
        await waitFor(() => rawGot.some((m) => m.topic === `${p}/rec`) && got.some((m) => m.topic === `${p}/rec`), 'both', 8_000)
        const rp = rawGot.find((m) => m.topic === `${p}/pairs`)?.packet.properties.userProperties
        expect(rp).toEqual({ s: ['1', '2', '1'], o: 'x', '': '' })
        const sp = got.find((m) => m.topic === `${p}/pairs`)?.properties?.userProperties
        expect(sp).toEqual({ s: ['1', '2', '1'], o: 'x', '': '' })
        const rr = got.find((m) => m.topic === `${p}/rec`)?.properties?.userProperties
        expect(rr).toEqual({ s: ['1', '2'], o: 'x' })
      } finally {
        r.end(true)
      }
    })

    it('correlationData, contentType, responseTopic, messageExpiryInterval 0 and 4294967295 arrive intact', async () => {
      const { p, client, got, r } = await pair('input-props')
      try {
        const cd = new Uint8Array([0, 255, 1, 128])
        await client.publish(`${p}/a`, 'x', { qos: 1, properties: { correlationData: cd, contentType: 'application/x;q=€', responseTopic: `${p}/reply/é`, messageExpiryInterval: 4294967295 } })
        await client.publish(`${p}/b`, 'x', { qos: 1, properties: { messageExpiryInterval: 0, correlationData: new Uint8Array(0), contentType: '' } })
        await waitFor(() => got.some((m) => m.topic === `${p}/b`), 'b', 8_000)
        const a = got.find((m) => m.topic === `${p}/a`)?.properties
        expect(a?.correlationData).toBeInstanceOf(Uint8Array)
        expect(Array.from(a?.correlationData ?? [])).toEqual(Array.from(cd))
        expect(a?.contentType).toBe('application/x;q=€')
        expect(a?.responseTopic).toBe(`${p}/reply/é`)
        expect(a?.messageExpiryInterval).toBeGreaterThan(4294967000)
        const b = got.find((m) => m.topic === `${p}/b`)?.properties
        expect(b?.contentType).toBe('')
        expect(b?.correlationData?.length ?? 0).toBe(0)
      } finally {
        r.end(true)
      }
    })

    it('refused before sending with UnsupportedOptionError: string correlationData, wildcard responseTopic, out-of-range expiry, non-boolean format indicator', async () => {
      const { p, client, r } = await pair('input-badprops')
      try {
        const bad: unknown[] = [
          { correlationData: 'abc' },
          { correlationData: new Uint8Array(65_536) },
          { responseTopic: `${p}/+` },
          { responseTopic: `${p}/#` },
          { responseTopic: '' },
          { messageExpiryInterval: 4294967296 },
          { messageExpiryInterval: 1.5 },
          { messageExpiryInterval: Number.NaN },
          { payloadFormatIndicator: 1 },
          { userProperties: [['a']] },
          { userProperties: { a: 1 } },
          { userProperties: new Map([['a', 'b']]) },
          { subscriptionIdentifier: 1 },
          { contentType: 'a\u0000' },
        ]
        for (const properties of bad) {
          expect(await outcome(client.publish(`${p}/x`, 'x', { qos: 1, properties } as never)), JSON.stringify(properties, (_k, v) => (v instanceof Map ? 'Map' : v))).toBe('UnsupportedOptionError')
        }
        await client.publish(`${p}/still`, 'x', { qos: 1 })
      } finally {
        r.end(true)
      }
    })

    it('payloadFormatIndicator with a non-UTF-8 payload: QoS 1 settles, the connection survives', async () => {
      const { p, client, got, r } = await pair('input-pfi')
      try {
        const result = await outcome(client.publish(`${p}/bin`, new Uint8Array([0xff, 0xfe, 0xc0]), { qos: 1, properties: { payloadFormatIndicator: true } }))
        // Either delivered (the broker does not check) or rejected with a typed error; never hangs.
        expect(['resolved', 'PublishError', 'PublishOutcomeUnknownError', 'UnsupportedOptionError']).toContain(result)
        await client.publish(`${p}/after`, 'x', { qos: 1 })
        await waitFor(() => got.some((m) => m.topic === `${p}/after`), 'after', 8_000)
        const bin = got.find((m) => m.topic === `${p}/bin`)
        if (result === 'resolved') expect(bin?.properties?.payloadFormatIndicator).toBe(true)
        console.log('payloadFormatIndicator + non UTF-8:', result, bin ? 'delivered' : 'not delivered')
      } finally {
        r.end(true)
      }
    })
  })

  describe('codecs and payloads', () => {
    it("'json' with BigInt, a circular object, undefined and a function rejects with PublishError; NaN is sent as null", async () => {
      const p = uniquePrefix('input-json')
      const client = await bed.pool.connected(bed.broker.tcpUrl)
      const circular: Record<string, unknown> = {}
      circular.self = circular
      for (const v of [10n, circular, undefined, () => 1, Symbol('s')]) {
        expect(await outcome(client.publish(`${p}/j`, v, { codec: 'json' }))).toBe('PublishError')
        expect(await outcome(client.publish(`${p}/j`, v))).toBe('PublishError')
      }
      const got: Message<unknown>[] = []
      client.observe(`${p}/n`, { qos: 1, codec: 'json' }).subscribe((m) => got.push(m))
      await waitFor(async () => {
        if (got.length) return true
        await client.publish(`${p}/n`, Number.NaN, { codec: 'json', qos: 1 })
        return got.length > 0
      }, 'NaN', 8_000, 50)
      expect(got[0]?.payload).toBe(null)
    })

    it('a custom codec returning a number, null, an object or throwing rejects with PublishError', async () => {
      const p = uniquePrefix('input-codec')
      const client = await bed.pool.connected(bed.broker.tcpUrl)
      for (const out of [42, null, {}, [1, 2], new ArrayBuffer(2), Buffer.from('ok')]) {
        const codec = { encode: () => out as never, decode: (b: Uint8Array) => b }
        const res = await outcome(client.publish(`${p}/c`, 'v', { codec: codec as never }))
        if (out instanceof Uint8Array) expect(res).toBe('resolved')
        else expect(res, String(out)).toBe('PublishError')
      }
      const thrower = { encode: () => { throw 'no' }, decode: (b: Uint8Array) => b }
      expect(await outcome(client.publish(`${p}/c`, 'v', { codec: thrower as never }))).toBe('PublishError')
      expect(await outcome(client.publish(`${p}/c`, 'v', { codec: 'yaml' as never }))).toBe('UnsupportedOptionError')
    })

    it('an empty retained publish clears: cleared: true gives a ClearedMessage, the json codec without it reports no crash', async () => {
      const p = uniquePrefix('input-cleared')
      const client = await bed.pool.connected(bed.broker.tcpUrl)
      await client.publish(`${p}/r`, '{"a":1}', { qos: 1, retain: true })
      const first = await next(client.observe(`${p}/r`, { codec: 'json', cleared: true }), 'retained')
      expect(first.payload).toEqual({ a: 1 })
      const seen: unknown[] = []
      const s = client.observe(`${p}/r`, { codec: 'json', cleared: true }).subscribe((m) => seen.push(m))
      await waitFor(() => seen.length > 0, 'retained again')
      await client.publish(`${p}/r`, new Uint8Array(0), { qos: 1, retain: true })
      await waitFor(() => seen.some((m) => (m as { cleared?: boolean }).cleared === true), 'cleared', 8_000)
      const c = seen.find((m) => (m as { cleared?: boolean }).cleared) as { payload: unknown; topic: string }
      expect(c.payload).toBeUndefined()
      expect(c.topic).toBe(`${p}/r`)
      s.unsubscribe()
      // Zero bytes are published and observed (bytes codec) as an empty payload when not retained.
      const got: Message<Uint8Array>[] = []
      client.observe(`${p}/z`, { qos: 1 }).subscribe((m) => got.push(m))
      await waitFor(async () => {
        if (got.length) return true
        await client.publish(`${p}/z`, '', { qos: 1 })
        return got.length > 0
      }, 'empty', 8_000, 50)
      expect(got[0]?.payload.length).toBe(0)
      // Nothing is retained any more.
      const late: unknown[] = []
      const s2 = client.observe(`${p}/r`, { cleared: true }).subscribe((m) => late.push(m))
      await client.publish(`${p}/r-probe`, 'x', { qos: 1 })
      s2.unsubscribe()
    })

    it('a payload over MQTT\'s 268,435,455-byte packet limit is refused before sending, the connection stays up', async () => {
      const p = uniquePrefix('input-huge')
      const client = await bed.pool.connected(bed.broker.tcpUrl)
      const huge = new Uint8Array(268_435_456)
      const res = await outcome(client.publish(`${p}/h`, huge, { qos: 1, timeout: 20_000 }))
      expect(res).toBe('PayloadTooLargeError')
      await client.publish(`${p}/after`, 'x', { qos: 1 })
    }, 60_000)
  })
})
