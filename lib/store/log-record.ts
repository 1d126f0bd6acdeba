import { crc32 } from 'node:zlib'
import type { StoreChange, StoredMessage } from './store.js'

// A record: length (u32, of what follows the checksum), CRC-32 (u32, of the same bytes), kind (u8), header
// length (u32), header (JSON), payload (bytes, `add` only). The checksum tells a record torn by a crash, or
// bytes the disk garbled, from one written whole.
const KINDS = ['add', 'sent', 'released', 'remove', 'incoming', 'incomingReleased', 'sessionLost'] as const
const FRAME = 8
/** No record is larger: a length past it is garbage, not a record to wait for. */
export const MAX_RECORD = 512 * 1024 * 1024

/** The bytes of one change, as appended to the log. */
export function encodeRecord(change: StoreChange): Buffer {
  const { header, payload } = split(change)
  const json = Buffer.from(JSON.stringify(header, bytesAsBase64))
  const body = Buffer.allocUnsafe(5 + json.length + payload.length)
  body.writeUInt8(KINDS.indexOf(change.type), 0)
  body.writeUInt32BE(json.length, 1)
  json.copy(body, 5)
  body.set(payload, 5 + json.length)
  const frame = Buffer.allocUnsafe(FRAME)
  frame.writeUInt32BE(body.length, 0)
  frame.writeUInt32BE(crc32(body), 4)
  return Buffer.concat([frame, body])
}

/** What reading a log from `offset` found. */
export type ReadRecord =
  | { readonly kind: 'record'; readonly change: StoreChange; readonly end: number }
  /** The log ends here, possibly with the start of a record a crash cut short. */
  | { readonly kind: 'end' }
  /** The bytes at `offset` are not a record. */
  | { readonly kind: 'corrupt'; readonly reason: string }

export function readRecord(log: Buffer, offset: number): ReadRecord {
  if (offset + FRAME > log.length) return { kind: 'end' }
  const length = log.readUInt32BE(offset)
  if (length < 5 || length > MAX_RECORD) return { kind: 'corrupt', reason: `a record length of ${length} bytes` }
  const end = offset + FRAME + length
  if (end > log.length) return { kind: 'end' }
  const body = log.subarray(offset + FRAME, end)
  if (crc32(body) !== log.readUInt32BE(offset + 4)) return { kind: 'corrupt', reason: 'a checksum that does not match' }
  try {
    return { kind: 'record', change: join(body), end }
  } catch (error) {
    return { kind: 'corrupt', reason: `a record that cannot be decoded (${(error as Error).message})` }
  }
}

/** JSON for bytes: read from the holder, since a Buffer's toJSON has run by the time the value is seen. */
function bytesAsBase64(this: Record<string, unknown>, key: string, value: unknown): unknown {
  const raw = this[key]
  return raw instanceof Uint8Array ? { $bytes: Buffer.from(raw.buffer, raw.byteOffset, raw.byteLength).toString('base64') } : value
}

function split(change: StoreChange): { header: object; payload: Uint8Array } {
  if (change.type !== 'add') return { header: change, payload: new Uint8Array(0) }
  const { payload, ...rest } = change.message
  return { header: { type: 'add', message: rest }, payload }
}

function join(body: Buffer): StoreChange {
  const kind = KINDS[body.readUInt8(0)]
  if (kind === undefined) throw new Error(`unknown kind ${body.readUInt8(0)}`)
  const jsonLength = body.readUInt32BE(1)
  if (5 + jsonLength > body.length) throw new Error('header past the record')
  const header = JSON.parse(body.toString('utf8', 5, 5 + jsonLength), (_key, value: unknown) =>
    value !== null && typeof value === 'object' && '$bytes' in value && typeof value.$bytes === 'string' ? new Uint8Array(Buffer.from(value.$bytes, 'base64')) : value,
  ) as StoreChange
  if (header.type !== kind) throw new Error(`kind ${kind} with a ${String(header.type)} header`)
  if (header.type !== 'add') return header
  const message: StoredMessage = { ...header.message, payload: new Uint8Array(body.subarray(5 + jsonLength)) }
  return { type: 'add', message }
}
