/**
 * `npx tsx bench/wire-decode.ts`: the lean codec's PUBLISH decode against mqtt-packet's parser, on the same
 * bytes. 1,000,000 QoS 0 PUBLISHes (topic 'bench/0/1', 100 B payload) arrive in 64 KiB chunks that cut
 * packets wherever they fall, as a socket does; each case is run a few times and the best is reported, in
 * ns per packet. Also the two ways of decoding a short topic, which is why utf8.ts loops over ASCII bytes.
 */
import mqttPacket from 'mqtt-packet'
import { encodePublish } from '../lib/wire/encode.js'
import { PacketReader } from '../lib/wire/packet-reader.js'
import type { Properties, ProtocolLevel } from '../lib/wire/packets.js'
import { decodeUtf8 } from '../lib/wire/utf8.js'

const PACKETS = 1_000_000
const CHUNK = 64 * 1024
const PER_STREAM = 10_000 // a stream of whole packets, cut into chunks, fed again and again
const ROUNDS = 5

function chunks(level: ProtocolLevel, properties: Properties | undefined): Uint8Array[] {
  const one = encodePublish('bench/0/1', new Uint8Array(100).fill(7), 0, false, false, undefined, properties, level)
  const stream = new Uint8Array(one.length * PER_STREAM)
  for (let i = 0; i < PER_STREAM; i++) stream.set(one, i * one.length)
  const out: Uint8Array[] = []
  for (let at = 0; at < stream.length; at += CHUNK) out.push(stream.slice(at, at + CHUNK))
  return out
}

function ours(parts: Uint8Array[], level: ProtocolLevel): number {
  const reader = new PacketReader({ maximumPacketSize: 268435460 })
  reader.level = level
  let n = 0
  let bytes = 0
  const t = process.hrtime.bigint()
  while (n < PACKETS) {
    for (const part of parts) {
      reader.push(part)
      for (let p = reader.next(); p; p = reader.next()) {
        n++
        if (p.type === 'publish') bytes += p.payload.length
      }
    }
  }
  const ns = Number(process.hrtime.bigint() - t) / n
  if (bytes !== n * 100) throw new Error('lost packets')
  return ns
}

function theirs(parts: Uint8Array[], level: ProtocolLevel): number {
  const parser = mqttPacket.parser({ protocolVersion: level })
  let n = 0
  let bytes = 0
  parser.on('packet', (p: mqttPacket.Packet) => {
    n++
    if (p.cmd === 'publish') bytes += (p.payload as Buffer).length
  })
  parser.on('error', (e: Error) => {
    throw e
  })
  const buffers = parts.map((p) => Buffer.from(p.buffer, p.byteOffset, p.byteLength))
  const t = process.hrtime.bigint()
  while (n < PACKETS) for (const b of buffers) parser.parse(b)
  const ns = Number(process.hrtime.bigint() - t) / n
  if (bytes !== n * 100) throw new Error('lost packets')
  return ns
}

function best(f: () => number): number {
  let min = Infinity
  for (let i = 0; i < ROUNDS; i++) min = Math.min(min, f())
  return min
}

const cases: [string, ProtocolLevel, Properties | undefined][] = [
  ['MQTT 5, no properties', 5, undefined],
  ['MQTT 5, subscription identifier 1', 5, { subscriptionIdentifier: 1 }],
  ['MQTT 3.1.1', 4, undefined],
]

console.log(`PUBLISH decode, ${PACKETS} packets from ${CHUNK}-byte chunks, best of ${ROUNDS} (ns/packet):`)
for (const [name, level, props] of cases) {
  const parts = chunks(level, props)
  const a = best(() => ours(parts, level))
  const b = best(() => theirs(parts, level))
  console.log(`  ${name.padEnd(36)} lean ${a.toFixed(0).padStart(4)}   mqtt-packet ${b.toFixed(0).padStart(4)}   (${(b / a).toFixed(1)}x)`)
}

// A short topic: the byte loop against TextDecoder (which utf8.ts uses past 48 bytes or on non-ASCII).
const topic = new TextEncoder().encode('bench/0/1')
const decoder = new TextDecoder('utf-8', { fatal: true, ignoreBOM: true })
let sink = 0
const time = (f: () => string) => {
  let min = Infinity
  for (let r = 0; r < ROUNDS; r++) {
    const t = process.hrtime.bigint()
    for (let i = 0; i < 2_000_000; i++) sink += f().length
    min = Math.min(min, Number(process.hrtime.bigint() - t) / 2_000_000)
  }
  return min
}
const loop = time(() => decodeUtf8(topic, 0, topic.length))
const native = time(() => decoder.decode(topic.subarray(0, topic.length)))
console.log(`Topic 'bench/0/1': byte loop ${loop.toFixed(0)} ns, TextDecoder ${native.toFixed(0)} ns (${sink > 0 ? 'ok' : ''})`)
